"""ISO weeks of the weekly report: parsing, the default week, which weeks may be asked for, and the machine's
time zone against the reviews' UTC days."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from flows.report import default_week, parse_week, write_report
from flows.report.weeks import check_started, latest_day

TODAY = date(2026, 11, 26)  # a Thursday of 2026-W48


def test_default_week_is_the_last_complete_iso_week():
    assert default_week(date(2026, 11, 25)) == "2026-W47"
    assert default_week(date(2026, 11, 23)) == "2026-W47"  # Monday: last week just ended
    assert default_week(date(2026, 11, 22)) == "2026-W46"  # Sunday: this week is not over
    assert default_week(date(2027, 1, 4)) == "2026-W53"  # ISO year 2026 has 53 weeks


@pytest.mark.parametrize("bad", ["2026-47", "W47", "2026-W7", "2026-W60", "2025-W53", ""])
def test_a_bad_week_is_a_clear_value_error(bad, tmp_path):
    with pytest.raises(ValueError, match="week must look like 2026-W47"):
        write_report(tmp_path / "missing.duckdb", bad, tmp_path)


@pytest.mark.parametrize("bad", ["１２３４-W01", "2026-W٤٨", "２０２６-W47"])
def test_a_week_with_non_ascii_digits_is_refused(bad):
    with pytest.raises(ValueError, match="week must look like 2026-W47"):
        parse_week(bad)


@pytest.mark.parametrize("bad", ["0001-W01", "1899-W52", "9999-W52"])
def test_a_week_outside_1900_to_9998_is_refused(bad):
    with pytest.raises(ValueError, match="between 1900 and 9998"):
        parse_week(bad)


def test_a_week_that_has_not_started_is_refused():
    with pytest.raises(ValueError, match="2026-W49 has not started yet"):
        check_started(parse_week("2026-W49"), TODAY)


def test_the_current_unfinished_week_is_allowed():
    check_started(parse_week("2026-W48"), TODAY)
    check_started(parse_week("2026-W47"), TODAY)


@pytest.fixture
def machine_zone(monkeypatch):
    """Sets the machine's time zone (TZ) for the test."""
    def set_zone(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()
    yield set_zone
    monkeypatch.undo()
    time.tzset()


def test_a_week_begun_in_utc_may_be_asked_for_on_a_sunday_evening_in_los_angeles(machine_zone):
    # Time-zone QA: --week 2026-W48 was refused as not started, while the warehouse held reviews of its Monday.
    machine_zone("America/Los_Angeles")
    sunday_evening = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert latest_day(sunday_evening) == date(2026, 11, 23)
    check_started(parse_week("2026-W48"), latest_day(sunday_evening))
    machine_zone("Pacific/Kiritimati")  # +14: the machine's day is the later one
    assert latest_day(datetime(2026, 11, 22, 12, 0, tzinfo=UTC)) == date(2026, 11, 23)
