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


def _review(conn: duckdb.DuckDBPyConnection, review_id: str | None = None) -> dict:
    cursor = conn.execute("select r.*, f.title as film from reviews as r join films as f using (film_id) "
                          + ("where review_id = ?" if review_id else ""), [review_id] if review_id else [])
    rows = cursor.fetchall()
    assert len(rows) == 1, rows
    return dict(zip([d[0] for d in cursor.description], rows[0], strict=True))


def _at(day: int, hour: int = 10) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:00:00+00:00"


def test_an_unchanged_recrawl_stays_with_its_film_when_another_film_of_that_title_appears(tmp_path: Path) -> None:
    # A yearless "Her" resolves to the only Her (2013); once a Her of 1990 exists the mention is ambiguous.
    # That is no edit of the review: it stays where it is.
    yearless = {"source_review_id": "y1", "url": "https://x/y/1/", "critic_name": "Cy", "film_year": None,
                "body": "Quiet and sad."}
    first = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(20)), item(fetched_at=_at(20), **yearless))
    other = _land(tmp_path / "run-2.jsonl", item(fetched_at=_at(21), source_review_id="r9", url="https://x/r/9/",
                                                  critic_name="Bo", film_year="1990", body="Another Her."))
    again = _land(tmp_path / "run-3.jsonl", item(fetched_at=_at(22), **yearless))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, first, "run-1")
        assert conn.execute("select count(distinct film_id) from reviews").fetchone()[0] == 1
        _load(conn, other, "run-2")
        result = _load(conn, again, "run-3")
        assert (result.loaded, result.duplicates) == (0, 1)
        assert conn.execute("select count(*) from reviews join films using (film_id) where year = 2013"
                            ).fetchone()[0] == 2


def test_a_changed_rating_scale_rescores_the_review(tmp_path: Path) -> None:
    first = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(20), rating_raw="4", rating_value="4",
                                                  rating_best="5"))
    rescaled = _land(tmp_path / "run-2.jsonl", item(fetched_at=_at(21), rating_raw="4", rating_value="4",
                                                     rating_best="10"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, first, "run-1")
        assert _review(conn)["score"] == 75.0
        assert _load(conn, rescaled, "run-2").updated == 1
        assert _review(conn)["score"] == 40.0


def test_an_older_crawl_loaded_late_does_not_overwrite_newer_content_and_moves_first_seen_back(
        tmp_path: Path) -> None:
    # Published before every fetch: a date flagged as future would be cleared by a later fetch, an update.
    newer = _land(tmp_path / "run-2.jsonl", item(fetched_at=_at(17), rating_raw="9/10", review_title="New",
                                                 published_raw="2026-11-01"))
    older = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(10), rating_raw="5/10", review_title="Old",
                                                 published_raw="2026-11-01"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, newer, "run-2")
        result = _load(conn, older, "run-1")
        assert (result.loaded, result.updated, result.duplicates) == (0, 0, 1)
        review = _review(conn)
        assert (review["title"], review["rating_raw"]) == ("New", "9/10")
        assert review["first_seen"].day == 10 and review["last_seen"].day == 17
        # The newer content's hash stays on record: the next crawl of unchanged content is no edit.
        again = _land(tmp_path / "run-3.jsonl", item(fetched_at=_at(24), rating_raw="9/10", review_title="New",
                                                     published_raw="2026-11-01"))
        assert _load(conn, again, "run-3").duplicates == 1


def test_two_keys_of_one_review_edited_differently_in_one_batch_apply_one_edit_the_latest(tmp_path: Path) -> None:
    twins = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(20)),
                  item(fetched_at=_at(20), source_review_id="r1-print", url="https://x/print/1/"))
    edits = _land(tmp_path / "run-2.jsonl", item(fetched_at=_at(21, 9), rating_raw="2/10"),
                  item(fetched_at=_at(21, 11), source_review_id="r1-print", url="https://x/print/1/",
                       rating_raw="7/10"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        assert _load(conn, twins, "run-1").duplicates == 1
        result = _load(conn, edits, "run-2")
        assert (result.loaded, result.updated, result.duplicates) == (1, 1, 1)
        assert _review(conn)["rating_raw"] == "7/10"


def test_a_copy_without_rating_never_erases_the_reviews_explicit_score(tmp_path: Path) -> None:
    site = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(20), rating_raw="8/10"))
    mirror = _land(tmp_path / "run-2.jsonl", item(fetched_at=_at(20), source="mirror", source_review_id="m1",
                                                   url="https://mirror/1/", rating_raw=None, review_title="Copy"))
    retitled = _land(tmp_path / "run-3.jsonl", item(fetched_at=_at(21), source="mirror", source_review_id="m1",
                                                     url="https://mirror/1/", rating_raw=None,
                                                     review_title="Copy, retitled"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, site, "run-1")
        assert _load(conn, mirror, "run-2").duplicates == 1
        _load(conn, retitled, "run-3")
        review = _review(conn)
        assert (review["rating_raw"], review["score"], review["score_source"]) == ("8/10", 80.0, "explicit")


def test_a_copy_with_a_rating_fills_a_review_first_met_without_one(tmp_path: Path) -> None:
    mirror = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(20), source="mirror", source_review_id="m1",
                                                   url="https://mirror/1/", rating_raw=None))
    site = _land(tmp_path / "run-2.jsonl", item(fetched_at=_at(20), rating_raw="8/10", run_id="run-2"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, mirror, "run-1")
        assert _review(conn)["score_source"] == "inferred"
        # The copy changed the review: an update of run-2's, not a duplicate.
        result = _load(conn, site, "run-2")
        assert (result.loaded, result.updated, result.duplicates) == (1, 1, 0)
        review = _review(conn)
        assert (review["rating_raw"], review["score"], review["score_source"]) == ("8/10", 80.0, "explicit")
        assert sorted(review["urls"]) == ["https://mirror/1/", "https://x/review/1/"]
        assert review["run_id"] == "run-2"


def test_a_rated_copy_in_the_batch_that_creates_the_review_is_a_duplicate_not_a_second_write(tmp_path: Path) -> None:
    both = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(20), source="mirror", source_review_id="m1",
                                                url="https://mirror/1/", rating_raw=None),
                 item(fetched_at=_at(21), rating_raw="8/10"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        result = _load(conn, both, "run-1")
        assert (result.scraped, result.loaded, result.updated, result.duplicates) == (2, 1, 0, 1)
        assert _review(conn)["score"] == 80.0


def test_a_review_repeated_in_one_batch_was_first_seen_at_its_first_fetch(tmp_path: Path) -> None:
    batch = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(20, 12)), item(fetched_at=_at(20, 10)))
    with open_writer(tmp_path / "w.duckdb") as conn:
        assert _load(conn, batch, "run-1").duplicates == 1
        review = _review(conn)
        assert (review["first_seen"].hour, review["last_seen"].hour) == (10, 12)


def test_a_late_batch_never_overwrites_newer_content_through_another_key_of_the_review(tmp_path: Path) -> None:
    print_page = {"source_review_id": "r1-print", "url": "https://x/print/1/"}
    day1 = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(1), rating_raw="6/10"),
                 item(fetched_at=_at(1), rating_raw="6/10", **print_page))
    day17 = _land(tmp_path / "run-3.jsonl", item(fetched_at=_at(17), rating_raw="9/10"))
    day10 = _land(tmp_path / "run-2.jsonl", item(fetched_at=_at(10), rating_raw="7/10"),
                  item(fetched_at=_at(10), rating_raw="7/10", **print_page))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, day1, "run-1")
        _load(conn, day17, "run-3")
        result = _load(conn, day10, "run-2")
        assert (result.updated, result.duplicates) == (0, 2)
        assert _review(conn)["rating_raw"] == "9/10"


def test_an_edit_with_a_score_wins_over_a_later_copy_without_one_in_the_same_batch(tmp_path: Path) -> None:
    print_page = {"source_review_id": "r1-print", "url": "https://x/print/1/"}
    first = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(20), rating_raw="6/10"),
                  item(fetched_at=_at(20), rating_raw=None, **print_page))
    edited = _land(tmp_path / "run-2.jsonl", item(fetched_at=_at(21, 9), rating_raw="7/10", body="Edited."),
                   item(fetched_at=_at(21, 11), rating_raw=None, body="Edited.", **print_page))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, first, "run-1")
        _load(conn, edited, "run-2")
        review = _review(conn)
        assert (review["rating_raw"], review["body"]) == ("7/10", "Edited.")


def test_after_a_rehash_a_copys_unchanged_recrawl_is_a_duplicate(tmp_path: Path) -> None:
    site = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(20), rating_raw="8/10"))
    mirror = {"source": "mirror", "source_review_id": "m1", "url": "https://mirror/1/", "rating_raw": None}
    copy = _land(tmp_path / "run-2.jsonl", item(fetched_at=_at(20), review_title="Copy", **mirror))
    retitled = _land(tmp_path / "run-3.jsonl", item(fetched_at=_at(21), review_title="Copy, retitled", **mirror))
    again = _land(tmp_path / "run-4.jsonl", item(fetched_at=_at(22), review_title="Copy, retitled", **mirror))
    database = tmp_path / "w.duckdb"
    with open_writer(database) as conn:
        for number, path in enumerate((site, copy, retitled), 1):
            _load(conn, path, f"run-{number}")
        conn.execute("update hash_scheme set fingerprint = 'other formulas'")
    with open_writer(database) as conn:
        result = _load(conn, again, "run-4")
        assert (result.loaded, result.updated, result.duplicates) == (0, 0, 1)
        assert _review(conn)["rating_raw"] == "8/10"


def _user(url: str, name: str, body: str, review_id: str) -> dict:
    return item(source_review_id=review_id, url=url, critic_name=name, outlet=None, audience="user", body=body)


def test_users_of_one_name_on_two_sites_are_two_users_and_on_one_site_one(tmp_path: Path) -> None:
    landing = _land(tmp_path / "run-1.jsonl",
                    _user("https://site-a.test/r/1", "john", "Loved it.", "a1"),
                    _user("https://www.site-a.test/r/2", "John", "Dull.", "a2"),
                    _user("https://site-b.test/r/1", "john", "A masterpiece.", "b1"),
                    item(source_review_id="c1", url="https://site-b.test/r/2", critic_name="Ann Lee"),
                    item(source_review_id="c2", url="https://site-a.test/r/3", critic_name="Ann Lee", body="Fine."))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, landing, "run-1")
        per_critic = conn.execute("""
            select c.audience, list(r.source_review_id order by r.source_review_id)
            from reviews as r join critics as c using (critic_id) group by c.critic_id, c.audience order by all""")
        # A critic is a name and an outlet, wherever published; a user an account on one site.
        assert per_critic.fetchall() == [("critic", ["c1", "c2"]), ("user", ["a1", "a2"]), ("user", ["b1"])]


def test_one_text_by_users_of_one_name_on_two_sites_is_two_reviews(tmp_path: Path) -> None:
    first = _land(tmp_path / "run-1.jsonl", _user("https://site-a.test/r/1", "john", "Loved it!", "a1"))
    again = _land(tmp_path / "run-2.jsonl", _user("https://site-b.test/r/9", "john", "Loved it!", "b9"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, first, "run-1")
        result = _load(conn, again, "run-2")
        # Two users (README: "john" on two sites is two users), so not one review syndicated twice.
        assert (result.loaded, result.duplicates) == (1, 0)
        assert conn.execute("select count(distinct critic_id) from reviews").fetchone()[0] == 2


def _copy(key: str, url: str, outlet: str, body: str) -> dict:
    return item(source_review_id=key, url=url, critic_name="Ann Lee", outlet=outlet, body=body)


def test_a_syndicated_copy_adds_no_critic_and_its_edit_keeps_the_reviews_critic(tmp_path: Path) -> None:
    first = _land(tmp_path / "run-1.jsonl", _copy("a1", "https://paper.test/r/1", "Paper", "A tender film."),
                  _copy("b1", "https://other.test/r/1", "Other Daily", "A tender film."))
    edited = _land(tmp_path / "run-2.jsonl",
                   _copy("b1", "https://other.test/r/1", "Other Daily", "A tender, moving film."))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, first, "run-1")
        assert conn.execute("select outlet from critics").fetchall() == [("Paper",)]
        result = _load(conn, edited, "run-2")
        assert result.updated == 1
        row = conn.execute("select r.body, c.outlet from reviews as r join critics as c using (critic_id)").fetchall()
        assert row == [("A tender, moving film.", "Paper")]
        assert conn.execute("select outlet from critics").fetchall() == [("Paper",)]


def _by_id_only(source_review_id: str, imdb: str, critic: str) -> dict:
    # A page that names its film by IMDb address alone: the crawler accepts an external id for a title.
    return item(source_review_id=source_review_id, url=f"https://x/r/{source_review_id}/", film_title=None,
                film_year=None, external_ids={"imdb": imdb}, critic_name=critic, body=f"Seen by {critic}.")


def _load_known(conn: duckdb.DuckDBPyConnection, path: Path, run_id: str) -> LoadResult:
    from flows.load import known_films

    batch = normalize_landing(path, known_films(conn), duck=conn)
    try:
        return load_batch(conn, batch.rows, batch.rejects, RunInfo(run_id, "demo"), batch.scraped)
    finally:
        drop_normalized(conn)


def test_a_review_naming_an_unknown_film_only_by_external_id_is_rejected_and_the_rest_loads(tmp_path: Path) -> None:
    landing = _land(tmp_path / "run-1.jsonl", item(), _by_id_only("i1", "tt0119448", "Kay"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        result = _load_known(conn, landing, "run-1")
        assert (result.scraped, result.loaded, result.rejected) == (2, 1, 1)
        reason, raw = conn.execute("select reason, raw from rejects").fetchone()
        assert "tt0119448" in reason and "title" in reason
        assert json.loads(raw)["source_review_id"] == "i1"
        assert conn.execute("select count(*) from films where title is null").fetchone()[0] == 0


def test_a_review_naming_a_known_film_only_by_external_id_joins_that_film(tmp_path: Path) -> None:
    first = _land(tmp_path / "run-1.jsonl", item(external_ids={"imdb": "tt1798709"}))
    later = _land(tmp_path / "run-2.jsonl", _by_id_only("i2", "tt1798709", "Kay"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load_known(conn, first, "run-1")
        result = _load_known(conn, later, "run-2")
        assert (result.loaded, result.rejected) == (1, 0)
        assert conn.execute("select count(distinct film_id), min(f.title) from reviews join films as f "
                            "using (film_id)").fetchone() == (1, "Her")


def test_a_titled_mention_in_the_same_batch_names_the_film_an_id_only_mention_joins(tmp_path: Path) -> None:
    landing = _land(tmp_path / "run-1.jsonl", _by_id_only("i3", "tt1798709", "Kay"),
                    item(external_ids={"imdb": "tt1798709"}))
    with open_writer(tmp_path / "w.duckdb") as conn:
        result = _load_known(conn, landing, "run-1")
        assert (result.loaded, result.rejected) == (2, 0)
        assert conn.execute("select count(*), min(title) from films").fetchone() == (1, "Her")


def test_reviews_that_shared_one_id_are_told_apart_after_upgrading_without_a_second_copy(tmp_path: Path) -> None:
    # Older extraction gave every review of a page the page's @id, and only the first landed. Now each is
    # keyed "<id>#<critic>|<film>": the one already stored is the same review under a new key.
    shared = "https://x/film/her/#review"
    first = _land(tmp_path / "run-1.jsonl", item(source_review_id=shared, critic_name="Ann Lee", body="Moving."))
    again = _land(tmp_path / "run-2.jsonl", *(
        item(source_review_id=f"{shared}#{critic}|Her", critic_name=critic, body=body)
        for critic, body in (("Ann Lee", "Moving."), ("Bo Diaz", "Too long."), ("Cy Ng", "Tender."))))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, first, "run-1")
        result = _load(conn, again, "run-2")
        assert (result.loaded, result.duplicates) == (2, 1)
        assert conn.execute("select count(*) from reviews").fetchone()[0] == 3


def test_a_reject_holding_a_lone_surrogate_is_stored_spelled_out(tmp_path: Path) -> None:
    from warehouse.load import Reject

    with open_writer(tmp_path / "w.duckdb") as conn:
        batch = normalize_landing(_land(tmp_path / "run-1.jsonl", item()), [], duck=conn)
        try:
            load_batch(conn, batch.rows, [Reject("bad", {"body": "x\ud800y"}, "crawl")], RunInfo("run-1", "demo"),
                       batch.scraped + 1)
        finally:
            drop_normalized(conn)
        assert conn.execute("select raw->>'body' from rejects").fetchone()[0] == "x\\ud800y"


def test_a_page_that_lost_its_rating_and_got_it_back_counts_as_duplicates_not_updates(tmp_path: Path) -> None:
    rated = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(20), rating_raw="8/10", run_id="run-1"))
    unrated = _land(tmp_path / "run-2.jsonl", item(fetched_at=_at(21), rating_raw=None, run_id="run-2"))
    restored = _land(tmp_path / "run-3.jsonl", item(fetched_at=_at(22), rating_raw="8/10", run_id="run-3"))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, rated, "run-1")
        for landing, run_id in ((unrated, "run-2"), (restored, "run-3")):
            result = _load(conn, landing, run_id)
            assert (result.loaded, result.updated, result.duplicates) == (0, 0, 1), run_id
            review = _review(conn)
            assert (review["rating_raw"], review["score"], review["run_id"]) == ("8/10", 80.0, "run-1")
        assert review["last_seen"].day == 22


def test_an_edit_of_the_text_on_a_page_that_lost_its_rating_is_an_update_keeping_the_score(tmp_path: Path) -> None:
    rated = _land(tmp_path / "run-1.jsonl", item(fetched_at=_at(20), rating_raw="8/10"))
    edited = _land(tmp_path / "run-2.jsonl", item(fetched_at=_at(21), rating_raw=None, body="A new text, edited."))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, rated, "run-1")
        result = _load(conn, edited, "run-2")
        assert (result.loaded, result.updated, result.duplicates) == (1, 1, 0)
        review = _review(conn)
        assert (review["body"], review["score"]) == ("A new text, edited.", 80.0)


def test_a_review_text_over_32_mb_is_refused_and_stored_as_its_start(tmp_path: Path) -> None:
    # Sizes QA: a 120 MB body took more than the 1 GB memory limit to normalize, a 251 MB reject to store, and
    # the batch, its good rows with it, never loaded.
    from warehouse.load import REJECT_RAW_KEPT

    huge = item(source_review_id="r2", url="https://x/review/2/", body="x" * (32 * 1024 * 1024 + 1))
    landing = _land(tmp_path / "run-1.jsonl", item(), huge)
    with open_writer(tmp_path / "w.duckdb") as conn:
        result = _load(conn, landing, "run-1")
        assert (result.scraped, result.loaded, result.rejected) == (2, 1, 1)
        reason, raw = conn.execute("select reason, raw from rejects").fetchone()
    assert reason.startswith("a review text over 32 MB (33554433 bytes)")
    stored = json.loads(raw)
    assert stored["truncated"] is True and stored["chars"] > 32 * 1024 * 1024
    assert len(stored["start"]) == REJECT_RAW_KEPT and stored["start"].startswith('{"audience": "critic"')
