"""How a crawl stops: a repeated SIGTERM stays a graceful stop, and a disk running full stops it in time.

RepeatedSigtermGuard:

Scrapy stops gracefully on the first SIGTERM or SIGINT and uncleanly on the second (its JOBDIR and stats are
then lost, and the next run crawls afresh instead of resuming). A crawl child often gets SIGTERM twice for one
stop: systemd's default `KillMode=control-group` signals every process of the service at once, and the
`reviews` parent, stopped by the same signal, forwards one more to its child. So after the first SIGTERM,
further SIGTERMs are ignored while the crawl closes; SIGKILL forces a stop (systemd sends it after
`TimeoutStopSec`; the next run then crawls afresh). A SIGINT straight to the crawl process (Scrapy run by
hand) still forces it as Scrapy does.

LowDiskStop: with the data folder's disk full, the crawl cannot write its items, job state or cache, and
Scrapy's request loop died on the failed write and the crawl hung for ever (a weekly run that never ends).
Every 10 seconds the free space is checked; under REVIEWS_MIN_FREE_MB the crawl closes gracefully as
`disk_full` while there is still room to save its job state and stats, and the next run resumes it.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from crawlers.landing import data_dir, free_bytes


class RepeatedSigtermGuard:
    def __init__(self) -> None:
        self.previous: Any = None
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RepeatedSigtermGuard:
        guard = cls()
        crawler.signals.connect(guard.engine_started, signal=signals.engine_started)
        return guard

    def engine_started(self) -> None:
        from twisted.internet import reactor

        # Scrapy installs its shutdown handlers when the reactor has started; a call from the running
        # reactor comes after them, so the guard wraps Scrapy's own handler.
        reactor.callLater(0, self.install)

    def install(self) -> None:
        self.previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, self.on_sigterm)
        # The crawl starts with SIGTERM blocked (flows/crawl.py): one sent while Scrapy loaded, before any handler
        # existed, killed it and its saved queue was discarded as a crash's (QA). It is delivered now, to a handler.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])

    def on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            return  # one stop, signalled twice: the graceful close is already under way
        self.stopping = True
        if callable(self.previous):
            self.previous(signum, frame)
        elif self.previous == signal.SIG_DFL:
            raise SystemExit(128 + signum)
        # Scrapy's first-signal handler installs its kill handler for SIGTERM too: keep ours for SIGTERM.
        signal.signal(signal.SIGTERM, self.on_sigterm)


class LowDiskStop:
    INTERVAL = 10.0

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.root = data_dir(crawler.settings.get("REVIEWS_DATA_DIR"))
        self.floor = crawler.settings.getfloat("REVIEWS_MIN_FREE_MB") * 2**20
        self.loop: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LowDiskStop:
        stop = cls(crawler)
        crawler.signals.connect(stop.engine_started, signal=signals.engine_started)
        crawler.signals.connect(stop.spider_closed, signal=signals.spider_closed)
        return stop

    def engine_started(self) -> None:
        from twisted.internet import task

        self.loop = task.LoopingCall(self.check)
        self.loop.start(self.INTERVAL, now=True)

    def check(self) -> None:
        if free_bytes(self.root) < self.floor and self.crawler.engine is not None:
            self.loop.stop()
            self.loop = None
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(self.crawler.engine.close_spider_async(reason="disk_full"))

    def spider_closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

