"""A user-facing error raised inside a Prefect task or flow reaches the user as one `error:` line:
Prefect's own failure logs (with their tracebacks) about it are dropped, a bug's are kept."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.states import Failed

from flows.errors import CrawlFailed, ReviewsError
from flows.pipeline import crawl_source, worth_retrying
from flows.quiet_errors import UserErrorFilter, install
from warehouse.db import WarehouseBusy, WarehouseError, connect, migrate

ROOT = Path(__file__).resolve().parents[2]
BUSY = ("the warehouse /x/reviews.duckdb is being written by another process (a run loading it, or a report "
        "rebuilding its marts); try again when it finishes")


def record(message: str, exc: BaseException | None = None, name: str = "prefect.task_runs") -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, None, exc_info)


@pytest.fixture
def root_output() -> Iterator[io.StringIO]:
    """What the root logger's handlers print, with the filter installed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install()
        yield stream
    finally:
        root.removeHandler(handler)


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


@pytest.mark.parametrize("exc", [ReviewsError("unknown spider 'nope'"), WarehouseError("bad"), WarehouseBusy(BUSY)])
def test_filter_drops_records_carrying_a_user_facing_error(exc):
    assert not UserErrorFilter().filter(record("Task run failed with exception: ... - Retries are exhausted",
                                               raised(exc)))
    assert not UserErrorFilter().filter(record("Encountered exception during execution: %r", raised(exc),
                                               name="prefect.flow_runs"))


@pytest.mark.parametrize("message", [
    f"Finished in state Failed('Task run encountered an exception WarehouseBusy: {BUSY}')",
    "Finished in state Failed('Flow run encountered an exception: ReviewsError: unknown spider \\'nope\\'')",
    "Finished in state Failed(\"Flow run encountered an exception: ReviewsError: unknown spider 'nope'\")",
    "Task run failed with exception: WarehouseBusy('busy') - Retry 1/2 will start 2 second(s) from now",
])
def test_filter_drops_prefects_follow_up_lines_about_a_user_facing_error(message):
    assert not UserErrorFilter().filter(record(message))


def test_filter_drops_the_traceback_of_a_prefect_server_gone_which_the_command_says_in_one_line():
    # Crash QA: a run whose server was killed ended in four connection tracebacks before any word of its own.
    import httpx

    assert not UserErrorFilter().filter(record("Encountered exception during execution: %r",
                                               raised(httpx.ConnectError("[Errno 111] Connection refused"))))


def test_filter_keeps_a_bugs_records_and_unrelated_lines():
    keep = UserErrorFilter()
    assert keep.filter(record("Encountered exception during execution: %r", raised(ValueError("bug"))))
    assert keep.filter(record("Finished in state Failed('Task run encountered an exception ValueError: "
                              "message quoting encountered an exception ReviewsError: x')"))
    assert keep.filter(record("Finished in state Completed()"))
    assert keep.filter(record("unhealthy run 1 of demo: far fewer reviews"))
    # Another library's line that happens to read like Prefect's is not Prefect's.
    assert keep.filter(record("Finished in state Failed('x encountered an exception ReviewsError: y')",
                              name="scrapy.core"))


def test_installed_filter_silences_a_user_error_and_keeps_a_bugs_traceback(root_output):
    install()  # idempotent: one filter per handler
    handler = logging.getLogger().handlers[-1]
    assert sum(isinstance(f, UserErrorFilter) for f in handler.filters) == 1
    logger = logging.getLogger("prefect.quiet_errors_test")
    for exc in (WarehouseBusy(BUSY), ValueError("a real bug")):
        try:
            raise exc
        except Exception as caught:
            logger.exception("Encountered exception during execution: %r", caught)
    out = root_output.getvalue()
    assert "WarehouseBusy" not in out
    assert "Traceback" in out and "ValueError: a real bug" in out



def test_prefects_queue_draining_note_at_exit_is_not_shown_but_its_errors_are(root_output):
    # On a busy machine it came after a command's one error line: "Still processing items: 2 items remaining..."
    logging.getLogger("EventsWorker").warning("Still processing items: 2 items remaining...")
    logging.getLogger("APILogWorker").error("could not send logs")
    assert root_output.getvalue() == "could not send logs\n"

def test_crawl_is_not_retried_after_a_user_facing_error_but_is_after_its_child_failed():
    assert crawl_source.retry_condition_fn is worth_retrying
    assert not worth_retrying(crawl_source, None, Failed(data=WarehouseBusy(BUSY)))
    assert not worth_retrying(crawl_source, None, Failed(data=ReviewsError("unknown spider 'nope'")))
    assert worth_retrying(crawl_source, None, Failed(data=CrawlFailed("crawl schema_org for x failed (exit -9)")))
    assert worth_retrying(crawl_source, None, Failed(data=OSError("disk hiccup")))


def _reviews(*args: str, data: Path, prelude: str = "") -> subprocess.Popen:
    """`reviews ARGS` in a child process, from this checkout, with its own Prefect home under `data`."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PREFECT_") and key != "REVIEWS_DATA_DIR"}
    code = f"{prelude}\nfrom flows.cli import app\napp(prog_name='reviews')"
    return subprocess.Popen([sys.executable, "-c", code, *args, "--data-dir", str(data)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Iterator[dict[str, tuple[int, str, str]]]:
    """Two `reviews run`s that fail inside the pipeline flow, run side by side (each starts Prefect):
    `busy` meets a locked warehouse in the crawl task (the lock taken after the CLI's up-front check),
    `unknown` raises a ReviewsError in the crawl task (without --quiet)."""
    tmp = tmp_path_factory.mktemp("quiet-errors")
    locked = tmp / "locked" / "reviews.duckdb"
    conn = connect(locked)
    migrate(conn)
    conn.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
         " time.sleep(120)", str(locked)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        children = {
            "busy": _reviews("run", "schema_org", "--url", "http://127.0.0.1:9/", "--full", "--quiet",
                             data=locked.parent,
                             prelude="import warehouse.db; warehouse.db.check_writable = lambda path: None; "
                                     "warehouse.db.WRITER_WAIT_SECONDS = 0.5"),
            "unknown": _reviews("run", "nope", "--url", "http://127.0.0.1:9/", data=tmp / "unknown"),
        }
        results = {}
        for name, child in children.items():
            out, err = child.communicate(timeout=180)
            results[name] = (child.returncode, out, err)
    finally:
        holder.kill()
        holder.wait()
    yield results


def test_run_meeting_a_locked_warehouse_inside_the_flow_prints_one_error_line(runs):
    code, out, err = runs["busy"]
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("error: the warehouse /") and line.endswith(
        "reviews.duckdb is open in another process (a run writing it, or a query, report or status reading it), "
        "still after 0.5 s; try again when it is closed")
    assert out == ""


def test_run_with_an_unknown_spider_prints_one_error_line_and_runs_nothing(runs):
    code, out, err = runs["unknown"]
    assert code == 2, err
    assert err.splitlines() == ["error: unknown spider 'nope'; choose one of: schema_org, feed, profile"]
    assert out == ""


def _record(message: str, error: BaseException | None) -> logging.LogRecord:
    return logging.LogRecord("prefect.flow_runs", logging.ERROR, __file__, 1, message, None,
                             (type(error), error, None) if error else None)


def test_a_served_run_logs_a_user_error_or_a_stop_in_one_line_and_a_bug_with_its_traceback() -> None:
    from flows.quiet_errors import OneLineFilter

    one_line = OneLineFilter()
    busy = _record("Encountered exception during execution: RunIncomplete('demo is being crawled')",
                   ReviewsError("demo is being crawled"))
    assert one_line.filter(busy) and busy.exc_info is None
    stopped = _record("Crash detected! Execution was aborted by an interrupt signal.", KeyboardInterrupt())
    assert one_line.filter(stopped) and stopped.exc_info is None
    assert not one_line.filter(_record("Engine execution exited with unexpected exception", ReviewsError("x")))
    bug = _record("Encountered exception during execution: ValueError('x')", ValueError("x"))
    assert one_line.filter(bug) and bug.exc_info is not None


def test_only_runs_that_reviews_serve_started_get_the_one_line_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.quiet_errors import SERVED_ENV, OneLineFilter, quiet_served_run

    handler = logging.StreamHandler()
    monkeypatch.setattr(logging.getLogger(), "handlers", [handler])
    monkeypatch.delenv(SERVED_ENV, raising=False)
    quiet_served_run()
    assert handler.filters == []
    monkeypatch.setenv(SERVED_ENV, "1")
    quiet_served_run()
    quiet_served_run()
    assert [type(f) for f in handler.filters] == [OneLineFilter]


def test_a_server_that_answers_an_error_or_a_bug_met_handling_a_network_error_is_no_server_gone():
    # Review: a 422 from a live server, and a KeyError raised inside `except httpx.ReadTimeout`, were told as
    # "Prefect's API server stopped answering", their tracebacks dropped.
    import httpx
    from prefect.exceptions import PrefectHTTPStatusError

    from flows.prefect_server import api_gone

    request = httpx.Request("POST", "http://127.0.0.1:4200/api/flow_runs/")

    def status(code: int) -> PrefectHTTPStatusError:
        return PrefectHTTPStatusError("status", request=request, response=httpx.Response(code, request=request))

    assert not api_gone(status(422)) and not api_gone(status(500)) and api_gone(status(503))
    try:
        try:
            raise httpx.ReadTimeout("timed out")
        except httpx.ReadTimeout:
            {}["missing"]
    except KeyError as bug:
        assert not api_gone(bug)
        assert UserErrorFilter().filter(record("Encountered exception during execution: %r", raised(bug)))
    try:
        raise RuntimeError("Failed to set the flow run state") from httpx.ConnectError("refused")
    except RuntimeError as gone:
        assert api_gone(gone)
