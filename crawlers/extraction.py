"""Turn schema.org objects into raw review items and film summaries.

Only extraction: values are copied as published (strings), nothing is scored or cleaned.
The one exception is links: a URL as published is relative to its page, so review, critic and
film URLs (and `@id`s) are resolved against the page's base URL, as a browser would.
Two values are put together from published parts, because no single part identifies what they name:
a TV episode's title with its series' ("The Leftovers: Pilot"), and the key of reviews of one page that
share one id (`<id>#<critic>|<film>`, see _distinct_keys).
Reviews are found anywhere in the object tree: top level, inside `Movie.review`, inside
`@graph`, `about` or `subjectOf`, or referencing their film through `itemReviewed`. JSON-LD nodes that
name each other by `@id` (crawlers.references) are read as the nodes they name, across all JSON-LD blocks
of the page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from w3lib.html import get_base_url

from crawlers.items import ReviewItem
from crawlers.page_copies import comparable_body, same_body, without_copies
from crawlers.references import FOLLOWED, REVIEW_TYPES, NodeIndex, is_reference, is_web_address, node_id
from crawlers.structured import PageData, read_page, short_type
from crawlers.values import (
    as_author_name,
    as_language,
    as_link,
    as_name,
    as_node,
    as_text,
    external_ids,
    first_dict,
    is_organization,
    listed,
)

FILM_TYPES = {"Movie", "Film", "TVSeries", "TVSeason", "TVEpisode", "CreativeWork"}
_EPISODIC = {"TVEpisode", "TVSeason"}
# The root type says nothing about what was reviewed, as an itemReviewed without a type says nothing.
_UNTYPED = {"Thing"}
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


def _audience(types: list[str], has_outlet: bool) -> str | None:
    if "CriticReview" in types:
        return "critic"
    if "UserReview" in types:
        return "user"
    return "critic" if has_outlet else "user"


def _is_film(node: dict[str, Any]) -> bool:
    """Whether an itemReviewed can be a film: a film type, or no type that says otherwise (a plain name,
    a reference, a Thing). A Book, Product or Restaurant is no film, whatever its name."""
    # By local name: a type of another vocabulary (data-vocabulary.org/Movie) says what it is as well.
    types = {re.split(r"[/#:]", name.rstrip("/"))[-1] for name in short_type(node.get("@type"))} - _UNTYPED
    return not types or bool(types & FILM_TYPES)


def _distinct_keys(reviews: list[ReviewItem]) -> None:
    """Reviews of one page that share one id (a template giving each the page's url, one @id or one
    identifier) are several reviews when, in one markup, they name several critics or films, or one critic
    and film with several bodies: each is then keyed `<id>#<critic>|<film>`, as the flows key a review
    published without any id (`<url>#<critic>|<film>`), and the second, third … body of one critic and
    film in that markup adds `#2`, `#3` in page order. So the in-run duplicate check keeps them all, and a
    re-crawl finds each again. A review alone with its id keeps it, and so does one review published twice:
    in two blocks of one markup whose bodies are one review's (same_body: an excerpt beside the full text,
    other markup), or in JSON-LD and microdata, whose bodies or bylines may differ. Across markups only
    critic, film and place in the page tell copies apart, so the n-th body of a critic and film in microdata
    is the n-th in JSON-LD."""
    by_key: dict[str, list[ReviewItem]] = defaultdict(list)
    for review in reviews:
        if review.source_review_id:
            by_key[review.source_review_id].append(review)
    for key, group in by_key.items():
        # (syntax, critic, film) -> the bodies met so far, one per review; a review's number is its body's place.
        bodies: dict[tuple[str | None, str | None, str | None], list[str]] = defaultdict(list)
        numbers = []
        for review in group:
            known = bodies[(review.syntax, review.critic_name, review.film_title)]
            body = comparable_body(review.body)
            number = next((n for n, seen in enumerate(known, 1) if same_body(seen, body)), None)
            if number is None:
                known.append(body)
                number = len(known)
            numbers.append(number)
        per_syntax: dict[str | None, int] = defaultdict(int)
        for (syntax, _, _), known in bodies.items():
            per_syntax[syntax] += len(known)
        if any(count > 1 for count in per_syntax.values()):
            for review, number in zip(group, numbers, strict=True):
                ordinal = f"#{number}" if number > 1 else ""
                review.source_review_id = f"{key}#{review.critic_name or ''}|{review.film_title or ''}{ordinal}"


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
        reference: microdata and RDFa give `<link itemprop="author" href=…>` its href as the value, the
        only text such markup offers, and it is kept as it is (a link with text gives its text as the
        name and its href as the url, crawlers.structured)."""
        value = obj.get(key)
        return self.index.resolve(as_node(value) if self.syntax == "json-ld" else value, owner=obj)

    def _film_of(self, review: dict[str, Any]) -> dict[str, Any] | None:
        """The film a review is about: an object, a node it references, or a plain name ("Her (2013)"; a
        year written in it is read by the flows, as for any title)."""
        value = review.get("itemReviewed")
        if isinstance(value, list):
            value = first_dict(value) or next((v for v in value if isinstance(v, str) and v.strip()), None)
        if isinstance(value, str) and not is_web_address(value):
            return {"name": value.strip()} if value.strip() else None
        return first_dict(self.index.node(as_node(value), owner=review))

    def _addresses(self, node: dict[str, Any]) -> set[str]:
        return {link for link in (as_link(node.get(key), self.base) for key in ("url", "@id")) if link}

    def _reviewed(self, review: dict[str, Any], film: dict[str, Any] | None) -> dict[str, Any]:
        """The film of a review, given the film it is nested in (if any). What itemReviewed names wins,
        except where it says less than the enclosing film: a bare reference the page does not resolve,
        or a stub without a name (IMDb's `{"@type": "CreativeWork", "url": "/title/tt…/"}`) or with the
        film's own url or @id, which adds what it says to the film. A typed item that is no film (a Book)
        gives no film: the review is then refused for want of one."""
        named = self._film_of(review)
        if named and film and (is_reference(named) or not (as_text(named.get("name")) or "").strip()
                               or self._addresses(named) & self._addresses(film)):
            named = film if is_reference(named) else {**named, **film}
        chosen = named or film or {}
        return chosen if _is_film(chosen) else {}

    def _film_title(self, film: dict[str, Any]) -> str | None:
        """The film's name; an episode or season is named after its series too ("The Leftovers: Pilot"),
        or every show's "Pilot" would be one film."""
        title = as_text(film.get("name"))
        if not title or not set(short_type(film.get("@type"))) & _EPISODIC:
            return title
        season = first_dict(self._prop(film, "partOfSeason")) or {}
        series = as_name(self._prop(film, "partOfSeries") or self._prop(season, "partOfSeries"))
        if not series or not series.strip() or title.strip().startswith(series.strip()):
            return title
        return f"{series.strip()}: {title.strip()}"

    def _film_year(self, film: dict[str, Any]) -> str | None:
        # dateCreated is often when the page was created (Letterboxd), so release data comes first.
        released = first_dict(self._prop(film, "releasedEvent"))
        for candidate in (released.get("startDate") if released else None, film.get("copyrightYear"),
                          film.get("datePublished"), film.get("dateCreated")):
            text = as_text(candidate)
            if text:
                return text
        return None

    def _critic_url(self, author: dict[str, Any]) -> str | None:
        """The critic's page: the author's url, else its sameAs (Google's critic reviews identify the
        critic by it), else an @id the page does not resolve that is a web address (an author published
        as a bare address reads as one), but not a fragment of this page (`#author` names a node)."""
        link = as_link(author.get("url"), self.base)
        if link:
            return link
        for value in listed(author.get("sameAs")):
            link = as_link(value, self.base)
            if link and is_web_address(link):
                return link
        raw = node_id(author)
        if raw and is_reference(author) and not raw.strip().startswith("#"):
            link = as_link(raw, self.base)
            return link if link and is_web_address(link) else None
        return None

    def review_item(self, review: dict[str, Any], film: dict[str, Any] | None, lang: str | None) -> ReviewItem:
        film = self._reviewed(review, film)
        # One critic per review, its first author with a name (one given only as an address cannot be told from
        # others, and would get the review refused); the others' names are kept as co_authors, unused downstream.
        authors = listed(self._prop(review, "author"))
        names = [as_author_name(author) for author in authors]
        lead = next((i for i, name in enumerate(names) if name and name.strip()), 0)
        first_author = authors[lead] if authors else None
        critic_name = names[lead] if authors else None
        author_obj = first_author if isinstance(first_author, dict) else {}
        publisher = self._prop(review, "publisher") or self._prop(review, "sourceOrganization")
        outlet = as_name(publisher)
        # An Organization as author is a publication's staff review: the organization is the outlet, and
        # stays the critic too, since every review is someone's.
        staff = is_organization(author_obj) and not outlet
        rating = first_dict(self._prop(review, "reviewRating")) or {}
        value = as_text(rating.get("ratingValue")) if rating else as_text(review.get("reviewRating"))
        url = as_link(review.get("url"), self.base)
        return ReviewItem(
            source=self.source,
            url=url or self.url,
            source_review_id=as_text(review.get("identifier")) or as_link(review.get("@id"), self.base) or url,
            film_title=self._film_title(film) if film else None,
            film_year=self._film_year(film) if film else None,
            external_ids=external_ids(film, self.base) if film else {},
            critic_name=critic_name,
            critic_url=self._critic_url(author_obj),
            co_authors=[name for i, name in enumerate(names) if i != lead and name and name.strip()],
            outlet=critic_name if staff else outlet,
            audience=_audience(short_type(review.get("@type")),
                               bool(review.get("publisher") or review.get("sourceOrganization")) or staff),
            rating_raw=value,
            rating_value=value,
            rating_best=as_text(rating.get("bestRating")),
            rating_worst=as_text(rating.get("worstRating")),
            review_title=as_text(review.get("name")) or as_text(review.get("headline")),
            body=as_text(review.get("reviewBody")) or as_text(review.get("description")) or as_text(review.get("text")),
            published_raw=as_text(review.get("datePublished")) or as_text(review.get("dateCreated")),
            language_declared=as_language(review.get("inLanguage")) or lang,
            page_url=self.url,
            syntax=self.syntax,
        )

    def film_summary(self, film: dict[str, Any]) -> FilmSummary:
        aggregate = first_dict(self._prop(film, "aggregateRating")) or {}
        return FilmSummary(
            title=self._film_title(film),
            year=self._film_year(film),
            url=as_link(film.get("url"), self.base) or as_link(film.get("@id"), self.base),
            external_ids=external_ids(film, self.base),
            rating_value=as_text(aggregate.get("ratingValue")),
            rating_best=as_text(aggregate.get("bestRating")),
            rating_worst=as_text(aggregate.get("worstRating")),
            rating_count=as_text(aggregate.get("ratingCount")),
            review_count=as_text(aggregate.get("reviewCount")),
            syntax=self.syntax,
        )


def extract_from_data(page: PageData, url: str, source: str, base: str | None = None) -> PageExtract:
    """Reviews and films in `page`; links resolve against `base` (the page's <base href>), else `url`."""
    jsonld = NodeIndex((obj for syntax, obj in page.objects if syntax == "json-ld"), base or url)
    readers = {syntax: _PageReader(url, base or url, source, syntax, jsonld if syntax == "json-ld" else NodeIndex())
               for syntax, _ in page.objects}
    films: list[FilmSummary] = []
    # A JSON-LD node named by reference can be reached twice (from the graph's top level and from its
    # film's `review` list): each review is kept once, with a film where any path gave one, and each
    # other node with an @id is walked once. An @id that names several nodes (see NodeIndex) tells none of
    # them apart: they are told apart as objects. A review takes the `lang` of the nearest markup that has one.
    found: dict[Any, tuple[dict[str, Any], str, dict[str, Any] | None, str | None]] = {}
    walked: set[Any] = set()

    def walk(obj: Any, syntax: str, film: dict[str, Any] | None, lang: str | None, depth: int) -> None:
        if depth > 8:
            return
        if isinstance(obj, list):
            for child in obj:
                walk(child, syntax, film, lang, depth + 1)
            return
        lang = page.languages.get(id(obj), lang)
        obj = readers[syntax].index.node(obj)
        if not isinstance(obj, dict):
            return
        key = readers[syntax].index.identity(obj) if syntax == "json-ld" and node_id(obj) else None
        types = set(short_type(obj.get("@type")))
        if types & REVIEW_TYPES:
            review_key = key or id(obj)
            if review_key not in found or (film is not None and found[review_key][2] is None):
                found[review_key] = (obj, syntax, film, lang)
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
                walk(child, syntax, film, lang, depth + 1)

    for syntax, obj in page.objects:
        walk(obj, syntax, None, None, 0)
    reviews = [readers[syntax].review_item(obj, film, lang) for obj, syntax, film, lang in found.values()]
    _distinct_keys(reviews)
    reviews = without_copies(reviews)
    return PageExtract(reviews=reviews, films=films, errors=list(page.errors), unreadable=list(page.unreadable))


def extract_page(html: str | bytes, url: str, source: str = "page") -> PageExtract:
    """Every review and film summary on one page."""
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    base = get_base_url(text[:_BASE_SCAN], url)  # the page URL unless a <base href> overrides it
    return extract_from_data(read_page(text, base), url, source, base)
