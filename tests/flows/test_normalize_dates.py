import datetime as dt

import pytest

from flows.normalize.dates import ParsedDate, parse_distinct, parse_published

FETCHED = dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-20", dt.date(2026, 11, 20)),
        ("2026-11-20T10:00:00", dt.date(2026, 11, 20)),
        ("2026-11-20T10:00:00Z", dt.date(2026, 11, 20)),
        ("2026-11-20T10:00:00+05:00", dt.date(2026, 11, 20)),
        ("2026-11-20T02:00:00+05:00", dt.date(2026, 11, 19)),  # UTC date, not the local one
        ("2026-11-20T23:30:00-05:00", dt.date(2026, 11, 21)),
        ("20 November 2026", dt.date(2026, 11, 20)),
        ("Nov 20, 2026", dt.date(2026, 11, 20)),
        ("November 20th, 2026", dt.date(2026, 11, 20)),
        ("Fri, 20 Nov 2026 10:00:00 GMT", dt.date(2026, 11, 20)),
        ("Fri, 20 Nov 2026 23:00:00 -0500", dt.date(2026, 11, 21)),
        ("20 novembre 2026", dt.date(2026, 11, 20)),
        ("20. November 2026", dt.date(2026, 11, 20)),
        ("20 de noviembre de 2026", dt.date(2026, 11, 20)),
        ("1763640000", dt.date(2025, 11, 20)),  # epoch seconds
        ("  2026-11-20  ", dt.date(2026, 11, 20)),
        ("10.01.2014", dt.date(2014, 1, 10)),  # dotted numeric dates are day first in every locale
        ("10.01.2014 18:30", dt.date(2014, 1, 10)),
        ("1. 2. 2020", dt.date(2020, 2, 1)),
        ("03/04/2026", dt.date(2026, 3, 4)),  # slashed: month first, as dateparser reads English
        ("Thurs, 19 Nov 2026 12:00:00 +0000", dt.date(2026, 11, 19)),  # weekdays dateparser does not know
        ("Thur, 19 Nov 2026", dt.date(2026, 11, 19)),
        ("Tues, 17 Nov 2026 10:00:00 GMT", dt.date(2026, 11, 17)),
        ("Weds, 18 Nov 2026", dt.date(2026, 11, 18)),
    ],
)
def test_absolute_formats_give_utc_calendar_date(raw, expected):
    assert parse_published(raw, FETCHED) == ParsedDate(expected, None, False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3 days ago", dt.date(2026, 11, 19)),
        ("yesterday", dt.date(2026, 11, 21)),
        ("today", dt.date(2026, 11, 22)),
        ("2 weeks ago", dt.date(2026, 11, 8)),
        ("il y a 3 jours", dt.date(2026, 11, 19)),
        ("vor 3 Tagen", dt.date(2026, 11, 19)),
        ("20 November", dt.date(2026, 11, 20)),  # no year: the most recent 20 November
    ],
)
def test_relative_dates_resolve_against_fetch_time(raw, expected):
    assert parse_published(raw, FETCHED).date == expected


def test_relative_date_uses_each_rows_own_fetch_time():
    assert parse_published("yesterday", dt.datetime(2026, 1, 1, 9)).date == dt.date(2025, 12, 31)
    assert parse_published("yesterday", dt.datetime(2026, 6, 1, 9)).date == dt.date(2026, 5, 31)


def test_hours_ago_stays_exact_across_midnight():
    assert parse_published("3 hours ago", dt.datetime(2026, 11, 22, 1, 30)).date == dt.date(2026, 11, 21)
    assert parse_published("3 hours ago", dt.datetime(2026, 11, 22, 3, 30)).date == dt.date(2026, 11, 22)


@pytest.mark.parametrize(("raw", "fetched", "expected"), [
    ("yesterday at 11:59 PM", dt.datetime(2026, 11, 27, 17, 9), dt.date(2026, 11, 26)),
    ("November 25 at 11:59 PM", dt.datetime(2026, 11, 27, 17, 9), dt.date(2026, 11, 25)),
    ("March 31 at 11:45 PM", dt.datetime(2024, 4, 1, 10, 50), dt.date(2024, 3, 31)),
    ("03/31/24 23:45", dt.datetime(2024, 4, 2, 10, 50), dt.date(2024, 3, 31)),
    ("hier à 23h45", dt.datetime(2024, 4, 2, 10, 50), dt.date(2024, 4, 1)),
    # offsets in hours and minutes are no clock time: the fetch's minutes still count (review)
    ("2h 30m ago", dt.datetime(2026, 11, 27, 2, 45), dt.date(2026, 11, 27)),
    ("il y a 2h 30min", dt.datetime(2026, 11, 27, 2, 45), dt.date(2026, 11, 27)),
])
def test_a_relative_date_with_a_late_time_of_day_keeps_its_day(raw, fetched, expected):
    # The minutes of the fetch past its hour were added to the time the text gives, which then ran into the next
    # day (time-zone QA): a Sunday night's review moved into the next week.
    assert parse_published(raw, fetched).date == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("Mon, 01 Apr 2024 00:30:00 CEST", dt.date(2024, 3, 31)), ("Mon, 01 Apr 2024 00:30:00 BST", dt.date(2024, 3, 31)),
    ("Mon, 01 Apr 2024 08:30:00 JST", dt.date(2024, 3, 31)), ("Mon, 01 Apr 2024 00:30:00 EST", dt.date(2024, 4, 1)),
    ("Mon, 01 Apr 2024 00:30:00 XYZ", dt.date(2024, 4, 1)),  # a zone no one knows keeps its written day
])
def test_an_rfc_822_date_in_a_zone_email_utils_does_not_know_is_still_read_in_its_zone(raw, expected):
    # Time-zone QA: CEST, BST, JST and AEST were read as UTC, a day late against the same instant in +0200.
    assert parse_published(raw, dt.datetime(2024, 4, 2)).date == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("Sun, 05 Jul 2026 22:30:00 -05:00", dt.date(2026, 7, 6)), ("Sun, 05 Jul 2026 22:30:00 GMT-5", dt.date(2026, 7, 6)),
    ("Sun, 05 Jul 2026 22:30:00 GMT+0200", dt.date(2026, 7, 5)), ("Mon, 06 Jul 2026 00:30:00 +02", dt.date(2026, 7, 5)),
    ("Sun, 05 Jul 2026 22:30:00 -0500", dt.date(2026, 7, 6)), ("Sun, 05 Jul 2026 22:30:00", dt.date(2026, 7, 5)),
    ("Sun, 05 Jul 2026 22:30:00-05:00", dt.date(2026, 7, 6)), ("Sun, 05 Jul 2026 22:30-05:00", dt.date(2026, 7, 6)),
])
def test_an_rfc_822_offset_written_otherwise_is_read_not_dropped(raw, expected):
    # Calendar QA: email.utils read "-05:00" and "GMT-5" as no zone (the written day kept) and "+02" as two minutes:
    # a Sunday evening's review went to the week before or after.
    assert parse_published(raw, FETCHED).date == expected


@pytest.mark.parametrize("raw", ["Tue, 10 Nov 2026 23:30:00", "Tue, 10 Nov 2026 23:30:00 +0000 (UTC)",
                                 "Tue, 10 Nov 2026 23:30:00 AST", "Tue, 10 Nov 2026 23:30:00 -0500"])
def test_rfc_822_dates_email_utils_reads_right_never_reach_dateparser(raw, monkeypatch):
    # Review of the offset fix: these went to dateparser, 5-8 ms each distinct date, where email.utils takes ~10 µs.
    from flows.normalize import dates

    monkeypatch.setattr(dates, "_dateparse", lambda *args: pytest.fail(f"dateparser asked for {raw!r}"))
    assert dates._classify.__wrapped__(raw, None)[0] == "absolute"


@pytest.mark.parametrize(("raw", "expected"), [
    ("July 5, 2026 7:30 PM ET", dt.date(2026, 7, 5)), ("January 5, 2026 7:30 PM ET", dt.date(2026, 1, 6)),
    ("July 1, 2026 4:30 PM PT", dt.date(2026, 7, 1)), ("Wed, 01 Jul 2026 19:30:00 ET", dt.date(2026, 7, 1)),
    ("Wed, 07 Jan 2026 18:30:00 CT", dt.date(2026, 1, 8)),
])
def test_a_us_zone_named_without_standard_or_daylight_follows_daylight_saving_time(raw, expected):
    # Calendar QA: dateparser reads ET as -05:00 all year, so a July 7:30 PM ET review (23:30 UTC) went to the next day.
    assert parse_published(raw, FETCHED).date == expected


def test_a_relative_date_in_a_us_zone_takes_that_days_offset():
    # Review: the offset was taken at a fixed winter date; fetched 5 July 10:00 UTC, yesterday 7:30 PM EDT is
    # 23:30 UTC on 4 July.
    fetched = dt.datetime(2026, 7, 5, 10, 0, tzinfo=dt.UTC)
    assert parse_published("yesterday at 7:30 PM ET", fetched).date == dt.date(2026, 7, 4)


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-11-20T24:00:00Z", dt.date(2026, 11, 21)), ("2025-12-31T24:00", dt.date(2026, 1, 1)),
    ("2026-11-20T24:00:00+05:00", dt.date(2026, 11, 20)), ("2026-11-20 24:00:00.000", dt.date(2026, 11, 21)),
])
def test_iso_24_00_is_the_start_of_the_next_day(raw, expected):
    # Calendar QA: "unparseable date", the review left undated (sitemap lastmod already read it).
    assert parse_published(raw, FETCHED).date == expected


@pytest.mark.parametrize("raw", ["x", "X", "[x]", "a", "?x", "ab"])
def test_a_letter_or_two_in_a_date_column_is_no_date(raw):
    # dateparser read "x" as October (a Roman month) and "a" as 1 January.
    assert parse_published(raw, FETCHED) == ParsedDate(None, f"not a date: {raw!r}", False)


def test_an_rfc_9557_timestamp_is_read_by_its_offset():
    # Time-zone QA: the zone's name in brackets after the offset made it unparseable.
    assert parse_published("2024-04-01T00:30:00+02:00[Europe/Paris]", FETCHED).date == dt.date(2024, 3, 31)
    # Without an offset, the bracket is not passed over: read as UTC, it would be a day late (review).
    assert parse_published("2024-04-01T00:30:00[Europe/Paris]", FETCHED).date is None


def test_fetched_at_may_be_an_iso_string():
    assert parse_published("yesterday", "2026-11-22T10:00:00+00:00").date == dt.date(2026, 11, 21)


def test_future_date_is_kept_but_flagged():
    parsed = parse_published("2027-01-01", FETCHED)
    assert parsed.date == dt.date(2027, 1, 1)
    assert parsed.is_future
    assert "future" in parsed.problem


def test_next_day_is_tolerated_for_timezone_skew():
    assert parse_published("2026-11-23", FETCHED) == ParsedDate(dt.date(2026, 11, 23), None, False)


@pytest.mark.parametrize(
    "raw", ["garbage text", "not a date at all", "12", "2013", "32/13/2026", "0001-01-01"]
)
def test_garbage_gives_no_date_and_a_problem(raw):
    parsed = parse_published(raw, FETCHED)
    assert parsed.date is None
    assert parsed.problem
    assert not parsed.is_future


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_absent_date_has_no_problem(raw):
    assert parse_published(raw, FETCHED) == ParsedDate(None, None, False)


def test_parse_distinct_keys_results_by_input_pair():
    rows = [("2026-11-20", FETCHED), ("2026-11-20", FETCHED), ("yesterday", FETCHED), ("junk", FETCHED)]
    result = parse_distinct(rows)
    assert len(result) == 3
    assert result[("yesterday", FETCHED)].date == dt.date(2026, 11, 21)
    assert result[("junk", FETCHED)].problem


@pytest.mark.parametrize(("raw", "expected"), [
    ("10/01/14", dt.date(2014, 10, 1)), ("Jan 10, 14", dt.date(2014, 1, 10)), ("10.01.14", dt.date(2014, 1, 10)),
    ("1/2/99", dt.date(1999, 1, 2)),
])
def test_a_two_digit_year_is_the_latest_one_not_after_the_fetch(raw, expected):
    # Not 1914: the century comes from the fetch time, as a published date's must.
    assert parse_published(raw, FETCHED) == ParsedDate(expected, None, False)


def test_a_two_digit_year_just_after_the_fetch_is_this_century_and_flagged_as_future():
    parsed = parse_published("12/01/26", dt.datetime(2026, 3, 15, tzinfo=dt.UTC))
    assert parsed.date == dt.date(2026, 12, 1) and parsed.is_future  # not 1926


def test_a_two_digit_year_decades_ahead_is_last_century_even_when_a_little_nearer():
    # Calendar QA: 2076 is 49 years ahead and 1976 51 behind; the nearer reading was flagged and left every mart.
    assert parse_published("03/01/76", dt.datetime(2026, 11, 28, tzinfo=dt.UTC)) == \
        ParsedDate(dt.date(1976, 3, 1), None, False)


@pytest.mark.parametrize(("raw", "expected"), [
    ("a month ago", dt.date(2026, 10, 22)),
    ("2 months ago", dt.date(2026, 9, 22)),
    ("a year ago", dt.date(2025, 11, 22)),
    ("il y a 1 mois", dt.date(2026, 10, 22)),
    ("vor einem Monat", dt.date(2026, 10, 22)),
    ("hace 2 meses", dt.date(2026, 9, 22)),
])
def test_months_or_years_ago_keep_the_fetch_day_not_the_first_of_the_month(raw, expected):
    assert parse_published(raw, FETCHED).date == expected


def test_a_month_named_without_a_day_is_still_its_first():
    assert parse_published("November", FETCHED).date == dt.date(2026, 11, 1)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Posted 4 days ago", dt.date(2026, 11, 18)),
    ("Posted: yesterday", dt.date(2026, 11, 21)),
    ("Updated 2 hours ago", dt.date(2026, 11, 22)),
    ("Published: March 3, 2024", dt.date(2024, 3, 3)),
    ("Reviewed on March 3, 2024", dt.date(2024, 3, 3)),
    ("Reviewed by Jane Doe on March 3, 2024", dt.date(2024, 3, 3)),
    ("Watched on 12 Jan 2024", dt.date(2024, 1, 12)),
    ("Date: 2024-03-03", dt.date(2024, 3, 3)),
    ("Publié le 3 mars 2024", dt.date(2024, 3, 3)),
    ("Veröffentlicht am 3. März 2024", dt.date(2024, 3, 3)),
    ("Publicado el 3 de marzo de 2024", dt.date(2024, 3, 3)),
    ("Gepubliceerd op 3 maart 2024", dt.date(2024, 3, 3)),
    ("Reviewed by user123 on 3 March 2024", dt.date(2024, 3, 3)),
    ("Reviewed by R2-D2 on 3 March 2024", dt.date(2024, 3, 3)),
    ("Posted by Jane 3 days ago", dt.date(2026, 11, 19)),
    ("Posted by Jane - March 3, 2024", dt.date(2024, 3, 3)),
    ("Publié par Jean le 3 mars 2024", dt.date(2024, 3, 3)),
    ("Veröffentlicht von Max am 3. März 2024", dt.date(2024, 3, 3)),
    ("Last updated: March 3, 2024", dt.date(2024, 3, 3)),
    ("Posted in Reviews on March 3, 2024", dt.date(2024, 3, 3)),
    ("Posted: Updated: 3 March 2024", dt.date(2024, 3, 3)),
    ("\u200fPosted 4 days ago", dt.date(2026, 11, 18)),
    ("Posted a month ago", dt.date(2026, 10, 22)),
    ("Publié hier", dt.date(2026, 11, 21)),
    ("Posted: today", dt.date(2026, 11, 22)),
])
def test_a_label_before_the_date_is_read_past(raw, expected):
    assert parse_published(raw, FETCHED) == (expected, None, False)


def test_a_labelled_future_date_is_still_flagged():
    parsed = parse_published("Posted 2031-01-01", FETCHED)
    assert parsed.is_future and parsed.date == dt.date(2031, 1, 1)


@pytest.mark.parametrize("raw", ["Posted by admin", "Posted", "Reviewed: great", "Posted: N/A", "Date: n/a",
                                 "Updated: NA", "Posted: No", "Date: a", "Date: 1st", "Posted: EST", "Seen Nine",
                                 "Seen Friday the 13th", "Seen in 2019", "Seen it twice", "Date night movie"])
def test_a_label_without_a_date_keeps_the_whole_text_in_its_problem(raw):
    assert parse_published(raw, FETCHED) == (None, f"unparseable date: {raw!r}", False)


@pytest.mark.parametrize("raw", ["N/A", "n/a", "TBA", "none", "Unknown", "-", "??"])
def test_a_placeholder_is_no_date(raw):
    assert parse_published(raw, FETCHED) == (None, f"not a date: {raw!r}", False)


def test_an_implausible_date_behind_a_label_says_so():
    assert parse_published("Posted 1 Jan 1850", FETCHED).problem == "implausible date: 1850-01-01 from '1 Jan 1850'"


def test_a_run_of_labels_is_read_once_not_once_per_label():
    # Each label used to cost a parse of what followed it (300 labels: 36 s; ~1,000 overflowed the stack).
    parsed = parse_published("Posted " * 3 + "March 3, 2024", FETCHED)
    assert parsed.date == dt.date(2024, 3, 3)
    long = parse_published("Posted " * 1000 + "March 3, 2024", FETCHED)
    assert long.date is None and long.problem.startswith("not a date: too long")


@pytest.mark.parametrize("raw", ["3 mal", "Gesehen 3 mal", "EST", "Seen 3 mal"])
def test_a_word_that_is_a_month_only_in_a_rare_language_gives_no_date(raw):
    # "mal" is March in Hawaiian and "EST" a weekday in Gusii: both made up a date for a German count
    # ("seen 3 times") or a timezone.
    parsed = parse_published(raw, FETCHED)
    assert parsed.date is None
    assert parsed.problem.startswith("unparseable date")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3 дня назад", dt.date(2026, 11, 19)),
        ("2024年3月5日", dt.date(2024, 3, 5)),
        ("20 listopada 2024", dt.date(2024, 11, 20)),
        ("20 Kasım 2024", dt.date(2024, 11, 20)),
        ("5 maart 2024", dt.date(2024, 3, 5)),
    ],
)
def test_dates_in_widely_used_languages_are_still_read(raw, expected):
    assert parse_published(raw, FETCHED).date == expected


def test_a_date_cell_of_runaway_text_is_no_date_and_is_not_parsed_for_long():
    # A mis-mapped column: each 100 KB cell cost dateparser ~25 s.
    parsed = parse_published("Posted 3 March 2024 " + "and so on " * 10_000, FETCHED)
    assert parsed.date is None
    assert parsed.problem.startswith("not a date: too long (100019 chars): 'Posted 3 March 2024 and so on and so on")


@pytest.mark.parametrize(("raw", "reason"), [
    ("2026-13-01", "has no month 13"), ("2026/13/01", "has no month 13"), ("2026-00-10", "has no month 0"),
    ("2026-02-30", "has no day 30 in month 2 of 2026"), ("2026-11-31T10:00:00Z", "has no day 31 in month 11"),
    ("2026.13.01", "has no month 13"), ("2026. 13. 01.", "has no month 13"), ("2026\u201013\u201001", "no month 13"),
    ("2026 - 13 - 01", "has no month 13"), ("2025-13", "has no month 13"), ("2025/13", "has no month 13"),
    # what may follow a day (review): a zone offset, a slash, a time
    ("2026-13-01-05:00", "has no month 13"), ("2026/13/10/", "has no month 13"), ("2026-13-10:15", "no month 13"),
    ("2026-02-30-05:00", "has no day 30 in month 2"),
])
def test_an_impossible_year_first_date_is_no_date_with_the_reason_not_a_swapped_day_and_month(raw, reason):
    parsed = parse_published(raw, FETCHED)
    assert parsed.date is None
    assert parsed.problem.startswith("impossible date") and reason in parsed.problem


@pytest.mark.parametrize(("raw", "expected"), [("2024-02-29", dt.date(2024, 2, 29)), ("2026-1-5", dt.date(2026, 1, 5)),
                                               ("2026. 11. 20.", dt.date(2026, 11, 20)),
                                               ("2025-11", dt.date(2025, 11, 1))])
def test_a_possible_year_first_date_is_still_read(raw, expected):
    assert parse_published(raw, FETCHED).date == expected


def test_an_impossible_date_behind_a_label_gives_its_reason():
    assert "has no month 13" in parse_published("Posted 2026-13-01", FETCHED).problem


@pytest.mark.parametrize(("raw", "expected"), [("964982703", dt.date(2000, 7, 30)),
                                               ("1306463578", dt.date(2011, 5, 27)),
                                               ("964982703000", dt.date(2000, 7, 30))])
def test_unix_times_before_2001_with_nine_digits_are_dates_too(raw, expected):
    # MovieLens' older ratings: "964982703" was an unparseable date (dumps QA).
    assert parse_published(raw, FETCHED).date == expected


@pytest.mark.parametrize("raw", ["#N/A", "N.A.", "n.d.", "k.A.", "s.d.", "o.J.", "-1", "-5", "+1", "-2026", "'26",
                                 "7.5/10", "1e9"])
def test_a_placeholder_or_a_number_in_the_date_column_is_no_date(raw: str) -> None:
    # dateparser made each of these a date: -1 was 1 January, 7.5/10 5 July 2010, #N/A the day before the fetch.
    parsed = parse_published(raw, FETCHED)
    assert parsed.date is None and parsed.problem.startswith("not a date")


@pytest.mark.parametrize("raw", ["1970-01-01", "1970-01-01T00:00:00Z", "0000000000", "1900-01-01", "1899-12-30",
                                 "01/01/1970", "Thu, 01 Jan 1970 00:00:00 GMT"])
def test_a_zero_day_is_a_placeholder_not_a_date(raw: str) -> None:
    parsed = parse_published(raw, FETCHED)
    assert parsed.date is None and parsed.problem.startswith("placeholder date")


def test_a_zero_day_written_in_words_is_a_date() -> None:
    assert parse_published("January 1, 1970", FETCHED).date == dt.date(1970, 1, 1)


@pytest.mark.parametrize("raw", ["964982703.0", "964982703", "9.64982703e+08"])
def test_unix_seconds_written_as_a_float_are_a_date(raw: str) -> None:
    assert parse_published(raw, FETCHED).date == dt.date(2000, 7, 30)


def test_unix_seconds_in_scientific_notation_are_a_date() -> None:
    assert parse_published("1.7957376e+09", FETCHED).date == dt.date(2026, 11, 27)
