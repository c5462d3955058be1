"""Writes a run's counts to `<run-id>.stats.json` beside its landing file.

The flows read this file after the child crawl process exits, so counts survive the
process boundary (a Twisted reactor cannot restart, so crawls never run in-process).
The file is replaced atomically (crawlers.landing.write_json_atomic), so a crawl killed
mid-write leaves the previous file or none, never a truncated one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from crawlers.landing import data_dir, run_paths, write_json_atomic


class RunStats:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.root = data_dir(crawler.settings.get("REVIEWS_DATA_DIR"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunStats:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

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
            "pages": count("response_received_count"),
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
