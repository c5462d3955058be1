"""Publication dates: many formats and languages in, one UTC calendar date out.

Order of attempts, cheapest first: ISO 8601 via ``datetime.fromisoformat``, Unix epoch seconds or
milliseconds, RFC 822 via ``email.utils``, then ``dateparser`` (slow, multilingual, relative dates); a text none of them
reads is tried without a leading label ("Posted", "Reviewed by Jane on", "Publié le"; see date_labels.py).

Relative expressions ("3 days ago", "yesterday", "20 November" without a year) depend on when the
page was fetched.  To keep the expensive work cacheable, each distinct string is first parsed
against two fixed reference times: if the answers agree the string is absolute and cached on its
own; if not it is relative and re-parsed against ``fetched_at`` truncated to the hour (cached per
hour), then shifted by the remaining minutes so "3 hours ago" stays exact.

Determinism: ``dateparser`` gets a fixed settings dict - UTC in and out, timezone-aware results,
``PREFER_DAY_OF_MONTH="first"`` ("November 2026" -> 1 Nov), ``PREFER_DATES_FROM="past"`` (a
yearless "20 November" is the most recent one, as a published date must be).  Numeric day/month
order follows the detected locale (English "03/04/2026" is 4 March), except that dotted numeric dates
("10.01.2014", German, Russian, Polish …) are day first: no locale writes the month first with dots, and
that a source whose order is known (an import's, flows/import_dates.py) has its slashed dates read in it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import dateparser

from crawlers.items import DATE_ORDERS
from flows.normalize.date_labels import DATE_LANGUAGES, is_time_ago, unlabeled

UTC = dt.UTC
_FUTURE_SLACK = dt.timedelta(days=1)  # timezones and clock skew put honest dates a day ahead
_SENTINEL_A = dt.datetime(2001, 3, 15, 12, 0)
_SENTINEL_B = dt.datetime(2011, 8, 7, 5, 0)
_RFC822_HINT = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s")
# Unix time in seconds or milliseconds: nine digits too (before 2001-09-09, as in MovieLens' older ratings).
_EPOCH = re.compile(r"^\d{9,10}(?:\d{3})?$")
_SHORT_NUMBER = re.compile(r"^\d{1,4}$")
_DOTTED = re.compile(r"^\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}\b")
# Year first is year, month (, day) everywhere, with dashes (also Unicode ones), slashes or dots, spaced or
# not ("2026. 11. 20." in Korean and Hungarian); dateparser would read an impossible month as a day
# ("2026-13-01" as 13 January, "2025-13" as 13 November), so such a date is refused here with its reason.
_YEAR_FIRST = re.compile(r"^(\d{4})\s*([-/.\u2010-\u2013])\s*(\d{1,2})(?:\s*\2\s*(\d{1,2}))?(?!\d)")
# Day and month as numbers before a four-digit year, maybe with a 24-hour time and no zone: "03/04/2026",
# "4.3.2026 14:05". Read here as dateparser reads them (the order's reading, else the other one if that names no
# day; dotted ones day first), at no cost: dateparser took ~4.5 ms for each distinct one (import QA, 83 s of a
# 1M-row import with 26,000 distinct dates). One that names no day either way (a zero, "31/04") is refused.
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2((?:18|19|20)\d{2})"
                           r"(?: (?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?)?$")
# What a date field holds when there is no date; dateparser reads "N/A" as a Thursday (Estonian).
# Excel's #N/A, "n.d." and "s.d." (no date, sine die), German "k.A." (keine Angabe) and "o.J." (ohne Jahr) too.
_PLACEHOLDER = re.compile(r"^(?:#?n/?a|n\.\s?a|n\.?\s?d|s\.\s?d|s/d|k\.\s?a|o\.\s?j|tba|tbd|tbc|none|null|nil|unknown"
                          r"|undated|no date|-+|\?+)\.?$", re.IGNORECASE)
# What dateparser would still make a date of: a signed number ("-1" as 1 January), a year as '26, a number in
# scientific notation, a decimal over a scale (a rating in the date column: "7.5/10" as 5 July 2010).
_NOT_A_DATE = re.compile(r"^(?:[-+−]\d+|'\d{2}|\d+(?:[.,]\d+)?e[-+]?\d+|\d+[.,]\d+\s*/\s*\d+)$", re.IGNORECASE)
# A float's spelling of Unix seconds, as pandas writes a column with a gap in it: 964982703.0, 1.7957376e+09.
_FLOAT_EPOCH = re.compile(r"^(?:\d{9,10}\.\d+|\d\.\d+e\+?0?[89])$", re.IGNORECASE)
# One or two Latin letters and no digit, a mark in a date column: dateparser reads "x" as October (a Roman month) and
# "a" as 1 January.
_TOO_FEW_LETTERS = re.compile(r"^[^\w]*[A-Za-z]{1,2}[^\w]*$")
_ZONE_SUFFIX = re.compile(r"(?:(?<=[Zz])|(?<=[+-]\d\d:\d\d)|(?<=[+-]\d\d\d\d))\[[^\[\]]{1,64}\]$")
# A time of day: "23:45", "11:59 PM", "23h45", "8pm".
_CLOCK = re.compile(r"\d\s*(?::\s*\d{2}|h\s*\d{2}(?!\s*m)|[ap]\.?\s?m\b)", re.IGNORECASE)  # not "2h 30m ago"
# An RFC 822 zone email.utils does not know (CEST, BST, JST, AEST): it reads the time as zoneless.
_ALPHA_ZONE = re.compile(r"\s[A-Za-z]{2,5}$")
# The zones email.utils reads right; it read "+02" as two minutes, and "-05:00" or "GMT-5" as no zone at all.
_RFC822_ZONE = re.compile(r"\s(?:[+-]\d{4}|UT|UTC|GMT|Z|[AECMP][SD]T)(?:\s*\([^()]*\))?$", re.IGNORECASE)
# A time of day followed by something email.utils left unread (an offset written otherwise): dateparser decides.
_AFTER_TIME = re.compile(r"\d:\d{2}(?::\d{2})?(?:\s+\S+|[+-]\d{1,2}(?::?\d{2})?)$")
# US zones named without saying standard or daylight time ("7:30 PM ET"), which follow daylight saving time;
# dateparser gives each one fixed offset, the winter one, so a summer evening went to the next day.
_GENERIC_ZONES = {"ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver",
                  "PT": "America/Los_Angeles", "AKT": "America/Anchorage", "HT": "Pacific/Honolulu"}
_GENERIC_ZONE = re.compile(r"^(.*\d(?:\s*[AaPp]\.?[Mm]\.?)?)\s+(ET|CT|MT|PT|AKT|HT)$")
# ISO 8601's end of a day, "2026-11-28T24:00:00Z": the start of the next one (Python 3.11 refuses hour 24).
_END_OF_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]24:00(?::00(?:\.0+)?)?(Z|[+-]\d{2}:?\d{2})?$")
# Weekday abbreviations dateparser does not know, at the head of an RFC 822 date ("Thurs, 04 Sep 2025 12:00:00
# +0000": every Thursday's review of a feed was undated, health QA).
_LONG_WEEKDAY = re.compile(r"^(?:(thurs?)|(tues)|(weds))\b\.?", re.IGNORECASE)
_SHORT_WEEKDAY = ("Thu", "Tue", "Wed")
# A month's name written out, not the T and Z of an ISO time, nor RSS's "Thu, 01 Jan 1970 00:00:00 GMT" (the
# spelling of an unset pubDate).
_WORD = re.compile(r"[^\W\d_]{4,}")
# Days that stand for no date: Unix time 0, and the zero days of Excel and of OLE/.NET.
_ZERO_DAYS = {dt.date(1970, 1, 1), dt.date(1900, 1, 1), dt.date(1899, 12, 30), dt.date(1899, 12, 31)}
_MIN_YEAR = 1870  # before cinema; anything earlier is a misparse
# A longer "date" is a mis-mapped column or a runaway cell; dateparser took ~25 s on one of 100 KB.
MAX_DATE_CHARS = 200


class ParsedDate(NamedTuple):
    date: dt.date | None
    problem: str | None
    is_future: bool


_ABSENT = ParsedDate(None, None, False)


def _to_utc(value: dt.datetime) -> dt.datetime:
    # A naive timestamp carries no zone; UTC is the only assumption that is the same everywhere.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _fetched_utc(fetched_at: dt.datetime | dt.date | str) -> dt.datetime:
    if isinstance(fetched_at, str):
        fetched_at = dt.datetime.fromisoformat(fetched_at.strip())
    elif not isinstance(fetched_at, dt.datetime):
        fetched_at = dt.datetime.combine(fetched_at, dt.time())
    return _to_utc(fetched_at)


def _settings(base: dt.datetime, text: str = "", day_of_month: str = "first",
              order: str | None = None) -> dict[str, object]:
    order = "DMY" if _DOTTED.match(text) else order
    return {
        **({"DATE_ORDER": order} if order else {}),
        "RELATIVE_BASE": base,
        "TIMEZONE": "UTC",
        "TO_TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DAY_OF_MONTH": day_of_month,
        "PREFER_DATES_FROM": "past",
    }


def _dateparse(text: str, settings: dict[str, object]) -> dt.datetime | None:
    return dateparser.parse(text, languages=DATE_LANGUAGES, settings=settings)


def _fast_path(text: str, order: str | None = None) -> dt.date | str | None:
    """A date, a problem text, or None when dateparser must decide."""
    if len(text) > MAX_DATE_CHARS:
        return f"not a date: too long ({len(text)} chars): {text[:40]!r}..."
    if _SHORT_NUMBER.match(text):
        return f"not a date (bare number): {text!r}"
    if _EPOCH.match(text) or _FLOAT_EPOCH.match(text):
        seconds = float(text) / (1000 if len(text) >= 12 and text.isdigit() else 1)
        return dt.datetime.fromtimestamp(seconds, UTC).date()
    if _PLACEHOLDER.match(text) or _NOT_A_DATE.match(text) or _TOO_FEW_LETTERS.match(text):
        return f"not a date: {text!r}"
    if end_of_day := _END_OF_DAY.match(text):
        next_day = dt.date.fromisoformat(end_of_day.group(1)) + dt.timedelta(days=1)
        text = f"{next_day.isoformat()}T00:00:00{end_of_day.group(2) or ''}"
    try:
        # RFC 9557 names the zone after the offset, "2024-04-01T00:30:00+02:00[Europe/Paris]": the offset decides.
        parsed = dt.datetime.fromisoformat(_ZONE_SUFFIX.sub("", text))
    except ValueError:
        pass
    else:
        # Naive ISO datetimes keep their written date: the site's local day is the best we know.
        return parsed.astimezone(UTC).date() if parsed.tzinfo else parsed.date()
    impossible = _impossible_year_first(text)
    if impossible:
        return impossible
    if numeric := _NUMERIC_DATE.match(text):
        # Neither reading names a day ("29/02/2023", "31/04/2026"), said as for year-first dates; dateparser made a
        # zero day ("00/01/2024") the fetch's day of that month.
        found = _numeric_date(numeric, order)
        return found or f"impossible date: {text!r} names no day of {numeric.group(4)} either way"
    if _RFC822_HINT.match(text):
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if parsed.tzinfo is not None and not _RFC822_ZONE.search(text):
            return None
        zone = _ALPHA_ZONE.search(text) if parsed.tzinfo is None else None
        if zone and (offset := _zone_offset(zone.group(0).strip().upper())) is not None:
            parsed = parsed.replace(tzinfo=dt.timezone(offset))
        elif parsed.tzinfo is None and not zone and _AFTER_TIME.search(text):
            return None
        return _to_utc(parsed).date()
    return None


def _numeric_date(found: re.Match[str], order: str | None) -> dt.date | None:
    first, second, year = int(found.group(1)), int(found.group(3)), int(found.group(4))
    day_first = found.group(2) == "." or order == "DMY"
    for day, month in ((first, second), (second, first)) if day_first else ((second, first), (first, second)):
        if day and month:
            try:
                return dt.date(year, month, day)
            except ValueError:
                pass
    return None


@lru_cache(maxsize=65536)
def _with_generic_zone(text: str, order: str | None, fetched_day: dt.date) -> str:
    """The text with a US zone named without standard or daylight time ("7:30 PM ET") written as the offset it
    had at that moment (-04:00 on a July evening, -05:00 in January; "yesterday at 7:30 PM ET" counted from the
    fetch's day); other texts as they are."""
    found = _GENERIC_ZONE.match(text)
    if not found:
        return text
    base = dt.datetime.combine(fetched_day, dt.time(12))
    wall = _dateparse(found.group(1), _settings(base, found.group(1), order=order))
    if wall is None:
        return text
    offset = wall.replace(tzinfo=ZoneInfo(_GENERIC_ZONES[found.group(2)])).utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds()) // 60
    return f"{found.group(1)} {'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


@lru_cache(maxsize=512)
def _zone_offset(zone: str) -> dt.timedelta | None:
    """The UTC offset of a zone name email.utils does not know (CEST, BST, JST), as dateparser reads it: asked once
    a name, since dateparser takes ~3 ms a string and a feed's pubDates, seconds and all, are nearly all distinct.
    None for a name neither knows: the written day is kept."""
    noon = _dateparse(f"2001-03-15 12:00 {zone}", _settings(_SENTINEL_A))
    if noon is None or noon.tzinfo is None:
        return None
    offset = dt.datetime(2001, 3, 15, 12, 0, tzinfo=UTC) - noon.astimezone(UTC)
    return offset if abs(offset) < dt.timedelta(hours=24) else None


def _impossible_year_first(text: str) -> str | None:
    """The problem of a year-first numeric date that names no day of the calendar, else None."""
    found = _YEAR_FIRST.match(text)
    if not found:
        return None
    year, month, day = int(found.group(1)), int(found.group(3)), int(found.group(4) or 1)
    try:
        dt.date(year, month, day)
    except ValueError:
        return (f"impossible date: {text!r} has no month {month}" if not 1 <= month <= 12
                else f"impossible date: {text!r} has no day {day} in month {month} of {year}")
    return None


@lru_cache(maxsize=65536)
def _classify(text: str, order: str | None = None) -> tuple[str, dt.date | str | None]:
    """("absolute", date) | ("relative", None) | ("problem", reason) for one distinct string, its numbers read
    in `order` (crawlers.items.DATE_ORDERS) when given."""
    fast = _fast_path(text, order)
    if isinstance(fast, dt.date):
        return "absolute", fast
    if isinstance(fast, str):
        return "problem", fast
    first = _dateparse(text, _settings(_SENTINEL_A, text, order=order))
    if first is None:
        return "problem", f"unparseable date: {text!r}"
    second = _dateparse(text, _settings(_SENTINEL_B, text, order=order))
    if second is None or first != second or str(first.year) not in text:
        # A year not written out in full ("10/01/14") takes its century from the base date, and the fixed
        # bases would make it 1914: it is read against the fetch time like a relative date.
        return "relative", None
    return "absolute", _to_utc(first).date()


@lru_cache(maxsize=65536)
def _resolve_relative(text: str, base_hour: dt.datetime, order: str | None = None) -> dt.datetime | None:
    # dateparser wants a naive base in its TIMEZONE (UTC).
    # dateparser applies PREFER_DAY_OF_MONTH to offsets too, which made "a month ago" the 1st of last month;
    # a month named without a day ("November") keeps the 1st.
    day_of_month = "current" if is_time_ago(text) else "first"
    parsed = _dateparse(text, _settings(base_hour.replace(tzinfo=None), text, day_of_month, order))
    return _to_utc(parsed) if parsed else None


def parse_published(raw: str | None, fetched_at: dt.datetime | str, order: str | None = None) -> ParsedDate:
    """Publication date of a review as a UTC calendar date.

    ``order`` ("DMY" or "MDY", crawlers.items.DATE_ORDERS) is the day and month order of numeric dates with slashes or
    dashes, when their source's is known (an import's, flows/import_dates.py); without it, dateparser's
    reading (month first, unless the first number cannot be a month).

    ``fetched_at`` (naive means UTC; ISO strings accepted) anchors relative dates and the future
    check.  A date later than the fetch day + 1 is kept but flagged ``is_future`` with a problem;
    unreadable input gives ``date=None`` and a problem.  Never raises on bad ``raw``.
    """
    if raw is None or not raw.strip():
        return _ABSENT
    text = _LONG_WEEKDAY.sub(lambda m: _SHORT_WEEKDAY[m.lastindex - 1], " ".join(raw.split()))
    fetched = _fetched_utc(fetched_at)
    if order is not None and order not in DATE_ORDERS:
        raise ValueError(f"date order must be one of None, {', '.join(DATE_ORDERS)}, not {order!r}")
    text = _with_generic_zone(text, order, fetched.date())
    kind, found = _classify(text, order)
    if kind == "problem":
        problem = str(found)
        for candidate in unlabeled(text) if problem.startswith("unparseable") else []:
            behind_label = _parse(candidate, fetched, *_classify(candidate, order), order)
            if behind_label.date is not None:
                return behind_label
            if behind_label.problem and not behind_label.problem.startswith("unparseable"):
                problem = behind_label.problem  # "implausible date: 1850-01-01 from '1 Jan 1850'" says more
        return ParsedDate(None, problem, False)
    return _parse(text, fetched, kind, found, order)


def _parse(text: str, fetched: dt.datetime, kind: str, found: dt.date | str | None,
           order: str | None = None) -> ParsedDate:
    if kind == "problem":
        return ParsedDate(None, str(found), False)
    if kind == "relative":
        base_hour = fetched.replace(minute=0, second=0, microsecond=0)
        resolved = _resolve_relative(text, base_hour, order)
        if resolved is None:
            return ParsedDate(None, f"unparseable date: {text!r}", False)
        # The minutes past the base hour belong to an offset ("3 hours ago"), not to a clock time the text gives
        # ("yesterday at 11:59 PM" went to the next day).
        found = (resolved + (fetched - base_hour if not _CLOCK.search(text) else dt.timedelta())).date()
        if str(found.year) not in text:
            found = _nearest_century(found, fetched.date())
    if not isinstance(found, dt.date):  # unreachable; keeps the type narrow without assert
        return ParsedDate(None, f"unparseable date: {text!r}", False)
    if found.year < _MIN_YEAR:
        return ParsedDate(None, f"implausible date: {found.isoformat()} from {text!r}", False)
    if found in _ZERO_DAYS and not _WORD.search(text):  # "January 1, 1970" in words may be meant
        return ParsedDate(None, f"placeholder date: {found.isoformat()} (a zero day) from {text!r}", False)
    if found > fetched.date() + _FUTURE_SLACK:
        problem = f"future date: {found.isoformat()} is after fetch date {fetched.date().isoformat()}"
        return ParsedDate(found, problem, True)
    return ParsedDate(found, None, False)


def _nearest_century(day: dt.date, fetched: dt.date) -> dt.date:
    """A date whose year was not written in full, in the century that puts it nearest the fetch: dateparser's
    "latest one in the past" makes `12/01/26` fetched in March 2026 the year 1926, where 2026 (then flagged as
    a future date) is the likely reading; a date without a year is nearest as it is. Not a century more than a
    year after the fetch, though near: `03/01/76` fetched in 2026 is 1976, not a review from 2076 (calendar QA)."""
    candidates = [day]
    for shift in (-100, 100):
        try:
            candidates.append(day.replace(year=day.year + shift))
        except ValueError:  # 29 February of a year that has none
            pass
    within_a_year = [candidate for candidate in candidates if (candidate - fetched).days <= 366]
    return min(within_a_year or candidates, key=lambda candidate: abs((candidate - fetched).days))


DateKey = tuple[str | None, dt.datetime | str]


def parse_distinct(rows: Iterable[DateKey], order: str | None = None) -> dict[DateKey, ParsedDate]:
    """Parse each distinct ``(raw, fetched_at)`` pair once, keyed by the pair as given.

    Feed it ``SELECT DISTINCT published_raw, date_trunc('minute', fetched_at)`` (or the exact
    ``fetched_at`` - the costly work is cached per string and per hour either way) and join back
    in DuckDB. (Truncated to the hour, "10 minutes ago" fetched at 00:50 would land on the day before.)
    """
    result: dict[DateKey, ParsedDate] = {}
    for raw, fetched_at in rows:
        key = (raw, fetched_at)
        if key not in result:
            result[key] = parse_published(raw, fetched_at, order)
    return result
