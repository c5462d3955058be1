"""Review hashes tell different texts apart, and stay comparable: a changed formula fingerprint rehashes the rows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from flows.normalize.batch import drop_normalized, normalize_landing
from tests.flows.test_normalize_batch import item
from tests.warehouse.test_migrations import _apply_up_to
from warehouse.db import connect, migrate, open_writer
from warehouse.hashing import define_hash_macros, ensure_hash_scheme, fingerprint
from warehouse.load import RunInfo, load_batch


def _hashes(conn: duckdb.DuckDBPyConnection, title: str | None, body: str | None, rating: str | None,
            score: float | None = None):
    define_hash_macros(conn)
    return conn.execute("select text_hash_of($b), content_hash_of($t, text_hash_of($b), $r, $s, 'explicit')",
                        {"b": body, "t": title, "r": rating, "s": score}).fetchone()


def _load(conn: duckdb.DuckDBPyConnection, path: Path, run_id: str):
    batch = normalize_landing(path, [], duck=conn)
    try:
        return load_batch(conn, batch.rows, batch.rejects, RunInfo(run_id, "demo"), batch.scraped)
    finally:
        drop_normalized(conn)


def test_fingerprint_is_the_same_in_another_process() -> None:
    here = fingerprint(duckdb.connect())
    there = subprocess.run([sys.executable, "-c", "import duckdb; from warehouse.hashing import fingerprint; "
                            "print(fingerprint(duckdb.connect()))"], capture_output=True, text=True, check=True)
    assert there.stdout.strip() == here and len(here) == 40


def test_opening_for_writing_rehashes_rows_stored_with_md5_and_records_the_fingerprint(tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 3)
    md5_text, md5_content = conn.execute("""
        select md5_number_lower('Some Body'),
            md5_number_lower('Title' || chr(31) || cast(md5_number_lower('Some Body') as varchar) || chr(31) || '7/10')
    """).fetchone()
    conn.execute("""insert into reviews values ('r1', 'f1', 'c1', 's', 'k1', ['u1'], 'user', '7/10', 70, true,
        'explicit', null, 'Title', 'Some Body', 'en', ?, ?, null, null,
        timestamp '2026-01-01', timestamp '2026-01-01', 'run')""", [md5_content, md5_text])
    conn.execute("""insert into review_keys values
        ('s', 'k1', 'r1', 'u1', ?, timestamp '2026-01-01', timestamp '2026-01-01'),
        ('s', 'k2', 'r1', 'u2', 12345, timestamp '2026-01-01', timestamp '2026-01-01')""", [md5_content])
    conn.close()
    with open_writer(tmp_path / "w.duckdb") as conn:
        text_hash, content_hash = _hashes(conn, "Title", "Some Body", "7/10", 70.0)
        assert conn.execute("select text_hash, content_hash from reviews").fetchall() == [(text_hash, content_hash)]
        keys = dict(conn.execute("select source_review_id, content_hash from review_keys").fetchall())
        # The review's own key follows it; a syndicated copy's hash cannot be recomputed and is left empty.
        assert keys == {"k1": content_hash, "k2": None}
        assert conn.execute("select fingerprint, duckdb_version from hash_scheme").fetchall() == [
            (fingerprint(conn), duckdb.__version__)]


def test_an_unchanged_fingerprint_rehashes_nothing(tmp_path: Path) -> None:
    with open_writer(tmp_path / "w.duckdb") as conn:
        conn.execute("""insert into reviews (review_id, film_id, critic_id, source, source_review_id, urls, audience,
            body, content_hash, text_hash, first_seen, last_seen, run_id)
            values ('r1', 'f1', 'c1', 's', 'k1', ['u1'], 'user', 'Body', 1, 2, now(), now(), 'run')""")
        assert ensure_hash_scheme(conn) == 0
        assert conn.execute("select content_hash, text_hash from reviews").fetchall() == [(1, 2)]


def test_after_the_hash_formulas_change_a_recrawl_still_reads_as_duplicates(tmp_path: Path) -> None:
    landing = tmp_path / "run.jsonl"
    items = [item(), item(source_review_id="r2", url="https://x/review/2/", review_title="Edited later",
                          body="Dull and long.", rating_raw="3/10"),
             item(source_review_id="r3", url="https://x/review/3/", body=None, rating_raw="B+")]
    landing.write_text("".join(f"{__import__('json').dumps(i)}\n" for i in items), encoding="utf-8")
    database = tmp_path / "w.duckdb"
    with open_writer(database) as conn:
        assert _load(conn, landing, "run-1").loaded == 3
        before = conn.execute("select * exclude (text_hash, content_hash, last_seen) from reviews "
                              "order by review_id").fetchall()
        # What rows hashed with other formulas look like to this code: every hash different.
        conn.execute("update reviews set text_hash = text_hash + 1, content_hash = content_hash + 1")
        conn.execute("update review_keys set content_hash = content_hash + 1")
        conn.execute("update hash_scheme set fingerprint = 'another duckdb'")
    with open_writer(database) as conn:
        result = _load(conn, landing, "run-2")
        assert (result.loaded, result.updated, result.duplicates) == (0, 0, 3)
        assert conn.execute("select * exclude (text_hash, content_hash, last_seen) from reviews "
                            "order by review_id").fetchall() == before


def test_migrate_alone_rehashes_so_no_load_mixes_old_and_new_hashes(tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 3)
    conn.execute("""insert into reviews (review_id, film_id, critic_id, source, source_review_id, urls, audience,
        title, body, rating_raw, content_hash, text_hash, first_seen, last_seen, run_id)
        values ('r1', 'f1', 'c1', 's', 'k1', ['u1'], 'user', 'Title', 'Some Body', '7/10',
                md5_number_lower('x'), md5_number_lower('Some Body'), now(), now(), 'run')""")
    migrate(conn)
    assert conn.execute("select text_hash, content_hash from reviews").fetchall() == [
        _hashes(conn, "Title", "Some Body", "7/10")]


def test_rehash_keeps_the_hash_of_the_key_whose_content_the_review_holds_and_forgets_the_others(
        tmp_path: Path) -> None:
    # Key k1 made the review; its copy k2 was edited later and the review took k2's content, so the
    # review's stored hash is k2's. Only k2's content is stored: k1 cannot be rehashed.
    with open_writer(tmp_path / "w.duckdb") as conn:
        conn.execute("""insert into reviews (review_id, film_id, critic_id, source, source_review_id, urls,
            audience, title, body, rating_raw, content_hash, text_hash, first_seen, last_seen, run_id)
            values ('r1', 'f1', 'c1', 's', 'k1', ['u1', 'u2'], 'user', 'Copy title', 'Edited body', null,
                    222, 20, now(), now(), 'run')""")
        conn.execute("""insert into review_keys values ('s', 'k1', 'r1', 'u1', 111, now(), now()),
                                                       ('s', 'k2', 'r1', 'u2', 222, now(), now())""")
        conn.execute("update hash_scheme set fingerprint = 'another duckdb'")
        assert ensure_hash_scheme(conn) == 1
        _, content_hash = _hashes(conn, "Copy title", "Edited body", None)
        assert dict(conn.execute("select source_review_id, content_hash from review_keys").fetchall()) == {
            "k1": None, "k2": content_hash}


def test_a_missing_title_or_rating_hashes_as_an_empty_one() -> None:
    conn = duckdb.connect()
    define_hash_macros(conn)
    assert conn.execute(
        "select content_hash_of(null, 7, null, null, null) = content_hash_of('', 7, '', null, null), "
        "content_hash_of('T', 7, '8/10', 80, 'explicit') <> content_hash_of('T', 7, '9/10', 90, 'explicit')"
    ).fetchone() == (True, True)


def test_a_rescored_rating_hashes_as_edited_and_the_parts_cannot_run_together() -> None:
    conn = duckdb.connect()
    define_hash_macros(conn)
    assert conn.execute(
        "select content_hash_of('T', 7, '4', 75, 'explicit') <> content_hash_of('T', 7, '4', 40, 'explicit'), "
        "content_hash_of('a', 7, 'b', null, null) <> content_hash_of('a|7', null, 'b', null, null)"
    ).fetchone() == (True, True)


def test_texts_that_differ_in_two_places_hash_apart() -> None:
    # DuckDB's hash() maps ~1% of such pairs together; the stored hashes must not.
    texts = [f"<script>alert({i})</script> **bold** # heading {i} | a | b - list" for i in range(100)]
    texts += [f"Great film, {a}/10, would see again {b} times." for a in range(100) for b in range(100)]
    conn = duckdb.connect()
    define_hash_macros(conn)
    distinct = conn.execute("select count(distinct text_hash_of(t)), count(distinct content_hash_of('T', "
                            "text_hash_of(t), null, null, null)) from unnest(?::varchar[]) as u(t)",
                            [texts]).fetchone()
    assert distinct == (len(texts), len(texts))


def test_near_identical_reviews_by_one_critic_of_one_film_stay_separate_reviews(tmp_path: Path) -> None:
    landing = tmp_path / "run.jsonl"
    items = [item(source_review_id=f"e{i}", url=f"https://x/review/{i}/",
                  body=f"<script>alert({i})</script> **bold** # heading {i} | a | b - list") for i in range(60)]
    landing.write_text("".join(f"{__import__('json').dumps(i)}\n" for i in items), encoding="utf-8")
    with open_writer(tmp_path / "w.duckdb") as conn:
        result = _load(conn, landing, "run-1")
        assert (result.loaded, result.duplicates) == (60, 0)
        assert conn.execute("select count(*), count(distinct text_hash) from reviews").fetchone() == (60, 60)


def test_rows_hashed_with_duckdbs_hash_are_rehashed_with_md5_on_opening(tmp_path: Path) -> None:
    # Warehouses written while the macros used DuckDB's hash() (after migration 004).
    with open_writer(tmp_path / "w.duckdb") as conn:
        conn.execute("""insert into reviews (review_id, film_id, critic_id, source, source_review_id, urls, audience,
            title, body, rating_raw, content_hash, text_hash, first_seen, last_seen, run_id)
            values ('r1', 'f1', 'c1', 's', 'k1', ['u1'], 'user', 'Title', 'Some Body', '7/10',
                    hash('Title', hash('Some Body'), '7/10'), hash('Some Body'), now(), now(), 'run')""")
        conn.execute("insert into review_keys select source, source_review_id, review_id, urls[1], content_hash, "
                     "first_seen, last_seen from reviews")
        conn.execute("update hash_scheme set fingerprint = 'made with hash()'")
    with open_writer(tmp_path / "w.duckdb") as conn:
        text_hash, content_hash = _hashes(conn, "Title", "Some Body", "7/10")
        assert text_hash == conn.execute("select md5_number_lower('Some Body')").fetchone()[0]
        assert conn.execute("select text_hash, content_hash from reviews").fetchall() == [(text_hash, content_hash)]
        assert conn.execute("select content_hash from review_keys").fetchall() == [(content_hash,)]


def test_the_64_bit_md5_is_duckdbs_md5_number_lower_so_hashes_stored_by_either_compare_alike() -> None:
    conn = duckdb.connect()
    define_hash_macros(conn)
    texts = ["", "a", "twelve bytes", "Amélie — “déjà vu” ★★★½", "Slow, then moving. " * 450, None]
    found = conn.execute("select list(md5_64(t) is not distinct from md5_number_lower(t)), list(md5_64(t)) "
                         "from unnest($texts) as u(t)", {"texts": texts}).fetchone()
    assert found[0] == [True] * len(texts)
    assert found[1][1] == 7000413967451013937  # md5('a') = 0cc175b9…, its upper 64 bits as DuckDB numbers them
