"""Stored rows repaired with the normalizer's Python rules, once per warehouse."""

from __future__ import annotations

from flows.normalize.keys import normalize_person
from flows.normalize.lookups import _critic_id
from flows.upgrades import repair_outlet_bylines
from warehouse.db import connect, migrate


def test_a_critic_stored_under_a_byline_repeating_the_outlet_joins_the_critic_alone(tmp_path):
    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    # As earlier versions stored "Jane Doe, Variety" writing for Variety, beside her newer reviews as "Jane Doe".
    old_id = _critic_id(normalize_person("Jane Doe, Variety"), "Variety", "critic")
    new_id = _critic_id(normalize_person("Jane Doe"), "Variety", "critic")
    other = _critic_id(normalize_person("Ebert, Roger"), "Sun-Times", "critic")
    conn.execute(f"""
        insert into critics (critic_id, name, name_key, outlet, audience, first_seen) values
            ('{old_id}', 'Jane Doe, Variety', 'variety jane doe', 'Variety', 'critic', '2026-10-01'),
            ('{new_id}', 'Jane Doe', 'jane doe', 'Variety', 'critic', '2026-11-20'),
            ('{other}', 'Ebert, Roger', 'roger ebert', 'Sun-Times', 'critic', '2026-10-01');
        insert into reviews (review_id, film_id, critic_id, source, source_review_id, urls, audience, content_hash,
                             first_seen, last_seen, run_id) values
            ('r1', 'f1', '{old_id}', 's', 'k1', [], 'critic', 1, now(), now(), 'x'),
            ('r2', 'f2', '{new_id}', 's', 'k2', [], 'critic', 1, now(), now(), 'x'),
            ('r3', 'f1', '{other}', 's', 'k3', [], 'critic', 1, now(), now(), 'x')""")
    assert repair_outlet_bylines(conn) == 1
    assert conn.execute("select critic_id, name, first_seen::date::varchar from critics order by name").fetchall() \
        == [(other, "Ebert, Roger", "2026-10-01"), (new_id, "Jane Doe", "2026-10-01")]
    assert conn.execute("select review_id, critic_id from reviews order by review_id").fetchall() == [
        ("r1", new_id), ("r2", new_id), ("r3", other)]
    assert repair_outlet_bylines(conn) == 0  # once per warehouse


def test_a_critic_stored_under_an_outlet_with_the_joins_the_critic_under_the_outlet_without_it(tmp_path):
    import hashlib

    from flows.upgrades import merge_outlet_spellings

    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    # As earlier versions keyed "The Guardian": "the guardian" in the id, apart from "Guardian".
    old_id = "c" + hashlib.sha1(b"peter bradshaw|the guardian|critic").hexdigest()[:12]
    new_id = _critic_id("peter bradshaw", "Guardian", "critic")
    assert new_id == _critic_id("peter bradshaw", "The Guardian", "critic") != old_id
    times = _critic_id("a o scott", "The New York Times", "critic")
    user = _critic_id("jo", "The Letterboxd Club", "user")  # users keep their ids
    assert user == "c" + hashlib.sha1(b"jo|the letterboxd club|user").hexdigest()[:12]
    conn.execute(f"""
        insert into critics (critic_id, name, name_key, outlet, audience, first_seen) values
            ('{old_id}', 'Peter Bradshaw', 'peter bradshaw', 'The Guardian', 'critic', '2026-10-01'),
            ('{new_id}', 'Peter Bradshaw', 'peter bradshaw', 'Guardian', 'critic', '2026-11-20'),
            ('{user}', 'jo', 'jo', 'The Letterboxd Club', 'user', '2026-10-01');
        insert into reviews (review_id, film_id, critic_id, source, source_review_id, urls, audience, content_hash,
                             first_seen, last_seen, run_id) values
            ('r1', 'f1', '{old_id}', 's', 'k1', [], 'critic', 1, now(), now(), 'x'),
            ('r2', 'f2', '{new_id}', 't', 'k2', [], 'critic', 1, now(), now(), 'x'),
            ('r3', 'f1', '{user}', 's', 'k3', [], 'user', 1, now(), now(), 'x')""")
    assert merge_outlet_spellings(conn) == 1
    critics = "select critic_id, outlet, first_seen::date::varchar from critics order by audience"
    assert conn.execute(critics).fetchall() == [(new_id, "Guardian", "2026-10-01"),
                                                (user, "The Letterboxd Club", "2026-10-01")]
    assert conn.execute("select review_id, critic_id from reviews order by review_id").fetchall() == [
        ("r1", new_id), ("r2", new_id), ("r3", user)]
    assert merge_outlet_spellings(conn) == 0  # once per warehouse
    assert times != "c" + hashlib.sha1(b"a o scott|the new york times|critic").hexdigest()[:12]


def test_critics_and_films_keyed_with_a_dotless_i_are_folded_into_one_each(tmp_path):
    import hashlib

    from flows.upgrades import fold_dotless_i

    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    # As earlier versions keyed them: "IŞIL İNCE" as "isil ince", "Işıl İnce" as "isıl ince" (determinism QA).
    def old_id(key: str, outlet: str) -> str:
        return "c" + hashlib.sha1(f"{key}|{outlet}|critic".encode()).hexdigest()[:12]

    upper, mixed, other = old_id("isil ince", "sabah"), old_id("isıl ince", "sabah"), old_id("ali veli", "sabah")
    new_id = _critic_id(normalize_person("Işıl İnce"), "Sabah", "critic")
    assert new_id == upper and normalize_person("ışıl ince") == "isil ince"
    conn.execute(f"""
        insert into critics (critic_id, name, name_key, outlet, audience, first_seen) values
            ('{upper}', 'IŞIL İNCE', 'isil ince', 'Sabah', 'critic', '2026-11-01'),
            ('{mixed}', 'Işıl İnce', 'isıl ince', 'Sabah', 'critic', '2026-10-01'),
            ('{other}', 'Ali Veli', 'ali veli', 'Sabah', 'critic', '2026-10-01');
        insert into films (film_id, title, year, title_key, tmdb_id, first_seen) values
            ('f-upper', 'İSTANBUL HATIRASI', 2010, 'istanbul hatirasi', null, '2026-11-01'),
            ('f-mixed', 'İstanbul Hatırası', 2010, 'istanbul hatırası', '42', '2026-10-01'),
            ('f-other', 'İstanbul Hatırası', 1980, 'istanbul hatırası', null, '2026-10-01');
        insert into reviews (review_id, film_id, critic_id, source, source_review_id, urls, audience, content_hash,
                             first_seen, last_seen, run_id) values
            ('r1', 'f-upper', '{upper}', 's', 'k1', [], 'critic', 1, now(), now(), 'x'),
            ('r2', 'f-mixed', '{mixed}', 's', 'k2', [], 'critic', 1, now(), now(), 'x'),
            ('r3', 'f-other', '{other}', 's', 'k3', [], 'critic', 1, now(), now(), 'x')""")
    assert fold_dotless_i(conn) == 2  # one critic and one film moved
    critics = "select critic_id, name_key, first_seen::date::varchar from critics order by name_key"
    assert conn.execute(critics).fetchall() == [(other, "ali veli", "2026-10-01"), (new_id, "isil ince", "2026-10-01")]
    assert conn.execute("select film_id, title_key, year, tmdb_id from films order by year").fetchall() == [
        ("f-other", "istanbul hatirasi", 1980, None), ("f-mixed", "istanbul hatirasi", 2010, "42")]
    assert conn.execute("select review_id, film_id, critic_id from reviews order by review_id").fetchall() == [
        ("r1", "f-mixed", new_id), ("r2", "f-mixed", new_id), ("r3", "f-other", other)]
    assert fold_dotless_i(conn) == 0  # once per warehouse


def test_stored_keys_and_urls_lose_their_tracking_parameters_so_the_next_crawl_finds_them(tmp_path):
    # Review of the tracking change: an anonymous review keyed by its tagged url was met under the clean key as
    # another review (no author to match a copy by) and stored twice.
    from flows.untagged_keys import clean_tracking_keys
    from tests.flows.test_normalize_batch import item
    from tests.warehouse.test_load_landing import _land, _load
    from warehouse.db import open_writer

    tagged, clean = "https://x.test/r/1?utm_source=feed&page=2", "https://x.test/r/1?page=2"
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", item(source_review_id=tagged, url=tagged,
                                                         critic_name="Anonymous")), "run-1")
        assert clean_tracking_keys(conn) == 1
        assert conn.execute("select source_review_id, urls from reviews").fetchall() == [(clean, [clean])]
        assert conn.execute("select source_review_id, url from review_keys").fetchall() == [(clean, clean)]
        again = _load(conn, _land(tmp_path / "run-2.jsonl", item(source_review_id=clean, url=clean,
                                                                 critic_name="Anonymous")), "run-2")
        assert (again.loaded, again.duplicates) == (0, 1)
        assert clean_tracking_keys(conn) == 0  # once per warehouse



def test_stored_keys_with_session_ids_are_cleaned_once_more_after_the_tracking_fix(tmp_path):
    # Traps QA: a review keyed by its page and a ;jsessionid was a new review every week. A warehouse that had
    # the tracking fix already gets it again as `session_keys`, with the session rules.
    from flows.untagged_keys import clean_tracking_keys
    from tests.flows.test_normalize_batch import item
    from tests.warehouse.test_load_landing import _land, _load
    from warehouse.db import open_writer

    with open_writer(tmp_path / "w.duckdb") as conn:
        conn.execute("insert into data_fixes values ('tracking_keys', now())")
        url = "https://x.test/film/1;jsessionid=a1b2c3d4"
        _load(conn, _land(tmp_path / "run-1.jsonl", item(source_review_id=None, url=url)), "run-1")
        assert clean_tracking_keys(conn) == 1
        key = "https://x.test/film/1#Ann Lee|Her"
        assert conn.execute("select source_review_id, urls from reviews").fetchall() == [
            (key, ["https://x.test/film/1"])]
        again = _load(conn, _land(tmp_path / "run-2.jsonl", item(
            source_review_id=None, url="https://x.test/film/1", body="A tender and wonderful film, edited.")),
            "run-2")
        assert again.updated == 1  # the edit applies to the stored review, not to a second one
        assert conn.execute("select count(*), any_value(body) from reviews").fetchall() == [
            (1, "A tender and wonderful film, edited.")]
        assert clean_tracking_keys(conn) == 0

def test_of_two_tagged_keys_that_clean_to_one_the_first_stored_takes_it(tmp_path):
    # Second review: both stayed tagged, and the next crawl stored an anonymous review a third time.
    from flows.untagged_keys import clean_tracking_keys
    from tests.flows.test_normalize_batch import item
    from tests.warehouse.test_load_landing import _land, _load
    from warehouse.db import open_writer

    first, second, clean = "https://x.test/a?utm_source=f", "https://x.test/a?fbclid=z", "https://x.test/a"
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", item(source_review_id=first, url=first, critic_name="Anonymous",
                                                         fetched_at="2026-11-20T10:00:00+00:00")), "run-1")
        _load(conn, _land(tmp_path / "run-2.jsonl", item(source_review_id=second, url=second, critic_name="Anonymous",
                                                         fetched_at="2026-11-21T10:00:00+00:00")), "run-2")
        assert clean_tracking_keys(conn) == 1
        assert sorted(conn.execute("select source_review_id from review_keys").fetchall()) == [(clean,), (second,)]
        again = _load(conn, _land(tmp_path / "run-3.jsonl", item(source_review_id=clean, url=clean,
                                                                 critic_name="Anonymous")), "run-3")
        assert (again.loaded, again.duplicates) == (0, 1)
