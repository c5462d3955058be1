"""Landing files through normalize and load: which items become one review and which stay apart."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from flows.normalize.batch import drop_normalized, normalize_landing
from tests.flows.test_normalize_batch import item
from warehouse.db import open_writer
from warehouse.load import LoadResult, RunInfo, load_batch


def _land(path: Path, *items: dict) -> Path:
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return path


def _load(conn: duckdb.DuckDBPyConnection, path: Path, run_id: str) -> LoadResult:
    batch = normalize_landing(path, [], duck=conn)
    try:
        return load_batch(conn, batch.rows, batch.rejects, RunInfo(run_id, "demo"), batch.scraped)
    finally:
        drop_normalized(conn)


def _idless(critic: str, body: str) -> dict:
    # A Movie page listing reviews that carry neither an id nor a url: each item's url is the page's.
    return item(source_review_id=None, url="https://x/film/her/", critic_name=critic, body=body)


def test_reviews_without_id_or_url_on_one_page_stay_separate_reviews(tmp_path: Path) -> None:
    landing = _land(tmp_path / "run-1.jsonl", _idless("Alice", "Moving."), _idless("Bob", "Too long."),
                    _idless("Carol", "A tender film."))
    with open_writer(tmp_path / "w.duckdb") as conn:
        result = _load(conn, landing, "run-1")
        assert (result.scraped, result.loaded, result.duplicates) == (3, 3, 0)
        assert sorted(r[0] for r in conn.execute("select c.name from reviews join critics as c using (critic_id)")
                      .fetchall()) == ["Alice", "Bob", "Carol"]


def test_a_recrawl_of_reviews_without_id_reads_as_duplicates_and_an_edit_as_an_update(tmp_path: Path) -> None:
    first = _land(tmp_path / "run-1.jsonl", _idless("Alice", "Moving."), _idless("Bob", "Too long."))
    again = _land(tmp_path / "run-2.jsonl", _idless("Alice", "Moving."), _idless("Bob", "Too long, but fine."))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, first, "run-1")
        result = _load(conn, again, "run-2")
        assert (result.loaded, result.updated, result.duplicates) == (1, 1, 1)
        assert conn.execute("select count(*) from reviews").fetchone()[0] == 2
        assert conn.execute("select body from reviews join critics as c using (critic_id) where c.name = 'Bob'"
                            ).fetchone()[0] == "Too long, but fine."
