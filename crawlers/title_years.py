"""A film's year as a mention gives it: its year field, else a "(2013)" at the end of its title.

Light on purpose (only `re`): the crawl's in-run repeat filter (crawlers/pipelines.py) reads mentions as the
normalizer does (flows/normalize/films.py) without loading the normalizer's models.
"""

from __future__ import annotations

import re

# A release year at the end of a title, "Her (2013)" or "Her [2013]": dropped from the matching key
# (flows.normalize.keys), and read as the film's year when a mention has no year field.
YEAR_SUFFIX = re.compile(r"\s*[(\[]\s*((?:18|19|20)\d{2})\s*[)\]]\s*$")
_YEAR = re.compile(r"\b(1[89]\d{2}|20\d{2})\b")


def parse_year(raw: str | int | None) -> int | None:
    if raw is None:
        return None
    match = _YEAR.search(str(raw))
    return int(match.group(1)) if match else None


def title_year(title: str | None) -> int | None:
    """The year written at the end of a title, "Her (2013)" -> 2013."""
    match = YEAR_SUFFIX.search(title) if title else None
    return int(match.group(1)) if match else None
