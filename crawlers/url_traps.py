"""Links shaped like a crawler trap are not followed, whatever the page they are on.

The barren and repeat leashes (ReviewSpiderMixin.follow_meta) end a chain of pages without new reviews, but they
count along one chain: a page whose every path answers with itself, linking `news/` and `about/` relatively, fans
out into 2^20 chains of 20 pages, and filters that each add one more `&genre=` do the same. Such links have a
shape no review page has, as crawlers like Heritrix judge them (its PathologicalPath and TooManyPathSegments
rules): a path segment met three times or more (`/news/about/news/about/news/`), a path deeper than
MAX_SEGMENTS, or a query parameter given three times or more (`?genre=a&genre=b&genre=c`).
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qsl, urlsplit

MAX_SEGMENTS = 20
MAX_REPEATS = 2  # a segment or a query parameter may come twice: /film/her/reviews/her, ?genre=a&genre=b


def trap_shape(url: str) -> str | None:
    """Why a link looks like a crawler trap (a short reason), or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) > MAX_SEGMENTS:
        return f"a path of more than {MAX_SEGMENTS} segments"
    # Counted only when enough repeat to matter: most links repeat nothing (every page's links pass here).
    if len(segments) - len(set(segments)) >= MAX_REPEATS and max(Counter(segments).values()) > MAX_REPEATS:
        return f"a path segment more than {MAX_REPEATS} times"
    if parts.query.count("&") >= MAX_REPEATS:
        names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
        if max(Counter(names).values(), default=0) > MAX_REPEATS:
            return f"a query parameter more than {MAX_REPEATS} times"
    return None
