"""Crawling a run's sources side by side, one crawl per site at a time.

Sources used to crawl one after another, so a slow or rate-limiting site (429 with a long Retry-After) held
every later source back, for hours. Each crawl is its own child process and mostly waits on the network, so
sources on different sites now crawl at the same time, up to `[crawl] parallel` of them. Sources that share a
site stay in one lane and crawl in turn: per-site politeness (delays, AutoThrottle, robots.txt Crawl-delay) is
per crawl process, and two crawls of one site at once would double what it receives. A site is a registrable
domain (`feeds.example.co.uk` and `www.example.co.uk` are one), read from the Public Suffix List snapshot that
tldextract ships (Scrapy's own dependency), never fetched.
"""

from __future__ import annotations

import concurrent.futures
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from crawlers.landing import safe_name
from crawlers.sites import site_of
from flows.crawl import count_lines, stop_all_crawls, stopping


def sites_of(urls: list[str]) -> set[str]:
    """The sites a source's start URLs name (see `site_of`)."""
    return {site_of(url) for url in urls}


def lanes(specs: list[Any], sites: Callable[[Any], set[str]]) -> list[list[Any]]:
    """Group `specs` so that two specs sharing a site, directly or through others, are in one lane; lanes and
    the specs in each keep the order the specs came in."""
    groups: list[tuple[set[str], list[int]]] = []
    for index, spec in enumerate(specs):
        own = set(sites(spec))
        joined = [group for group in groups if group[0] & own]
        merged = (own.union(*(group[0] for group in joined)), sorted(i for g in joined for i in g[1]) + [index])
        groups = [group for group in groups if not any(group is j for j in joined)] + [merged]
    groups.sort(key=lambda group: group[1][0])
    return [[specs[i] for i in group[1]] for group in groups]


def crawl_in_lanes(specs: list[Any], start: Callable[[Any], Any], parallel: int,
                   collect: Callable[[Any, Any], None], board: CrawlBoard | None = None) -> None:
    """Run `start(spec)` (which submits a crawl and returns its Prefect future) for every spec, at most
    `parallel` at a time and one per lane at a time; `collect(spec, future)` each as it ends.

    A stop (KeyboardInterrupt: Ctrl-C, or a SIGTERM the pipeline turned into one) reaches this thread only,
    as the crawl children run in sessions of their own: each running crawl is sent one SIGTERM, closes
    cleanly (its JOBDIR and stats kept, so its next run resumes), is collected, and the stop goes on up. An
    error that `collect` lets through ends the run the same way.
    """
    order = {id(spec): index for index, spec in enumerate(specs)}
    waiting = deque(deque(lane) for lane in lanes(specs, lambda spec: sites_of(spec.urls)))
    running: dict[Any, tuple[Any, deque[Any]]] = {}

    def launch(lane: deque[Any]) -> None:
        spec = lane.popleft()
        if board is not None:
            board.started(spec.source)
        running[start(spec)] = (spec, lane)

    stopping.clear()
    try:
        while waiting and len(running) < parallel:
            launch(waiting.popleft())
        while running:
            done = ended(list(running), 0.25)  # short, so the board counts reviews as they land
            if board is not None:
                board.refresh()
            for future in sorted(done, key=lambda f: order[id(running[f][0])]):
                spec, lane = running.pop(future)
                if board is not None:
                    board.ended(spec.source)
                collect(spec, future)
                if lane:
                    launch(lane)
                elif waiting:
                    launch(waiting.popleft())
    except BaseException:
        # A stop (KeyboardInterrupt), or an error that ends the run (a busy warehouse met while writing a
        # source's incremental state): the crawls still running must not go on for hours unattended.
        stop_all_crawls()
        for future, (spec, _) in list(running.items()):
            while not ended([future], 0.5):
                stop_all_crawls()  # again, for a child that was starting the first time
            with suppress(Exception):  # the run stops anyway; what each crawl kept is in its stats
                collect(spec, future)
        raise
    finally:
        stopping.clear()  # every crawl has ended: the next run in this process starts afresh


def ended(futures: list[Any], seconds: float) -> list[Any]:
    """Those of `futures` (Prefect's, of tasks a thread pool runs) that have ended, waiting up to `seconds` for one.

    Not Prefect's `wait(timeout=...)`: in the main thread it times out by SIGALRM, four times a second here, and a
    stop signal landing while Python handled that alarm left a lock of `threading` half restored, so the stopped
    run ended Failed with "RuntimeError: release unlocked lock" instead of stopped (suite, on a loaded machine).
    A stop can still land in the few bytecodes of `threading.Condition.wait` that release its lock, far rarer.
    Futures of another task runner (no thread-pool future inside) are waited for as before.
    """
    if not all(isinstance(getattr(future, "wrapped_future", None), concurrent.futures.Future) for future in futures):
        from prefect.futures import wait

        return list(wait(futures, timeout=seconds).done)
    wrapped = {future.wrapped_future: future for future in futures}
    done, _ = concurrent.futures.wait(wrapped, timeout=seconds, return_when=concurrent.futures.FIRST_COMPLETED)
    return [wrapped[inner] for inner in done]


class CrawlBoard:
    """One progress display for crawls running side by side (Rich shows one live display at a time, so each
    crawl cannot show its own): a line per running source with the reviews its newest landing file holds."""

    def __init__(self, root: Path, console: Console | None = None) -> None:
        self.root = root
        console = console or Console(stderr=True)
        # Only on a terminal: elsewhere (a log file, cron's mail) a live display leaves blank lines behind.
        self.progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"),
                                 TextColumn("{task.completed} reviews"), TimeElapsedColumn(),
                                 console=console, transient=True, disable=not console.is_terminal)
        self.tasks: dict[str, tuple[Any, str]] = {}

    def __enter__(self) -> CrawlBoard:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def started(self, source: str) -> None:
        # Run ids begin with their start time (crawlers.landing.new_run_id): this crawl's file sorts at or after.
        since = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y%m%dT%H%M%S%fZ")
        self.tasks[source] = (self.progress.add_task(source, total=None), since)

    def ended(self, source: str) -> None:
        task, _ = self.tasks.pop(source, (None, ""))
        if task is not None:
            self.progress.remove_task(task)

    def refresh(self) -> None:
        if self.progress.disable:
            return
        for source, (task, since) in list(self.tasks.items()):
            # The run's file is the newest begun since its crawl started (the run id is made in the crawl). A
            # file may vanish meanwhile (`reviews prune`): the display must never fail the run.
            try:
                files = [p for p in (self.root / "raw" / safe_name(source)).glob("*.jsonl")
                         if p.name >= since and not p.name.endswith(".rejects.jsonl")]
                if files:
                    self.progress.update(task, completed=count_lines(max(files, key=lambda p: p.name)))
            except OSError:
                continue
