"""Film rows a load writes: the title shown, the year a yearless film takes, and idempotency."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from warehouse.load import BATCH_COLUMNS, RunInfo, load_batch

SEEN = datetime(2026, 11, 20, 10)


def row(number: int, film_title: str, film_id: str = "f-river", film_year: int | None = 2021, **fields) -> dict:
    base = {name: None for name in BATCH_COLUMNS}
    base.update(run_id="run-1", source="demo", source_review_id=f"r{number}", url=f"https://x/r/{number}/",
                fetched_at=SEEN, film_id=film_id, film_title=film_title, film_year=film_year,
                title_key="beatrizs river", critic_id=f"c{number}", critic_name=f"Critic {number}",
                name_key=f"critic {number}", outlet="Reel", audience="critic", rating_raw="8/10", score=80.0,
                is_positive=True, score_source="explicit", title="Fine", body=f"Review {number}.",
                language="en", content_hash=number, text_hash=1000 + number)
    base.update(fields)
    return base


def batch(*rows: dict) -> pa.Table:
    return pa.Table.from_pylist([{**r, "row_no": i} for i, r in enumerate(rows)])


def load(conn, *rows: dict, run: str = "run-1"):
    return load_batch(conn, batch(*[{**r, "run_id": run} for r in rows]), [], RunInfo(run, "demo"), len(rows))


def film(conn, film_id: str = "f-river") -> tuple:
    return conn.execute("select title, year from films where film_id = ?", [film_id]).fetchone()


def test_a_new_film_takes_a_cased_title_over_a_more_frequent_lower_cased_one(conn):
    load(conn, row(1, "beatriz's river"), row(2, "beatriz's river"), row(3, "Beatriz's River"))
    assert film(conn) == ("Beatriz's River", 2021)


def test_among_cased_titles_a_new_film_takes_the_most_frequent_then_the_first(conn):
    load(conn, row(1, "Beatriz's river"), row(2, "Beatriz's River"), row(3, "Beatriz's River"),
         row(4, "Priya's Witness", film_id="f-priya"), row(5, "Priya's witness", film_id="f-priya"))
    assert (film(conn)[0], film(conn, "f-priya")[0]) == ("Beatriz's River", "Priya's Witness")


def test_a_lower_cased_stored_title_takes_the_cased_variant_of_a_later_batch(conn):
    load(conn, row(1, "beatriz's river"))
    assert film(conn)[0] == "beatriz's river"
    load(conn, row(2, "beatriz's river"), row(3, "Beatriz's River"), run="run-2")
    assert film(conn)[0] == "Beatriz's River"
    load(conn, row(4, "beatriz's river"), row(5, "BEATRIZ'S RIVER"), run="run-3")
    assert film(conn)[0] == "Beatriz's River"


def test_an_unchanged_recrawl_repairs_a_title_an_earlier_version_stored_lower_cased(conn):
    # An earlier version stored "beatriz's river"; the re-crawl finds the same review, unchanged, cased.
    load(conn, row(1, "beatriz's river"))
    load(conn, row(1, "Beatriz's River"), run="run-2")
    assert conn.execute("select loaded, duplicates from crawl_runs where run_id = 'run-2'").fetchone() == (0, 1)
    assert film(conn)[0] == "Beatriz's River"


def test_a_stored_title_loses_a_bracketed_year_that_repeats_the_films_year(conn):
    conn.execute("insert into films values ('f-tide', null, null, 'Tide of Marseille (1980)', 1980, "
                 "'tide of marseille', ?), ('f-godzilla', null, null, 'Godzilla (1954)', 2014, 'godzilla', ?)",
                 [SEEN, SEEN])
    load(conn, row(1, "Tide of Marseille", film_id="f-tide", film_year=1980),
         row(2, "Godzilla", film_id="f-godzilla", film_year=2014))
    assert film(conn, "f-tide") == ("Tide of Marseille", 1980)
    assert film(conn, "f-godzilla") == ("Godzilla (1954)", 2014)


def test_a_yearless_stored_film_takes_the_year_its_batch_resolved_it_to(conn):
    load(conn, row(1, "Her", film_id="f-her", film_year=None))
    assert film(conn, "f-her") == ("Her", None)
    load(conn, row(2, "Her", film_id="f-her", film_year=2013), run="run-2")
    assert film(conn, "f-her") == ("Her", 2013)


def test_loading_a_batch_of_title_variants_again_changes_no_film(conn):
    rows = [row(1, "beatriz's river"), row(2, "Beatriz's River"), row(3, "Beatriz's river"),
            row(4, "Rahul's Promise", film_id="f-rahul", film_year=2024)]
    load(conn, *rows)
    before = conn.execute("select * from films order by all").fetchall()
    load(conn, *rows, run="run-2")
    assert conn.execute("select * from films order by all").fetchall() == before
