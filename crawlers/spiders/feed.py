"""RSS/Atom review feed spider.

Critics and members publish feeds with the rating in a namespace extension. feedparser turns
namespaced elements into `<prefix>_<name>` keys; the ones below cover the RDF Review
vocabulary (rev:rating), Letterboxd's member feeds and the bundled demo site's film extension.
Feed HTML is kept as published: sanitizing it here would change the raw record. Letterboxd entries
are the one case where part of the description is left out: Letterboxd's own poster, spoiler notice
and "Watched on …" lines (crawlers.letterboxd).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import feedparser
import scrapy
from feedparser.exceptions import ThingsNobodyCaresAboutButMe
from scrapy.http import Response, TextResponse

from crawlers import letterboxd
from crawlers.encoding import feed_as_utf8
from crawlers.items import RefusedReview, ReviewItem, UnreadableMarkup
from crawlers.spiders.base import ReviewSpiderMixin
from crawlers.spiders.clashes import IdClashes

# Namespaces whose elements carry ratings and film fields. feedparser keys an element `<prefix>_<name>`, lower
# case, under the prefix the feed binds (its own for a namespace it does not know): `rev:rating` is `rev_rating`,
# but `r_rating` in a feed that writes `xmlns:r=".../rev#"`, so keys are found by namespace (FeedKeys).
REV = "http://purl.org/stuff/rev#"
LETTERBOXD = "https://letterboxd.com"
TMDB = "https://themoviedb.org"
DEMO_FILM = "https://demo-film-reviews.invalid/ns/film#"  # the bundled demo site's (flows/demosite/feeds.py)
# (namespace, name) in order of preference, then keys taken as written (feeds that bind no namespace).
RATINGS = ((REV, "rating"), (LETTERBOXD, "memberrating"), (DEMO_FILM, "ratingdisplayed"))
BESTS = ((REV, "maxrating"),)
WORSTS = ((REV, "minrating"),)
FILM_TITLES = ((LETTERBOXD, "filmtitle"), (DEMO_FILM, "title"))
FILM_YEARS = ((LETTERBOXD, "filmyear"), (DEMO_FILM, "year"))
IMDB_IDS = ((DEMO_FILM, "imdbid"),)
TMDB_IDS = ((TMDB, "movieid"),)
OUTLETS = ((DEMO_FILM, "outlet"),)
RATING_KEYS = ("rev_rating", "letterboxd_memberrating", "review_rating")
BEST_KEYS = ("rev_maxrating",)
WORST_KEYS = ("rev_minrating",)
FILM_TITLE_KEYS = ("film_title", "letterboxd_filmtitle", "demo_filmtitle")
FILM_YEAR_KEYS = ("film_year", "letterboxd_filmyear", "demo_filmyear")
IMDB_KEYS = ("film_imdbid", "demo_imdb", "imdb_id")
TMDB_KEYS = ("tmdb_movieid",)
OUTLET_KEYS = ("film_outlet", "demo_outlet", "source")
# Scales a namespace fixes instead of publishing per item, as (best, worst). Letterboxd member ratings
# are 0.5-5 stars in halves on a 0-5 scale (half a star is a tenth of the scale, not the bottom of it);
# without this the normalizer would assume schema.org's 1-5. Each with the key a feed that binds no namespace
# writes it under.
KNOWN_SCALES = {(LETTERBOXD, "memberrating"): (("5", "0"), "letterboxd_memberrating")}


@dataclass(frozen=True)
class FeedKeys:
    """The entry keys one feed gives each field under, best first."""

    rating: tuple[str, ...]
    best: tuple[str, ...]
    worst: tuple[str, ...]
    film_title: tuple[str, ...]
    film_year: tuple[str, ...]
    imdb: tuple[str, ...]
    tmdb: tuple[str, ...]
    outlet: tuple[str, ...]
    scales: dict[str, tuple[str, str]]

    @classmethod
    def of(cls, namespaces: dict[str, str]) -> FeedKeys:
        def keys(wanted: Iterable[tuple[str, str]], written: tuple[str, ...] = ()) -> tuple[str, ...]:
            bound = [f"{prefix.lower()}_{name}" for uri, name in wanted
                     for prefix, namespace in namespaces.items() if prefix and namespace.rstrip("/") == uri]
            return tuple(dict.fromkeys([*bound, *written]))

        scales = {key: scale for field, (scale, written) in KNOWN_SCALES.items() for key in keys((field,), (written,))}
        return cls(keys(RATINGS, RATING_KEYS), keys(BESTS, BEST_KEYS), keys(WORSTS, WORST_KEYS),
                   keys(FILM_TITLES, FILM_TITLE_KEYS), keys(FILM_YEARS, FILM_YEAR_KEYS), keys(IMDB_IDS, IMDB_KEYS),
                   keys(TMDB_IDS, TMDB_KEYS), keys(OUTLETS, OUTLET_KEYS), scales)


def _first(entry: dict[str, Any], keys: Iterable[str]) -> str | None:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, dict):
            value = value.get("title") or value.get("value")
        if value not in (None, ""):
            return str(value).strip()
    return None


def _rating(entry: dict[str, Any], keys: FeedKeys) -> tuple[str | None, str | None, str | None]:
    """The entry's rating as published, with its scale: (value, best, worst).

    The scale is the one the feed publishes (`rev:maxRating`/`rev:minRating`), or the one the rating's
    namespace is known to use (KNOWN_SCALES), or None for the normalizer's defaults.
    """
    key = next((k for k in keys.rating if _first(entry, (k,)) is not None), None)
    value = _first(entry, (key,)) if key else None
    best, worst = keys.scales.get(key or "", (None, None))
    return value, _first(entry, keys.best) or best, _first(entry, keys.worst) or worst


def _critic(entry: dict[str, Any]) -> str | None:
    """The author's name: feedparser's `author` is "name (email)" when the feed gives both, and Blogger gives
    every author noreply@blogger.com, which would make each critic two."""
    detail = entry.get("author_detail") or {}
    return detail.get("name") or entry.get("author") or entry.get("dc_creator")


class FeedSpider(ReviewSpiderMixin, scrapy.Spider):
    name = "feed"

    def __init__(self, url: str | None = None, source: str | None = None, run_id: str | None = None,
                 audience: str | None = None, state: str | None = None, full: str = "false", **kwargs: Any):
        super().__init__(**kwargs)
        self.init_run(url, source, run_id)
        self.init_incremental(state, full)
        self.audience = audience
        self.clashes = IdClashes("this feed's ids look unique per feed only, and it lists two reviews under one")

    def parse(self, response: Response, **kwargs: Any) -> Iterable[Any]:
        headers = {"content-location": response.url}
        kind = response.headers.get("Content-Type")
        body, content_type = feed_as_utf8(response.body, kind.decode("latin-1") if kind else None)
        if content_type:
            headers["content-type"] = content_type
        feed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False, response_headers=headers)
        # feedparser flags a feed served as HTML or text (bozo) with NonXMLContentType: a
        # ThingsNobodyCaresAboutButMe (that, or a wrong declared encoding) is no broken markup, and a
        # feed it recognized (`version`) without entries is an empty feed page, not an unreadable one.
        broken = feed.bozo and not isinstance(feed.get("bozo_exception"), ThingsNobodyCaresAboutButMe)
        if feed.bozo and not feed.entries and (broken or not feed.get("version")):
            self.crawler.stats.inc_value("reviews/extract_errors")
            reason = f"unreadable feed: {feed.get('bozo_exception')}"
            self.logger.warning("%s: %s", response.url, reason)
            text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
            yield self.stamp(UnreadableMarkup(self.source, response.url, reason, text))
            return
        if broken:  # malformed, but feedparser's lenient parser still read entries: keep them, and say so
            self.crawler.stats.inc_value("reviews/extract_errors")
            self.logger.warning("%s: malformed feed, %d entries read all the same: %s", response.url,
                                len(feed.entries), feed.get("bozo_exception"))
        items = []
        keys = FeedKeys.of(dict(feed.get("namespaces") or {}))
        for entry in feed.entries:
            item = self.entry_item(entry, response.url, keys)
            if item is None:
                self.crawler.stats.inc_value("feed/entries_without_review")
            else:
                items.append(item)
        for item in items:
            clash = self.clashes.reason(item)
            yield self.stamp(item) if clash is None else RefusedReview(self.stamp(item), clash)
        next_link = next((link.get("href") for link in feed.feed.get("links", []) if link.get("rel") == "next"),
                         None)
        older = [response.urljoin(next_link)] if next_link else []
        self.meet_page(response)
        if self.all_known([item.source_review_id for item in items], older):
            return  # feeds list newest first: an older page holds nothing new
        if next_link and (meta := self.follow_meta(response, items)) is not None:
            self.meet(*older)
            yield response.follow(next_link, callback=self.parse, meta=meta)

    def entry_item(self, entry: dict[str, Any], page_url: str, keys: FeedKeys | None = None) -> ReviewItem | None:
        """The entry as a raw review, or None for an entry that holds neither a review nor a rating (a
        Letterboxd diary entry that only says when the film was watched)."""
        keys = keys or FeedKeys.of({})
        ids: dict[str, str] = {}
        if imdb := _first(entry, keys.imdb):
            ids["imdb"] = imdb
        if tmdb := _first(entry, keys.tmdb):
            ids["tmdb"] = tmdb
        content = entry.get("content") or []
        body = content[0].get("value") if content else entry.get("summary")
        rating, best, worst = _rating(entry, keys)
        if letterboxd.is_letterboxd_entry(entry):
            # A rated diary entry with no review is still the member's rating: a rating-only item.
            body = letterboxd.review_html(body)
            if body is None and rating is None:
                return None
        return ReviewItem(
            source=self.source,
            url=entry.get("link") or page_url,
            source_review_id=_review_id(entry),
            film_title=_first(entry, keys.film_title),
            film_year=_first(entry, keys.film_year),
            external_ids=ids,
            critic_name=_critic(entry),
            outlet=_first(entry, keys.outlet),
            audience=self.audience,
            rating_raw=rating,
            rating_value=rating,
            rating_best=best,
            rating_worst=worst,
            review_title=entry.get("title"),
            body=body,
            published_raw=entry.get("published") or entry.get("updated"),
            language_declared=entry.get("language") or (entry.get("title_detail") or {}).get("language"),
            page_url=page_url,
            syntax="feed",
        )


def _review_id(entry: dict[str, Any]) -> str | None:
    """The entry's guid or Atom id, else its link. A guid unique only in its feed (`<guid>1</guid>` in two feeds
    of one source) is refused for the second review in a crawl (IdClashes); scoping it by its feed would give
    every review stored under its bare guid a second key, and reviews whose critic or text changed since a
    second row."""
    return entry.get("id") or entry.get("link")
