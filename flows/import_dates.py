"""The order of day and month in an import's numeric dates, decided once for the whole file (and in a crawled
batch's, by order_of).

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

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from crawlers.items import DATE_ORDERS
from crawlers.landing import write_json_atomic
from flows.errors import ReviewsError

_NAMES = {"DMY": "day first", "MDY": "month first"}
# Day and month of 1-2 digits, with a slash or a dash (also a Unicode one) and a year of 2 or 4 digits or
# none, anywhere in the text ("Publié le 03/01/2024", "Tue 03/01/2024 14:00"), as the load reads it. Dotted
# dates are day first everywhere (flows/normalize/dates.py) and year-first ones are unambiguous.
# Not after "digit:" nor before ":digit": in an ISO time "18:20:17-05:00" the seconds and the zone's hour are no
# day and month; "Date:25/01/2024" and "25/01/2024: …" are dates.
_NUMERIC = re.compile(r"(?<![\d/.\-\u2010-\u2013])(?<!\d:)(\d{1,2})\s*([/\-\u2010-\u2013])\s*(\d{1,2})"
                      r"(?:\s*\2\s*(?:\d{4}|\d{2}))?(?![\d/.\-\u2010-\u2013])(?!:\d)")
MEMORY = "date_order.json"  # in the source's landing folder, beside its runs: what `reviews prune` leaves


def parse_date_order(value: str | None) -> str | None:
    """`--date-order` as given (DMY or MDY, any case), checked."""
    if value is None:
        return None
    order = value.strip().upper()
    if order not in DATE_ORDERS:
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
        found = _NUMERIC.search(raw) if raw else None
        if not found:
            return
        date = "".join(found.group(0).split())  # a date with times of day is one date, "03 / 01" is "03/01"
        first, second = int(found.group(1)), int(found.group(3))
        if date in self.seen or not (1 <= first <= 31 and 1 <= second <= 31):  # 00/00/0000 is no date
            return
        self.seen.add(date)
        if first > 12:
            self.day_first = self.day_first or date
        elif second > 12:
            self.month_first = self.month_first or date
        else:
            self.ambiguous += 1
            self.example = self.example or date


@dataclass(frozen=True)
class DateOrder:
    order: str | None  # the order the load reads the batch's slashed dates in; None: dateparser's (month first)
    note: str | None  # what the user is told, or None when nothing needs saying
    warning: bool = False  # the note is a warning: some dates may be read wrong


def decide(tally: DateTally, given: str | None, earlier: str | None, source: str) -> DateOrder:
    """One order for the file: the one given, else the one its dates show, else the source's earlier one."""
    if given:
        against = tally.month_first if given == "DMY" else tally.day_first
        if against:
            return DateOrder(given, f"--date-order {given} reads dates {_NAMES[given]}, but {against!r} cannot be "
                             f"{_NAMES[given]}: it is read the only way it can be", warning=True)
        return DateOrder(given, None)
    if tally.day_first and tally.month_first:
        reading = (f"read {_NAMES[earlier]}, as earlier imports of {source}" if earlier
                   else "those that could be either read month first")
        return DateOrder(earlier, f"dates in both orders: {tally.day_first!r} can only be day first and "
                         f"{tally.month_first!r} only month first; each is read the only way it can be, {reading} "
                         "(give --date-order DMY or MDY)", warning=True)
    telling = tally.day_first or tally.month_first
    if telling:
        order = "DMY" if tally.day_first else "MDY"
        if earlier and earlier != order:
            # Next week's export may re-date an edited review: the user must know the source changed its order.
            return DateOrder(order, f"dates read {_NAMES[order]}, as {telling!r} can only be, but earlier imports "
                             f"of {source} were read {_NAMES[earlier]}; an edited review's date may change (give "
                             f"--date-order {earlier} if this file's {telling!r} is the odd one)", warning=True)
        if tally.ambiguous:
            return DateOrder(order, f"dates read {_NAMES[order]}: {telling!r} can only be {_NAMES[order]}")
        return DateOrder(order, None)
    if tally.ambiguous and earlier:
        return DateOrder(earlier, f"dates read {_NAMES[earlier]}, as earlier imports of {source}")
    if tally.ambiguous:
        return DateOrder(None, f"{tally.ambiguous:,} distinct date{'s' if tally.ambiguous > 1 else ''} such as "
                         f"{tally.example!r} could be day or month first and none tells: read month first "
                         "(give --date-order DMY if the dump writes the day first)", warning=True)
    return DateOrder(earlier, None)  # no numeric date to read: the source's order carries on


def order_of(raws: Iterable[str | None], earlier: str | None) -> str | None:
    """The order a crawled batch's own dates show (one `25/11/2026` makes it day first), else `earlier`, the
    source's: a site's pages carry no --date-order, and `05/11/2026` was read as 11 May beside twenty dates of
    the same batch that could only be day first (site-drift QA)."""
    tally = DateTally()
    for raw in raws:
        tally.add(raw)
    return decide(tally, None, earlier, "").order


def remembered(folder: Path) -> str | None:
    """The source's order as its last import that knew one recorded it (MEMORY), or None. A folder that
    imports wrote before MEMORY was kept has the order in its runs' stats only: the latest of those."""
    try:
        order = json.loads((folder / MEMORY).read_text(encoding="utf-8")).get("date_order")
    except (OSError, ValueError, AttributeError):
        order = None
        for stats in sorted(folder.glob("*.stats.json"), reverse=True):
            try:
                order = json.loads(stats.read_text(encoding="utf-8")).get("date_order")
            except (OSError, ValueError, AttributeError):
                continue
            if order in DATE_ORDERS:
                break
    return order if order in DATE_ORDERS else None


def remember(folder: Path, order: DateOrder, run_id: str) -> None:
    """Keep the order for the source's next imports: a run's stats go with `reviews prune`, this file stays."""
    if order.order:
        write_json_atomic(folder / MEMORY, {"date_order": order.order, "run_id": run_id})
