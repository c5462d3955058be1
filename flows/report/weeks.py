"""ISO week labels ('2026-W47'): parsing, the default week, and the latest week with reviews."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb

# ASCII digits only: Python's \d also takes "١٢" or fullwidth digits, which int() reads and the file name
# would then show in ASCII, so "２０２６-W47" would silently write 2026-W47.html.
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
WEEK_HINT = "week must look like 2026-W47 (ISO year, -W, two-digit week)"
# Reviews start well after 1900; the upper bound leaves room for the week after (and date math never
# leaves the years datetime can hold, 1-9999).
FIRST_YEAR, LAST_YEAR = 1900, 9998


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
    return Week(f"{year:04d}-W{number:02d}", date.fromisocalendar(year, number, 1))


def parse_week(text: str) -> Week:
    """'2026-W47' -> Week; anything else (not that shape, a week the ISO year lacks like 2026-W53, a year
    outside 1900-9998) -> ValueError."""
    match = _WEEK.fullmatch(text.strip().upper()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{WEEK_HINT}; got {text!r}")
    year, number = int(match.group(1)), int(match.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"{WEEK_HINT}; the year must be between {FIRST_YEAR} and {LAST_YEAR}, got {year}")
    try:
        start = date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{WEEK_HINT}; {year} has no ISO week {number}") from None
    return Week(f"{year:04d}-W{number:02d}", start)


def check_started(week: Week, today: date) -> None:
    """ValueError for a week that starts after `today`: its report could only say "No reviews this week".

    The current week passes although it has not ended: its report covers the days so far. A week asked
    for by name is checked, not one found in the data (the demo's reviews have fixed dates).
    """
    if week.start > today:
        raise ValueError(f"week {week.label} has not started yet (it starts on {week.start.isoformat()}); "
                         f"this week is {week_of(today).label}")


def latest_day(now: datetime | None = None) -> date:
    """The later of the machine's day and the UTC day, for check_started: reviews are dated by their UTC day, so
    on a Sunday evening in Los Angeles the warehouse already holds Monday's, and the new week may be asked for."""
    now = now or datetime.now(UTC)
    return max(now.astimezone().date(), now.astimezone(UTC).date())


def asked_week(text: str, today: date) -> Week:
    """A week asked for by name (`reviews report --week`, the weekly_report flow): parse_week, then
    check_started, so both callers refuse the same weeks."""
    week = parse_week(text)
    check_started(week, today)
    return week


def default_week(today: date) -> str:
    """The last complete ISO week: the one before today's, since today's week has not ended yet
    (even on a Sunday, whose reviews may still arrive)."""
    return week_of(today - timedelta(days=7)).label


def latest_week_with_reviews(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The label of the latest ISO week with dated reviews in the weekly marts, or None."""
    from flows.report.data import report_query

    _, rows = report_query(conn, "latest_week", {})
    return week_of(rows[0][0]).label if rows and rows[0][0] else None
