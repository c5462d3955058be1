"""The shortcuts that spare dateparser work read every date as the full two-parse path does (flows/normalize/dates.py).

Numeric day/month dates before a four-digit year are read without dateparser; each case is checked against
dateparser itself."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.normalize import dates


def _by_dateparser(text: str, order: str | None) -> tuple[str, dt.date | None]:
    """What _classify gave before the shortcuts: dateparser against two base dates, absolute when they agree."""
    first = dates._dateparse(text, dates._settings(dates._SENTINEL_A, text, order=order))
    second = dates._dateparse(text, dates._settings(dates._SENTINEL_B, text, order=order))
    if first is None:
        return "problem", None
    if second is None or first != second or str(first.year) not in text:
        return "relative", None
    return "absolute", dates._to_utc(first).date()


def _classified(text: str, order: str | None) -> tuple[str, dt.date | None]:
    kind, found = dates._classify.__wrapped__(text, order)
    return kind, found if kind == "absolute" else None


NUMERIC = [f"{a}{sep}{b}{sep}2024{tail}" for a, b in [("03", "4"), ("13", "4"), ("4", "13"), ("12", "31"),
                                                        ("31", "12"), ("29", "2"), ("2", "29"), ("30", "2"),
                                                        ("13", "13")]
           for sep in "/-." for tail in ("", " 14:05")]
ZERO_DAYS = [f"{a}{sep}{b}{sep}2024" for a, b in [("00", "5"), ("5", "0"), ("0", "0")] for sep in "/-."]


@pytest.mark.parametrize("order", [None, "DMY", "MDY"])
def test_numeric_dates_are_read_without_dateparser_as_dateparser_reads_them(order: str | None) -> None:
    assert [(text, _classified(text, order)) for text in NUMERIC] == [
        (text, _by_dateparser(text, order)) for text in NUMERIC]


@pytest.mark.parametrize("order", [None, "DMY", "MDY"])
def test_a_numeric_date_with_a_zero_day_or_month_is_refused_not_given_the_fetchs_day(order: str | None) -> None:
    # dateparser read "00/5/2024" relative to the fetch: the 28th of May when fetched on a 28th (calendar QA).
    for text in ZERO_DAYS:
        kind, problem = dates._classify.__wrapped__(text, order)
        assert (kind, problem) == ("problem", f"impossible date: {text!r} names no day of 2024 either way")


@pytest.mark.parametrize("text", ["1/1/2026 25:00", "3/4/2026 99:99", "1/1/2026 24:00", "1.1.2026 14:05:61",
                                  "1.1.2026 12:60", "1-1-1000", "1/1/2100"])
def test_a_numeric_date_with_an_impossible_time_or_an_odd_year_is_left_to_dateparser(text: str) -> None:
    assert dates._NUMERIC_DATE.match(text) is None
    assert _classified(text, None) == _by_dateparser(text, None)


def test_numeric_dates_with_day_and_month_numbers_never_reach_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str, settings: dict) -> None:
        raise AssertionError(f"dateparser called for {text!r}")

    monkeypatch.setattr(dates, "_dateparse", refuse)
    for text in ["11/20/2026", "20/11/2026", "20.11.2026", "1-2-2025 09:30", "2/29/2024"]:
        assert dates._classify.__wrapped__(text, None)[0] == "absolute"
