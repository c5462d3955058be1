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
from typing import Any

import feedparser
import scrapy
from feedparser.exceptions import ThingsNobodyCaresAboutButMe
from scrapy.http import Response, TextResponse

from crawlers import letterboxd
from crawlers.items import ReviewItem, UnreadableMarkup
from crawlers.spiders.base import ReviewSpiderMixin

RATING_KEYS = ("rev_rating", "letterboxd_memberrating", "review_rating")
BEST_KEYS = ("rev_maxrating",)
WORST_KEYS = ("rev_minrating",)
# Scales a namespace fixes instead of publishing per item, as (best, worst). Letterboxd member ratings
# are 0.5-5 stars in halves on a 0-5 scale (half a star is a tenth of the scale, not the bottom of it);
# without this the normalizer would assume schema.org's 1-5.
KNOWN_SCALES = {"letterboxd_memberrating": ("5", "0")}
FILM_TITLE_KEYS = ("film_title", "letterboxd_filmtitle", "demo_filmtitle")
FILM_YEAR_KEYS = ("film_year", "letterboxd_filmyear", "demo_filmyear")
IMDB_KEYS = ("film_imdb", "demo_imdb", "imdb_id")
TMDB_KEYS = ("tmdb_movieid",)
OUTLET_KEYS = ("film_outlet", "demo_outlet", "source")


def _first(entry: dict[str, Any], keys: Iterable[str]) -> str | None:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, dict):
            value = value.get("title") or value.get("value")
        if value not in (None, ""):
            return str(value).strip()
    return None


def _rating(entry: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """The entry's rating as published, with its scale: (value, best, worst).

    The scale is the one the feed publishes (`rev:maxRating`/`rev:minRating`), or the one the rating's
    namespace is known to use (KNOWN_SCALES), or None for the normalizer's defaults.
    """
    key = next((k for k in RATING_KEYS if _first(entry, (k,)) is not None), None)
    value = _first(entry, (key,)) if key else None
    best, worst = KNOWN_SCALES.get(key or "", (None, None))
    return value, _first(entry, BEST_KEYS) or best, _first(entry, WORST_KEYS) or worst


class FeedSpider(ReviewSpiderMixin, scrapy.Spider):
    name = "feed"

    def __init__(self, url: str | None = None, source: str | None = None, run_id: str | None = None,
                 audience: str | None = None, state: str | None = None, full: str = "false", **kwargs: Any):
        super().__init__(**kwargs)
        self.init_run(url, source, run_id)
        self.init_incremental(state, full)
        self.audience = audience

    def parse(self, response: Response, **kwargs: Any) -> Iterable[Any]:
        feed = feedparser.parse(response.body, sanitize_html=False, resolve_relative_uris=False,
                                response_headers={"content-location": response.url})
        # feedparser flags every feed here (bozo) with NonXMLContentType, as it is given no Content-Type:
        # a ThingsNobodyCaresAboutButMe (that, or a wrong declared encoding) is no broken markup, and a
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
        for entry in feed.entries:
            item = self.entry_item(entry, response.url)
            if item is None:
                self.crawler.stats.inc_value("feed/entries_without_review")
            else:
                items.append(item)
        for item in items:
            yield self.stamp(item)
        next_link = next((link.get("href") for link in feed.feed.get("links", []) if link.get("rel") == "next"),
                         None)
        older = [response.urljoin(next_link)] if next_link else []
        self.meet_page(response)
        if self.all_known([item.source_review_id for item in items], older):
            return  # feeds list newest first: an older page holds nothing new
        if next_link and (meta := self.follow_meta(response, items)) is not None:
            self.meet(*older)
            yield response.follow(next_link, callback=self.parse, meta=meta)

    def entry_item(self, entry: dict[str, Any], page_url: str) -> ReviewItem | None:
        """The entry as a raw review, or None for an entry that holds neither a review nor a rating (a
        Letterboxd diary entry that only says when the film was watched)."""
        ids: dict[str, str] = {}
        if imdb := _first(entry, IMDB_KEYS):
            ids["imdb"] = imdb
        if tmdb := _first(entry, TMDB_KEYS):
            ids["tmdb"] = tmdb
        content = entry.get("content") or []
        body = content[0].get("value") if content else entry.get("summary")
        rating, best, worst = _rating(entry)
        if letterboxd.is_letterboxd_entry(entry):
            # A rated diary entry with no review is still the member's rating: a rating-only item.
            body = letterboxd.review_html(body)
            if body is None and rating is None:
                return None
        return ReviewItem(
            source=self.source,
            url=entry.get("link") or page_url,
            source_review_id=entry.get("id") or entry.get("link"),
            film_title=_first(entry, FILM_TITLE_KEYS),
            film_year=_first(entry, FILM_YEAR_KEYS),
            external_ids=ids,
            critic_name=entry.get("author") or entry.get("dc_creator"),
            outlet=_first(entry, OUTLET_KEYS),
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
