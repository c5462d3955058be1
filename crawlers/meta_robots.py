"""A page's own word on being crawled: `<meta name="robots" content="nofollow">` and the `X-Robots-Tag` header.

robots.txt (crawlers/robots.py) says which pages may be fetched; a page may also ask that its links not be
followed, for every crawler (`robots`) or for ours by name (`<meta name="film-reviews">`, `X-Robots-Tag:
film-reviews: nofollow`), with `nofollow` or `none`. A link marked `rel="nofollow"` (an advert, a link in a
user's comment) is not followed either. `noindex` is not obeyed: it asks search engines not to list the page,
and review sites put it on listing pages beyond the first whose reviews are the ones a crawl is for.
REVIEWS_OBEY_NOFOLLOW = False follows them all.
"""

from __future__ import annotations

from scrapy.http import Response, TextResponse

_NOFOLLOW = {"nofollow", "none"}
# Directives that take a value after a colon: "max-snippet: 50" names no crawler.
_WITH_VALUES = {"max-snippet", "max-image-preview", "max-video-preview", "unavailable_after"}


def _listed(content: str) -> set[str]:
    return {part.strip().lower() for part in content.split(",")}


def _directives(content: str, token: str | None) -> set[str]:
    """The directives of one X-Robots-Tag value that apply to us: all of them, or those after our token's
    "name:" prefix (another crawler's, "googlebot: nofollow", are not ours)."""
    head, colon, rest = content.partition(":")
    named = head.strip().lower()
    if colon and named and " " not in named and "," not in named and named not in _WITH_VALUES:
        return _listed(rest) if token is not None and named == token.lower() else set()
    return _listed(content)


def forbids_following(response: Response, token: str | None) -> bool:
    """Whether the page asks that its links not be followed, by us (`token`: our product token) or by all."""
    for value in response.headers.getlist(b"X-Robots-Tag"):
        if _directives(value.decode("latin-1"), token) & _NOFOLLOW:
            return True
    if not isinstance(response, TextResponse):
        return False
    names = {"robots"} | ({token.lower()} if token else set())
    for meta in response.xpath("//meta[@name and @content]"):
        name = (meta.attrib.get("name") or "").strip().lower()
        if name in names and _listed(meta.attrib["content"]) & _NOFOLLOW:
            return True
    return False
