"""Canary pages: a few known review pages an incremental crawl reads again, to notice a redesign.

An incremental crawl skips the sitemap entries not modified since the last complete crawl, so a site whose
relaunch dropped its review markup without touching its sitemap's dates would be read as "nothing new" week
after week: the silent breakage the health check exists for, never seen by it. So each incremental run
also fetches up to REVIEWS_CANARY_PAGES (3) of the skipped entries that gave reviews before (a file per
source under `<data>/state/`, kept by the crawls themselves), a different few each ISO week. Health judges
them (flows/health.py): if two or more give no review any more, and no other page of the run did either, the
run is unhealthy.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from scrapy.http import Request, Response

from crawlers.landing import data_dir, safe_name, write_atomic

MAX_CANARY_SITEMAPS = 3  # child sitemaps read for canaries in one run (an index of indexes needs two)


def pages_file(root: Path, source: str) -> Path:
    """Where a source's pages that gave reviews are listed, one URL a line."""
    return root / "state" / f"{safe_name(source)}.pages.txt"


def known_pages(path: Path) -> frozenset[str]:
    try:
        return frozenset(path.read_text(encoding="utf-8").split("\n")) - {""}
    except FileNotFoundError:
        return frozenset()


def remember_pages(path: Path, pages: Iterable[str], dropped: Iterable[str] = ()) -> None:
    """Add `pages` to the list and take `dropped` off it (atomically: a crawl killed while writing leaves the
    old list)."""
    new, gone = set(pages) - {""}, set(dropped)
    known = known_pages(path)
    if new <= known and not gone & known:
        return
    replace_pages(path, (known | new) - gone)


def replace_pages(path: Path, pages: Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(f"{page}\n" for page in sorted(set(pages) - {""})))


def pick(candidates: Iterable[str], budget: int, today: date) -> list[str]:
    """Up to `budget` of the candidates, the same ones all week and others the next: those whose CRC of
    url and ISO week is smallest (deterministic, so a test and a rerun see the same sample)."""
    if budget <= 0:
        return []
    year, week_number, _ = today.isocalendar()
    week = f"{year}-W{week_number:02d}"
    return sorted(set(candidates), key=lambda url: (zlib.crc32(f"{url}|{week}".encode()), url))[:budget]


class CanaryMixin:
    """The canary pages of a sitemap-reading spider; it calls `init_canaries` after `init_incremental`,
    `canaries`/`canary_sitemaps` from its sitemap filter and `note_page` for every page, before yielding its
    reviews (the landing pipeline counts those accepted from canary pages)."""

    crawler: Any
    logger: Any
    source: str
    since: date | None

    def init_canaries(self) -> None:
        self.canary_urls: set[str] = set()  # as requested (Request(url).url)
        self.canary_responses: set[str] = set()  # the response urls of canary pages read, for the pipeline
        self.silent_canaries: set[str] = set()
        self.pages_with_reviews: set[str] = set()
        self.canary_sitemaps_read = 0
        self._known: frozenset[str] | None = None

    def _pages_path(self) -> Path:
        return pages_file(data_dir(self.crawler.settings.get("REVIEWS_DATA_DIR")), self.source)

    def _budget(self) -> int:
        return self.crawler.settings.getint("REVIEWS_CANARY_PAGES") - len(self.canary_urls)

    def canaries(self, skipped: list[str]) -> list[str]:
        """Of the sitemap entries an incremental run skipped, the few to read again."""
        if self._budget() <= 0 or not skipped:
            return []
        if self._known is None:
            self._known = known_pages(self._pages_path())
        requested = {Request(url).url: url for url in skipped}
        chosen = pick((url for url in requested if url in self._known), self._budget(), datetime.now(UTC).date())
        self.canary_urls.update(chosen)
        return [requested[url] for url in chosen]

    def canary_sitemaps(self, skipped: list[str]) -> list[str]:
        """Of the child sitemaps an index lists as unmodified, one to read for the canaries (another each week):
        without it a site whose sitemaps all kept their dates offers no page to check. One per index level, at
        most MAX_CANARY_SITEMAPS a run, while canaries are still wanted."""
        if self._budget() <= 0 or self.canary_sitemaps_read >= MAX_CANARY_SITEMAPS:
            return []
        chosen = pick(skipped, 1, datetime.now(UTC).date())
        self.canary_sitemaps_read += len(chosen)
        return chosen

    def canary_meta(self, url: str) -> dict[str, Any]:
        """Request meta for a sitemap page: a canary is fetched as the site serves it now (not the stored copy a
        304 stands for: a relaunch can keep Last-Modified), and its 404 or 410 reaches the spider, as a page
        that gives no review."""
        if url not in self.canary_urls:
            return {}
        return {"dont_cache": True, "handle_httpstatus_list": [404, 410]}

    def note_page(self, response: Response, reviews: int) -> None:
        """Remember a page that gave reviews (as requested, before any redirect), and count a canary page."""
        requested = (response.meta.get("redirect_urls") or [response.url])[0]
        if reviews and response.status < 400:
            self.pages_with_reviews.add(requested)
        if requested not in self.canary_urls:
            return
        stats = self.crawler.stats
        stats.inc_value("incremental/canary_pages")
        if response.status >= 400:
            stats.inc_value("incremental/canary_missing")
        self.canary_responses.add(response.url)
        if not reviews:
            self.silent_canaries.add(requested)

    def closed(self, reason: str) -> None:
        """Scrapy calls this when the crawl ends. A complete full crawl lists the pages that gave reviews anew;
        another run adds its pages, and drops canaries that gave none while others still did (a page whose
        reviews were taken down, not a relaunch), so one such page does not alarm every week."""
        try:
            path = self._pages_path()
            resumed = self.crawler.settings.get("REVIEWS_JOB_STATE") == "resumed"  # saw only the rest of a crawl
            if reason == "finished" and self.since is None and not resumed:
                replace_pages(path, self.pages_with_reviews)
            else:
                dropped = self.silent_canaries if self.canary_urls - self.silent_canaries else set()
                remember_pages(path, self.pages_with_reviews, dropped)
        except OSError as exc:  # a full disk: the crawl's items are what matters, and they are written
            self.logger.warning("could not remember the pages that gave reviews: %s", exc)
