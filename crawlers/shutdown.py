"""A repeated SIGTERM does not turn a crawl's graceful stop into an unclean one.

Scrapy stops gracefully on the first SIGTERM or SIGINT and uncleanly on the second (its JOBDIR and stats are
then lost, and the next run crawls afresh instead of resuming). A crawl child often gets SIGTERM twice for one
stop: systemd's default `KillMode=control-group` signals every process of the service at once, and the
`reviews` parent, stopped by the same signal, forwards one more to its child. So after the first SIGTERM,
further SIGTERMs are ignored while the crawl closes. A second Ctrl-C (SIGINT) still forces the stop, and so
does SIGKILL (systemd sends it after `TimeoutStopSec`).
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler


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
