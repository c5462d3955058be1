"""Numbered migrations: recorded once each, and 003 rehashes rows loaded before it (with md5)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.db import connect, migrate, migrations


def _apply_up_to(conn: duckdb.DuckDBPyConnection, last: int) -> None:
    conn.execute("create table schema_migrations (version integer not null, name varchar not null, "
                 "applied_at timestamp not null default now())")
    for version, name, sql in migrations():
        if version <= last:
            conn.execute(sql)
            conn.execute("insert into schema_migrations (version, name) values (?, ?)", [version, name])


def test_migrate_records_each_migration_once(tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    first = migrate(conn)
    again = migrate(conn)
    recorded = [r[0] for r in conn.execute("select version from schema_migrations order by version").fetchall()]
    assert first == recorded == [v for v, _, _ in migrations()] and again == []


def test_numeric_hash_migration_gives_old_rows_the_md5_hashes_loads_then_computed(tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 2)
    conn.execute("""insert into reviews values ('r1', 'f1', 'c1', 's', 'k1', ['u1'], 'user', '7/10', 70, true,
        'explicit', null, 'Title', 'Some Body', 'en', 'old-content', 'old-text', null, null,
        timestamp '2026-01-01', timestamp '2026-01-01', 'run')""")
    conn.execute("""insert into review_keys values
        ('s', 'k1', 'r1', 'u1', 'old-content', timestamp '2026-01-01', timestamp '2026-01-01'),
        ('s', 'k2', 'r1', 'u2', 'copy-with-another-title', timestamp '2026-01-01', timestamp '2026-01-01')""")
    conn.execute(next(sql for version, _, sql in migrations() if version == 3))
    # What flows/normalize/assemble.py computed for the same review from migration 003 to 004.
    text_hash, content_hash = conn.execute("""
        select md5_number_lower('Some Body'),
            md5_number_lower('Title' || chr(31) || cast(md5_number_lower('Some Body') as varchar) || chr(31) || '7/10')
    """).fetchone()
    assert conn.execute("select text_hash, content_hash from reviews").fetchall() == [(text_hash, content_hash)]
    keys = dict(conn.execute("select source_review_id, content_hash from review_keys").fetchall())
    # The review's own key follows it; a syndicated copy's hash cannot be recomputed and is left empty.
    assert keys == {"k1": content_hash, "k2": None}
    assert conn.execute("select data_type from information_schema.columns where table_name = 'reviews' "
                        "and column_name = 'content_hash'").fetchone()[0] == "UBIGINT"


def test_copy_key_without_a_hash_is_unchanged_on_its_next_crawl_and_leaves_the_review_alone(tmp_path: Path) -> None:
    from tests.warehouse.test_load import batch, row
    from warehouse.load import RunInfo, load_batch

    conn = connect(tmp_path / "w.duckdb")
    migrate(conn)
    load_batch(conn, batch(row()), [], RunInfo("run-1", "demo"), 1)
    review_before = conn.execute("select * from reviews").fetchall()
    # A feed copy loaded before migration 003: its hash could not be recomputed.
    conn.execute("insert into review_keys select 'feed', 'k9', review_id, 'https://feed/k9', null, first_seen, "
                 "last_seen from reviews")
    copy = row(source="feed", source_review_id="k9", url="https://feed/k9", run_id="run-2", title="Review of Her",
               rating_raw=None, score=None, content_hash=77)
    result = load_batch(conn, batch(copy), [], RunInfo("run-2", "feed"), 1)
    assert (result.loaded, result.updated, result.duplicates) == (0, 0, 1)
    assert conn.execute("select * exclude (last_seen) from reviews").fetchall() == [
        r[:-2] + r[-1:] for r in review_before]
    assert conn.execute("select content_hash from review_keys where source = 'feed'").fetchone()[0] == 77


def test_migration_005_gives_films_stored_as_her_2013_without_a_year_their_year(tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 4)
    conn.execute("""insert into films (film_id, title, year, title_key, first_seen) values
        ('f1', 'Her (2013)', null, 'her', now()), ('f2', 'Godzilla [1954]', null, 'godzilla', now()),
        ('f3', 'Tide (1980)', 1981, 'tide', now()), ('f4', '(2001)', null, '2001', now()),
        ('f5', 'Heat', null, 'heat', now())""")
    migrate(conn)
    assert conn.execute("select film_id, title, year from films order by film_id").fetchall() == [
        ("f1", "Her", 2013), ("f2", "Godzilla", 1954), ("f3", "Tide (1980)", 1981), ("f4", "(2001)", None),
        ("f5", "Heat", None)]


def test_migration_006_splits_a_user_known_by_name_alone_into_one_user_per_site(tmp_path: Path) -> None:
    from flows.normalize.lookups import _critic_id

    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 5)
    old_user, critic = _critic_id("john", None, "user"), _critic_id("ann lee", "Paper", "critic")
    conn.execute(f"""
        insert into critics (critic_id, name, name_key, outlet, audience, first_seen) values
            ('{old_user}', 'john', 'john', null, 'user', '2026-11-01'),
            ('{critic}', 'Ann Lee', 'ann lee', 'Paper', 'critic', '2026-11-01');
        insert into reviews (review_id, film_id, critic_id, source, source_review_id, urls, audience, content_hash,
                             first_seen, last_seen, run_id) values
            ('r1', 'f1', '{old_user}', 'a', 'a1', ['https://www.site-a.test/r/1'], 'user', 1, '2026-11-02', now(), 'x'),
            ('r2', 'f2', '{old_user}', 'a', 'a2', ['https://site-a.test/r/2'], 'user', 1, '2026-11-03', now(), 'x'),
            ('r3', 'f1', '{old_user}', 'b', 'b1', ['https://Site-B.test/r/1'], 'user', 1, '2026-11-04', now(), 'x'),
            ('r4', 'f1', '{critic}', 'a', 'a3', ['https://site-a.test/r/3'], 'critic', 1, '2026-11-02', now(), 'x');
        insert into review_keys (source, source_review_id, review_id, url, content_hash, first_seen, last_seen) values
            ('b', 'b1', 'r3', 'https://Site-B.test/r/1', 1, now(), now())""")
    migrate(conn)
    site_a, site_b = _critic_id("john", None, "user", "site-a.test"), _critic_id("john", None, "user", "site-b.test")
    assert conn.execute("select review_id, critic_id from reviews order by review_id").fetchall() == [
        ("r1", site_a), ("r2", site_a), ("r3", site_b), ("r4", critic)]
    assert sorted(conn.execute("select critic_id, name, audience, first_seen::date::varchar from critics").fetchall()) \
        == sorted([(site_a, "john", "user", "2026-11-02"), (site_b, "john", "user", "2026-11-04"),
                   (critic, "Ann Lee", "critic", "2026-11-01")])


def test_migration_007_clears_inferred_scores_the_new_rule_would_not_give(tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 6)
    rows = [("r1", "en", 50.0, "inferred"), ("r2", "pt", 79.29, "inferred"), ("r3", "en", 81.5, "inferred"),
            ("r4", None, 70.0, "inferred"), ("r5", "pt", 50.0, "explicit"), ("r6", "fr", None, None)]
    for review_id, language, score, source in rows:
        conn.execute("insert into reviews (review_id, film_id, critic_id, source, source_review_id, urls, audience, "
                     "score, score_source, language, content_hash, first_seen, last_seen, run_id) values "
                     "(?, 'f1', 'c1', 's', ?, [], 'user', ?, ?, ?, 1, now(), now(), 'x')",
                     [review_id, review_id, score, source, language])
    migrate(conn)
    assert conn.execute("select review_id, score, score_source from reviews order by review_id").fetchall() == [
        ("r1", None, None), ("r2", None, None), ("r3", 81.5, "inferred"), ("r4", 70.0, "inferred"),
        ("r5", 50.0, "explicit"), ("r6", None, None)]
