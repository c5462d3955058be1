"""Film identity through real imports and loads: what the identity QA found merged or split."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from warehouse.db import connect, warehouse_path

runner = CliRunner()
COLUMNS = ["review_id", "film_title", "year", "imdb_id", "tmdb_id", "critic_name", "rating", "body"]


def week(tmp_path: Path, data: Path, name: str, rows: list[tuple[str, ...]]) -> None:
    path = tmp_path / f"{name}.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([COLUMNS, *rows])
    result = runner.invoke(app, ["import", str(path), "--source", name, "--data-dir", str(data), "--quiet"])
    assert result.exit_code == 0, result.output


def query(data: Path, sql: str) -> list[tuple]:
    conn = connect(warehouse_path(data), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def films(data: Path) -> list[tuple]:
    return query(data, "select f.title, f.year, f.imdb_id, f.tmdb_id, s.reviews from films as f "
                       "join film_scores as s using (film_id) order by f.title, f.year")


def test_nine_and_9_of_the_same_year_stay_two_films_with_their_own_titles(tmp_path: Path) -> None:
    data = tmp_path / "data"
    week(tmp_path, data, "n1", [("1", "9", "2009", "tt0472033", "", "Critic One", "7/10", "Stitchpunks.")])
    week(tmp_path, data, "n2", [("2", "Nine", "2009", "", "", "Critic Two", "4/10", "Daniel Day-Lewis sings.")])
    assert films(data) == [("9", 2009, "tt0472033", None, 1), ("Nine", 2009, None, None, 1)]


def test_a_film_gains_its_tmdb_id_and_a_review_by_that_id_alone_joins_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    week(tmp_path, data, "t1", [("1", "The Thing", "1982", "tt0084787", "", "Ann", "8/10", "Cold.")])
    week(tmp_path, data, "t2", [("2", "The Thing", "1982", "tt0084787", "1091", "Bob", "9/10", "Colder.")])
    week(tmp_path, data, "t3", [("3", "La Cosa", "1982", "", "1091", "Cy", "7/10", "Frío.")])
    assert films(data) == [("The Thing", 1982, "tt0084787", "1091", 3)]


def test_an_upper_case_imdb_id_and_a_tmdb_page_url_are_ids(tmp_path: Path) -> None:
    import json

    data = tmp_path / "data"
    week(tmp_path, data, "ids", [("1", "The Thing", "1982", "TT0084787", "", "Ann", "8/10", "Cold."),
                                 ("2", "The Thing", "1982", "", "https://www.themoviedb.org/movie/1091-the-thing",
                                  "Bob", "9/10", "Colder."),
                                 ("3", "Her", "2013", "", "not an id", "Cy", "7/10", "Warm.")])
    items = [json.loads(line) for line in next((data / "raw" / "ids").glob("*.jsonl")).open()]
    assert [item["external_ids"] for item in items] == [{"imdb": "tt0084787"}, {"tmdb": "1091"}, {}]
    assert films(data) == [("Her", 2013, None, None, 1), ("The Thing", 1982, "tt0084787", "1091", 2)]


def test_one_critic_at_the_guardian_and_at_guardian_is_one_critic(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for name, outlet, film in (("g1", "The Guardian", "Tár"), ("g2", "Guardian", "Aftersun"),
                               ("g3", "Guardian, The", "Her")):
        path = tmp_path / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as file:
            csv.writer(file).writerows([["review_id", "film_title", "critic_name", "outlet", "rating", "body"],
                                        ["1", film, "Peter Bradshaw", outlet, "4/5", f"On {film}."]])
        result = runner.invoke(app, ["import", str(path), "--source", name, "--data-dir", str(data), "--quiet"])
        assert result.exit_code == 0, result.output
    assert query(data, "select name, outlet, reviews from critic_stats") == [("Peter Bradshaw", "The Guardian", 3)]


def test_a_film_found_by_its_id_under_another_title_keeps_its_own(tmp_path: Path) -> None:
    # "9" was renamed "Nine" by a mention of its IMDb id: a title without letters read as lower-cased.
    data = tmp_path / "data"
    week(tmp_path, data, "a", [("1", "9", "2009", "tt0472033", "", "Ann", "7/10", "Stitchpunks.")])
    week(tmp_path, data, "b", [("2", "Nine", "2009", "tt0472033", "", "Bob", "6/10", "Same film, other name.")])
    assert films(data) == [("9", 2009, "tt0472033", None, 2)]


def test_a_tmdb_id_a_batch_gives_to_two_films_goes_to_neither(tmp_path: Path) -> None:
    data = tmp_path / "data"
    week(tmp_path, data, "t1", [("1", "Arrival", "2016", "", "", "Ann", "8/10", "Aliens."),
                                ("2", "Story of Your Life", "2016", "tt2543164", "", "Bob", "7/10", "Words.")])
    week(tmp_path, data, "t2", [("3", "Arrival", "2016", "", "329865", "Cy", "9/10", "Heptapods."),
                                ("4", "Story of Your Life", "2016", "tt2543164", "329865", "Di", "6/10", "Time.")])
    assert [film[3] for film in films(data)].count("329865") <= 1


def test_a_site_that_wraps_its_titles_in_a_review_label_names_the_same_film(tmp_path: Path) -> None:
    # A redesign's "Arrival (2016) – Review" and "Review: Arrival" were films of their own (site-drift QA).
    data = tmp_path / "data"
    week(tmp_path, data, "w1", [("1", "Arrival", "2016", "", "", "Critic One", "8/10", "Language as time.")])
    week(tmp_path, data, "w2", [("2", "Arrival (2016) – Review", "", "", "", "Critic Two", "6/10", "Slow."),
                                ("3", "Review: Arrival", "2016", "", "", "Critic Three", "7/10", "Moving.")])
    assert films(data) == [("Arrival", 2016, None, None, 3)]


def test_a_new_film_given_two_tmdb_ids_in_one_dump_stores_the_same_one_whatever_the_line_order(tmp_path: Path) -> None:
    # The insert stored the first row's id: in one line order a later review by the other id split off a film
    # of its own (determinism QA).
    rows = [("1", "Arrival", "2016", "tt2543164", "329865", "Ann", "8/10", "Quiet."),
            ("2", "Arrival", "2016", "tt2543164", "999999", "Bob", "9/10", "Vast.")]
    for name, order in (("a", rows), ("b", rows[::-1])):
        data = tmp_path / name
        week(tmp_path, data, "d1", order)
        week(tmp_path, data, "d2", [("3", "La llegada", "2016", "", "329865", "Cy", "7/10", "Lenta.")])
        assert films(data) == [("Arrival", 2016, "tt2543164", "329865", 3)], name


def test_a_title_met_with_the_films_id_finds_the_film_later_without_it(tmp_path: Path) -> None:
    # Acceptance QA: "The Thing" (1982) without an id became a second film beside "La Cosa" with tt0084787, though
    # a page had called it "The Thing" with that id.
    data = tmp_path / "data"
    week(tmp_path, data, "s1", [("1", "La Cosa", "1982", "tt0084787", "", "Ann", "8/10", "Frío.")])
    week(tmp_path, data, "s2", [("2", "The Thing", "1982", "tt0084787", "", "Bob", "9/10", "Cold.")])
    week(tmp_path, data, "s3", [("3", "The Thing", "1982", "", "", "Cy", "7/10", "Colder.")])
    assert films(data) == [("La Cosa", 1982, "tt0084787", None, 3)]
    assert query(data, "select title_key from film_titles") == [("thing",)]  # its own title is films.title_key


def test_within_one_batch_a_title_said_with_the_id_anchors_the_same_title_without_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    week(tmp_path, data, "t", [("1", "La Cosa", "1982", "tt0084787", "", "Ann", "8/10", "Frío."),
                               ("2", "The Thing", "1982", "tt0084787", "", "Bob", "9/10", "Cold."),
                               ("3", "Thing", "1982", "", "", "Cy", "7/10", "Colder.")])
    assert [row[4] for row in films(data)] == [3]


def test_another_films_title_said_with_a_wrong_id_never_takes_that_films_mentions(tmp_path: Path) -> None:
    # Second review: "Moonlight" with Arrival's id made "moonlight" an alias of Arrival, which then took Moonlight's
    # dated mentions (a tie on film ids) and split its yearless ones into a third film.
    data = tmp_path / "data"
    week(tmp_path, data, "w1", [("1", "Arrival", "2016", "tt2543164", "", "Ann", "8/10", "Language."),
                                ("2", "Moonlight", "2016", "tt4975722", "", "Bob", "9/10", "Blue.")])
    week(tmp_path, data, "w2", [("3", "Moonlight", "2016", "tt2543164", "", "Cy", "7/10", "A wrong id.")])
    week(tmp_path, data, "w3", [("4", "Moonlight", "2016", "", "", "Di", "8/10", "Dated."),
                                ("5", "Moonlight", "", "", "", "Ed", "6/10", "Yearless.")])
    assert films(data) == [("Arrival", 2016, "tt2543164", None, 2), ("Moonlight", 2016, "tt4975722", None, 3)]


def test_a_wrong_tmdb_id_neither_merges_two_films_nor_names_two(tmp_path: Path) -> None:
    # Identity QA: Haggis's Crash, given Cronenberg's TMDB id by one dump, joined Cronenberg's film.
    data = tmp_path / "data"
    week(tmp_path, data, "c1", [("1", "Crash", "1996", "tt0115964", "884", "Ann", "8/10", "Cars."),
                                ("2", "Crash", "2004", "tt0375679", "884", "Bob", "6/10", "Los Angeles.")])
    week(tmp_path, data, "c2", [("3", "Crash", "2004", "tt0375679", "", "Cy", "7/10", "Racism."),
                                ("4", "Crash", "2004", "", "", "Di", "5/10", "Oscars.")])
    found = films(data)
    assert [(title, year, imdb, reviews) for title, year, imdb, _, reviews in found] == [
        ("Crash", 1996, "tt0115964", 1), ("Crash", 2004, "tt0375679", 3)]
    assert [film[3] for film in found].count("884") <= 1
