"""Reviews signed with a name that names nobody ("Anonymous", "Guest"): each is its own review, and the
critic row that holds them is marked as many people in the marts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.flows.test_normalize_batch import item
from tests.warehouse.test_load_landing import _land, _load
from warehouse.db import open_writer


def _signed(name: str, key: str, url: str = "https://site-a.test/film/her/", audience: str = "user") -> dict:
    return item(source_review_id=key, url=url, critic_name=name, outlet=None, audience=audience, body="Loved it!")


def test_two_anonymous_users_with_one_text_for_one_film_are_two_reviews(tmp_path: Path) -> None:
    landing = _land(tmp_path / "run-1.jsonl", _signed("Anonymous", "a1"), _signed("anonymous", "a2"),
                    _signed("[deleted]", "a3"), _signed("[Deleted]", "a4"), _signed("Guest", "a5"),
                    _signed("Utilisateur anonyme", "a6"), _signed("Utilisateur anonyme", "a7"),
                    _signed("Gelöschter Benutzer", "a8"), _signed("Gelöschter Benutzer", "a9"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        result = _load(conn, landing, "run-1")
        assert (result.loaded, result.duplicates) == (9, 0)
        assert conn.execute("select count(*) from reviews").fetchone()[0] == 9


@pytest.mark.parametrize(("later_key", "loaded_and_duplicates"), [
    ("a2", (1, 0)),  # another anonymous review with the same text: a new review
    ("a1", (0, 1)),  # the same review crawled again: still a duplicate of itself
])
def test_an_anonymous_text_met_again_in_a_later_run(tmp_path: Path, later_key: str,
                                                    loaded_and_duplicates: tuple[int, int]) -> None:
    first = _land(tmp_path / "run-1.jsonl", _signed("Anonymous", "a1"))
    later = _land(tmp_path / "run-2.jsonl", _signed("Anonymous", later_key))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, first, "run-1")
        result = _load(conn, later, "run-2")
        assert (result.loaded, result.duplicates) == loaded_and_duplicates


def test_a_named_user_posting_one_text_twice_is_still_one_review(tmp_path: Path) -> None:
    landing = _land(tmp_path / "run-1.jsonl", _signed("john", "j1"), _signed("John", "j2"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        result = _load(conn, landing, "run-1")
        assert (result.loaded, result.duplicates) == (1, 1)


def test_critic_stats_marks_a_name_that_names_nobody_and_keeps_its_outlets_apart(wh):
    wh.critic("anon-daily", name="Anonymous", name_key="anonymous", outlet="The Daily")
    wh.critic("anon-post", name="Anonymous", name_key="anonymous", outlet="The Post")
    wh.critic("ann-daily", name="Ann", outlet="The Daily")
    wh.critic("ann-post", name="Ann", outlet="The Post")
    for critic in ("anon-daily", "anon-post", "ann-daily", "ann-post"):
        wh.review("her", critic, 70)
    wh.build()
    anon = wh.one("critic_stats", critic_id="anon-daily")
    # Many people: not one person writing for two outlets, as Ann is.
    assert (anon["anonymous"], anon["outlets"]) == (True, ["The Daily"])
    ann = wh.one("critic_stats", critic_id="ann-daily")
    assert (ann["anonymous"], ann["outlets"]) == (False, ["The Daily", "The Post"])


def test_anonymous_reviews_an_earlier_version_merged_are_two_again_after_the_data_fix(tmp_path: Path) -> None:
    from flows.upgrades import forget_anonymous_copies

    items = [_signed("Anonymous", "a1", url="https://site-a.test/r/1"),
             _signed("Anonymous", "a2", url="https://site-a.test/r/2"),
             _signed("john", "j1", url="https://site-a.test/r/3"), _signed("John", "j2", url="https://site-a.test/r/4")]
    first = _land(tmp_path / "run-1.jsonl", *items)
    again = _land(tmp_path / "run-2.jsonl", *items)
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, first, "run-1")
        # As versions before 20c8e94 stored them: a2 a syndicated copy of a1 (one review, both urls).
        a1, a2 = (conn.execute("select review_id from reviews where source_review_id = ?", [key]).fetchone()[0]
                  for key in ("a1", "a2"))
        conn.execute("delete from reviews where review_id = ?", [a2])
        conn.execute("update review_keys set review_id = ? where review_id = ?", [a1, a2])
        conn.execute("update reviews set urls = ['https://site-a.test/r/1', 'https://site-a.test/r/2'] "
                     "where review_id = ?", [a1])
        assert _load(conn, again, "run-2").loaded == 0  # the merge survived re-crawls, --full included

        assert forget_anonymous_copies(conn) == 1
        assert conn.execute("select urls from reviews where review_id = ?", [a1]).fetchone()[0] == [
            "https://site-a.test/r/1"]
        assert _load(conn, _land(tmp_path / "run-3.jsonl", *items), "run-3").loaded == 1
        assert conn.execute("select count(*) from reviews").fetchone()[0] == 3  # a1, a2 and john's one review
        assert conn.execute("select count(*) from review_keys where source_review_id like 'j%'").fetchone()[0] == 2
        assert forget_anonymous_copies(conn) == 0  # once per warehouse


def test_a_name_added_to_those_that_name_nobody_has_its_merged_copies_forgotten_too(tmp_path: Path) -> None:
    from flows.upgrades import forget_anonymous_copies

    items = [_signed("Utilisateur anonyme", key, url=f"https://site-a.test/r/{key}") for key in ("u1", "u2")]
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", *items), "run-1")
        u1, u2 = (conn.execute("select review_id from reviews where source_review_id = ?", [key]).fetchone()[0]
                  for key in ("u1", "u2"))
        # As versions whose list lacked the name stored them (the first version of the fix already applied).
        conn.execute("delete from reviews where review_id = ?", [u2])
        conn.execute("update review_keys set review_id = ? where review_id = ?", [u1, u2])
        conn.execute("delete from data_fixes")
        conn.execute("insert into data_fixes values ('anonymous_copies', now())")
        assert forget_anonymous_copies(conn) == 1
        assert forget_anonymous_copies(conn) == 0


def _unsigned_id(name: str, body: str, page: int = 1, rating: str | None = "8/10", **more: object) -> dict:
    # A film's review pages listing reviews without an id or url of their own: each item's url is its page's.
    return item(source_review_id=None, url=f"https://site-a.test/film/her/reviews?page={page}", critic_name=name,
                outlet=None, audience="user", body=body, rating_raw=rating, published_raw="2026-11-01", **more)


LOVED, BORED = "Loved every minute of it, and so did my kids.", "Far too long; nothing happens for an hour."


def test_anonymous_reviews_without_ids_on_one_page_are_each_a_review(tmp_path: Path) -> None:
    landing = _land(tmp_path / "run-1.jsonl", _unsigned_id("Anonymous", LOVED), _unsigned_id("Anonymous", BORED),
                    _unsigned_id("Guest", None, rating="4/5"), _unsigned_id("Guest", None, rating="2/5"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        result = _load(conn, landing, "run-1")
        assert (result.loaded, result.duplicates) == (4, 0)


def test_an_anonymous_review_moved_to_the_next_page_is_the_same_review(tmp_path: Path) -> None:
    first = _land(tmp_path / "run-1.jsonl", _unsigned_id("Anonymous", LOVED, fetched_at="2026-11-20T10:00:00Z"))
    moved = _land(tmp_path / "run-2.jsonl", _unsigned_id("Anonymous", BORED, fetched_at="2026-11-27T10:00:00Z"),
                  _unsigned_id("Anonymous", f"<p>{LOVED}</p>", page=2, fetched_at="2026-11-27T10:00:00Z"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, first, "run-1")
        result = _load(conn, moved, "run-2")
        assert (result.loaded, result.duplicates) == (1, 1)
        assert conn.execute("select list(last_seen order by body) from reviews").fetchone()[0] == [
            datetime(2026, 11, 27, 10, 0)] * 2


def test_an_anonymous_review_whose_rating_changed_is_updated_not_counted_again(tmp_path: Path) -> None:
    first = _land(tmp_path / "run-1.jsonl", _unsigned_id("Anonymous", LOVED, rating="8/10"))
    again = _land(tmp_path / "run-2.jsonl", _unsigned_id("Anonymous", LOVED, rating="9/10", page=3))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, first, "run-1")
        result = _load(conn, again, "run-2")
        assert (result.loaded, result.updated) == (1, 1)
        assert conn.execute("select list(score) from reviews").fetchone()[0] == [90.0]


def _page_keyed(body: str, page: int, fetched_at: str) -> dict:
    # As versions before the anonymous_keys data fix keyed a review without an id: by its page.
    url = f"https://site-a.test/film/her/reviews?page={page}"
    return item(source_review_id=f"{url}#Anonymous|Her", url=url, critic_name="Anonymous", outlet=None,
                audience="user", body=body, fetched_at=fetched_at, published_raw="2026-11-01")


def test_the_data_fix_rekeys_page_keyed_anonymous_reviews_and_merges_those_counted_twice(tmp_path: Path) -> None:
    from flows.upgrades import rekey_anonymous_reviews

    week_1 = _land(tmp_path / "run-1.jsonl", _page_keyed(LOVED, 1, "2026-11-13T10:00:00Z"),
                   _signed("Ann", "n1", url="https://site-a.test/r/n1"))
    # Pushed to page 2 (its old place not refilled by another anonymous review): earlier versions stored it again.
    week_2 = _land(tmp_path / "run-2.jsonl", _page_keyed(LOVED, 2, "2026-11-20T10:00:00Z"))
    week_3 = _land(tmp_path / "run-3.jsonl", *(_unsigned_id("Anonymous", body, page, fetched_at="2026-11-27T10:00Z")
                                               for body, page in ((BORED, 1), (LOVED, 3))))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, week_1, "run-1")
        assert _load(conn, week_2, "run-2").loaded == 1
        assert conn.execute("select count(*) from reviews where body = ?", [LOVED]).fetchone()[0] == 2

        assert rekey_anonymous_reviews(conn) == 1
        merged = conn.execute("select urls, first_seen, last_seen from reviews where body = ?", [LOVED]).fetchall()
        assert merged == [([f"https://site-a.test/film/her/reviews?page={n}" for n in (1, 2)],
                           datetime(2026, 11, 13, 10, 0), datetime(2026, 11, 20, 10, 0))]
        result = _load(conn, week_3, "run-3")  # moved on again: known by its new key; a new review on page 1
        assert (result.loaded, result.duplicates) == (1, 1)
        assert conn.execute("select count(*) from reviews").fetchone()[0] == 3  # LOVED, BORED and Ann's
        assert conn.execute("select count(*) from reviews where source_review_id = 'n1'").fetchone()[0] == 1
        assert rekey_anonymous_reviews(conn) == 0  # once per warehouse


def _dune(year: str | None, page: int, key: str | None = None) -> dict:
    url = f"https://site-a.test/films/dune-{year}/reviews?page={page}"
    return item(source_review_id=key and f"{url}#Anonymous|{key}", url=url, critic_name="Anonymous", outlet=None,
                audience="user", body="Great movie!", film_title="Dune", film_year=year, published_raw="2026-11-01",
                fetched_at="2026-11-20T10:00:00Z")


def test_one_anonymous_text_for_two_films_of_one_title_is_two_reviews(tmp_path: Path) -> None:
    landing = _land(tmp_path / "run-1.jsonl", _dune("1984", 1), _dune("2021", 1))
    with open_writer(tmp_path / "w.duckdb") as conn:
        assert _load(conn, landing, "run-1").loaded == 2
        assert conn.execute("select list(f.year order by f.year) from reviews join films as f using (film_id)"
                            ).fetchone()[0] == [1984, 2021]


def test_the_data_fix_keeps_two_films_apart_and_titles_with_a_hash(tmp_path: Path) -> None:
    from flows.upgrades import rekey_anonymous_reviews

    alive = item(source_review_id="https://site-a.test/f/alive#Anonymous|#Alive", url="https://site-a.test/f/alive",
                 critic_name="Anonymous", outlet=None, audience="user", body="Tense.", film_title="#Alive",
                 film_year="2020", published_raw="2026-11-01", fetched_at="2026-11-20T10:00:00Z")
    page_keyed = _land(tmp_path / "run-1.jsonl", _dune("1984", 1, "Dune"), _dune("2021", 1, "Dune"), alive)
    with open_writer(tmp_path / "w.duckdb") as conn:
        assert _load(conn, page_keyed, "run-1").loaded == 3
        assert rekey_anonymous_reviews(conn) == 0  # nothing merged: two films, and #Alive alone
        again = [_dune("1984", 2), _dune("2021", 3), {**alive, "source_review_id": None}]
        result = _load(conn, _land(tmp_path / "run-2.jsonl", *again), "run-2")
        assert (result.loaded, result.duplicates) == (0, 3)
        # A page that gives no year, a full date, or a year one off (films match within a year): the same review.
        for n, year in enumerate((None, "2020-06-24", " 2020\n", "2021"), 3):
            again = _land(tmp_path / f"run-{n}.jsonl", {**alive, "source_review_id": None, "film_year": year})
            assert _load(conn, again, f"run-{n}").duplicates == 1, year
        assert conn.execute("select count(*) from reviews").fetchone()[0] == 3
