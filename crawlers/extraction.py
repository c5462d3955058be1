"""Turn schema.org objects into raw review items and film summaries.

Only extraction: values are copied as published (strings), nothing is scored or cleaned.
The one exception is links: a URL as published is relative to its page, so review, critic and
film URLs (and `@id`s) are resolved against the page's base URL, as a browser would.
Reviews are found anywhere in the object tree: top level, inside `Movie.review`, inside
`@graph`, or referencing their film through `itemReviewed`. JSON-LD nodes that name each other by
`@id` (crawlers.references) are read as the nodes they name, across all JSON-LD blocks of the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from w3lib.html import get_base_url

from crawlers.items import ReviewItem
from crawlers.references import FOLLOWED, NodeIndex, is_reference, is_web_address, node_id
from crawlers.structured import PageData, read_page, short_type

REVIEW_TYPES = {"Review", "CriticReview", "UserReview"}
FILM_TYPES = {"Movie", "Film", "TVSeries", "TVEpisode", "CreativeWork"}
_IMDB = re.compile(r"\b(tt\d{5,10})\b")
_TMDB = re.compile(r"themoviedb\.org/movie/(\d+)")
_NOT_LINKS = {"javascript", "vbscript", "data"}  # scripts and inline content, never a review's address
_BASE_SCAN = 4096  # as much of the page as Scrapy reads for <base href> (scrapy.utils.response.get_base_url)


@dataclass
class FilmSummary:
    title: str | None
    year: str | None
    url: str | None
    external_ids: dict[str, str] = field(default_factory=dict)
    rating_value: str | None = None
    rating_best: str | None = None
    rating_worst: str | None = None
    rating_count: str | None = None
    review_count: str | None = None
    syntax: str | None = None


@dataclass
class PageExtract:
    reviews: list[ReviewItem]
    films: list[FilmSummary]
    errors: list[str]
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (reason, markup as published)


def _text(value: Any) -> str | None:
    """A published value as text; lists give their first element, objects their name or value."""
    if value is None:
        return None
    if isinstance(value, list):
        return _text(value[0]) if value else None
    if isinstance(value, dict):
        for key in ("name", "value", "@value", "@id", "url"):
            if key in value:
                return _text(value[key])
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _name(value: Any) -> str | None:
    """A person's or organization's name as `_text` reads it, but never an object's `@id`: that identifies
    a node (a reference the page did not resolve), and a critic called "https://ex.test/#person-jane" is
    no critic."""
    if isinstance(value, list):
        return _name(value[0]) if value else None
    if isinstance(value, dict):
        return _text({key: found for key, found in value.items() if key != "@id"})
    return _text(value)


def _link(value: Any, base: str) -> str | None:
    """A published link resolved against the page's base URL.

    Empty values and script or data pseudo-URLs give None; absolute URLs of other schemes
    (`urn:`, `mailto:`) and JSON-LD blank nodes (`_:b0`) are no page addresses to resolve, so
    they are kept as published.
    """
    text = (_text(value) or "").strip()
    if not text:
        return None
    if text.startswith("_:"):
        return text
    try:
        scheme = urlsplit(text).scheme
        if scheme in _NOT_LINKS:
            return None
        return text if scheme else urljoin(base, text)
    except ValueError:  # e.g. an invalid IPv6 host: keep what the page said
        return text


def _first_dict(value: Any) -> dict[str, Any] | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, dict)), None)
    return value if isinstance(value, dict) else None


def _as_node(value: Any) -> Any:
    """A web address where an object belongs (`"author": "https://…#jane"`) read as a reference to the
    node with that @id: an address is no name or title."""
    if isinstance(value, list):
        return [_as_node(v) for v in value]
    if isinstance(value, str) and is_web_address(value):
        return {"@id": value.strip()}
    return value


def _external_ids(film: dict[str, Any]) -> dict[str, str]:
    ids: dict[str, str] = {}
    links = film.get("sameAs") or []
    links = links if isinstance(links, list) else [links]
    for link in [*links, film.get("identifier"), film.get("@id"), film.get("url")]:
        text = _text(link) or ""
        if "imdb" in text or text.startswith("tt"):
            match = _IMDB.search(text)
            if match:
                ids.setdefault("imdb", match.group(1))
        match = _TMDB.search(text)
        if match:
            ids.setdefault("tmdb", match.group(1))
    return ids


def _audience(review: dict[str, Any], types: list[str]) -> str | None:
    if "CriticReview" in types:
        return "critic"
    if "UserReview" in types:
        return "user"
    return "critic" if review.get("publisher") or review.get("sourceOrganization") else "user"


@dataclass
class _PageReader:
    """Turns one page's objects of one syntax into items. `index` holds the page's JSON-LD nodes by @id
    for JSON-LD objects, and is empty for microdata and RDFa, which have no references to follow."""

    url: str
    base: str
    source: str
    syntax: str
    index: NodeIndex

    def _prop(self, obj: dict[str, Any], key: str) -> Any:
        """A property's value, references followed. Only in JSON-LD is an address string taken for a
        reference: microdata gives a link's href as the value of `<a itemprop="author" href=…>`, the only
        text such markup offers, and it is kept as before."""
        value = obj.get(key)
        return self.index.resolve(_as_node(value) if self.syntax == "json-ld" else value, owner=obj)

    def _film_of(self, review: dict[str, Any]) -> dict[str, Any] | None:
        """The film a review is about: an object, a node it references, or a plain name ("Her (2013)"; a
        year written in it is read by the flows, as for any title)."""
        value = review.get("itemReviewed")
        if isinstance(value, list):
            value = _first_dict(value) or next((v for v in value if isinstance(v, str) and v.strip()), None)
        if isinstance(value, str) and not is_web_address(value):
            return {"name": value.strip()} if value.strip() else None
        return _first_dict(self.index.node(_as_node(value), owner=review))

    def _film_year(self, film: dict[str, Any]) -> str | None:
        # dateCreated is often when the page was created (Letterboxd), so release data comes first.
        released = _first_dict(self._prop(film, "releasedEvent"))
        for candidate in (released.get("startDate") if released else None, film.get("copyrightYear"),
                          film.get("datePublished"), film.get("dateCreated")):
            text = _text(candidate)
            if text:
                return text
        return None

    def review_item(self, review: dict[str, Any], film: dict[str, Any] | None) -> ReviewItem:
        named = self._film_of(review)
        # A bare reference the page does not resolve says less than the film the review is nested in.
        film = (named if named and not (film and is_reference(named)) else film) or {}
        author = self._prop(review, "author")
        author_obj = _first_dict(author) or {}
        publisher = self._prop(review, "publisher") or self._prop(review, "sourceOrganization")
        rating = _first_dict(self._prop(review, "reviewRating")) or {}
        value = _text(rating.get("ratingValue")) if rating else _text(review.get("reviewRating"))
        url = _link(review.get("url"), self.base)
        return ReviewItem(
            source=self.source,
            url=url or self.url,
            source_review_id=_text(review.get("identifier")) or _link(review.get("@id"), self.base) or url,
            film_title=_text(film.get("name")),
            film_year=self._film_year(film) if film else None,
            external_ids=_external_ids(film) if film else {},
            critic_name=_name(author),
            critic_url=_link(author_obj.get("url"), self.base),
            outlet=_name(publisher),
            audience=_audience(review, short_type(review.get("@type"))),
            rating_raw=value,
            rating_value=value,
            rating_best=_text(rating.get("bestRating")),
            rating_worst=_text(rating.get("worstRating")),
            review_title=_text(review.get("name")) or _text(review.get("headline")),
            body=_text(review.get("reviewBody")) or _text(review.get("description")),
            published_raw=_text(review.get("datePublished")) or _text(review.get("dateCreated")),
            language_declared=_text(review.get("inLanguage")),
            page_url=self.url,
            syntax=self.syntax,
        )

    def film_summary(self, film: dict[str, Any]) -> FilmSummary:
        aggregate = _first_dict(self._prop(film, "aggregateRating")) or {}
        return FilmSummary(
            title=_text(film.get("name")),
            year=self._film_year(film),
            url=_link(film.get("url"), self.base) or _link(film.get("@id"), self.base),
            external_ids=_external_ids(film),
            rating_value=_text(aggregate.get("ratingValue")),
            rating_best=_text(aggregate.get("bestRating")),
            rating_worst=_text(aggregate.get("worstRating")),
            rating_count=_text(aggregate.get("ratingCount")),
            review_count=_text(aggregate.get("reviewCount")),
            syntax=self.syntax,
        )


def extract_from_data(page: PageData, url: str, source: str, base: str | None = None) -> PageExtract:
    """Reviews and films in `page`; links resolve against `base` (the page's <base href>), else `url`."""
    jsonld = NodeIndex(obj for syntax, obj in page.objects if syntax == "json-ld")
    readers = {syntax: _PageReader(url, base or url, source, syntax, jsonld if syntax == "json-ld" else NodeIndex())
               for syntax, _ in page.objects}
    films: list[FilmSummary] = []
    # A JSON-LD node named by reference can be reached twice (from the graph's top level and from its
    # film's `review` list): each review is kept once, with a film where any path gave one, and each
    # other node with an @id is walked once. An @id that names several nodes (see NodeIndex) tells none of
    # them apart: they are told apart as objects.
    found: dict[Any, tuple[dict[str, Any], str, dict[str, Any] | None]] = {}
    walked: set[Any] = set()

    def walk(obj: Any, syntax: str, film: dict[str, Any] | None, depth: int) -> None:
        if depth > 8:
            return
        if isinstance(obj, list):
            for child in obj:
                walk(child, syntax, film, depth + 1)
            return
        obj = readers[syntax].index.node(obj)
        if not isinstance(obj, dict):
            return
        key = readers[syntax].index.identity(obj) if syntax == "json-ld" and node_id(obj) else None
        types = set(short_type(obj.get("@type")))
        if types & REVIEW_TYPES:
            review_key = key or id(obj)
            if review_key not in found or (film is not None and found[review_key][2] is None):
                found[review_key] = (obj, syntax, film)
            return
        if key:
            if key in walked:
                return
            walked.add(key)
        if types & FILM_TYPES:
            films.append(readers[syntax].film_summary(obj))
            film = obj
        for name, child in obj.items():
            if name in FOLLOWED:
                walk(child, syntax, film, depth + 1)

    for syntax, obj in page.objects:
        walk(obj, syntax, None, 0)
    reviews = [readers[syntax].review_item(obj, film) for obj, syntax, film in found.values()]
    return PageExtract(reviews=reviews, films=films, errors=list(page.errors), unreadable=list(page.unreadable))


def extract_page(html: str | bytes, url: str, source: str = "page") -> PageExtract:
    """Every review and film summary on one page."""
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    base = get_base_url(text[:_BASE_SCAN], url)  # the page URL unless a <base href> overrides it
    return extract_from_data(read_page(text, base), url, source, base)
