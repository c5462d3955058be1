"""Health of crawl runs: runs the check cannot judge are stored as unknown (NULL) with the reason, and
stay out of the baseline later runs are judged against."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from flows.cli import app
from flows.config import Health
from flows.crawl import run_crawl
from flows.health import assess
from flows.load import Batch, landing_batches, load, normalize
from tests.flows.test_normalize_batch import item
from warehouse.db import open_writer
from warehouse.load import RunInfo

RULES = Health(history=5, min_pages=5, min_yield_ratio=0.5, max_coverage_drop=0.25)


def add_run(conn: duckdb.DuckDBPyConnection, run_id: str, pages: int, scraped: int, healthy: bool | None,
            finish_reason: str | None = "finished") -> None:
    conn.execute("insert into crawl_runs by name select ? as run_id, 'demo' as source, ? as pages, ? as scraped, "
                 "? as loaded, 0 as updated, 0 as duplicates, 0 as rejected, '{}' as field_coverage, "
                 "? as healthy, ? as finish_reason, now() + to_seconds(?) as loaded_at",
                 [run_id, pages, scraped, scraped, healthy, finish_reason, len(run_id)])


def run(pages: int = 10, finish_reason: str = "finished", resumed: bool = False) -> RunInfo:
    return RunInfo("new", "demo", pages=pages, finish_reason=finish_reason, resumed=resumed)


def test_a_stopped_run_is_unknown_with_a_note_saying_why(conn: duckdb.DuckDBPyConnection) -> None:
    assert assess(conn, run(finish_reason="shutdown"), 0, RULES) == (
        None, "not judged: the crawl ended as 'shutdown', not 'finished', so it saw only part of the site")


def test_a_resumed_run_is_unknown_with_a_note_saying_why(conn: duckdb.DuckDBPyConnection) -> None:
    healthy, notes = assess(conn, run(resumed=True), 50, RULES)
    assert healthy is None and notes.startswith("not judged: the crawl resumed a stopped one")


def test_a_run_with_fewer_than_min_pages_is_unknown_with_a_note_saying_why(conn: duckdb.DuckDBPyConnection) -> None:
    assert assess(conn, run(pages=3), 0, RULES) == (
        None, "not judged: 3 pages fetched, fewer than min_pages (5)")


def test_unjudged_runs_stay_out_of_the_baseline(conn: duckdb.DuckDBPyConnection) -> None:
    add_run(conn, "a", pages=10, scraped=100, healthy=True)  # 10 reviews per page
    for run_id in ("bb", "ccc", "dddd"):  # later, unjudged, 1 review per page: would drag the median to 1
        add_run(conn, run_id, pages=10, scraped=10, healthy=None, finish_reason="shutdown")
    healthy, notes = assess(conn, run(pages=10), 40, RULES)
    assert healthy is False and "against a recent median of 10.00" in notes


def test_stopped_runs_stored_as_healthy_before_this_change_stay_out_of_the_baseline(
        conn: duckdb.DuckDBPyConnection) -> None:
    add_run(conn, "a", pages=10, scraped=100, healthy=True)
    for run_id in ("bb", "ccc", "dddd"):
        add_run(conn, run_id, pages=10, scraped=10, healthy=True, finish_reason="shutdown")
    assert assess(conn, run(pages=10), 40, RULES)[0] is False


def test_an_unjudged_run_is_stored_as_null_and_status_shows_it_as_unknown(tmp_path: Path) -> None:
    folder = tmp_path / "raw" / "demo"
    folder.mkdir(parents=True)
    batch = Batch("demo", "run-1", folder / "run-1.jsonl")
    batch.items.write_text(json.dumps(item()) + "\n", encoding="utf-8")
    batch.stats.write_text(json.dumps({"spider": "feed", "pages": 20, "finish_reason": "shutdown"}), encoding="utf-8")
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        load(conn, batch, normalize(conn, batch))
    result = CliRunner().invoke(app, ["status", "--json", "--data-dir", str(tmp_path)])
    (last,) = json.loads(result.stdout)["last_runs"]
    assert last["healthy"] is None and last["health_notes"].startswith("not judged: the crawl ended as 'shutdown'")


def failed(pages: int, errors: int | None, finish_reason: str = "finished", resumed: bool = False) -> RunInfo:
    return RunInfo("new", "demo", pages=pages, errors=errors, finish_reason=finish_reason, resumed=resumed)


def test_a_run_where_every_request_failed_is_unhealthy_even_without_history(conn: duckdb.DuckDBPyConnection) -> None:
    healthy, notes = assess(conn, failed(pages=0, errors=4), 0, RULES)
    assert healthy is False and notes == "no page fetched: every request failed (4 errors); is the site down?"


def test_a_run_with_few_pages_and_errors_after_healthy_runs_is_unhealthy(conn: duckdb.DuckDBPyConnection) -> None:
    add_run(conn, "a", pages=12, scraped=100, healthy=True)
    healthy, notes = assess(conn, failed(pages=2, errors=6), 10, RULES)
    assert healthy is False
    assert notes.startswith("only 2 pages fetched, with 6 errors, where recent healthy runs fetched 12;")


def test_a_small_site_without_errors_or_a_past_stays_not_judged(conn: duckdb.DuckDBPyConnection) -> None:
    assert assess(conn, failed(pages=2, errors=0), 10, RULES)[0] is None  # a small site
    assert assess(conn, failed(pages=2, errors=3), 10, RULES)[0] is None  # no healthy runs to say it is bigger
    add_run(conn, "a", pages=12, scraped=100, healthy=True)
    assert assess(conn, failed(pages=0, errors=0), 0, RULES)[0] is None  # an incremental run with nothing new
    assert assess(conn, failed(pages=3, errors=2), 10, RULES)[0] is None  # a transient failure in a small run
    assert assess(conn, failed(pages=0, errors=4, finish_reason="shutdown"), 0, RULES)[0] is None
    assert assess(conn, failed(pages=0, errors=4, resumed=True), 0, RULES)[0] is None


def test_a_crawl_of_a_site_that_is_down_is_recorded_unhealthy(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on: every connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_crawl("schema_org", [f"http://127.0.0.1:{port}/index.html"], source="site", data=tmp_path,
                       settings={"RETRY_TIMES": 1}, show_progress=False, resumable=True)
    assert (result.stats["pages"], result.stats["finish_reason"]) == (0, "finished") and result.stats["errors"] > 0
    (batch,) = landing_batches(tmp_path)
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        _, run = load(conn, batch, normalize(conn, batch))
    assert run.healthy is False and run.health_notes.startswith("no page fetched: every request failed")
