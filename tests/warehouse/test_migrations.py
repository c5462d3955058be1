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
    review_before = conn.execute("select * exclude (last_seen, urls) from reviews").fetchall()
    # A feed copy loaded before migration 003: its hash could not be recomputed.
    conn.execute("insert into review_keys select 'feed', 'k9', review_id, 'https://feed/k9', null, first_seen, "
                 "last_seen from reviews")
    copy = row(source="feed", source_review_id="k9", url="https://feed/k9", run_id="run-2", title="Review of Her",
               rating_raw=None, score=None, content_hash=77)
    result = load_batch(conn, batch(copy), [], RunInfo("run-2", "feed"), 1)
    assert (result.loaded, result.updated, result.duplicates) == (0, 0, 1)
    assert conn.execute("select * exclude (last_seen, urls) from reviews").fetchall() == review_before
    # The copy's page is one it was published on.
    assert conn.execute("select urls from reviews").fetchall() == [(["https://feed/k9", "https://x/film/her/"],)]
    assert conn.execute("select content_hash from review_keys where source = 'feed'").fetchone()[0] == 77


def test_migration_005_gives_films_stored_as_her_2013_without_a_year_their_year(tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 4)
    conn.execute("""insert into films (film_id, title, year, title_key, first_seen) values
        ('f1', 'Her (2013)', null, 'her', now()), ('f2', 'Godzilla [1954]', null, 'godzilla', now()),
        ('f3', 'Tide (1980)', 1981, 'tide', now()), ('f4', '(2001)', null, '2001', now()),
        ('f5', 'Heat', null, 'heat', now())""")
    conn.execute(next(sql for version, _, sql in migrations() if version == 5))
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


def _insert_review(conn: duckdb.DuckDBPyConnection, review_id: str, film_id: str, critic_id: str, source: str,
                   key: str, urls: list[str], **columns: object) -> None:
    row = {"review_id": review_id, "film_id": film_id, "critic_id": critic_id, "source": source,
           "source_review_id": key, "urls": urls, "audience": "critic", "content_hash": 1,
           "first_seen": "2026-11-01", "last_seen": "2026-11-01", "run_id": "x", **columns}
    conn.execute(f"insert into reviews ({', '.join(row)}) values ({', '.join('?' * len(row))})", list(row.values()))


def test_migration_008_merges_a_film_stored_twice_with_one_title_and_year(tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 7)
    conn.execute("""insert into films (film_id, imdb_id, title, year, title_key, first_seen) values
        ('her', null, 'Her', 2013, 'her', '2026-11-01'), ('her-005', 'tt1798709', 'Her', 2013, 'her', '2026-11-02'),
        ('heat-a', 'tt0113277', 'Heat', 1995, 'heat', '2026-11-01'),
        ('heat-b', 'tt9999999', 'Heat', 1995, 'heat', '2026-11-02')""")
    conn.execute("insert into critics (critic_id, name, name_key, audience, first_seen) "
                 "values ('c1', 'Ann', 'ann', 'critic', now())")
    for number, film in enumerate(["her", "her-005", "her-005", "heat-a", "heat-b"]):
        _insert_review(conn, f"r{number}", film, "c1", "s", f"k{number}", [f"https://a.test/{number}"])
    migrate(conn)
    assert conn.execute("select film_id, imdb_id from films order by film_id").fetchall() == [
        ("heat-a", "tt0113277"), ("heat-b", "tt9999999"), ("her", "tt1798709")]
    assert conn.execute("select film_id, count(*) from reviews group by film_id order by film_id").fetchall() == [
        ("heat-a", 1), ("heat-b", 1), ("her", 3)]


def test_migration_008_gives_back_a_users_review_merged_from_another_site(tmp_path: Path) -> None:
    # Before 006 "john" on two sites was one user: his site-b text, identical, was kept as a copy of site a's.
    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 7)
    conn.execute("""insert into critics (critic_id, name, name_key, audience, first_seen) values
        ('john-a', 'john', 'john', 'user', now()), ('ann', 'Ann', 'ann', 'critic', now())""")
    _insert_review(conn, "r1", "f1", "john-a", "a", "a1", ["https://site-a.test/r/1", "https://site-b.test/u/9",
                                                         "https://www.site-a.test/feed#1"], audience="user")
    _insert_review(conn, "r2", "f1", "ann", "a", "a2", ["https://daily.test/r/2", "https://globe.test/r/2"])
    conn.execute("""insert into review_keys values
        ('a', 'a1', 'r1', 'https://site-a.test/r/1', 1, now(), now()),
        ('b', 'b9', 'r1', 'https://site-b.test/u/9', 1, now(), now()),
        ('feed', 'f1', 'r1', 'https://www.site-a.test/feed#1', 1, now(), now()),
        ('a', 'a2', 'r2', 'https://daily.test/r/2', 1, now(), now()),
        ('g', 'g2', 'r2', 'https://globe.test/r/2', 1, now(), now())""")
    migrate(conn)
    # the user's other site goes (so its page loads as a review of its own), his own site's feed stays;
    # a critic's syndicated copy on another outlet is one review, as before
    assert conn.execute("select review_id, urls from reviews order by review_id").fetchall() == [
        ("r1", ["https://site-a.test/r/1", "https://www.site-a.test/feed#1"]),
        ("r2", ["https://daily.test/r/2", "https://globe.test/r/2"])]
    assert sorted(conn.execute("select source, source_review_id from review_keys").fetchall()) == [
        ("a", "a1"), ("a", "a2"), ("feed", "f1"), ("g", "g2")]


def test_migration_008_writes_names_titles_and_languages_as_the_normalizer_now_does(tmp_path: Path) -> None:
    from flows.normalize.language import _CURRENT_CODE, NON_LATIN

    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 7)
    conn.execute("""insert into critics (critic_id, name, name_key, audience, first_seen) values
        ('c1', 'By Jane Roe', 'jane roe', 'critic', now()), ('c2', 'Byron Smith', 'byron smith', 'critic', now()),
        ('c3', 'By', 'by', 'critic', now()), ('orphan', 'Gone', 'gone', 'critic', now())""")
    conn.execute("""insert into films (film_id, title, year, title_key, first_seen) values
        ('f1', 'The Hidden Lantern (2022)', 2022, 'hidden lantern', now()), ('f2', 'Tide (1980)', 1990, 'tide', now()),
        ('orphan', 'Gone', 2000, 'gone', now())""")
    # on plain ASCII text: old codes become current ones, and a language of another script none
    codes = {**{old: None if new in NON_LATIN else new for old, new in _CURRENT_CODE.items()},
             **{code: None for code in NON_LATIN}, "fr": "fr"}
    for number, declared in enumerate(codes):
        _insert_review(conn, f"r{number}", "f1" if number % 2 else "f2", f"c{number % 3 + 1}", "s", f"k{number}", [],
                       language=declared, body="Plain ASCII text of a review.")
    _insert_review(conn, "ru", "f1", "c1", "s", "ru", [], language="ru", body="Отличный фильм.")
    _insert_review(conn, "uk-en", "f1", "c1", "s", "uk-en", [], language="uk", body="It’s a fine film — really.")
    _insert_review(conn, "iw", "f1", "c1", "s", "iw", [], language="iw", body="סרט נהדר")
    migrate(conn)
    assert conn.execute("select critic_id, name from critics order by critic_id").fetchall() == [
        ("c1", "Jane Roe"), ("c2", "Byron Smith"), ("c3", "By")]
    assert conn.execute("select film_id, title from films order by film_id").fetchall() == [
        ("f1", "The Hidden Lantern"), ("f2", "Tide (1980)")]
    languages = dict(conn.execute("select review_id, language from reviews").fetchall())
    assert {declared: languages[f"r{number}"] for number, declared in enumerate(codes)} == codes
    assert (languages["ru"], languages["iw"], languages["uk-en"]) == ("ru", "he", None)


def test_migration_008_tells_scripts_apart_as_the_normalizer_does() -> None:
    from flows.normalize.language import OTHER_SCRIPT_SQL

    sql = next(sql for version, _, sql in migrations() if version == 8)
    assert f"not regexp_matches(body, '{OTHER_SCRIPT_SQL}')" in sql


def test_a_warehouse_written_by_a_newer_version_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    import pytest

    from warehouse.db import WarehouseError

    conn = connect(tmp_path / "w.duckdb")
    migrate(conn)
    conn.execute("insert into schema_migrations (version, name) values (999, 'from_the_future')")
    with pytest.raises(WarehouseError, match="newer version.*migration 999"):
        migrate(conn)


def test_a_failing_migration_is_one_error_and_leaves_the_warehouse_as_it_was(tmp_path: Path, monkeypatch) -> None:
    import pytest

    import warehouse.db as db

    conn = connect(tmp_path / "w.duckdb")
    migrate(conn)
    shipped = migrations()
    broken = (shipped[-1][0] + 1, "broken", "create table half_done (x int); select * from no_such_table;")
    monkeypatch.setattr(db, "migrations", lambda: [*shipped, broken])
    with pytest.raises(db.WarehouseError) as failed:
        migrate(conn)
    assert str(failed.value).startswith(f"migration {broken[0]:03d}_broken failed and was rolled back")
    assert "\n" not in str(failed.value)
    assert conn.execute("select count(*) from information_schema.tables where table_name = 'half_done'").fetchone() \
        == (0,)
    assert broken[0] not in [v for (v,) in conn.execute("select version from schema_migrations").fetchall()]


def test_migration_008_makes_identical_text_by_one_critic_for_one_film_one_review(tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 7)
    conn.execute("""insert into critics (critic_id, name, name_key, outlet, audience, first_seen) values
        ('jane-daily', 'Jane Doe', 'jane doe', 'Daily', 'critic', now()),
        ('jane-globe', 'Jane Doe', 'jane doe', 'Globe', 'critic', now()),
        ('john-a', 'john', 'john', null, 'user', now()), ('john-b', 'john', 'john', null, 'user', now())""")
    _insert_review(conn, "globe", "her", "jane-globe", "b", "b1", ["https://globe.test/1"], text_hash=7,
                   body="A warm film.", first_seen="2026-11-01")
    _insert_review(conn, "daily", "her", "jane-daily", "a", "a1", ["https://daily.test/1"], text_hash=7,
                   body="A warm film.", score=80.0, first_seen="2026-11-03")
    _insert_review(conn, "other-film", "heat", "jane-daily", "a", "a2", ["https://daily.test/2"], text_hash=7,
                   body="A warm film.")
    _insert_review(conn, "john-a", "her", "john-a", "a", "a3", ["https://a.test/3"], text_hash=8, body="Loved it!")
    _insert_review(conn, "john-b", "her", "john-b", "b", "b3", ["https://b.test/3"], text_hash=8, body="Loved it!")
    conn.execute("""insert into review_keys values
        ('a', 'a1', 'daily', 'https://daily.test/1', 1, now(), now()),
        ('b', 'b1', 'globe', 'https://globe.test/1', 1, now(), now())""")
    migrate(conn)
    # the rated one keeps both urls and keys, seen since the copy was; other films and other users stay apart
    kept = conn.execute("select review_id, urls, first_seen::date::varchar from reviews order by review_id").fetchall()
    assert kept == [
        ("daily", ["https://daily.test/1", "https://globe.test/1"], "2026-11-01"),
        ("john-a", ["https://a.test/3"], "2026-11-01"), ("john-b", ["https://b.test/3"], "2026-11-01"),
        ("other-film", ["https://daily.test/2"], "2026-11-01")]
    assert sorted(conn.execute("select source_review_id, review_id from review_keys").fetchall()) == [
        ("a1", "daily"), ("b1", "daily")]
    assert "jane-globe" not in [c for (c,) in conn.execute("select critic_id from critics").fetchall()]


def _hold_open(path: Path, seconds: float):
    import subprocess
    import sys

    code = (f"import duckdb, time; c = duckdb.connect({str(path)!r}, read_only=True); print('open', flush=True); "
            f"time.sleep({seconds})")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "open"
    return holder


def test_a_write_waits_for_a_reader_in_another_process_to_let_go(tmp_path: Path) -> None:
    from warehouse.db import open_writer

    path = tmp_path / "w.duckdb"
    connect(path).close()
    holder = _hold_open(path, 1.5)  # `reviews sql` while a run is about to load
    try:
        with open_writer(path, wait_seconds=30) as conn:
            assert conn.execute("select count(*) from schema_migrations").fetchone()[0] > 0
    finally:
        holder.wait()


def test_a_write_gives_up_with_one_clear_line_when_the_reader_stays(tmp_path: Path) -> None:
    import pytest

    from warehouse.db import WarehouseBusy, connect_writer

    path = tmp_path / "w.duckdb"
    connect(path).close()
    holder = _hold_open(path, 5)
    try:
        with pytest.raises(WarehouseBusy, match="open in another process .* still after 0.3 s"):
            connect_writer(path, wait_seconds=0.3)
    finally:
        holder.kill()
        holder.wait()


def test_migration_014_splits_a_user_of_dumps_without_urls_into_one_user_per_source(tmp_path: Path) -> None:
    from flows.normalize.lookups import _critic_id

    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 13)
    old_user, on_site = _critic_id("uma", None, "user"), _critic_id("uma", None, "user", "site-a.test")
    conn.execute(f"""
        insert into critics (critic_id, name, name_key, outlet, audience, first_seen) values
            ('{old_user}', 'Uma', 'uma', null, 'user', '2026-11-01'),
            ('{on_site}', 'Uma', 'uma', null, 'user', '2026-11-01')""")
    # r1 holds dump-b's identical text as its copy, as earlier versions merged one name's texts across dumps.
    _insert_review(conn, "r1", "f1", old_user, "dump-a", "sha1:1",
                   ["file:///dumps/a.csv#sha1:1", "file:///dumps/b.csv#sha1:9"], audience="user")
    conn.execute("""insert into review_keys values
        ('dump-a', 'sha1:1', 'r1', 'file:///dumps/a.csv#sha1:1', 1, now(), now()),
        ('dump-b', 'sha1:9', 'r1', 'file:///dumps/b.csv#sha1:9', 1, now(), now()),
        ('crawl', 'k5', 'r4', 'https://site-a.test/r/5', 1, now(), now())""")
    _insert_review(conn, "r2", "f2", old_user, "dump-a", "sha1:2", ["file:///dumps/a2.csv#sha1:2"], audience="user")
    _insert_review(conn, "r3", "f1", old_user, "dump-b", "sha1:3", ["file:///dumps/b.csv#sha1:3"], audience="user",
                   first_seen="2026-11-05")
    # One file imported as two sources: both keys of r6 name one url, which stays with its own key.
    _insert_review(conn, "r6", "f3", old_user, "dump-a", "sha1:6", ["file:///dumps/x.csv#sha1:6"], audience="user")
    conn.execute("""insert into review_keys values
        ('dump-a', 'sha1:6', 'r6', 'file:///dumps/x.csv#sha1:6', 1, now(), now()),
        ('dump-b', 'sha1:6', 'r6', 'file:///dumps/x.csv#sha1:6', 1, now(), now())""")
    _insert_review(conn, "r4", "f1", on_site, "crawl", "k4", ["https://site-a.test/r/4"], audience="user")
    migrate(conn)
    source_a = _critic_id("uma", None, "user", "source:dump-a")
    source_b = _critic_id("uma", None, "user", "source:dump-b")
    assert conn.execute("select review_id, critic_id from reviews order by review_id").fetchall() == [
        ("r1", source_a), ("r2", source_a), ("r3", source_b), ("r4", on_site), ("r6", source_a)]
    assert conn.execute("select urls from reviews where review_id = 'r6'").fetchone()[0] == [
        "file:///dumps/x.csv#sha1:6"]
    assert sorted(conn.execute("select critic_id, first_seen::date::varchar from critics").fetchall()) == sorted([
        (source_a, "2026-11-01"), (source_b, "2026-11-05"), (on_site, "2026-11-01")])
    # dump-b's copy is forgotten, so importing that dump again loads it as the other user's review; a crawled
    # review's copy on its own site stays.
    assert conn.execute("select urls from reviews where review_id = 'r1'").fetchone()[0] == [
        "file:///dumps/a.csv#sha1:1"]
    assert conn.execute("select source, source_review_id from review_keys order by all").fetchall() == [
        ("crawl", "k5"), ("dump-a", "sha1:1"), ("dump-a", "sha1:6")]


def test_migration_022_stores_bokmal_as_norwegian_as_detection_names_it(tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    _apply_up_to(conn, 21)
    conn.execute("insert into films (film_id, title, year, title_key, first_seen) values ('f1', 'Elling', 2001, "
                 "'elling', now())")
    conn.execute("insert into critics (critic_id, name, name_key, audience, first_seen) values ('c1', 'Kari', 'kari', "
                 "'critic', now())")
    for review_id, language in (("r1", "nb"), ("r2", "no"), ("r3", "nn")):
        _insert_review(conn, review_id, "f1", "c1", "s", review_id, [], language=language, body="Flott film.")
    migrate(conn)
    assert dict(conn.execute("select review_id, language from reviews").fetchall()) == {"r1": "no", "r2": "no",
                                                                                          "r3": "nn"}
