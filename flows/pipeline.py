"""The Prefect flows: `pipeline` (crawl -> normalize -> load -> marts) and its parts.

Tasks are coarse on purpose: one per spider run, one per landing batch, one marts build.
A Prefect task costs milliseconds to a second, so a task per review would cost more than
the work. Only the crawl touches the network, so only the crawl retries: after its child failed
or an unexpected error, never after a user-facing error (flows.quiet_errors.USER_ERRORS), which
would fail again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
from prefect import flow, get_run_logger, task
from prefect.exceptions import CancelledRun
from prefect.states import Cancelled, Completed, Failed, State
from prefect.tasks import exponential_backoff
from rich.console import Console
from rich.progress import Progress

from crawlers.landing import data_dir, safe_name
from flows.config import DEFAULT_PARALLEL, FULL_EVERY_DAYS, Health, check_source_name
from flows.crawl import run_crawl, signalled, sigterm_as_interrupt, stopping
from flows.errors import CrawlFailed, ReviewsError, RunIncomplete, RunStopped, RunUnhealthy, SourceBusy
from flows.incremental import clock_behind, full_crawl_due, write_state
from flows.load import Batch, apply_mart_params, held_notes, judged_elsewhere, load, normalize, pending_batches
from flows.parallel import CrawlBoard, crawl_in_lanes
from flows.quiet_errors import is_user_error
from flows.served import (
    cancelled_when_stopped,
    is_served,
    prepare_served_run,
    served_body,
    stopped_state,
    unless_stopped,
)
from flows.upgrades import apply_data_fixes
from flows.writer import writer_slot
from warehouse.db import (
    WarehouseBusy,
    WarehouseDamaged,
    WarehouseError,
    first_line,
    interrupted,
    open_writer,
    warehouse_path,
)
from warehouse.marts import build_marts

# The warehouse writer slot is a lock per process and thread: a run's parallel crawls take turns here first.
_OWN_CRAWLS = threading.Lock()


@dataclass
class SourceSpec:
    """One thing to crawl: a spider and its start URLs, landing under `source`.

    `incremental` sources skip what the warehouse already has, revalidate pages with conditional
    requests, and resume a stopped crawl; `full` makes one run crawl everything again.
    """

    spider: str
    urls: list[str]
    source: str
    settings: dict[str, Any] = field(default_factory=dict)
    spider_args: dict[str, str] = field(default_factory=dict)
    incremental: bool = False
    full: bool = False
    full_every_days: int = FULL_EVERY_DAYS  # an incremental source whose last full crawl is older is crawled in full


@dataclass
class PipelineResult:
    crawls: list[dict[str, Any]] = field(default_factory=list)
    loads: list[dict[str, Any]] = field(default_factory=list)
    unhealthy: list[dict[str, Any]] = field(default_factory=list)
    marts: dict[str, int] = field(default_factory=dict)
    warehouse: str = ""
    held: list[str] = field(default_factory=list)  # batches waiting behind another process's crawl (load.held_notes)
    busy: list[str] = field(default_factory=list)  # sources a scheduled run left to the run still crawling them
    elsewhere: list[dict[str, Any]] = field(default_factory=list)  # unhealthy batches of sources it did not crawl


def _incremental_args(spec: SourceSpec, root: Path, database: Path) -> tuple[dict[str, Any], dict[str, str]]:
    settings = dict(spec.settings)
    args = dict(spec.spider_args)
    # Conditional requests: every page is asked for again with If-None-Match/If-Modified-Since and the
    # cached copy is used only on a 304. Scrapy's RFC2616Policy would serve "fresh" pages without asking
    # (missing new reviews) and skip the validators on `no-cache` pages; see crawlers/httpcache.py.
    settings.setdefault("HTTPCACHE_ENABLED", True)
    settings.setdefault("HTTPCACHE_POLICY", "crawlers.httpcache.RevalidatingPolicy")
    settings.setdefault("HTTPCACHE_DIR", str(root / "httpcache" / safe_name(spec.source)))
    # Entries never expire: nothing is served unrevalidated, and an expired entry (crawlers/settings.py keeps
    # the developer cache for a day) would turn a weekly run's 304s into full downloads.
    settings.setdefault("HTTPCACHE_EXPIRATION_SECS", 0)
    if database.exists():
        # In turn with other runs' loads, as they are (waiting for one would end in WarehouseBusy after 60 s).
        try:
            # The run's own crawls, in threads, take turns first: one waiting for a sibling is no "another run"
            # to warn of (every run of two sources warned, and cron mailed it: recovery QA).
            with _OWN_CRAWLS, writer_slot(root, waiting=get_run_logger().warning, cancelled=stopping.is_set), \
                    open_writer(database) as conn:
                args["state"] = str(write_state(conn, root, spec.source))
                due = not spec.full and full_crawl_due(conn, spec.source, spec.full_every_days)
                behind = clock_behind(conn, spec.source)
        except InterruptedError as exc:  # the run was stopped while this crawl waited: it never began
            raise RunStopped(f"crawl of {spec.source} not started: {exc}") from None
        if behind:
            get_run_logger().warning("%s", behind)
        if due:
            get_run_logger().info("crawling %s in full: no complete full crawl in the last %d days (full_every_days)",
                                  spec.source, spec.full_every_days)
            spec = replace(spec, full=True)
    args["full"] = str(spec.full).lower()
    return settings, args


def worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """The crawl's `retry_condition_fn`: retry a crawl child that failed (a crash, the OOM killer; the
    next attempt starts afresh or resumes) and any unexpected failure, never a user-facing error: a busy
    warehouse or an unknown spider would fail the same way again after the delay."""
    try:
        outcome = state.result(raise_on_failure=False)
    except Exception:  # the result could not be read: keep the retry policy
        return True
    if stopping.is_set():  # the run is stopping: a retry would start the crawl again
        return False
    return isinstance(outcome, CrawlFailed) or not is_user_error(outcome)


@task(retries=2, retry_delay_seconds=exponential_backoff(backoff_factor=2), retry_condition_fn=worth_retrying,
      task_run_name="crawl-{spec.source}")
@cancelled_when_stopped()
def crawl_source(spec: SourceSpec, root: Path, show_progress: bool = False) -> dict[str, Any] | State:
    settings, args = spec.settings, spec.spider_args
    if spec.incremental:
        settings, args = _incremental_args(spec, root, warehouse_path(root))
    result = run_crawl(spec.spider, spec.urls, source=spec.source, data=root, settings=settings,
                       spider_args=args, show_progress=show_progress, resumable=spec.incremental)
    if stopping.is_set() and result.stats.get("finish_reason") == "shutdown" and is_served():
        # The run's stop closed this crawl: Completed read as a whole crawl in Prefect's UI (Prefect QA). Only for a
        # served run: Prefect logs a Cancelled task at ERROR, a line more under `reviews run`'s one `stopped` line.
        return Cancelled(message=f"stopped: the crawl of {spec.source} closed cleanly and keeps its job, which "
                                 "the next run resumes")
    stats = result.stats
    # The run's log in Prefect said only "Finished in state Completed()" (Prefect QA): what the crawl did, in a line.
    get_run_logger().info("crawled %s (run %s): %s pages, %s reviews landed, %s refused, in %.0f s, %s; log %s",
                          result.source, result.run_id, stats.get("pages", 0), stats.get("landed", 0),
                          stats.get("rejected", 0), result.seconds, stats.get("finish_reason", "no stats"),
                          result.log_path)
    return {"spider": result.spider, "source": result.source, "run_id": result.run_id,
            "seconds": round(result.seconds, 2), **stats}


@task(task_run_name="load-{batch.source}-{batch.run_id}")
@cancelled_when_stopped()
def normalize_and_load(batch: Batch, database: Path, rules: Health) -> dict[str, Any]:
    """Normalize and load one landing batch, in one write transaction."""
    stopped = (f"stopped while loading run {batch.run_id} of {batch.source}: that load was rolled back and the "
               "next run loads the batch (batches loaded before it are kept; the next run rebuilds the marts)")
    with stops_as(stopped), open_writer(database) as conn:
        unless_signalled()
        result, run = load(conn, batch, normalize(conn, batch), rules, cancelled=signalled.is_set)
    get_run_logger().info("loaded run %s of %s: %s scraped, %s new, %s updated, %s duplicates, %s rejected%s",
                          result.run_id, result.source, result.scraped, result.loaded, result.updated,
                          result.duplicates, result.rejected, " (loaded before)" if result.already_loaded else "")
    if run.healthy is False:
        get_run_logger().warning("unhealthy run %s of %s: %s", run.run_id, run.source, run.health_notes)
    return {**result.as_dict(), "healthy": run.healthy, "health_notes": run.health_notes, "pages": run.pages,
            "errors": run.errors}


@task(task_run_name="find-pending")
@cancelled_when_stopped()
def find_pending(database: Path, root: Path, params: dict[str, float]) -> list[Batch]:
    """The landing batches not loaded yet, with the config's mart parameters stored first (the
    normalizer takes its positive_threshold from them) and stored rows repaired (flows/upgrades.py)."""
    with stops_as("stopped before loading: the next run loads what this one crawled"), \
            open_writer(database) as conn:
        apply_mart_params(conn, params)
        apply_data_fixes(conn)
        return pending_batches(conn, root)


@task(task_run_name="build-marts")
@cancelled_when_stopped()
def build_marts_task(database: Path, params: dict[str, float]) -> dict[str, int]:
    with stops_as("stopped while rebuilding the marts: this run's loads are kept, and the next run rebuilds "
                  "the marts"), open_writer(database) as conn:
        unless_signalled()
        apply_mart_params(conn, params)
        return build_marts(conn)


def unless_signalled() -> None:
    """A stop whose KeyboardInterrupt Python dropped (raised inside a finalizer) still stops the run."""
    if signalled.is_set():
        raise KeyboardInterrupt


UNHEALTHY = "Unhealthy"  # the name of the Failed state of a run with an unhealthy crawl (`reviews run`)


@contextmanager
def stops_as(message: str) -> Iterator[None]:
    """A stop (SIGTERM, Ctrl-C) inside a warehouse step becomes RunStopped(message): one line and exit 130,
    instead of Prefect's tracebacks of DuckDB's "Query interrupted"."""
    try:
        yield
    except (KeyboardInterrupt, RuntimeError, duckdb.Error) as exc:
        if not isinstance(exc, KeyboardInterrupt) and not interrupted(exc):
            raise
        raise RunStopped(message) from None


@flow(name="pipeline", log_prints=False)
def pipeline(sources: list[SourceSpec], data: str | None = None, show_progress: bool = False,
             mart_params: dict[str, float] | None = None, health: Health | None = None,
             parallel: int = DEFAULT_PARALLEL, fail_unhealthy: bool = False) -> PipelineResult | State:
    """Crawl every source (up to `parallel` sites at a time, see flows.parallel), then load every pending
    landing batch, then rebuild the marts. A run with an unhealthy crawl ends Failed (named Unhealthy), once all
    of that is done, and a caller gets RunUnhealthy holding the result; a run that crawled is unhealthy only for
    its own sources' crawls (_split_unhealthy); a scheduled run's too (it raised RunUnhealthy, a plain Failed with
    two tracebacks that no filter on the name Unhealthy found: Prefect QA). `fail_unhealthy` (scheduled runs) skips
    a source another run is still crawling, ending in the state Skipped (a Completed) when it crawled none."""
    prepare_served_run()
    for spec in sources:  # a deployment's parameters can be edited in Prefect: "../../x" put its log outside the data
        check_source_name(spec.source, "source")
    try:
        # A SIGTERM stops the run as Ctrl-C does, whichever step it reaches.
        with served_body(), sigterm_as_interrupt():
            result = _pipeline(sources, data_dir(data).resolve(), show_progress, mart_params, health, parallel,
                               busy_is_failure=not fail_unhealthy)
    except (KeyboardInterrupt, RunStopped, CancelledRun) as exc:  # CancelledRun: a task the stop ended
        if (cancelled := stopped_state(exc)) is None:
            raise
        return cancelled
    if result.unhealthy:
        # `reviews run` exits 3 for it, and on a Prefect server its run showed as Completed (Prefect QA). Returned
        # as a state, not raised: nothing else went wrong, so no traceback; a caller of the flow gets RunUnhealthy
        # holding the result (`outcome` takes it out), and the command still prints the run's summary.
        unhealthy = RunUnhealthy(result.unhealthy, result)
        return Failed(name=UNHEALTHY, message=str(unhealthy), data=unhealthy)
    if result.busy and not result.crawls:
        # A scheduled crawl that fires while the last one still crawls its site is skipped: not a failure, and
        # it still loaded what was pending and rebuilt the marts. A Completed state named Skipped, not Prefect's
        # Cancelled: the engine raises a cancelled run's state as an exception and logs its traceback.
        return Completed(name="Skipped", message="skipped: " + "; ".join(result.busy), data=result)
    return result


def _split_unhealthy(result: PipelineResult, sources: list[SourceSpec]) -> None:
    """Only its own sources' crawls fail a run that crawled: another source's batch it loaded (crawled by another
    run meanwhile, left pending by a stopped run or by `reviews crawl`) is that source's failure, named as a
    warning (Prefect QA, diagnosis QA). Done before a failed part can end the run, so its summary says it too."""
    if not sources:  # a run that only loads what is pending: every batch is its own
        return
    own = {spec.source for spec in sources}
    result.elsewhere = [bad for bad in result.unhealthy if bad["source"] not in own]
    result.unhealthy = [bad for bad in result.unhealthy if bad["source"] in own]
    for bad in result.elsewhere:
        get_run_logger().warning("unhealthy: %s run %s: %s", bad["source"], bad["run_id"], bad["health_notes"])


def outcome(state: State) -> PipelineResult:
    """The result of a `pipeline(..., return_state=True)`, an unhealthy run's too; any other failure raises."""
    if state.is_failed() and state.name == UNHEALTHY:
        return state.result(raise_on_failure=False).result
    return state.result()


def _crawl_sources(sources: list[SourceSpec], root: Path, show_progress: bool, parallel: int,
                   failures: list[str], busy: list[str]) -> list[dict[str, Any]]:
    """Each source's crawl summary, in the sources' order; a crawl that failed (retries spent) goes to
    `failures`, one whose source another run is crawling to `busy`: one site must not cost the other
    sources their week."""
    done: dict[int, dict[str, Any]] = {}  # by id(spec): specs are not hashable

    def collect(spec: SourceSpec, future: Any) -> None:
        try:
            done[id(spec)] = summary = future.result()
        except CrawlFailed as exc:
            failures.append(str(exc))
            return
        except SourceBusy as exc:
            busy.append(str(exc))
            return
        except ReviewsError as exc:
            if isinstance(exc, RunStopped):
                raise
            # A source that cannot be crawled (its profile gone, a folder of its own unwritable) ended the whole
            # run, and the crawls other sources had finished stayed unloaded until the next run (Prefect QA).
            failures.append(f"{spec.source} was not crawled: {exc}")
            return
        if summary.get("finish_reason") == "disk_full":  # crawlers/shutdown.py: what it landed still loads
            failures.append(f"the crawl of {spec.source} stopped early: the disk of {root} is nearly full "
                            "(REVIEWS_MIN_FREE_MB); free some room and the next run resumes it")

    with CrawlBoard(root) if show_progress else nullcontext() as board:
        crawl_in_lanes(sources, lambda spec: crawl_source.submit(spec, root), max(1, parallel), collect, board)
    return [done[id(spec)] for spec in sources if id(spec) in done]


def _pipeline(sources: list[SourceSpec], root: Path, show_progress: bool, mart_params: dict[str, float] | None,
              health: Health | None, parallel: int, busy_is_failure: bool = True) -> PipelineResult:
    database = warehouse_path(root)
    result = PipelineResult(warehouse=str(database))
    failures: list[str] = []
    result.crawls = _crawl_sources(sources, root, show_progress, parallel, failures, result.busy)
    if busy_is_failure:  # `reviews run` was asked to crawl it: exit code 1, as before
        failures += result.busy
    else:
        for note in result.busy:  # logged now: a later failure of the run must not hide it
            get_run_logger().warning("skipped: %s", note)
    with writer_slot(root, waiting=get_run_logger().warning):  # one writer at a time; said even with --quiet
        batches = unless_stopped(find_pending(database, root, mart_params or {}))
        result.held = held_notes(root)
        for note in result.held:  # `reviews run` prints them itself; under `reviews serve` this log is all there is
            get_run_logger().info("waiting: %s", note)
        # On stderr, and only on a terminal: on stdout its last newline met a full disk or a closed pipe between the
        # loads and the marts, which then were never built (environment QA).
        errors = Console(stderr=True)
        with Progress(transient=True, disable=not (show_progress and errors.is_terminal), console=errors) as progress:
            loading = progress.add_task("normalize + load", total=len(batches))
            for batch in batches:
                # A batch the load cannot take would otherwise stop every later batch, run after run.
                # A busy warehouse is no fault of the batch: it stops the run, as before.
                try:
                    loaded = unless_stopped(normalize_and_load(batch, database, health or Health()))
                except (WarehouseBusy, WarehouseDamaged, RunStopped, CancelledRun):  # no fault of the batch: they end
                    raise  # the run (CancelledRun: a served run's stop ended the load)
                except Exception as exc:
                    if interrupted(exc):
                        raise
                    failures.append(f"run {batch.run_id} of {batch.source} was not loaded and stays pending "
                                    f"({type(exc).__name__}: {first_line(exc)})")
                    continue
                finally:
                    progress.advance(loading)
                result.loads.append(loaded)
                if loaded["healthy"] is False:
                    result.unhealthy.append(loaded)
        try:
            result.unhealthy += judged_elsewhere(database, result.crawls, result.loads)
        except (duckdb.Error, WarehouseError) as exc:  # bookkeeping: it must not cost the run its marts
            get_run_logger().warning("could not read how other runs judged this run's crawls: %s", first_line(exc))
        _split_unhealthy(result, sources)
        try:
            result.marts = unless_stopped(build_marts_task(database, mart_params or {}))
        except (ReviewsError, WarehouseError) as exc:
            if isinstance(exc, RunStopped | WarehouseBusy | WarehouseDamaged):  # not a part of the run that failed
                raise
            # The loads are kept, so a part of the run failed (exit 1, after the summary), not the command (exit 2,
            # as a mistake of the user's: resources QA). With failed loads it is often their reason too (a full
            # disk): say all of it, not only the last.
            failures.append(f"the marts were not rebuilt (the next run rebuilds them): {exc}")
    if failures:
        raise RunIncomplete(failures, result)
    return result

