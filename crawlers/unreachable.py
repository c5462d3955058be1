"""A host that stops answering mid-crawl is given up for the rest of the run.

Each request to a host that refuses, drops or times out its connections is tried RETRY_TIMES more times with a
backoff (crawlers/politeness.py), so a site that went down mid-crawl cost every page still queued its seven seconds
of retries, or two minutes when connections time out: measured, 100 queued pages of a site dropping connections
took 126 s, so a week's 3,000 would take an hour, and 10,000 on the retry list days. Once a host has answered
nothing for REVIEWS_HOST_DOWN_AFTER seconds (counted from its first failed download since its last answer) while
at least MIN_FAILURES downloads to it failed, its other requests of the run are failed at once without asking it:
counted with the run's failed requests (`no_answer`) and kept on the retry list for the next run, as any failed
page is (crawlers/retries.py). A server restarting for a few seconds is not given up: its requests are retried as
before. The log warns once per host; stat `reviews/host_down` counts such hosts and `reviews/host_down/given_up`
the requests failed unasked. 0 turns this off.
"""

from __future__ import annotations

import logging
import time

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.misc import load_object

from crawlers.extensions import NO_ANSWER, RunStats, made_by_spider
from crawlers.politeness import DomainPacer, slot_key

logger = logging.getLogger(__name__)
HOST_DOWN = "reviews/host_down"
GIVEN_UP = "reviews/host_down/given_up"
MIN_FAILURES = 4  # one request's tries: a host is not judged down on one slow answer


class HostDown(IgnoreRequest):
    """A request to a host that has stopped answering, failed without asking it."""


def give_up_if_down(crawler: Crawler, request: Request, key: str) -> None:
    """Raise HostDown for a request to a host given up in this run, counted as failed for good (and so kept on the
    retry list); PacingMiddleware asks again after a request's wait, since a retry waiting there when its host was
    given up would otherwise still go out (review)."""
    pacer = DomainPacer.of(crawler)
    if not pacer.given_up(key):
        return
    assert crawler.stats is not None
    crawler.stats.inc_value(GIVEN_UP)
    if made_by_spider(request):
        run_stats = next((ext for ext in crawler.extensions.middlewares if isinstance(ext, RunStats)), None)
        if run_stats is not None:
            run_stats.open_download(request, NO_ANSWER)
    raise HostDown(f"{key} asked for a longer pause than this run waits" if key in pacer.paused
                   else f"{key} has stopped answering")


class UnreachableHostMiddleware:
    """Downloader middleware, between the retries (550) and the pacing (950): it sees each download's failure
    before the retry middleware decides on a retry, and each request before it waits for its host."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.after = settings.getfloat("REVIEWS_HOST_DOWN_AFTER", 30.0)
        self.connection_errors = tuple(load_object(name) if isinstance(name, str) else name
                                       for name in settings.getlist("RETRY_EXCEPTIONS"))
        self.silent: dict[str, tuple[float, int]] = {}  # host -> first failure since its last answer, failures
        self.pacer = DomainPacer.of(crawler)  # shared with PacingMiddleware
        self.down = self.pacer.down

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UnreachableHostMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if self.pacer.gave_up_any():
            give_up_if_down(self.crawler, request, slot_key(self.crawler, request))

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        key = slot_key(self.crawler, request)
        self.silent.pop(key, None)
        self.down.discard(key)  # a late answer: the host is back
        return response

    def process_exception(self, request: Request, exception: Exception, spider: Spider | None = None) -> None:
        if not self.after or not isinstance(exception, self.connection_errors):
            return
        key = slot_key(self.crawler, request)
        now = time.monotonic()
        since, failures = self.silent.get(key, (now, 0))
        self.silent[key] = (since, failures + 1)
        if now - since >= self.after and failures + 1 >= MIN_FAILURES and key not in self.down:
            self.down.add(key)
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(HOST_DOWN)
            logger.warning("%s has answered nothing for %.0f s (%d downloads failed, the last with %s): its other "
                           "requests of this run are failed without asking it, and kept for the next run to try",
                           key, now - since, failures + 1, type(exception).__name__)
