"""A review the site no longer publishes: a crawl that covered the whole site and did not see it removes it
from the current marts; seen again, it comes back; a copy on another site keeps it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb

from flows.load import covers_site
from flows.normalize.batch import drop_normalized, normalize_landing
from tests.flows.test_normalize_batch import item
from warehouse.db import open_writer
from warehouse.load import LoadResult, RunInfo, load_batch
from warehouse.marts import build_marts


def _land(path: Path, *items: dict) -> Path:
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return path


def _review(n: int, day: int, score: str, **more) -> dict:
    return item(source_review_id=f"r{n}", url=f"https://x/r/{n}/", critic_name=f"Critic {n}", rating_raw=score,
                body=f"Review number {n}.", fetched_at=f"2026-11-{day:02d}T10:00:00+00:00") | more


def _load(conn: duckdb.DuckDBPyConnection, path: Path, run_id: str, day: int, whole_site: bool,
          source: str = "demo") -> LoadResult:
    batch = normalize_landing(path, [], duck=conn)
    run = RunInfo(run_id, source, started=datetime(2026, 11, day, 9), healthy=True, covers_site=whole_site)
    try:
        return load_batch(conn, batch.rows, batch.rejects, run, batch.scraped)
    finally:
        drop_normalized(conn)


def _film(conn: duckdb.DuckDBPyConnection) -> tuple:
    build_marts(conn)
    return conn.execute("select reviews, mean_score from film_scores").fetchone()


def test_a_review_a_whole_site_crawl_did_not_see_leaves_the_marts_and_comes_back_when_seen(tmp_path: Path) -> None:
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "1.jsonl", _review(1, 20, "2/10"), _review(2, 20, "8/10")), "run-1", 20, True)
        assert _film(conn) == (2, 50.0)
        _load(conn, _land(tmp_path / "2.jsonl", _review(1, 21, "2/10")), "run-2", 21, True)  # r2 deleted
        assert _film(conn) == (1, 20.0)
        assert conn.execute("select count(*) from reviews_removed").fetchone()[0] == 1
        assert conn.execute("select count(*) from weekly_reviews").fetchone()[0] >= 1  # history keeps it
        _load(conn, _land(tmp_path / "3.jsonl", _review(2, 22, "8/10")), "run-3", 22, False)  # published again
        assert _film(conn) == (2, 50.0)


def test_a_run_that_did_not_cover_the_site_removes_nothing(tmp_path: Path) -> None:
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "1.jsonl", _review(1, 20, "2/10"), _review(2, 20, "8/10")), "run-1", 20, True)
        _load(conn, _land(tmp_path / "2.jsonl", _review(1, 21, "2/10")), "run-2", 21, False)  # incremental
        assert _film(conn) == (2, 50.0)


def test_a_copy_on_another_site_keeps_a_review_its_first_site_deleted(tmp_path: Path) -> None:
    copy = {"url": "https://mirror/r/2/", "source_review_id": "m2"}
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "1.jsonl", _review(1, 20, "2/10"), _review(2, 20, "8/10")), "run-1", 20, True)
        _load(conn, _land(tmp_path / "m.jsonl", _review(2, 20, "8/10", source="mirror", **copy)), "run-m", 20, True,
              source="mirror")
        _load(conn, _land(tmp_path / "2.jsonl", _review(1, 21, "2/10")), "run-2", 21, True)
        assert _film(conn) == (2, 50.0)


def test_only_a_finished_complete_run_covers_its_site() -> None:
    whole = {"finish_reason": "finished", "errors": 0,
             "incremental": {"sitemap_entries_skipped": 0, "pages_not_followed": 0, "pages_unchanged": 40}}
    assert covers_site(whole)
    assert not covers_site(whole | {"errors": 1})
    assert not covers_site(whole | {"finish_reason": "shutdown"})
    assert not covers_site(whole | {"job_state": "resumed"})
    assert not covers_site(whole | {"incremental": {"sitemap_entries_skipped": 3}})
    assert not covers_site({})
