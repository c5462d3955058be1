"""Week-over-week re-crawls of a changing site (from a QA run of nine simulated weeks): what a later crawl may
change in a stored review, and what it may not."""

from __future__ import annotations

from pathlib import Path

from tests.flows.test_normalize_batch import item
from tests.warehouse.test_load_landing import _land, _load
from warehouse.db import open_writer


def _at(day: int) -> str:
    return f"2026-11-{day:02d}T10:00:00+00:00"


def _alice(key: str, url: str, rating: str, day: int, title: str | None = None, outlet: str = "Alice's Blog"):
    return item(source_review_id=key, url=url, critic_name="Alice", outlet=outlet, rating_raw=rating,
                body="A slow, luminous film.", review_title=title, fetched_at=_at(day))


def _scores(conn) -> list[tuple]:
    return conn.execute("select rating_raw, score, title from reviews").fetchall()


def test_a_stale_copy_never_overwrites_what_the_reviews_own_page_still_says(tmp_path: Path) -> None:
    own, partner = "https://alice.test/dune", "https://partner.test/alice-dune"
    weeks = [[_alice("a", own, "5/5", 2), _alice("p", partner, "5/5", 2, outlet="Partner")],
             [_alice("a", own, "4/5", 9), _alice("p", partner, "5/5", 9, outlet="Partner")],
             # The partner retitles its copy, which still shows the old 5/5; Alice's page still says 4/5.
             [_alice("a", own, "4/5", 16), _alice("p", partner, "5/5", 16, "Dune", outlet="Partner")],
             [_alice("a", own, "4/5", 23), _alice("p", partner, "5/5", 23, "Dune", outlet="Partner")]]
    with open_writer(tmp_path / "w.duckdb") as conn:
        for week, items in enumerate(weeks, 1):
            result = _load(conn, _land(tmp_path / f"run-{week}.jsonl", *items), f"run-{week}")
            assert result.scraped == result.loaded + result.duplicates + result.rejected
        # It became 100 with the partner's title, for good: the own page, unchanged, was never an edit again.
        assert _scores(conn) == [("4/5", 80.0, None)]


def test_an_own_page_that_does_not_hold_what_the_review_holds_confirms_nothing(tmp_path: Path) -> None:
    # Week 2 a copy edited the review (its own page was not fetched); later the own page still says 5/5 and the
    # copy 3/5: the review stayed at the 4/5 no page showed any more (from a review of the stale-copy rule).
    own, partner = "https://alice.test/dune", "https://partner.test/alice-dune"
    weeks = [[_alice("a", own, "5/5", 2), _alice("p", partner, "5/5", 2, outlet="Partner")],
             [_alice("p", partner, "4/5", 9, outlet="Partner")],
             [_alice("a", own, "5/5", 16), _alice("p", partner, "3/5", 16, outlet="Partner")],
             [_alice("a", own, "5/5", 23), _alice("p", partner, "3/5", 23, outlet="Partner")]]
    with open_writer(tmp_path / "w.duckdb") as conn:
        for week, items in enumerate(weeks, 1):
            _load(conn, _land(tmp_path / f"run-{week}.jsonl", *items), f"run-{week}")
        assert _scores(conn)[0][0] in ("5/5", "3/5")


def test_an_edit_of_the_own_page_and_a_copy_in_one_batch_still_apply_one_edit(tmp_path: Path) -> None:
    own, partner = "https://alice.test/dune", "https://partner.test/alice-dune"
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", _alice("a", own, "5/5", 2), _alice("p", partner, "5/5", 2)),
              "run-1")
        result = _load(conn, _land(tmp_path / "run-2.jsonl", _alice("a", own, "4/5", 9),
                                   _alice("p", partner, "3/5", 9, outlet="Partner")), "run-2")
        assert result.updated == 1
        assert _scores(conn)[0][1] in (80.0, 60.0)  # one of them, chosen by the documented order


def test_the_edit_chosen_among_two_keys_stays_when_the_batch_loads_again_or_the_next_crawl_sees_the_same(
        tmp_path: Path) -> None:
    # The own page (its edit fetched first) lost to the partner's later fetch; its hash was left unrecorded,
    # so loading the same file again (`reviews import --again`) or next week's identical crawl applied it.
    own, partner = "https://alice.test/dune", "https://partner.test/alice-dune"
    edits = [item(source_review_id="a", url=own, critic_name="Alice", outlet="Alice's Blog", rating_raw="4/5",
                  body="A slow, luminous film.", fetched_at="2026-11-09T09:00:00+00:00"),
             _alice("p", partner, "3/5", 9, outlet="Partner")]
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", _alice("a", own, "5/5", 2),
                          _alice("p", partner, "5/5", 2, outlet="Partner")), "run-1")
        assert _load(conn, _land(tmp_path / "run-2.jsonl", *edits), "run-2").updated == 1
        assert _scores(conn) == [("3/5", 60.0, None)]
        again = _load(conn, tmp_path / "run-2.jsonl", "run-2-again")
        assert (again.updated, again.duplicates) == (0, 2)
        next_week = _load(conn, _land(tmp_path / "run-3.jsonl", _alice("a", own, "4/5", 16),
                                      _alice("p", partner, "3/5", 16, outlet="Partner")), "run-3")
        assert (next_week.updated, next_week.duplicates) == (0, 2)
        assert _scores(conn) == [("3/5", 60.0, None)]


def _dated(published: str | None, day: int) -> dict:
    return item(published_raw=published, fetched_at=_at(day))


def _undated(published: str | None, day: int) -> dict:
    return item(source_review_id="r2", url="https://x/review/2/", body="Another text.", published_raw=published,
                fetched_at=_at(day))


def test_a_date_the_site_fixed_or_added_later_reaches_the_review(tmp_path: Path) -> None:
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", _dated("2062-11-18", 19), _undated(None, 19)), "run-1")
        assert conn.execute("select published_on::varchar, date_problem is not null from reviews "
                            "order by source_review_id").fetchall() == [("2062-11-18", True), (None, False)]
        result = _load(conn, _land(tmp_path / "run-2.jsonl", _dated("2026-11-18", 26), _undated("2026-11-17", 26)),
                       "run-2")
        assert (result.loaded, result.updated, result.duplicates) == (2, 2, 0)
        assert conn.execute("select published_on::varchar, date_problem from reviews "
                            "order by source_review_id").fetchall() == [("2026-11-18", None), ("2026-11-17", None)]


def test_a_clean_date_stays_as_first_read(tmp_path: Path) -> None:
    # "3 days ago" read a week later is another day: a re-crawl keeps the first reading.
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", _dated("3 days ago", 20)), "run-1")
        result = _load(conn, _land(tmp_path / "run-2.jsonl", _dated("3 days ago", 27)), "run-2")
        assert (result.loaded, result.duplicates) == (0, 1)
        assert conn.execute("select published_on::varchar from reviews").fetchone()[0] == "2026-11-17"


def test_a_copy_gives_no_date_its_republication_may_be(tmp_path: Path) -> None:
    own, partner = "https://alice.test/dune", "https://partner.test/alice-dune"
    undated = item(source_review_id="a", url=own, critic_name="Alice", published_raw=None, fetched_at=_at(19))
    copy = item(source_review_id="p", url=partner, critic_name="Alice", outlet="Partner", published_raw="2026-11-21",
                fetched_at=_at(26))
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", undated), "run-1")
        assert _load(conn, _land(tmp_path / "run-2.jsonl", copy), "run-2").duplicates == 1
        assert conn.execute("select published_on from reviews").fetchone()[0] is None



def test_a_review_that_moved_to_another_page_keeps_every_url_and_its_key_the_latest(tmp_path: Path) -> None:
    # A known key met at a new url was recorded nowhere: urls and review_keys kept the old, dead page (lineage QA).
    old, new, newer = "https://alice.test/old/dune", "https://alice.test/new/dune", "https://alice.test/v3/dune"
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", _alice("a", old, "3/5", 2)), "run-1")
        moved = _load(conn, _land(tmp_path / "run-2.jsonl", _alice("a", new, "3/5", 9)), "run-2")
        assert (moved.loaded, moved.duplicates) == (0, 1)
        assert conn.execute("select urls from reviews").fetchall() == [([new, old],)]
        # Moved and edited: the new rating and its page.
        _load(conn, _land(tmp_path / "run-3.jsonl", _alice("a", newer, "4/5", 16)), "run-3")
        assert conn.execute("select urls, rating_raw from reviews").fetchall() == [([new, old, newer], "4/5")]
        assert conn.execute("select url from review_keys").fetchall() == [(newer,)]
        # A batch crawled before that, loaded late, names no newer page.
        _load(conn, _land(tmp_path / "run-0.jsonl", _alice("a", "https://alice.test/v0/dune", "3/5", 1)), "run-0")
        assert conn.execute("select url from review_keys").fetchall() == [(newer,)]


def _jane(key: str, outlet: str, text: str, day: int) -> dict:
    return item(source_review_id=key, url=f"https://{outlet.lower()}.test/{key}", critic_name="Jane Doe",
                outlet=outlet, rating_raw="8/10", body=text, fetched_at=_at(day))


def _reviews_of_jane(conn) -> list[tuple]:
    return conn.execute("select body, urls from reviews order by review_id").fetchall()


def test_an_edit_that_gives_a_review_the_text_of_a_stored_copy_makes_them_one_review(tmp_path: Path) -> None:
    # Idempotency QA: Empire republished Jane's revised text before Variety's page was re-crawled; the two stayed
    # two reviews for good, and every mart counted hers twice.
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", _jane("k1", "Variety", "Old text.", 2)), "run-1")
        _load(conn, _land(tmp_path / "run-2.jsonl", _jane("m1", "Empire", "New text.", 3)), "run-2")
        result = _load(conn, _land(tmp_path / "run-3.jsonl", _jane("k1", "Variety", "New text.", 4)), "run-3")
        assert result.scraped == result.loaded + result.duplicates + result.rejected
        assert _reviews_of_jane(conn) == [("New text.", ["https://empire.test/m1", "https://variety.test/k1"])]
        assert conn.execute("select count(distinct review_id) from review_keys").fetchone()[0] == 1
        again = _load(conn, _land(tmp_path / "run-4.jsonl", _jane("k1", "Variety", "New text.", 5),
                                  _jane("m1", "Empire", "New text.", 5)), "run-4")
        assert (again.loaded, again.duplicates) == (0, 2)


def test_a_new_copy_of_an_edit_in_the_same_batch_is_a_duplicate_of_the_review(tmp_path: Path) -> None:
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", _jane("k1", "Variety", "Old text.", 2)), "run-1")
        result = _load(conn, _land(tmp_path / "run-2.jsonl", _jane("k1", "Variety", "New text.", 3),
                                   _jane("m1", "Empire", "New text.", 3)), "run-2")
        assert (result.loaded, result.updated, result.duplicates) == (1, 1, 1)
        assert _reviews_of_jane(conn) == [("New text.", ["https://empire.test/m1", "https://variety.test/k1"])]


def test_a_batch_loaded_late_moves_back_when_its_film_and_critic_were_first_seen(tmp_path: Path) -> None:
    # Idempotency QA: the review's first_seen moved back to the earlier crawl, its film's and critic's did not.
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-2.jsonl", _jane("k1", "Variety", "Text.", 21)), "run-2")
        # Fetched twice in the late batch: the first fetch is when it was first seen (review of this rule).
        _load(conn, _land(tmp_path / "run-1.jsonl", _jane("k1", "Variety", "Text.", 20),
                          _jane("k1", "Variety", "Text.", 19)), "run-1")
        firsts = conn.execute("select (select first_seen from reviews), (select first_seen from films), "
                              "(select first_seen from critics)").fetchone()
        assert {moment.day for moment in firsts} == {19}


def test_a_review_met_on_two_pages_in_one_batch_keeps_both_urls(tmp_path: Path) -> None:
    # Idempotency QA: only the latest fetch's url reached urls, where two batches kept both.
    moved = _jane("k1", "Variety", "Text.", 21) | {"url": "https://variety.test/reviews/k1"}
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", _jane("k1", "Variety", "Text.", 20), moved), "run-1")
        both = ["https://variety.test/k1", "https://variety.test/reviews/k1"]
        assert _reviews_of_jane(conn) == [("Text.", both)]
        # An edit, and an unchanged re-crawl, add every url their batch met the review under too.
        _load(conn, _land(tmp_path / "run-2.jsonl", moved | {"fetched_at": _at(22)},
                          _jane("k1", "Variety", "Edited.", 23) | {"url": "https://variety.test/r/k1"}), "run-2")
        assert _reviews_of_jane(conn) == [("Edited.", sorted([*both, "https://variety.test/r/k1"]))]
        _load(conn, _land(tmp_path / "run-3.jsonl", moved | {"fetched_at": _at(24), "body": "Edited."},
                          _jane("k1", "Variety", "Edited.", 24) | {"url": "https://variety.test/v/k1"}), "run-3")
        assert "https://variety.test/v/k1" in _reviews_of_jane(conn)[0][1]


def test_an_edit_that_gave_way_to_one_that_wrote_nothing_applies_at_the_next_crawl(tmp_path: Path) -> None:
    # Review of the superseded-edit fix: the own page lost its rating markup (fetched later, so chosen) and wrote
    # nothing; the partner's new text, recorded as seen, was then lost for good.
    own, partner = "https://alice.test/dune", "https://partner.test/alice-dune"

    def week(day: int) -> list[dict]:
        return [item(source_review_id="a", url=own, critic_name="Alice", outlet="Alice's Blog", rating_raw=None,
                     body="Old text.", fetched_at=f"2026-11-{day:02d}T11:00:00+00:00"),
                item(source_review_id="p", url=partner, critic_name="Alice", outlet="Partner", rating_raw=None,
                     body="New text.", fetched_at=f"2026-11-{day:02d}T09:00:00+00:00")]

    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", *[i | {"rating_raw": "5/5", "body": "Old text."}
                                                     for i in week(2)]), "run-1")
        _load(conn, _land(tmp_path / "run-2.jsonl", *week(9)), "run-2")
        _load(conn, _land(tmp_path / "run-3.jsonl", *week(16)), "run-3")
        assert conn.execute("select body, rating_raw from reviews").fetchall() == [("New text.", "5/5")]


def test_a_merge_keeps_the_review_stored_first_with_its_first_run_and_the_copys_rating(tmp_path: Path) -> None:
    # Review of the merge: the rated new copy was kept and the stored review deleted, counted loaded 2, updated 1,
    # and the review's first run became the batch's.
    with open_writer(tmp_path / "w.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", _jane("k1", "Variety", "Old text.", 2) | {"rating_raw": None}),
              "run-1")
        stored_id = conn.execute("select review_id from reviews").fetchone()[0]
        result = _load(conn, _land(tmp_path / "run-2.jsonl",
                                   _jane("k1", "Variety", "New text.", 3) | {"rating_raw": None, "run_id": "run-2"},
                                   _jane("m1", "Empire", "New text.", 3) | {"run_id": "run-2"}), "run-2")
        assert (result.loaded, result.updated, result.duplicates) == (1, 1, 1)
        assert conn.execute("select review_id, rating_raw, score_source, first_run_id, run_id from reviews"
                            ).fetchall() == [(stored_id, "8/10", "explicit", "run-1", "run-2")]
        again = _load(conn, _land(tmp_path / "run-3.jsonl", _jane("k1", "Variety", "New text.", 4)
                                  | {"rating_raw": None}, _jane("m1", "Empire", "New text.", 4)), "run-3")
        assert (again.loaded, again.duplicates) == (0, 2)
