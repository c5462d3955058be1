"""Writes a run's counts to `<run-id>.stats.json` beside its landing file.

The flows read this file after the child crawl process exits, so counts survive the
process boundary (a Twisted reactor cannot restart, so crawls never run in-process).
The file is replaced atomically (crawlers.landing.write_json_atomic), so a crawl killed
mid-write leaves the previous file or none, never a truncated one.

`pages` counts the answers to requests for pages a spider reads for reviews: not robots.txt, which
Scrapy fetches for itself, and not sitemaps, which are read only for their links. A page that answers
with an error still counts, so a site that bans the crawler (403 on every page) shows as pages
without reviews, which the health check flags, rather than as a run too small to judge.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http.request import NO_CALLBACK

from crawlers.landing import data_dir, run_paths, write_json_atomic

PAGES = "reviews/pages"


def is_page(request: Request, spider: Any) -> bool:
    """True when the request asks for a page the spider reads for reviews, whatever the answer."""
    # Scrapy's robots.txt middleware (and any other component downloading for itself) uses NO_CALLBACK.
    if request.callback is NO_CALLBACK:
        return False
    # SitemapSpider sends sitemaps, and a robots.txt given as a start URL, to its own sitemap parser.
    return request.callback is None or request.callback != getattr(spider, "_parse_sitemap", None)


class RunStats:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.root = data_dir(crawler.settings.get("REVIEWS_DATA_DIR"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunStats:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        return extension

    def response_received(self, request: Request, spider: Any) -> None:
        if is_page(request, spider):
            self.crawler.stats.inc_value(PAGES)

    def summary(self, reason: str) -> dict[str, Any]:
        stats = self.crawler.stats.get_stats()
        spider = self.crawler.spider

        def count(key: str) -> int:
            return int(stats.get(key, 0))

        started = stats.get("start_time")
        return {
            "source": spider.source,
            "run_id": spider.run_id,
            "spider": spider.name,
            "pages": count(PAGES),
            "items": count("item_scraped_count"),
            "scraped": count("reviews/extracted"),
            "landed": count("reviews/landed"),
            "rejected": count("reviews/rejected"),
            "repeated_in_run": count("reviews/repeated_in_run"),
            "extract_errors": count("reviews/extract_errors"),
            "errors": count("log_count/ERROR") + count("spider_exceptions"),
            "robots_forbidden": count("robotstxt/forbidden"),
            "http_status": {k.rsplit("/", 1)[-1]: v for k, v in stats.items()
                            if k.startswith("downloader/response_status_count/")},
            "field_coverage": {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("reviews/field/")},
            "started": started.isoformat() if started else None,
            "finished": datetime.now(UTC).isoformat(),
            "finish_reason": reason,
        }

    def spider_closed(self, spider: Any, reason: str) -> None:
        path = run_paths(self.root, spider.source, spider.run_id)["stats"]
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, self.summary(reason), default=str)
