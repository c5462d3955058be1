"""Log the first case of a kind, count them all: a crawl meets some cases thousands of times, and its log would
drown in them, while the run's stats keep the number."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scrapy.statscollectors import StatsCollector


def counted(stats: StatsCollector, stat: str, log: Callable[..., Any], message: str, *args: Any) -> bool:
    """Count one more under `stat`; the first is also logged with `log(message, *args)`. Whether it was the first."""
    first = not stats.get_value(stat)
    if first:
        log(message, *args)
    stats.inc_value(stat)
    return first
