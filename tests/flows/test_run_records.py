"""A run's record (crawl_runs) from its stats file, whatever state a killed crawl left that file in."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from flows.load import Batch, load, normalize, run_info
from tests.flows.test_normalize_batch import item
from warehouse.db import open_writer


def _batch(tmp_path: Path, stats: str | None) -> Batch:
    folder = tmp_path / "raw" / "demo"
    folder.mkdir(parents=True)
    batch = Batch("demo", "run-1", folder / "run-1.jsonl")
    batch.items.write_text(json.dumps(item()) + "\n", encoding="utf-8")
    if stats is not None:
        batch.stats.write_text(stats, encoding="utf-8")
    return batch


@pytest.mark.parametrize("stats", ['{"spider": "schema_org", "pages": 3, "started": "2026-11-26T10:00',
                                   "[1, 2]", "", "{\"started\": \"not a date\", \"pages\": \"3\"}"])
def test_an_unreadable_or_odd_stats_file_gives_a_record_instead_of_an_error(tmp_path: Path, stats: str) -> None:
    run = run_info(_batch(tmp_path, stats))
    assert run.run_id == "run-1" and run.started is None and run.pages is None


def test_a_truncated_stats_file_records_the_run_as_killed_and_its_items_load(tmp_path: Path) -> None:
    batch = _batch(tmp_path, '{"spider": "schema_org", "pages": 3, "started": "2026-11-26T10:00')
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        result, run = load(conn, batch, normalize(conn, batch))
        assert (result.loaded, run.finish_reason) == (1, "killed")
        assert conn.execute("select scraped, loaded from crawl_runs").fetchall() == [(1, 1)]


def test_a_complete_stats_file_is_read_as_written(tmp_path: Path) -> None:
    stats = {"spider": "feed", "pages": 4, "errors": 0, "started": "2026-11-26T10:00:00+00:00",
             "finished": "2026-11-26T10:00:30+00:00", "finish_reason": "finished", "field_coverage": {"body": 1}}
    run = run_info(_batch(tmp_path, json.dumps(stats)))
    assert (run.spider, run.pages, run.finish_reason, run.duration_seconds, run.field_coverage) == (
        "feed", 4, "finished", 30.0, {"body": 1})


def test_a_killed_run_is_recorded_with_its_start_from_the_run_id_and_unknown_counts(tmp_path: Path) -> None:
    folder = tmp_path / "raw" / "demo"
    folder.mkdir(parents=True)
    batch = Batch("demo", "20261126T100000123456Z", folder / "20261126T100000123456Z.jsonl")
    batch.items.write_text(json.dumps(item()) + "\n", encoding="utf-8")  # no stats: the crawl was killed
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        load(conn, batch, normalize(conn, batch))
        row = conn.execute("select started, finished, pages, errors, duration_seconds, finish_reason, scraped "
                           "from crawl_runs").fetchall()
    assert row == [(datetime(2026, 11, 26, 10, 0, 0, 123456), None, None, None, None, "killed", 1)]
