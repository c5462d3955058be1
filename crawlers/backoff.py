"""Retries that wait, and a site that objects slowed as a whole: the retry half of crawlers/politeness.py
(its module docstring tells the whole story; PacingMiddleware there keeps the waits set here)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.http import Response
from scrapy.utils.response import response_status_message

from crawlers.politeness import NOT_BEFORE, DomainPacer, hold_back_queued, retry_after_seconds, slot_key

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

RATE_LIMIT_STATUSES = (429, 503)
# A proxy or server saying it is overloaded: 502, 503, 504 without Retry-After, from OVERLOADED_URLS different
# pages since the site's last good answer, slow it by the retry's backoff. Each retried alone, a site failing
# every page got its retries in bursts (politeness QA: 122 a second); one heavy page timing out at its gateway
# is no overload, and slowing the site for it cost a crawl 250 s instead of 16 (review).
OVERLOAD_STATUSES = (502, 503, 504)
OVERLOADED_URLS = 3  # two isolated broken pages' retries can meet with no good answer between


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware that waits before a retry and slows a site that rate-limits (crawlers/politeness.py)."""

    pacer: DomainPacer

    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.backoff = settings.getfloat("REVIEWS_RETRY_BACKOFF", 1.0)
        self.backoff_max = settings.getfloat("REVIEWS_RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("REVIEWS_RETRY_AFTER_MAX", 120.0)
        self.rate_limit_retry_times = settings.getint("REVIEWS_RATE_LIMIT_RETRY_TIMES", self.max_retry_times)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.pacer = DomainPacer.of(crawler)
        return middleware

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        stats = self.crawler.stats
        assert stats is not None
        key = slot_key(self.crawler, request)
        retry_after = retry_after_seconds(response.headers.get(b"Retry-After"))
        rate_limited = response.status == 429 or (response.status in RATE_LIMIT_STATUSES and retry_after is not None)
        if retry_after is not None and retry_after > self.retry_after_max:
            stats.inc_value("retry/retry_after_over_max")
            logger.warning("Gave up retrying %(request)s: it answered %(status)d with Retry-After %(after).0f s, "
                           "longer than REVIEWS_RETRY_AFTER_MAX (%(max).0f s)",
                           {"request": request, "status": response.status, "after": retry_after,
                            "max": self.retry_after_max}, extra={"spider": self.crawler.spider})
            if rate_limited:
                self._stay_away(key, retry_after, response.status)
            return response
        earlier = request.meta.get("retry_times", 0)
        wait = retry_after if retry_after is not None else min(self.backoff * 2 ** earlier, self.backoff_max)
        if rate_limited:
            self._slow_down(key, wait, response.status)
        max_retry_times = request.meta.get("max_retry_times", self.max_retry_times)
        if response.status == 429:
            max_retry_times = max(max_retry_times, self.rate_limit_retry_times)
        assert self.crawler.spider is not None
        retry = get_retry_request(
            request, spider=self.crawler.spider, reason=response_status_message(response.status),
            max_retry_times=max_retry_times,
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=request.meta.get("give_up_log_level", self.give_up_log_level),
        )
        if retry is None:
            return response
        if response.status in OVERLOAD_STATUSES and retry_after is None:
            pages = self.pacer.overloaded.setdefault(key, set())
            pages.add(request.url)
            if len(pages) >= OVERLOADED_URLS:
                self._slow_down(key, wait, response.status, rate_limited=False)
        retry.meta[NOT_BEFORE] = time.time() + wait
        return retry

    def process_exception(self, request: Request, exception: Exception,
                          spider: Spider | None = None) -> Request | Response | None:
        """A download that failed (a reset connection, a cut body, a timeout) is retried after the backoff a 5xx
        gets, not at once: a server dropping connections under load was asked four times in two seconds."""
        retry = super().process_exception(request, exception)
        if isinstance(retry, Request):
            earlier = request.meta.get("retry_times", 0)
            retry.meta[NOT_BEFORE] = time.time() + min(self.backoff * 2 ** earlier, self.backoff_max)
        return retry

    def _stay_away(self, key: str, seconds: float, status: int) -> None:
        """A site that asks for a longer pause than the crawl may wait gets none of our requests for the rest of the
        run: its queued pages fail unasked and stay on the retry list for the next run (crawlers/unreachable.py).
        Waiting the cap and going back asked an hour's `Retry-After` again after two minutes (politeness QA)."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("retry/rate_limited")
        if key in self.pacer.paused:
            return
        self.pacer.paused.add(key)
        self.crawler.stats.inc_value("reviews/host_paused")
        if held := hold_back_queued(self.crawler, key):
            self.crawler.stats.inc_value("retry/held_back", held)
        logger.warning("%(host)s answered %(status)d asking for no requests for %(seconds).0f s, longer than "
                       "REVIEWS_RETRY_AFTER_MAX (%(max).0f s): none of its other requests go out in this run, and "
                       "its pages are kept for the next run to try",
                       {"host": key, "status": status, "seconds": seconds, "max": self.retry_after_max},
                       extra={"spider": self.crawler.spider})

    def _slow_down(self, key: str, seconds: float, status: int, rate_limited: bool = True) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("retry/rate_limited" if rate_limited else "retry/overloaded")
        if held := hold_back_queued(self.crawler, key):
            self.crawler.stats.inc_value("retry/held_back", held)
        if self.pacer.rate_limited(key, seconds):
            logger.info("%(host)s answered %(status)d: no request to it for %(seconds).1f s, and its requests "
                        "at least that far apart until it stops objecting",
                        {"host": key, "status": status, "seconds": seconds}, extra={"spider": self.crawler.spider})
