"""What every review spider shares: run identity, start URLs, and stamping items.

Kept apart from the spiders so each spider file holds only its site format's extraction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from crawlers.items import ReviewItem
from crawlers.landing import new_run_id


def split_urls(url: str | Iterable[str] | None) -> list[str]:
    if url is None:
        return []
    if isinstance(url, str):
        return [u.strip() for u in url.split(",") if u.strip()]
    return [u for u in url if u]


class ReviewSpiderMixin:
    """Arguments: `url` (comma-separated start URLs), `source` (landing name), `run_id`."""

    name: str

    def init_run(self, url: str | Iterable[str] | None, source: str | None, run_id: str | None) -> None:
        self.start_urls = split_urls(url) or list(getattr(self, "start_urls", []))
        if not self.start_urls:
            raise ValueError(f"spider {self.name!r} needs at least one start URL: -a url=https://...")
        self.source = source or self.name
        self.run_id = run_id or new_run_id()
        self.allowed_domains = sorted({urlparse(u).hostname or "" for u in self.start_urls} - {""})

    def stamp(self, item: ReviewItem, **extra: Any) -> ReviewItem:
        """Marks an item with this run; every extracted review passes here once."""
        self.crawler.stats.inc_value("reviews/extracted")  # type: ignore[attr-defined]
        item.source = self.source
        item.run_id = self.run_id
        item.fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        for key, value in extra.items():
            setattr(item, key, value)
        return item

