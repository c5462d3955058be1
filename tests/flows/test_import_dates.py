"""The order of day and month in an import's numeric dates: decided for the file, kept for the source."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.errors import ReviewsError
from flows.import_dates import DateTally, decide, parse_date_order
from flows.normalize.dates import parse_published
from warehouse.db import connect, warehouse_path

runner = CliRunner()
FETCHED = dt.datetime(2026, 11, 27, 12)


def tally(*dates: str) -> DateTally:
    counted = DateTally()
    for date in dates:
        counted.add(date)
    return counted


def dump(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["review_id", "film_title", "critic_name", "published", "body"])
        writer.writerows((i, "Her", c, d, b) for i, c, d, b in rows)
    return path


def imported(path: Path, data: Path, *options: str):
    result = runner.invoke(app, ["import", str(path), "--source", "fr", "--data-dir", str(data), *options])
    assert result.exit_code == 0, result.output
    return result


def published(data: Path) -> dict[str, dt.date]:
    conn = connect(warehouse_path(data), read_only=True)
    try:
        assert conn.execute("select count(*) from rejects").fetchone() == (0,)
        return dict(conn.execute("select c.name, r.published_on from reviews r join critics c using (critic_id)")
                    .fetchall())
    finally:
        conn.close()


@pytest.mark.parametrize(("raw", "order", "expected"), [
    ("03/01/2024", "DMY", dt.date(2024, 1, 3)),
    ("03/01/2024", "MDY", dt.date(2024, 3, 1)),
    ("03/01/2024", None, dt.date(2024, 3, 1)),  # no order known: dateparser's, month first
    ("03-01-2024", "DMY", dt.date(2024, 1, 3)),
    ("03/01/24", "DMY", dt.date(2024, 1, 3)),  # a two-digit year goes the relative way: the order goes with it
    ("10.01.2014", "MDY", dt.date(2014, 1, 10)),  # dotted dates are day first whatever the order
    ("25/01/2024", "MDY", dt.date(2024, 1, 25)),  # a date that can be read one way only is read that way
    ("3 mars 2024", "MDY", dt.date(2024, 3, 3)),
])
def test_a_known_order_reads_slashed_dates_in_it(raw, order, expected) -> None:
    assert parse_published(raw, FETCHED, order).date == expected


def test_an_unknown_order_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="date order"):
        parse_published("03/01/2024", FETCHED, "YMD")


@pytest.mark.parametrize(("dates", "given", "earlier", "order", "warning"), [
    (("25/01/2024", "03/01/2024"), None, None, "DMY", False),  # one date can only be day first
    (("01/25/2024", "03/01/2024"), None, "DMY", "MDY", True),  # the file's own dates win, with a warning
    (("25/01/2024",), None, "MDY", "DMY", True),
    (("25/01/2024",), None, "DMY", "DMY", False),
    (("03/01/2024",), None, "DMY", "DMY", False),  # nothing tells: the source's earlier order
    (("03/01/2024",), None, None, None, True),  # nothing tells, nothing earlier: month first, and a warning
    (("25/01/2024", "01/25/2024"), None, None, None, True),  # both orders in one file
    (("25/01/2024",), "MDY", None, "MDY", True),  # the order given, but a date contradicts it
    (("03/01/2024",), "DMY", None, "DMY", False),
    (("2024-01-03", "Jan 3, 2024", "3.1.2024"), None, "DMY", "DMY", False),  # no slashed date: order carries on
    ((), None, None, None, False),
])
def test_the_file_decides_its_order_from_the_dates_that_tell(dates, given, earlier, order, warning) -> None:
    decided = decide(tally(*dates), given, earlier, "fr")
    assert (decided.order, decided.warning) == (order, warning)
    assert (decided.note is not None) >= warning  # a warning always says what it is about


def test_a_repeated_date_counts_once_with_or_without_its_time() -> None:
    assert tally("03/01/2024", "03/01/2024", " 04/01/2024", "03/01/2024 14:00", "03 / 01 / 2024").ambiguous == 2


@pytest.mark.parametrize(("raw", "kind"), [
    ("Publié le 25/01/2024", "day_first"), ("Tue 01/25/2024 14:00", "month_first"), ("(03/01/2024)", "ambiguous"),
    ("25–01–2024", "day_first"), ("25/01", "day_first"), ("03-01-24", "ambiguous"),
    ("2024/01/25", None), ("2024-01-25T10:00:00", None), ("00/00/0000", None), ("10.01.2014", None),
    ("7/45/2024", None), ("2024-03-31T18:20:17-05:00", None), ("2024-03-31T18:20-05:00", None),
    ("2024-03-31 18:20:05-05:00", None), ("Date:25/01/2024", "day_first"), ("25/01/2024: seen", "day_first"),
])
def test_the_tally_counts_the_numeric_dates_the_load_reads_in_the_order(raw: str, kind: str | None) -> None:
    counted = tally(raw)
    found = {"day_first": counted.day_first is not None, "month_first": counted.month_first is not None,
             "ambiguous": counted.ambiguous > 0}
    assert found == {name: name == kind for name in found}


@pytest.mark.parametrize(("given", "expected"), [("dmy", "DMY"), (" MDY ", "MDY"), (None, None)])
def test_date_order_option_reads_any_case(given, expected) -> None:
    assert parse_date_order(given) == expected


def test_a_date_order_option_that_is_no_order_is_one_error() -> None:
    with pytest.raises(ReviewsError, match="--date-order must be DMY"):
        parse_date_order("YMD")


def test_a_french_export_is_read_day_first_and_its_next_small_export_keeps_the_dates(tmp_path: Path) -> None:
    # The reverted rule of 54efa17 decided per load batch: next week's small export, all of whose dates could
    # be either, re-read an edited review's 03/01/2024 as 1 March and overwrote its stored date.
    data = tmp_path / "data"
    first = imported(dump(tmp_path / "week1.csv", [("1", "Jean", "03/01/2024", "Bien."),
                                                   ("2", "Marie", "25/01/2024", "Pas mal.")]), data)
    assert "dates read day first: '25/01/2024' can only be" in " ".join(first.output.split())
    assert published(data) == {"Jean": dt.date(2024, 1, 3), "Marie": dt.date(2024, 1, 25)}
    second = imported(dump(tmp_path / "week2.csv", [("1", "Jean", "03/01/2024", "Bien, vraiment."),
                                                    ("3", "Paul", "04/02/2024", "Bof.")]), data)
    assert "dates read day first, as earlier imports of fr" in " ".join(second.output.split())
    assert published(data) == {"Jean": dt.date(2024, 1, 3), "Marie": dt.date(2024, 1, 25),
                               "Paul": dt.date(2024, 2, 4)}
    conn = connect(warehouse_path(data), read_only=True)
    try:  # the edit was loaded, date and all: the date kept is the edit's, read day first
        assert conn.execute("select body from reviews where source_review_id = '1'").fetchall() == \
            [("Bien, vraiment.",)]
    finally:
        conn.close()
    orders = [json.loads(p.read_text())["date_order"] for p in sorted((data / "raw" / "fr").glob("*.stats.json"))]
    assert orders == ["DMY", "DMY"]


def test_an_export_whose_dates_tell_nothing_warns_and_the_option_settles_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    unsure = imported(dump(tmp_path / "a.csv", [("1", "Jean", "03/01/2024", "Bien.")]), data, "--quiet")
    assert "warning: 1 distinct date such as '03/01/2024' could be day or month first" in \
        " ".join(unsure.output.split())
    assert published(data) == {"Jean": dt.date(2024, 3, 1)}
    told = imported(dump(tmp_path / "b.csv", [("2", "Marie", "04/01/2024", "Oui.")]), data, "--quiet",
                    "--date-order", "dmy")
    assert "warning" not in told.output
    assert published(data)["Marie"] == dt.date(2024, 1, 4)


def test_a_batch_whose_stats_name_no_known_order_reads_dates_as_if_none_were_given(tmp_path: Path, caplog) -> None:
    from flows.load import date_order, landing_batches

    data = tmp_path / "data"
    runner.invoke(app, ["import", str(dump(tmp_path / "a.csv", [("1", "Jean", "25/01/2024", "Bien.")])),
                        "--source", "fr", "--data-dir", str(data), "--no-load", "--quiet"])
    batch = landing_batches(data)[0]
    assert date_order(batch) == "DMY"
    stats = json.loads(batch.stats.read_text())
    batch.stats.write_text(json.dumps(stats | {"date_order": "dd/mm"}))
    assert date_order(batch) is None
    assert "date_order 'dd/mm' is none of DMY, MDY" in caplog.text


def test_the_sources_order_outlives_a_prune_of_its_runs(tmp_path: Path) -> None:
    from datetime import timedelta

    from flows.prune import prune_landing

    data = tmp_path / "data"
    imported(dump(tmp_path / "week1.csv", [("1", "Jean", "03/01/2024", "Bien."), ("2", "Marie", "25/01/2024", "Oui.")]),
             data)
    assert prune_landing(data, timedelta(seconds=-60)).runs["fr"] == 1
    assert not list((data / "raw" / "fr").glob("*.stats.json"))
    second = imported(dump(tmp_path / "week2.csv", [("1", "Jean", "03/01/2024", "Bien, vraiment.")]), data)
    assert "as earlier imports of fr" in " ".join(second.output.split())
    assert published(data)["Jean"] == dt.date(2024, 1, 3)


def test_a_file_whose_dates_contradict_the_sources_order_warns_even_when_quiet(tmp_path: Path) -> None:
    data = tmp_path / "data"
    imported(dump(tmp_path / "week1.csv", [("1", "Jean", "25/01/2024", "Bien.")]), data)
    second = imported(dump(tmp_path / "week2.csv", [("2", "Paul", "02/13/2024", "Bof."),
                                                    ("3", "Marie", "03/01/2024", "Oui.")]), data, "--quiet")
    said = " ".join(second.output.split())
    assert "warning: dates read month first, as '02/13/2024' can only be, but earlier imports of fr were read " \
           "day first" in said
    assert published(data)["Marie"] == dt.date(2024, 3, 1)


def test_a_folder_from_before_the_memory_file_takes_the_order_from_its_latest_stats(tmp_path: Path) -> None:
    from flows.import_dates import remembered

    folder = tmp_path / "raw" / "fr"
    folder.mkdir(parents=True)
    assert remembered(folder) is None
    (folder / "20260101T000000000000Z.stats.json").write_text(json.dumps({"date_order": "MDY"}))
    (folder / "20260201T000000000000Z.stats.json").write_text(json.dumps({"date_order": "DMY"}))
    (folder / "20260301T000000000000Z.stats.json").write_text(json.dumps({"spider": "import"}))
    assert remembered(folder) == "DMY"
    (folder / "date_order.json").write_text(json.dumps({"date_order": "MDY"}))
    assert remembered(folder) == "MDY"
