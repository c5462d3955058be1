"""Health of crawl runs: runs the check cannot judge are stored as unknown (NULL) with the reason, and
stay out of the baseline later runs are judged against."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from flows.cli import app
from flows.config import Health
from flows.health import assess
from flows.load import Batch, load, normalize
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
