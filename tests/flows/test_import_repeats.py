"""Dumps whose rows repeat a review id, and re-imports of them (from the fuzz QA): a load never fails on a film it
creates, an identical re-import changes nothing, and an edit keeps the date first read."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from tests.flows.test_import import warehouse_rows as _rows

runner = CliRunner()


def _import(tmp_path: Path, data: Path, name: str, source: str, text: str, *more: str) -> None:
    dump = tmp_path / name
    dump.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["import", str(dump), "--source", source, "--data-dir", str(data), "--quiet", *more])
    assert result.exit_code == 0, result.output


def test_a_film_titled_only_by_a_superseded_repeat_is_created_with_that_title(tmp_path: Path) -> None:
    # r1 is repeated by another critic, and r2 names the film by its IMDb id alone: the film's only title came
    # from the superseded r1, and the load failed on films.title, then on every later run.
    data = tmp_path / "data"
    _import(tmp_path, data, "d.csv", "x", "review_id,critic,film,imdb_id,text\nr1,Jane Doe,Her,tt0111161,Good film.\n"
            "r2,Jane Doe,,tt0111161,Another text.\nr1,John Roe,Her,,Other text.\n")
    assert _rows(data, "select title, imdb_id from films where imdb_id is not null") == [("Her", "tt0111161")]
    assert _rows(data, "select scraped, loaded + duplicates + rejected from crawl_runs") == [(3, 3)]


def test_importing_the_same_file_again_changes_no_film(tmp_path: Path) -> None:
    # A superseded repeat's mention (2014, tt1798709) gave the yearless film its year and id on the re-import.
    data = tmp_path / "data"
    text = ("review_id,critic,film,year,imdb_id,text\nk0,Ann,Her,2013,tt0245429,Text Z.\n"
            "k1,Jane Doe,Her,2014,tt1798709,Text A.\nk1,Jane Doe,Her,,,Text A.\n")
    _import(tmp_path, data, "y.csv", "s", text)
    films = _rows(data, "select film_id, title, year, imdb_id from films order by all")
    scores = _rows(data, "select * from film_scores order by all")
    _import(tmp_path, data, "y.csv", "s", text, "--again")
    assert _rows(data, "select film_id, title, year, imdb_id from films order by all") == films
    assert _rows(data, "select * from film_scores order by all") == scores
    assert _rows(data, "select loaded, duplicates from crawl_runs order by run_id")[-1] == (0, 3)


def test_an_edit_keeps_the_date_first_read(tmp_path: Path) -> None:
    # A copy's edit took the copy's date, and one without a date erased the review's.
    data = tmp_path / "data"
    head = "review_id,critic,outlet,film,year,rating,date,text\n"
    _import(tmp_path, data, "a.csv", "site-a", head + "k1,Jane Doe,Variety,Arrival,2016,8/10,2024-03-03,Text A.\n")
    _import(tmp_path, data, "b.csv", "site-b", head + "k2,Jane Doe,Empire,Arrival,2016,8/10,2014-01-10,Text A.\n")
    _import(tmp_path, data, "c.csv", "site-b", head + "k2,Jane Doe,Empire,Arrival,2016,8/10,,Text A (edited).\n")
    assert _rows(data, "select body, published_on::varchar, date_problem from reviews") == [
        ("Text A (edited).", "2024-03-03", None)]
    # Its own page's edit with an unreadable date does not flag a clean one either.
    _import(tmp_path, data, "d.csv", "site-a", head + "k1,Jane Doe,Variety,Arrival,2016,8/10,N/A,Text A again.\n")
    assert _rows(data, "select body, published_on::varchar, date_problem from reviews") == [
        ("Text A again.", "2024-03-03", None)]
