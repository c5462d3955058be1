"""Figures as the report prints them: rounding, and lists ordered by what they print.

A mover's change and a critics-vs-users gap are printed as the difference of the two figures beside them,
so each row adds up; the lists are then ordered, and a row printed as no change left out, by that printed
difference, in Python, with the one rounding the templates use (DuckDB's rounding of a DOUBLE, see half_up).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Row = dict[str, Any]


def half_up(value: float, digits: int) -> Decimal | float:
    """`value` rounded as DuckDB's round() rounds a DOUBLE, so a printed figure is what `round(column, 1)` gives
    on the same mart: halves away from zero (Python's halves to even printed 62.5 % as 62 and 37.5 % as 38), and
    the stored double decides a value written with a 5 at the cut, 70.05 being 70.0499… in binary (read as
    written, 70.1, the run summary and every SQL query printed 70.0 beside it: report-history QA)."""
    if not math.isfinite(value):
        return value
    return Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def printed_difference(now: float, before: float, digits: int = 1) -> Decimal | float:
    """`now - before` as the two printed figures give it: 75.24 → 76.16 prints 75.2, 76.2 and +1.0."""
    if not (math.isfinite(now) and math.isfinite(before)):
        return now - before
    return half_up(now, digits) - half_up(before, digits)


def film_tiebreak(row: Row) -> tuple[str, int, str]:
    """The order of films tied on every figure: title, year, film id (two films share a title: Her 1998 and 2013)."""
    return str(row.get("title")), row.get("year") or 0, str(row.get("film_id"))


def by_printed_difference(rows: list[Row], now: str, before: str, count: int, keep_zero: bool = True) -> list[Row]:
    """The first `count` rows by the size of their printed difference `now - before`, then of the exact one,
    then film_tiebreak; without the rows printed as no difference unless `keep_zero`."""
    def shown(row: Row) -> Decimal | float:
        return abs(printed_difference(row[now], row[before]))

    kept = [row for row in rows if keep_zero or shown(row) != 0]
    return sorted(kept, key=lambda row: (-shown(row), -abs(row[now] - row[before]), *film_tiebreak(row)))[:count]
