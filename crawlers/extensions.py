"""Writes a run's counts to `<run-id>.stats.json` beside its landing file.

The flows read this file after the child crawl process exits, so counts survive the
process boundary (a Twisted reactor cannot restart, so crawls never run in-process).
The file is replaced atomically (`write_json_atomic`, which flows.crawl uses as well), so a
crawl killed mid-write leaves the previous file or none, never a truncated one. Scrapy is
imported only where the extension needs it, so importing the helper stays cheap.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawlers.landing import data_dir, run_paths

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step: readers and crashes see the old file or the new one.

    The text goes to a temporary file in the same directory (so the rename stays on one file
    system), is flushed and fsynced, then renamed over `path`; on any failure the temporary
    file is removed and `path` is left as it was.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 honours the umask, as write_text did (mkstemp would make it 0600).
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable; not possible everywhere
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def write_json_atomic(path: Path, data: Any, default: Any = None) -> None:
    """Write `data` as indented, key-sorted JSON with `write_atomic`.

    The JSON is built before any file is touched, so a value it cannot serialize raises
    and leaves `path` as it was.
    """
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=default) + "\n")


class RunStats:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.root = data_dir(crawler.settings.get("REVIEWS_DATA_DIR"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunStats:
        from scrapy import signals  # here, not at import: flows.crawl imports this module without Scrapy

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
