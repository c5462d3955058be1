"""Turn schema.org objects into raw review items and film summaries.

Only extraction: values are copied as published (strings), nothing is scored or cleaned.
The one exception is links: a URL as published is relative to its page, so review, critic and
film URLs (and `@id`s) are resolved against the page's base URL, as a browser would.
Reviews are found anywhere in the object tree: top level, inside `Movie.review`, inside
`@graph`, or referencing their film through `itemReviewed`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from w3lib.html import get_base_url

from crawlers.items import ReviewItem
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


def _film_year(film: dict[str, Any]) -> str | None:
    # dateCreated is often when the page was created (Letterboxd), so release data comes first.
    released = _first_dict(film.get("releasedEvent"))
    for candidate in (released.get("startDate") if released else None, film.get("copyrightYear"),
                      film.get("datePublished"), film.get("dateCreated")):
        text = _text(candidate)
        if text:
            return text
    return None


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


def _review_item(review: dict[str, Any], film: dict[str, Any] | None, page_url: str, syntax: str,
                 source: str, base: str | None = None) -> ReviewItem:
    film = _first_dict(review.get("itemReviewed")) or film or {}
    author = review.get("author")
    author_obj = _first_dict(author) or {}
    publisher = review.get("publisher") or review.get("sourceOrganization")
    rating = _first_dict(review.get("reviewRating")) or {}
    value = _text(rating.get("ratingValue")) if rating else _text(review.get("reviewRating"))
    base = base or page_url
    url = _link(review.get("url"), base)
    return ReviewItem(
        source=source,
        url=url or page_url,
        source_review_id=_text(review.get("identifier")) or _link(review.get("@id"), base) or url,
        film_title=_text(film.get("name")),
        film_year=_film_year(film) if film else None,
        external_ids=_external_ids(film) if film else {},
        critic_name=_text(author),
        critic_url=_link(author_obj.get("url"), base),
        outlet=_text(publisher),
        audience=_audience(review, short_type(review.get("@type"))),
        rating_raw=value,
        rating_value=value,
        rating_best=_text(rating.get("bestRating")),
        rating_worst=_text(rating.get("worstRating")),
        review_title=_text(review.get("name")) or _text(review.get("headline")),
        body=_text(review.get("reviewBody")) or _text(review.get("description")),
        published_raw=_text(review.get("datePublished")) or _text(review.get("dateCreated")),
        language_declared=_text(review.get("inLanguage")),
        page_url=page_url,
        syntax=syntax,
    )


def _film_summary(film: dict[str, Any], syntax: str, base: str) -> FilmSummary:
    aggregate = _first_dict(film.get("aggregateRating")) or {}
    return FilmSummary(
        title=_text(film.get("name")),
        year=_film_year(film),
        url=_link(film.get("url"), base) or _link(film.get("@id"), base),
        external_ids=_external_ids(film),
        rating_value=_text(aggregate.get("ratingValue")),
        rating_best=_text(aggregate.get("bestRating")),
        rating_worst=_text(aggregate.get("worstRating")),
        rating_count=_text(aggregate.get("ratingCount")),
        review_count=_text(aggregate.get("reviewCount")),
        syntax=syntax,
    )


def extract_from_data(page: PageData, url: str, source: str, base: str | None = None) -> PageExtract:
    """Reviews and films in `page`; links resolve against `base` (the page's <base href>), else `url`."""
    base = base or url
    reviews: list[ReviewItem] = []
    films: list[FilmSummary] = []

    def walk(obj: Any, syntax: str, film: dict[str, Any] | None, depth: int) -> None:
        if depth > 8:
            return
        if isinstance(obj, list):
            for child in obj:
                walk(child, syntax, film, depth + 1)
            return
        if not isinstance(obj, dict):
            return
        types = set(short_type(obj.get("@type")))
        if types & REVIEW_TYPES:
            reviews.append(_review_item(obj, film, url, syntax, source, base))
            return
        if types & FILM_TYPES:
            films.append(_film_summary(obj, syntax, base))
            film = obj
        for key, child in obj.items():
            if key in ("review", "reviews", "itemListElement", "item", "mainEntity", "hasPart"):
                walk(child, syntax, film, depth + 1)

    for syntax, obj in page.objects:
        walk(obj, syntax, None, 0)
    return PageExtract(reviews=reviews, films=films, errors=list(page.errors))


def extract_page(html: str | bytes, url: str, source: str = "page") -> PageExtract:
    """Every review and film summary on one page."""
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    base = get_base_url(text[:_BASE_SCAN], url)  # the page URL unless a <base href> overrides it
    return extract_from_data(read_page(text, base), url, source, base)
