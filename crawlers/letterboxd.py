"""Where the review is in a Letterboxd member feed entry.

Letterboxd's member RSS lists diary entries, not only reviews, and writes its own text into every
description before the member's: the film's poster as `<p><img …/></p>`, then for a review marked as
containing spoilers `<p><em>This review may contain spoilers.</em></p>`. A diary entry with no review
has only `<p>Watched on Friday November 21, 2025.</p>` after the poster. Taking these paragraphs out
is extraction, like reading `reviewBody` instead of the whole page: they are the site's template, not
the member's words. What remains is kept as published, markup and entities included.

Only entries carrying Letterboxd's own fields are read this way, so another feed's text is never cut.
"""

from __future__ import annotations

import re
from typing import Any

# The fields feedparser reads from Letterboxd's namespace (https://letterboxd.com), as `letterboxd_<name>`.
LETTERBOXD_FIELDS = ("letterboxd_filmtitle", "letterboxd_watcheddate", "letterboxd_memberrating",
                     "letterboxd_rewatch", "letterboxd_filmyear")

_POSTER = r"<p>\s*<img\b[^>]*>\s*</p>"
_SPOILER_NOTICE = r"<p>\s*(?:<em>\s*)?This review may contain spoilers\.\s*(?:</em>\s*)?</p>"
# Exactly the sentence Letterboxd writes for a diary entry, so a review that begins "Watched on a plane"
# keeps its words.
_WATCHED_ON = r"<p>\s*Watched on [A-Z][a-z]+day [A-Z][a-z]+ \d{1,2}, \d{4}\.\s*</p>"
_LEADING_TEMPLATE = re.compile(rf"\A\s*(?:{_POSTER}|{_SPOILER_NOTICE}|{_WATCHED_ON})")


def is_letterboxd_entry(entry: dict[str, Any]) -> bool:
    """True for an entry of a Letterboxd member feed (it carries fields of Letterboxd's namespace)."""
    return any(entry.get(name) not in (None, "") for name in LETTERBOXD_FIELDS)


def review_html(description: str | None) -> str | None:
    """The member's review in a Letterboxd description, as published; None when there is none.

    Letterboxd's paragraphs lead the description (poster, then spoiler notice or "Watched on …"), so
    only leading ones are taken out: the same words further down are the member's.
    """
    text = description or ""
    while match := _LEADING_TEMPLATE.match(text):
        text = text[match.end():]
    return text.strip() or None
