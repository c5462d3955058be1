"""ISO week labels ('2026-W47'): parsing, the default week, and the latest week with reviews."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
WEEK_HINT = "week must look like 2026-W47 (ISO year, -W, two-digit week)"


@dataclass(frozen=True)
class Week:
    """One ISO week, Monday to Sunday."""

    label: str
    start: date

    @property
    def end(self) -> date:
        """The Sunday that closes the week (inclusive)."""
        return self.start + timedelta(days=6)

    @property
    def previous(self) -> Week:
        return week_of(self.start - timedelta(days=7))


def week_of(day: date) -> Week:
    year, number, _ = day.isocalendar()
    return Week(f"{year}-W{number:02d}", date.fromisocalendar(year, number, 1))


def parse_week(text: str) -> Week:
    """'2026-W47' -> Week; anything else (or a week the ISO year lacks, like 2026-W53) -> ValueError."""
    match = _WEEK.match(text.strip().upper()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{WEEK_HINT}; got {text!r}")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        start = date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{WEEK_HINT}; {year} has no ISO week {number}") from None
    return Week(f"{year}-W{number:02d}", start)


def default_week(today: date) -> str:
    """The last complete ISO week: the one before today's, since today's week has not ended yet
    (even on a Sunday, whose reviews may still arrive)."""
    return week_of(today - timedelta(days=7)).label


def latest_week_with_reviews(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The label of the latest ISO week with dated reviews in the weekly marts, or None."""
    from flows.report.data import report_query

    _, rows = report_query(conn, "latest_week", {})
    return week_of(rows[0][0]).label if rows and rows[0][0] else None
