"""Generic schema.org review spider.

Start it on any page, a sitemap or a robots.txt: it reads every Review published as JSON-LD,
microdata or RDFa (including reviews nested in `Movie.review`) and follows in-site links,
rel=next and numbered pagination included. It relies on markup that sites publish for search
engines, which changes far less often than their visual HTML.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from scrapy.link import Link
from scrapy.linkextractors import IGNORED_EXTENSIONS, LinkExtractor
from scrapy.spiders import SitemapSpider

from crawlers.canaries import CanaryMixin
from crawlers.extraction import extract_page
from crawlers.items import UnreadableMarkup
from crawlers.landing import data_dir
from crawlers.meta_robots import forbids_following
from crawlers.retries import RETRIED, SITEMAP, read_retries, retry_file
from crawlers.robots import product_token, robots_name
from crawlers.spiders.base import ReviewSpiderMixin, is_html

_SITEMAP_HINTS = ("sitemap", "robots.txt")

# Links to files that are no pages: Scrapy's list (images, media, archives, office files, css, js) and the
# newer kinds it lacks, fetched in a politeness QA (fonts, AVIF and other images, ES modules, JSON, source maps).
DENIED_EXTENSIONS = [*IGNORED_EXTENSIONS, "avif", "heic", "jxl", "woff", "woff2", "ttf", "otf", "eot", "mjs", "json",
                     "map", "wasm", "webmanifest", "mkv", "opus", "flac", "csv", "epub"]


def latest_utc_day(lastmod: str | None) -> date | None:
    """The latest UTC day a sitemap `lastmod` can fall on, or None when it is unreadable (the page is crawled).

    A time with a zone is one instant: its UTC day (`2026-11-26T23:50:00-08:00` is 27 November). A date alone, or
    a time without a zone, is the site's local day, which is up to a day behind UTC: read as the day after, or a
    page a US site changed on its evening would be skipped as older than a crawl that started that UTC morning.
    """
    text = (lastmod or "").strip()
    try:
        written = datetime.fromisoformat(text)
    except ValueError:
        try:  # "2026-10-01 10:00:00 UTC", "…T24:00:00Z": its date, as the site's day
            written = datetime.fromisoformat(text[:10])
        except ValueError:
            return None
    if written.tzinfo is not None:
        return written.astimezone(UTC).date()
    return written.date() + timedelta(days=1)


class SchemaOrgSpider(CanaryMixin, ReviewSpiderMixin, SitemapSpider):
    name = "schema_org"
    retries_failed_pages = True  # its incremental runs skip unmodified sitemap entries (crawlers/retries.py)

    def __init__(self, url: str | None = None, source: str | None = None, run_id: str | None = None,
                 follow: str = "true", state: str | None = None, full: str = "false", **kwargs: Any):
        super().__init__(**kwargs)
        self.init_run(url, source, run_id)
        self.init_incremental(state, full)
        self.init_canaries()
        self.follow_links = str(follow).lower() not in ("0", "false", "no")
        self.unfiltered_sitemap = False  # set while a retried sitemap is read (_parse_sitemap)
        self.sitemap_urls = [u for u in self.start_urls if any(h in u.lower() for h in _SITEMAP_HINTS)]
        self.page_urls = [u for u in self.start_urls if u not in self.sitemap_urls]
        # LinkExtractor's allow_domains compares host:port, so the port-less host check is done here.
        self.links = LinkExtractor(deny_extensions=DENIED_EXTENSIONS)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SchemaOrgSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.read_unlisted_canaries, signal=signals.spider_idle)
        return spider

    def read_unlisted_canaries(self) -> None:
        """At the end of an incremental crawl whose sitemaps listed no page known to give reviews, read a few
        of those pages as canaries (crawlers/canaries.py)."""
        urls = self.unlisted_canaries()
        for url in urls:
            self.crawler.engine.crawl(scrapy.Request(url, callback=self.parse, meta=self.canary_meta(url)))
        if urls:
            raise DontCloseSpider

    async def start(self) -> AsyncIterator[Any]:
        # allow_offsite: Scrapy's offsite filter would drop a start URL's redirect to a host not yet allowed
        # (https://www.site.example/ to https://site.example/) before follows_redirected_start could judge it.
        async for request in super().start():  # the sitemap requests
            request.meta["allow_offsite"] = True
            yield request
        for url in self.page_urls:
            yield scrapy.Request(url, callback=self.parse, meta={"allow_offsite": True})
        # What the source's last runs could not fetch, whatever the sitemap says of it now.
        retries = read_retries(retry_file(data_dir(self.crawler.settings.get("REVIEWS_DATA_DIR")), self.source))
        for url, retry in retries.items():
            if self.on_site(url):
                self.crawler.stats.inc_value("reviews/retried_from_last_run")
                yield scrapy.Request(url, callback=self._parse_sitemap if retry.kind == SITEMAP else self.parse,
                                     meta={RETRIED: True})

    def _parse_sitemap(self, response: Response) -> Iterable[Any]:
        # SitemapSpider reads sitemaps and robots.txt in this callback of its own, which never reaches parse:
        # a start sitemap that redirected is judged here (Scrapy's private name, stable since 1.0).
        if not self.follows_redirected_start(response):
            return
        # A sitemap a run could not read has entries no later run read either: all of them, lastmod aside, and
        # so for the child sitemaps of such an index. (Scrapy reads a sitemap whole, in this one call.)
        retried = bool(response.meta.get(RETRIED))
        self.unfiltered_sitemap = retried
        try:
            requests = list(super()._parse_sitemap(response))
        finally:
            self.unfiltered_sitemap = False
        for request in requests:
            if isinstance(request, scrapy.Request):
                request.meta.update(self.canary_meta(request.url))
                if retried and request.callback == self._parse_sitemap:
                    request.meta[RETRIED] = True
            yield request

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """On incremental runs, skip sitemap entries whose lastmod is before the last complete crawl, but for a
        few that gave reviews before, read again as canaries (crawlers/canaries.py)."""
        skipped: list[dict[str, Any]] = []
        index = getattr(entries, "type", None) == "sitemapindex"
        entries = list(entries)
        if not index:
            self.listed(entry.get("loc") or "" for entry in entries)
        for entry in entries:
            modified = latest_utc_day(entry.get("lastmod"))
            if self.since and modified and not self.unfiltered_sitemap and modified < self.since:
                self.crawler.stats.inc_value("incremental/sitemap_entries_skipped")
                skipped.append(entry)
                continue
            yield entry
        locs = [entry.get("loc") or "" for entry in skipped]
        if index:
            # Child sitemaps not modified since: one of them is read anyway, for the canaries to be picked from.
            chosen = set(self.canary_sitemaps(locs))
        else:
            chosen = set(self.canaries(locs))
        yield from (entry for entry in skipped if entry.get("loc") in chosen)

    def parse(self, response: Response, **kwargs: Any) -> Iterable[Any]:
        if not isinstance(response, TextResponse):
            return
        if not self.follows_redirected_start(response):
            return
        page = extract_page(response.text, response.url, self.source)
        self.note_page(response, len(page.reviews))  # before the reviews are yielded: the pipeline counts them
        if response.status >= 400:
            return  # a canary page that is gone: its 404 or 410 reached the spider only to be counted
        for error in page.errors:
            self.crawler.stats.inc_value("reviews/extract_errors")
            self.logger.warning("%s: %s", response.url, error)
        for reason, text in page.unreadable:
            yield self.stamp(UnreadableMarkup(self.source, response.url, reason, text))
        for item in page.reviews:
            yield self.stamp(item)
        # Links only from HTML: LinkExtractor fails on a JSON or plain-text answer, which has none anyway.
        if not self.follow_links or not is_html(response):
            return
        on_site = [link for link in self.links.extract_links(response) if self.on_site(link.url)]
        kept = set(self.untrapped(link.url for link in on_site))
        links = self.followable(response, [link for link in on_site if link.url in kept])
        self.meet_page(response)
        if self.all_known([r.source_review_id for r in page.reviews], [link.url for link in links]):
            return
        meta = self.follow_meta(response, page.reviews, bool(page.unreadable))
        if meta is None:
            return
        self.meet(*(link.url for link in links))
        for link in links:
            yield response.follow(link, callback=self.parse, meta=meta)

    @cached_property
    def robots_token(self) -> str | None:
        """The product token a page's robots meta or X-Robots-Tag names this crawler by (once per crawl)."""
        return product_token(robots_name(self.crawler.settings) or "")

    def followable(self, response: Response, links: list[Link]) -> list[Link]:
        """The links to follow: none from a page that asks so, nor one marked rel="nofollow"
        (crawlers/meta_robots.py), unless REVIEWS_OBEY_NOFOLLOW is off."""
        if not self.crawler.settings.getbool("REVIEWS_OBEY_NOFOLLOW", True):
            return links
        if forbids_following(response, self.robots_token):
            self.crawler.stats.inc_value("robots/nofollow_pages")
            return []
        followed = [link for link in links if not link.nofollow]
        if len(followed) < len(links):
            self.crawler.stats.inc_value("robots/nofollow_links", len(links) - len(followed))
        return followed
