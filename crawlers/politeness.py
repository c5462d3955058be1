"""Waiting before a retry, and slowing a whole site down when it asks: Retry-After, backoff, Crawl-delay.

Stock Scrapy retries a 429 or 5xx at once (RetryMiddleware has no wait), ignores `Retry-After`, and
ignores robots.txt's `Crawl-delay`; AutoThrottle lowers its delay again on the next fast answer. So a
site that allows one request a second and answers 429 to the rest saw each URL retried three times
within a second, and most of its pages were lost.

Here:

- `BackoffRetryMiddleware` (crawlers/backoff.py, in RetryMiddleware's place) gives every retry of a status in
  RETRY_HTTP_CODES, and of a download that failed (a reset connection, a timeout), a time before which it
  is not sent (request meta `reviews_not_before`): the answer's `Retry-After` (seconds or an HTTP date), or
  else an exponential backoff
  (REVIEWS_RETRY_BACKOFF × 2^n seconds for the n-th earlier retry, at most REVIEWS_RETRY_BACKOFF_MAX).
  A `Retry-After` longer than REVIEWS_RETRY_AFTER_MAX is not waited for: that request is given up
  (stat `retry/retry_after_over_max`, one warning). A 429 may be retried REVIEWS_RATE_LIMIT_RETRY_TIMES
  times (RETRY_TIMES for the other statuses).
- A 429, or a 503 with `Retry-After`, also slows the whole site (the downloader slot, one per host):
  no request goes to it for that long, and from then on its requests are at least that far apart
  (stat `retry/rate_limited`). A 502, 503 or 504 without `Retry-After` that will be retried does the
  same for its retry's backoff, once three pages of the site have answered so since its last good answer
  (stat `retry/overloaded`). Each later answer that is not a 429 or 5xx lowers that spacing by a
  tenth, so a crawl speeds up again once the site stops objecting, and the next 429 raises it again.
- robots.txt's `Crawl-delay` (crawlers/robots.py) is a lasting minimum spacing for its host.
- `PacingMiddleware`, the last downloader middleware before the network, holds each request until
  its time has come, waiting without blocking (the reactor keeps running). Requests that had passed
  it already and wait in the downloader slot's queue when a site objects are sent back to the
  scheduler, to pass it again (stat `retry/held_back`). AutoThrottle still sets the slot's own delay
  and cannot lower these spacings: they are kept here, not in the slot. A host with a spacing gets no
  random jitter on its slot delay, so the spacing is a true minimum. Stopped (SIGTERM, Ctrl-C) or
  closing, a waiting request is handed back to the scheduler instead of being waited for, so a stop
  is not held up by a long Retry-After, and a resumable crawl keeps the request in its JOBDIR.
"""

from __future__ import annotations

import logging
import time
import weakref
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider, signals
from scrapy.core.downloader import Downloader
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.pqueues import DownloaderAwarePriorityQueue, DownloaderInterface
from scrapy.utils.asyncio import sleep

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy.core.downloader import Slot
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

class CrawlStopping(IgnoreRequest):
    """A component's download (a robots.txt) given up because the crawl stopped while it waited for a retry: not
    dropped on purpose, so robots.txt must not read it as allow-all (crawlers/robots.py)."""


NOT_BEFORE = "reviews_not_before"  # request meta: wall-clock time (epoch seconds) before which it is not sent
RELAX = 0.9  # each answer that is not a 429/5xx multiplies a site's rate-limit spacing by this
POLL = 1.0  # seconds between checks, while waiting, that the crawl is not stopping


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value: delay-seconds or an HTTP date (RFC 9110 10.2.3).

    None when there is no value or it cannot be read; a date in the past is 0.
    """
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds and seconds != float("inf") else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class DomainPacer:
    """Per host (downloader slot key): the minimum spacing between requests and when the next may go."""

    _by_crawler: weakref.WeakKeyDictionary[Crawler, DomainPacer] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self.crawl_delay: dict[str, float] = {}
        self.rate_limit: dict[str, float] = {}
        self.next_ok: dict[str, float] = {}  # time.monotonic()
        self.waiting: dict[str, set[Request]] = {}  # by slot key, held by PacingMiddleware: see PacedDownloader
        self.overloaded: dict[str, set[str]] = {}  # by slot key: pages answering 502/503/504 since its last good answer
        self.down: set[str] = set()  # hosts given up for the run (crawlers/unreachable.py)
        # Hosts that asked for a pause longer than REVIEWS_RETRY_AFTER_MAX: given up for the run too, and
        # unlike `down` not taken back by a late answer, since they did answer, asking us to stay away.
        self.paused: set[str] = set()

    def given_up(self, key: str) -> bool:
        return key in self.down or key in self.paused

    def gave_up_any(self) -> bool:
        """Whether any host is given up (the cheap test before looking up a request's host)."""
        return bool(self.down or self.paused)

    @classmethod
    def of(cls, crawler: Crawler) -> DomainPacer:
        """The crawl's pacer, shared by the middlewares that set and honour it."""
        if crawler not in cls._by_crawler:
            cls._by_crawler[crawler] = cls()
        return cls._by_crawler[crawler]

    def spacing(self, key: str) -> float:
        return max(self.crawl_delay.get(key, 0.0), self.rate_limit.get(key, 0.0))

    def set_crawl_delay(self, key: str, seconds: float) -> None:
        """robots.txt's Crawl-delay for `key`; the longest asked for is kept."""
        self.crawl_delay[key] = max(seconds, self.crawl_delay.get(key, 0.0))

    def rate_limited(self, key: str, seconds: float) -> bool:
        """The site asked to wait `seconds`: hold it that long and space its requests as far apart.
        True when this raised the spacing."""
        self.next_ok[key] = max(self.next_ok.get(key, 0.0), time.monotonic() + seconds)
        raised = seconds > self.rate_limit.get(key, 0.0)
        if raised:
            self.rate_limit[key] = seconds
        return raised

    def relax(self, key: str) -> None:
        self.overloaded.pop(key, None)
        if key in self.rate_limit:
            self.rate_limit[key] *= RELAX
            if self.rate_limit[key] < 0.05:
                del self.rate_limit[key]

    def wait(self, key: str) -> float:
        return self.next_ok.get(key, 0.0) - time.monotonic()

    def not_before(self, key: str, when: float) -> None:
        """No request to `key` before `when` (time.monotonic())."""
        self.next_ok[key] = max(self.next_ok.get(key, 0.0), when)


def slot_key(crawler: Crawler, request: Request) -> str:
    """The downloader slot (one per host) a request goes through: the key the pacing is kept under."""
    assert crawler.engine is not None
    return crawler.engine.downloader.get_slot_key(request)


class HeldBack(Exception):
    """Fails a request that waited in a downloader slot's queue when its site asked us to slow down;
    PacingMiddleware.process_exception sends it back to the scheduler."""


def hold_back_queued(crawler: Crawler, key: str) -> int:
    """Take the requests waiting in `key`'s downloader slot back to the scheduler, so they pass
    PacingMiddleware again and wait for the site's new spacing; returns how many there were.

    They passed PacingMiddleware before the site objected: left in the slot, they would follow
    one another at AutoThrottle's pace. (Slot.queue holds (request, Deferred) pairs that
    Downloader._process_queue pops; failing a Deferred ends that request's download with the
    exception, as a network error would.)
    """
    engine = crawler.engine
    slot = engine.downloader.slots.get(key) if engine is not None else None
    if slot is None or not slot.queue:
        return 0
    waiting = list(slot.queue)
    slot.queue.clear()
    for _request, deferred in waiting:
        deferred.errback(HeldBack(f"{key} asked to slow down"))
    return len(waiting)


class PacingMiddleware:
    """Holds each request until its retry time and its host's spacing allow it (module docstring)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.pacer = DomainPacer.of(crawler)
        self.watch: Any = None
        crawler.signals.connect(self.request_reached_downloader, signal=signals.request_reached_downloader)
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    def engine_started(self) -> None:
        from twisted.internet import task

        self.watch = task.LoopingCall(self.hand_back_on_close)
        # An error would stop the timer with only Twisted's "Unhandled error in Deferred": logged, and the close
        # then waits out the queue as it used to.
        self.watch.start(POLL / 2, now=False).addErrback(
            lambda failure: logger.error("handing queued requests back on close failed: %s", failure.getErrorMessage()))

    def spider_closed(self) -> None:
        if self.watch is not None and self.watch.running:
            self.watch.stop()

    def hand_back_on_close(self) -> None:
        """Once the crawl closes (a stop, a time limit, a full disk), the requests queued in the downloader's
        slots go back to the scheduler (a resumable crawl keeps them in its JOBDIR) instead of being sent one
        per download delay: a stop waited out every one of them, about a minute at a 3 s delay."""
        engine = self.crawler.engine
        if engine is None or not self._stopping():
            return
        held = sum(hold_back_queued(self.crawler, key) for key in list(engine.downloader.slots))
        if held and self.crawler.stats is not None:
            self.crawler.stats.inc_value("pacing/handed_back_on_close", held)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PacingMiddleware:
        return cls(crawler)

    def _stopping(self) -> bool:
        engine = self.crawler.engine
        if engine is None or not engine.running:
            return True
        slot = getattr(engine, "_slot", None)  # set while the spider closes (CloseSpider, idle)
        return slot is not None and getattr(slot, "closing", None) is not None

    async def process_request(self, request: Request, spider: Spider | None = None) -> Request | None:
        key = slot_key(self.crawler, request)
        slot = None
        try:
            while (wait := max(self.pacer.wait(key), request.meta.get(NOT_BEFORE, 0.0) - time.time())) > 0:
                if self._stopping():
                    if request.callback is NO_CALLBACK:  # robots.txt and other downloads made by components
                        raise CrawlStopping("the crawl is stopping")
                    # Back to the scheduler (a resumable crawl saves it in its JOBDIR); dont_filter, since the
                    # duplicate filter has seen it already.
                    return request.replace(dont_filter=True)
                if slot is None:
                    slot = self._wait_in_slot(request)
                await sleep(min(wait, POLL))
        finally:
            if slot is not None:
                slot.active.discard(request)
                self.pacer.waiting.get(key, set()).discard(request)
        self._released(key)
        if self.pacer.gave_up_any():
            from crawlers.unreachable import give_up_if_down  # it imports this module

            give_up_if_down(self.crawler, request, key)
        return None

    def _wait_in_slot(self, request: Request) -> Slot:
        """Count a request that waits here among its host's active ones, as if it waited in the slot's
        own queue: the scheduler (DownloaderAwarePriorityQueue) sends the hosts with the fewest active
        requests first, and a host whose requests all wait here would look idle and get every request it
        has; and PacedDownloader leaves it out of CONCURRENT_REQUESTS, which it would otherwise fill while
        the other hosts of the crawl stall at this host's pace."""
        assert self.crawler.engine is not None and self.crawler.stats is not None
        key, slot = self.crawler.engine.downloader._get_slot(request)  # makes the slot if it is not there yet
        slot.active.add(request)
        waiting = self.pacer.waiting.setdefault(key, set())
        waiting.add(request)
        self.crawler.stats.max_value("pacing/waiting_max", len(waiting))
        return slot

    def _slot(self, key: str) -> Slot | None:
        engine = self.crawler.engine
        return engine.downloader.slots.get(key) if engine is not None else None

    def _released(self, key: str) -> None:
        """The next request to `key` waits `spacing` from when this one will leave the downloader slot:
        after the slot's own delay since its last request, and after the requests queued before it."""
        if not (spacing := self.pacer.spacing(key)):
            return
        now = time.monotonic()
        leaves = now
        if (slot := self._slot(key)) is not None:
            slot.jitter = 0.0  # a minimum spacing must not be shortened by the slot's random jitter
            leaves = max(now, slot.lastseen + slot.delay * (1 + len(slot.queue)))  # Slot.lastseen: monotonic
        self.pacer.not_before(key, leaves + spacing)

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Response:
        key = slot_key(self.crawler, request)
        if (spacing := self.pacer.spacing(key)) and (latency := request.meta.get("download_latency")) is not None:
            self.pacer.not_before(key, time.monotonic() - latency + spacing)  # from when it really left
        if response.status != 429 and response.status < 500:
            self.pacer.relax(key)
        return response

    def process_exception(self, request: Request, exception: Exception,
                          spider: Spider | None = None) -> Request | None:
        if isinstance(exception, HeldBack):
            return request.replace(dont_filter=True)  # the duplicate filter has seen it already
        return None

    def request_reached_downloader(self, request: Request, spider: Any = None) -> None:
        # A minimum spacing must not be shortened by the slot's random jitter (±50% by default); a slot
        # made after the request passed this middleware (the first to a host, or after the downloader
        # dropped an idle slot) gets it here.
        key = request.meta.get("download_slot")
        if key is not None and self.pacer.spacing(key) and (slot := self._slot(key)) is not None:
            slot.jitter = 0.0


class PacedDownloader(Downloader):
    """Scrapy's downloader, except that requests PacingMiddleware holds for their host's time do not count
    toward CONCURRENT_REQUESTS: they are not downloading, and a host that asks for a 30 s Crawl-delay or
    Retry-After must not slow the other hosts of the crawl to its pace. They stay in `active`, so the
    spider is not idle while they wait. How many may wait is bounded by PacedPriorityQueue."""

    def needs_backout(self) -> bool:
        waiting = sum(len(requests) for requests in DomainPacer.of(self.crawler).waiting.values())
        return 0 < self.total_concurrency <= len(self.active) - waiting


class PacedPriorityQueue(DownloaderAwarePriorityQueue):
    """The scheduler's queue by host, least busy host first, except that a host already holding as many
    requests waiting for their time as its concurrency gets no more: the rest stay queued here (and in a
    resumable crawl's JOBDIR), in the scheduler's order, instead of waiting in memory, since waiting
    requests do not count toward CONCURRENT_REQUESTS (PacedDownloader) and nothing else would bound them.
    DownloaderAwarePriorityQueue picks among the hosts its downloader interface reports; this one leaves
    the full hosts out of the report (when every host is full, pop gives nothing, and the engine asks again
    when a download ends, or at its next heartbeat)."""

    def __init__(self, crawler: Crawler, *args: Any, **kwargs: Any) -> None:
        super().__init__(crawler, *args, **kwargs)
        self._downloader_interface = _OpenHosts(crawler)


class _OpenHosts(DownloaderInterface):
    """Scrapy's view of the downloader for DownloaderAwarePriorityQueue, without the hosts that already have
    as many requests waiting in PacingMiddleware as their concurrency."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.crawler = crawler

    def stats(self, possible_slots: Iterable[str]) -> list[tuple[int, str]]:
        return [(active, key) for active, key in super().stats(possible_slots) if not self._full_of_waiters(key)]

    def _full_of_waiters(self, key: str) -> bool:
        waiting = len(DomainPacer.of(self.crawler).waiting.get(key, ()))
        if not waiting:
            return False
        slot = self.downloader.slots.get(key)
        return waiting >= (slot.concurrency if slot is not None else self.downloader.domain_concurrency or 1)
