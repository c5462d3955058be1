"""The order of day and month in an import's numeric dates, decided once for the whole file.

`03/01/2024` is 3 January in a French export and 1 March in an American one, and nothing in the
string tells. The file does, often: `25/01/2024` can only be day first, `01/25/2024` only month
first. So an import counts its slashed (or dashed) dates while it lands them, decides one order for
the file, and records it in the run's stats; the load reads every slashed date of the batch in it
(flows/load.py `date_order`).

Decided per file, never per load batch, and kept for the source: an export whose dates are all
ambiguous (a small one, a week with no day past the 12th) takes the order of the source's earlier
imports, so a review re-imported next week keeps its date. `--date-order` states it outright.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flows.errors import ReviewsError

ORDERS = ("DMY", "MDY")
_NAMES = {"DMY": "day first", "MDY": "month first"}
# Day and month of 1-2 digits and a year of 2 or 4, with one separator, slash or dash, used twice.
# Dotted dates are day first everywhere (flows/normalize/dates.py) and year-first ones are unambiguous.
_NUMERIC = re.compile(r"^\s*(\d{1,2})\s*([/-])\s*(\d{1,2})\s*\2\s*(?:\d{4}|\d{2})(?!\d)")


def parse_date_order(value: str | None) -> str | None:
    """`--date-order` as given (DMY or MDY, any case), checked."""
    if value is None:
        return None
    order = value.strip().upper()
    if order not in ORDERS:
        raise ReviewsError(f"--date-order must be DMY (day first, 25/01/2024) or MDY (month first, 01/25/2024), "
                           f"not {value!r}")
    return order


@dataclass
class DateTally:
    """What the file's numeric dates say of their order: an example of each telling kind, and how many tell
    nothing (both numbers 12 or less)."""

    day_first: str | None = None
    month_first: str | None = None
    ambiguous: int = 0
    example: str | None = None  # of an ambiguous one
    seen: set[str] = field(default_factory=set)  # distinct strings already counted: a file repeats its dates

    def add(self, raw: str | None) -> None:
        found = _NUMERIC.match(raw) if raw else None
        if not found or raw in self.seen:
            return
        self.seen.add(raw)
        first, second = int(found.group(1)), int(found.group(3))
        if first > 12 >= second:
            self.day_first = self.day_first or raw.strip()
        elif second > 12 >= first:
            self.month_first = self.month_first or raw.strip()
        elif first <= 12 and second <= 12:
            self.ambiguous += 1
            self.example = self.example or raw.strip()


@dataclass(frozen=True)
class DateOrder:
    order: str | None  # the order the load reads the batch's slashed dates in; None: dateparser's (month first)
    note: str | None  # what the user is told, or None when nothing needs saying
    warning: bool = False  # the note is a warning: some dates may be read wrong


def decide(tally: DateTally, given: str | None, earlier: str | None, source: str) -> DateOrder:
    """One order for the file: the one given, else the one its dates show, else the source's earlier one."""
    both = tally.day_first and tally.month_first
    if given:
        against = tally.month_first if given == "DMY" else tally.day_first
        if against:
            return DateOrder(given, f"--date-order {given} reads dates {_NAMES[given]}, but {against!r} cannot be "
                             f"{_NAMES[given]}: it is read the only way it can be", warning=True)
        return DateOrder(given, None)
    if both:
        order = earlier
        reading = (f"read {_NAMES[earlier]}, as earlier imports of {source}" if earlier
                   else "those that could be either read month first")
        return DateOrder(order, f"dates in both orders: {tally.day_first!r} can only be day first and "
                         f"{tally.month_first!r} only month first; each is read the only way it can be, {reading} "
                         "(give --date-order DMY or MDY)", warning=True)
    if tally.day_first:
        return DateOrder("DMY", f"dates read day first: {tally.day_first!r} can only be (--date-order MDY says "
                         "otherwise)" if tally.ambiguous else None)
    if tally.month_first:
        return DateOrder("MDY", None)
    if tally.ambiguous and earlier:
        return DateOrder(earlier, f"dates read {_NAMES[earlier]}, as earlier imports of {source}")
    if tally.ambiguous:
        return DateOrder(None, f"{tally.ambiguous:,} distinct date{'s' if tally.ambiguous > 1 else ''} such as "
                         f"{tally.example!r} could be day or month first and none tells: read month first "
                         "(give --date-order DMY if the dump writes the day first)", warning=True)
    return DateOrder(earlier, None)  # no numeric date to read: the source's order carries on
