"""Writes a run's counts to `<run-id>.stats.json` beside its landing file.

The flows read this file after the child crawl process exits, so counts survive the
process boundary (a Twisted reactor cannot restart, so crawls never run in-process).
The file is replaced atomically (crawlers.landing.write_json_atomic), so a crawl killed
mid-write leaves the previous file or none, never a truncated one.

`pages` counts the answers to requests for pages a spider reads for reviews: not robots.txt, which
Scrapy fetches for itself, and not sitemaps, which are read only for their links. A page that answers
with an error still counts, so a site that bans the crawler (403 on every page) shows as pages
without reviews, which the health check flags, rather than as a run too small to judge.

`errors` counts the requests of the spider (pages and sitemaps) that failed for good, each once however
often it was retried, not log lines:
- `no_answer`: the download failed (refused or reset connection, DNS, timeout, a body over
  DOWNLOAD_MAXSIZE), after RetryMiddleware's last retry or at once when the error is not one it retries;
- `error_status_after_retries`: the server still answered a status RETRY_HTTP_CODES lists (500, 503, 429…)
  after the last retry (Scrapy's `retry/max_reached`, without robots.txt); such an answer is also a page;
- `dropped`: an answer that never reached the spider: a downloader middleware dropped it (IgnoreRequest in
  process_response: a gzip body over DOWNLOAD_MAXSIZE once decompressed, too many redirects). It is not a
  page, since nothing read it. Robots.txt refusals and off-site redirects are policy, not failures: they
  have their own stats (`robots_forbidden`, Scrapy's `offsite/filtered`);
- `spider_exceptions`: a callback that raised (Scrapy's `spider_exceptions/count`);
- `robots_unreachable`: hosts whose robots.txt was unreachable (5xx or 429 after retries, or no answer), which
  crawlers/robots.py (RFC 9309) takes as "disallow everything" for the run: one failure per host, since none
  of its pages is requested (stat `robotstxt/unreachable`). A robots.txt download is otherwise not counted:
  with a robots.txt that allows everything when it fails (Scrapy's own), the pages are requested and count
  for themselves, so counting the robots.txt too would count one failure twice.
`log_errors` is Scrapy's count of ERROR log lines, for reference.

Scrapy has no signal for "this request failed for good", so each download that leaves the downloader is
marked (a key in its meta) as open until it is settled: by `response_received` (the spider got it) or by a
copy of it being scheduled (a retry or a redirect, which carries the meta over). What is still open when
the spider closes failed: with no answer (`no_answer`) or with one that was dropped (`dropped`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http.request import NO_CALLBACK

from crawlers.landing import data_dir, run_paths, write_json_atomic
from crawlers.retries import PAGE, RETRIED, SITEMAP, read_retries, retry_file, update_retries
from crawlers.spiders.base import BARREN_STAT, TRAP_STAT

PAGES = "reviews/pages"
# A page answered from the HTTP cache after a 304 (crawlers/httpcache.py): the server says it is unchanged.
PAGES_UNCHANGED = "reviews/pages_unchanged"
PAGES_GONE = "incremental/pages_gone"  # pages answered 404 or 410: deleted reviews, no markup to judge
NO_ANSWER = "reviews/failed/no_answer"
ERROR_STATUS = "reviews/failed/error_status_after_retries"
DROPPED = "reviews/failed/dropped"
# The spider's requests (pages and sitemaps) answered at all, and with a status under 400: a run whose every
# answer was an error (a mistyped start URL's 404) is unhealthy even as a source's first (flows/health.py).
ANSWERS = "reviews/answers"
ANSWERS_OK = "reviews/answers_ok"
SPIDER_EXCEPTIONS = "spider_exceptions/count"  # Scrapy's key (scrapy/core/scraper.py)
ROBOTS_UNREACHABLE = "robotstxt/unreachable"  # crawlers/robots.py
# The request meta key marking a download not yet settled (see the module docstring).
OPEN = "reviews_open_download"


def is_page(request: Request, spider: Any) -> bool:
    """True when the request asks for a page the spider reads for reviews, whatever the answer."""
    # Scrapy's robots.txt middleware (and any other component downloading for itself) uses NO_CALLBACK.
    if request.callback is NO_CALLBACK:
        return False
    # SitemapSpider sends sitemaps, and a robots.txt given as a start URL, to its own sitemap parser.
    return request.callback is None or request.callback != getattr(spider, "_parse_sitemap", None)


def made_by_spider(request: Request) -> bool:
    """True for a request the spider made (a page or a sitemap), not one Scrapy made for itself (robots.txt)."""
    return request.callback is not NO_CALLBACK


class RunStats:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.root = data_dir(crawler.settings.get("REVIEWS_DATA_DIR"))
        settings = crawler.settings
        # Statuses RetryMiddleware retries: one that reaches the engine anyway is one it gave up on.
        self.retried_statuses = (frozenset(int(code) for code in settings.getlist("RETRY_HTTP_CODES"))
                                 if settings.getbool("RETRY_ENABLED") else frozenset())
        # open download number -> the failure it is if never settled, its url, page or sitemap, and whether it
        # was a request for a URL on the retry list (crawlers/retries.py)
        self.open: dict[int, tuple[str, str, str, bool]] = {}
        self.opened = 0
        self.failed_answers: dict[str, str] = {}  # url -> page or sitemap: still an error status after retries
        self.retries_failed_again = 0  # of those, answers to a retry-list request
        # Of the retry list's urls (read at the first answer), those answered, also after a redirect: all the
        # update needs, where a set of every answered url would hold a big crawl's million urls.
        self.retrying: frozenset[str] | None = None
        self.answered: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunStats:
        extension = cls(crawler)
        connect = crawler.signals.connect
        connect(extension.spider_closed, signal=signals.spider_closed)
        connect(extension.response_received, signal=signals.response_received)
        connect(extension.response_downloaded, signal=signals.response_downloaded)
        connect(extension.request_left_downloader, signal=signals.request_left_downloader)
        # A retry or redirect is scheduled, or dropped by the dupefilter; a component may also download it
        # again itself (engine.download_async): each settles the download it copies.
        connect(extension.settle, signal=signals.request_scheduled)
        connect(extension.settle, signal=signals.request_dropped)
        connect(extension.settle, signal=signals.request_reached_downloader)
        return extension

    def open_download(self, request: Request, failure: str) -> None:
        self.opened += 1
        self.open[self.opened] = (failure, request.url, self._kind(request), bool(request.meta.get(RETRIED)))
        request.meta[OPEN] = self.opened

    def _kind(self, request: Request) -> str:
        return PAGE if is_page(request, self.crawler.spider) else SITEMAP

    def settle(self, request: Request, spider: Any = None) -> None:
        number = request.meta.pop(OPEN, None) if made_by_spider(request) else None
        if number is not None:
            self.open.pop(number, None)

    def response_downloaded(self, response: Any, request: Request, spider: Any = None) -> None:
        if made_by_spider(request):  # answered: a failure only if a middleware drops the answer
            self.open_download(request, DROPPED)

    def request_left_downloader(self, request: Request, spider: Any = None) -> None:
        if made_by_spider(request) and OPEN not in request.meta:  # no answer (response_downloaded comes first)
            self.open_download(request, NO_ANSWER)

    def response_received(self, response: Any, request: Request, spider: Any) -> None:
        self.settle(request)
        if not made_by_spider(request):
            return
        stats = self.crawler.stats
        stats.inc_value(ANSWERS)
        if response.status < 400:
            stats.inc_value(ANSWERS_OK)
        if response.status in self.retried_statuses and not request.meta.get("dont_retry", False):
            if request.meta.get(RETRIED):
                self.retries_failed_again += 1
            else:
                stats.inc_value(ERROR_STATUS)
            self.failed_answers[request.url] = self._kind(request)
        elif getattr(spider, "retries_failed_pages", False):
            if self.retrying is None:
                self.retrying = frozenset(read_retries(retry_file(self.root, spider.source)))
            self.answered.update(url for url in (request.url, *request.meta.get("redirect_urls", ()))
                                 if url in self.retrying)
        if is_page(request, spider):
            stats.inc_value(PAGES)
            if response.status in (404, 410):
                stats.inc_value(PAGES_GONE)
            if "cached" in response.flags and 200 <= response.status < 300:
                stats.inc_value(PAGES_UNCHANGED)

    def summary(self, reason: str) -> dict[str, Any]:
        stats = self.crawler.stats.get_stats()
        spider = self.crawler.spider

        def count(key: str) -> int:
            return int(stats.get(key, 0))

        unsettled = [failure for failure, _, _, retried in self.open.values() if not retried]
        failed = {"no_answer": unsettled.count(NO_ANSWER), "error_status_after_retries": count(ERROR_STATUS),
                  "dropped": unsettled.count(DROPPED), "spider_exceptions": count(SPIDER_EXCEPTIONS),
                  "robots_unreachable": count(ROBOTS_UNREACHABLE)}
        started = stats.get("start_time")
        return {
            "source": spider.source,
            "run_id": spider.run_id,
            "spider": spider.name,
            "pages": count(PAGES),
            "answers": count(ANSWERS),
            "answers_ok": count(ANSWERS_OK),
            "items": count("item_scraped_count"),
            "scraped": count("reviews/extracted"),
            "landed": count("reviews/landed"),
            "rejected": count("reviews/rejected"),
            "repeated_in_run": count("reviews/repeated_in_run"),
            # Repeats that landed as fuller copies (pipelines.InRunDuplicatesPipeline), counted in `landed` too.
            "fuller_repeats_in_run": count("reviews/fuller_repeat_in_run"),
            "extract_errors": count("reviews/extract_errors"),
            "errors": sum(failed.values()),
            "failed_requests": failed,
            # Requests for the retry list's URLs that failed again: no new failure (crawlers/retries.py).
            "retries_failed_again": self.retries_failed_again + sum(retried for *_, retried in self.open.values()),
            "log_errors": count("log_count/ERROR"),
            "robots_forbidden": count("robotstxt/forbidden"),
            # Crawler traps cut short (crawlers/spiders/base.py follow_meta and untrapped): links not followed.
            "traps": {"pages_not_followed": count(BARREN_STAT), "links_not_followed": count(TRAP_STAT)},
            # What tells an incremental run that found nothing new from a broken one (flows/health.py).
            "incremental": {"sitemap_entries_skipped": count("incremental/sitemap_entries_skipped"),
                            "pages_not_followed": count("incremental/pages_not_followed"),
                            "pages_unchanged": count(PAGES_UNCHANGED),
                            # known review pages read again to check the site (crawlers/canaries.py)
                            "canary_pages": count("incremental/canary_pages"),
                            "canary_reviews": count("incremental/canary_reviews"),
                            "canary_missing": count("incremental/canary_missing"),
                            # pages left out of the reviews per page (flows/health.py judged_yield)
                            "pages_gone": count(PAGES_GONE),
                            "retried_silent": count("incremental/retried_silent")},
            "http_status": {k.rsplit("/", 1)[-1]: v for k, v in stats.items()
                            if k.startswith("downloader/response_status_count/")},
            "field_coverage": {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("reviews/field/")},
            "started": started.isoformat() if started else None,
            "finished": datetime.now(UTC).isoformat(),
            "finish_reason": reason,
            # How the run's JOBDIR was opened (flows.incremental.open_job): written here, before the run's
            # lock is let go (BatchLock), so a load never reads the stats without it.
            **({"job_state": job} if (job := self.crawler.settings.get("REVIEWS_JOB_STATE")) else {}),
            # A site profile's order of day and month in numeric dates (crawlers/profiles.py): the load reads
            # the batch's dates in it.
            **({"date_order": order} if (order := getattr(spider, "date_order", None)) else {}),
            # A crawl that skipped nothing (--full, or no state): the source's next full crawl is due from it.
            **({"full_crawl": full} if isinstance(full := getattr(spider, "full_crawl", None), bool) else {}),
        }

    def spider_closed(self, spider: Any, reason: str) -> None:
        summary = self.summary(reason)
        for key in (NO_ANSWER, DROPPED):  # for Scrapy's stats dump in the crawl log, which follows
            if value := summary["failed_requests"][key.rsplit("/", 1)[-1]]:
                self.crawler.stats.set_value(key, value)
        path = run_paths(self.root, spider.source, spider.run_id)["stats"]
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, summary, default=str)
        if getattr(spider, "retries_failed_pages", False):
            failed = {url: kind for _, url, kind, _ in self.open.values()} | self.failed_answers
            failed |= dict.fromkeys(getattr(spider, "pages_to_retry", set)(), PAGE)  # crawlers/canaries.py
            update_retries(retry_file(self.root, spider.source), failed, self.answered - set(failed))


class BatchLock:
    """Holds an OS lock on `<run-id>.lock` beside the run's landing files from the spider's opening until its
    stats are written (connected after RunStats), so a load never takes a batch another process is still
    writing (flows.load.landing_batches): it would load part of it and record the run as killed, and the
    rest would never load. The operating system releases the lock if the crawl dies."""

    def __init__(self, crawler: Crawler):
        self.root = data_dir(crawler.settings.get("REVIEWS_DATA_DIR"))
        self.lock: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BatchLock:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any) -> None:
        from filelock import FileLock

        path = run_paths(self.root, spider.source, spider.run_id)["lock"]
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = FileLock(path)
        self.lock.acquire(timeout=0)  # a run id is new to each crawl: nobody else holds it

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.lock is not None:
            self.lock.release()
            Path(self.lock.lock_file).unlink(missing_ok=True)
