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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawlers.landing import data_dir, safe_name, write_atomic
from crawlers.retries import RETRIED
from crawlers.sites import site_of

if TYPE_CHECKING:  # the load imports settle_pages, and needs no Scrapy
    from scrapy.http import Response

MAX_CANARY_SITEMAPS = 3  # child sitemaps read for canaries in one run (an index of indexes needs two)


def pages_file(root: Path, source: str) -> Path:
    """Where a source's pages that gave reviews are listed, one URL a line."""
    return root / "state" / f"{safe_name(source)}.pages.txt"


def full_crawl_pages_file(root: Path, source: str, run_id: str) -> Path:
    """The pages a complete full crawl found reviews on, waiting for its load to judge it (settle_pages)."""
    return root / "state" / "full-crawls" / safe_name(source) / f"{safe_name(run_id)}.pages.txt"


def settle_pages(root: Path, source: str, run_id: str, healthy: bool | None) -> None:
    """Once the load has judged a complete full crawl: its pages become the source's list, unless the run was
    unhealthy. A full crawl of a broken site (its markup gone, an interstitial on every page) found no page
    with reviews, and the empty list it wrote left later runs no canary: green for weeks (site-drift QA)."""
    found = full_crawl_pages_file(root, source, run_id)
    if not found.exists():
        return
    if healthy is not False:
        replace_pages(pages_file(root, source), known_pages(found))
    found.unlink(missing_ok=True)


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


def as_requested(url: str) -> str:
    """A url as a Scrapy request of it names it (percent-encoded), which is how pages are remembered."""
    from scrapy.http import Request

    return Request(url).url


def pick(candidates: Iterable[str], budget: int, today: date) -> list[str]:
    """Up to `budget` of the candidates, the same ones all week and others the next: those whose CRC of
    url and ISO week is smallest (deterministic, so a test and a rerun see the same sample)."""
    if budget <= 0:
        return []
    year, week_number, _ = today.isocalendar()
    week = f"{year}-W{week_number:02d}"
    return sorted(set(candidates), key=lambda url: (zlib.crc32(f"{url}|{week}".encode()), url))[:budget]


def _requested(url: str) -> str:
    try:
        return as_requested(url)
    except ValueError:  # no URL Scrapy can request: its own site key
        return url


def _site_key(url: str) -> tuple[str, int | None]:
    """A URL's site and explicit port (the default ports are none: a site that moved to https is the same site)."""
    try:
        port = urlsplit(url).port
    except ValueError:  # a port out of range in a listed page
        port = None
    return site_of(url), None if port in (80, 443) else port


class CanaryMixin:
    """The canary pages of a sitemap-reading spider; it calls `init_canaries` after `init_incremental`,
    `canaries`/`canary_sitemaps` from its sitemap filter and `note_page` for every page, before yielding its
    reviews (the landing pipeline counts those accepted from canary pages)."""

    crawler: Any
    logger: Any
    source: str
    run_id: str
    since: date | None
    start_urls: list[str]

    def init_canaries(self) -> None:
        self.canary_urls: set[str] = set()  # as requested (as_requested)
        self.canary_responses: set[str] = set()  # the response urls of canary pages read, for the pipeline
        self.silent_canaries: set[str] = set()
        self.pages_with_reviews: set[str] = set()
        self.silent_pages: set[str] = set()  # known to give reviews, answered without any (not canaries)
        self.canary_sitemaps_read = 0
        self.listed_known = False  # a sitemap of this run listed a page known to give reviews
        self.sitemaps_listed = False  # this run read a sitemap's entries
        self.canaries_from_known = False
        self._known: frozenset[str] | None = None

    def _pages_path(self) -> Path:
        return pages_file(data_dir(self.crawler.settings.get("REVIEWS_DATA_DIR")), self.source)

    def _budget(self) -> int:
        return self.crawler.settings.getint("REVIEWS_CANARY_PAGES") - len(self.canary_urls)

    def known(self) -> frozenset[str]:
        if self._known is None:
            self._known = known_pages(self._pages_path())
        return self._known

    def listed(self, locs: Iterable[str]) -> None:
        """Note a sitemap's entries, read or skipped: whether any is a page known to give reviews."""
        self.sitemaps_listed = True
        if not self.listed_known and self.known():
            self.listed_known = any(as_requested(url) in self.known() for url in locs if url)

    def canaries(self, skipped: list[str]) -> list[str]:
        """Of the sitemap entries an incremental run skipped, the few to read again."""
        if self._budget() <= 0 or not skipped:
            return []
        requested = {as_requested(url): url for url in skipped}
        chosen = pick((url for url in requested if url in self.known()), self._budget(), datetime.now(UTC).date())
        self.canary_urls.update(chosen)
        return [requested[url] for url in chosen]

    def unlisted_canaries(self) -> list[str]:
        """Once an incremental crawl has nothing left to do: if the sitemaps it read listed no page known to give
        reviews (the site moved its pages and kept its sitemap's dates), a few of those pages to read as canaries,
        once. Moved pages redirect to where they are now; without it a relaunch that also dropped the review
        markup was "not judged" week after week (site-drift QA)."""
        if self.since is None or self.canaries_from_known or self.canary_urls or self.listed_known \
                or not self.sitemaps_listed:  # a source crawled from its pages reads its start pages every run
            return []
        self.canaries_from_known = True
        # Only pages of the site the source crawls now: `reviews demo` lists its own site's pages (on a port of its
        # own, gone since) under the source name `demo`, which the example config crawls, and each later run of that
        # source read them, found nothing answering and was unhealthy (concurrency QA). So does a source whose
        # config moved it to another site.
        sites = {_site_key(_requested(url)) for url in self.start_urls}  # as pages are remembered: IDNs in ASCII
        here = {page for page in self.known() - self.pages_with_reviews if _site_key(page) in sites}
        chosen = pick(here, self._budget(), datetime.now(UTC).date())
        self.canary_urls.update(chosen)
        if chosen:
            self.crawler.stats.inc_value("incremental/canaries_unlisted", len(chosen))
        return chosen

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
        elif response.status < 400 and requested not in self.canary_urls and requested in self.known():
            self.silent_pages.add(requested)
            if response.meta.get(RETRIED):  # silent again: its reviews taken down, most likely
                self.crawler.stats.inc_value("incremental/retried_silent")
        if requested not in self.canary_urls:
            return
        stats = self.crawler.stats
        stats.inc_value("incremental/canary_pages")
        if response.status >= 400:
            stats.inc_value("incremental/canary_missing")
        self.canary_responses.add(response.url)
        if not reviews:
            self.silent_canaries.add(requested)

    def pages_to_retry(self) -> set[str]:
        """Pages known to give reviews that answered without any while other pages still gave theirs: a soft 404
        or an error page served with 200 for a day. Retried by the next runs (crawlers/retries.py), which an
        incremental run would otherwise skip until a full crawl (site-drift QA: 7 of 20 edits stayed unread).
        Not when more pages went silent than gave reviews: a relaunch, which the canaries and health report."""
        silent = self.silent_pages - self.pages_with_reviews
        return silent if len(silent) <= len(self.pages_with_reviews) else set()

    def closed(self, reason: str) -> None:
        """Scrapy calls this when the crawl ends. A complete full crawl lists the pages that gave reviews anew
        once its load finds it not unhealthy (settle_pages); another run adds its pages, and drops canaries that
        gave none while others still did (a page whose reviews were taken down, not a relaunch), so one such
        page does not alarm every week."""
        try:
            path = self._pages_path()
            resumed = self.crawler.settings.get("REVIEWS_JOB_STATE") == "resumed"  # saw only the rest of a crawl
            if reason == "finished" and self.since is None and not resumed:
                # Added now, the list anew once the load has judged the run (settle_pages).
                remember_pages(path, self.pages_with_reviews)
                found = full_crawl_pages_file(path.parent.parent, self.source, self.run_id)
                for stale in found.parent.glob("*.pages.txt"):
                    stale.unlink(missing_ok=True)  # a full crawl whose load never came
                replace_pages(found, self.pages_with_reviews)
            else:
                dropped = self.silent_canaries if self.canary_urls - self.silent_canaries else set()
                remember_pages(path, self.pages_with_reviews, dropped)
        except OSError as exc:  # a full disk: the crawl's items are what matters, and they are written
            self.logger.warning("could not remember the pages that gave reviews: %s", exc)
