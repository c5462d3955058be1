"""Loads: idempotent, atomic, deduplicating, and always accounting for every scraped item."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from warehouse.load import BATCH_COLUMNS, LoadMismatch, Reject, RunInfo, load_batch


def row(**fields) -> dict:
    base = {name: None for name in BATCH_COLUMNS}
    base.update(run_id="run-1", source="demo", source_review_id="r1", url="https://x/film/her/",
                fetched_at=datetime(2026, 11, 20, 10), film_id="f-her", film_title="Her", film_year=2013,
                imdb_id="tt1798709", title_key="her", critic_id="c-zoe", critic_name="Zoë",
                name_key="zoe", outlet="Reel", audience="critic", rating_raw="8/10", score=80.0,
                is_positive=True, score_source="explicit", title="Tender", body="A tender film.",
                language="en", content_hash=1)
    base.update(fields)
    if "text_hash" not in fields:
        base["text_hash"] = 1000 + base["content_hash"]
    return base


def batch(*rows: dict) -> pa.Table:
    numbered = [{**r, "row_no": i} for i, r in enumerate(rows)]
    return pa.Table.from_pylist(numbered)


def snapshot(conn) -> dict:
    return {table: conn.execute(f"select * from {table} order by all").fetchall()
            for table in ("films", "critics", "reviews", "review_keys")}


def test_new_reviews_are_inserted_with_films_and_critics(conn):
    result = load_batch(conn, batch(row(), row(source_review_id="r2", critic_id="c-ann", critic_name="Ann",
                                                 name_key="ann", content_hash=2)), [], RunInfo("run-1", "demo"), 2)
    assert (result.loaded, result.duplicates, result.rejected) == (2, 0, 0)
    assert conn.execute("select count(*) from films").fetchone()[0] == 1
    assert conn.execute("select count(*) from critics").fetchone()[0] == 2


def test_loading_the_same_batch_twice_changes_nothing(conn):
    rows = batch(row(), row(source_review_id="r2", content_hash=2, critic_id="c-ann", name_key="ann"))
    load_batch(conn, rows, [], RunInfo("run-1", "demo"), 2)
    before = snapshot(conn)
    again = load_batch(conn, rows, [], RunInfo("run-1", "demo"), 2)
    assert again.already_loaded
    # Even as a new run (a re-crawl of unchanged pages), the rows stay as they were.
    recrawl = load_batch(conn, rows, [], RunInfo("run-2", "demo"), 2)
    assert (recrawl.loaded, recrawl.duplicates) == (0, 2)
    assert snapshot(conn) == before


def test_recrawled_review_with_new_content_updates_its_row(conn):
    load_batch(conn, batch(row()), [], RunInfo("run-1", "demo"), 1)
    changed = row(run_id="run-2", body="Edited.", content_hash=11, score=60.0, rating_raw="6/10",
                  fetched_at=datetime(2026, 11, 27))
    result = load_batch(conn, batch(changed), [], RunInfo("run-2", "demo"), 1)
    assert (result.loaded, result.updated) == (1, 1)
    assert conn.execute("select body, score, first_seen, last_seen from reviews").fetchall() == [
        ("Edited.", 60.0, datetime(2026, 11, 20, 10), datetime(2026, 11, 27))]


def test_syndicated_copy_counts_once_and_keeps_both_urls(conn):
    first = row()
    copy = row(source_review_id="r9", url="https://x/outlet-b/her/", critic_id="c-zoe-b", outlet="Other")
    result = load_batch(conn, batch(first, copy), [], RunInfo("run-1", "demo"), 2)
    assert (result.loaded, result.duplicates) == (1, 1)
    assert conn.execute("select urls from reviews").fetchall() == [(["https://x/film/her/", "https://x/outlet-b/her/"],)]
    later = load_batch(conn, batch(row(source_review_id="r10", url="https://x/c/her/", outlet="Third",
                                       critic_id="c-zoe-c", run_id="run-2")), [], RunInfo("run-2", "demo"), 1)
    assert (later.loaded, later.duplicates) == (0, 1)
    assert conn.execute("select len(urls) from reviews").fetchone()[0] == 3
    assert conn.execute("select count(*) from review_keys").fetchone()[0] == 3


def test_a_copy_met_in_the_same_batch_is_credited_to_the_outlet_landed_first(conn):
    # Import keys are hashes: "zz" sorts after "aa" but came first in the dump, so Reel's is the review.
    first = row(source_review_id="zz", url="https://x/reel/her/")
    copy = row(source_review_id="aa", url="https://x/other/her/", critic_id="c-zoe-b", outlet="Other")
    load_batch(conn, batch(first, copy), [], RunInfo("run-1", "demo"), 2)
    assert conn.execute("select source_review_id, critic_id, urls from reviews").fetchall() == [
        ("zz", "c-zoe", ["https://x/other/her/", "https://x/reel/her/"])]


def test_repeat_inside_a_batch_is_a_duplicate(conn):
    result = load_batch(conn, batch(row(), row()), [], RunInfo("run-1", "demo"), 2)
    assert (result.loaded, result.duplicates) == (1, 1)


def test_rejects_are_stored_with_reason_and_raw_item(conn):
    bad = Reject("no author", {"body": "<script>alert(1)</script>'); DROP TABLE reviews; --"})
    result = load_batch(conn, batch(row()), [bad], RunInfo("run-1", "demo"), 2)
    assert result.rejected == 1
    reason, body = conn.execute("select reason, raw->>'body' from rejects").fetchone()
    assert (reason, body) == ("no author", "<script>alert(1)</script>'); DROP TABLE reviews; --")


def test_counts_that_do_not_add_up_fail_and_roll_back(conn):
    with pytest.raises(LoadMismatch):
        load_batch(conn, batch(row()), [], RunInfo("run-1", "demo"), scraped=5)
    assert snapshot(conn) == {"films": [], "critics": [], "reviews": [], "review_keys": []}
    assert conn.execute("select count(*) from crawl_runs").fetchone()[0] == 0


def test_batch_failing_mid_load_leaves_warehouse_as_it_was(conn, monkeypatch):
    load_batch(conn, batch(row()), [], RunInfo("run-1", "demo"), 1)
    before = snapshot(conn)
    import warehouse.load as load_module

    monkeypatch.setattr(load_module, "UPSERT_STEPS", (*load_module.UPSERT_STEPS, "missing_step.sql"))
    with pytest.raises(FileNotFoundError):
        load_batch(conn, batch(row(source_review_id="r2", content_hash=2, run_id="run-2")), [],
                   RunInfo("run-2", "demo"), 1)
    assert snapshot(conn) == before
    assert conn.execute("select count(*) from crawl_runs").fetchone()[0] == 1
