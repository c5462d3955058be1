"""What the report shows, as plain data: the report SQL files run for one week into a ReportData.

Templates and charts read only ReportData, so tests can check the numbers apart from the layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

import duckdb

from flows.report.figures import by_printed_difference
from flows.report.weeks import Week
from warehouse.db import WarehouseError
from warehouse.queries import run_sql

_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")
QUOTES = 3
QUOTE_CHARS = 180
MOVERS = 8
CRITICS_VS_USERS = 5

Row = dict[str, Any]


def report_sql(name: str) -> str:
    path = resources.files("warehouse").joinpath("sql", "report", f"{name}.sql")
    if not path.is_file():
        raise WarehouseError(f"no report query named {name!r}")
    return path.read_text(encoding="utf-8")


def report_query(conn: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]
                 ) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run warehouse/sql/report/<name>.sql with the named parameters it mentions.

    DuckDB rejects named parameters a query does not use, so each file gets only its own.
    """
    sql = report_sql(name)
    wanted = set(_PARAM.findall(_LINE_COMMENT.sub("", sql)))
    missing = wanted - set(params)
    if missing:
        raise WarehouseError(f"report query {name} needs parameters {sorted(missing)}")
    return run_sql(conn, sql, {key: value for key, value in params.items() if key in wanted})


def report_rows(conn: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> list[Row]:
    columns, rows = report_query(conn, name, params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def film_parts(row: dict[str, Any]) -> tuple[str, Any]:
    """(title, year) of a film row; year None when there is none or the title already ends with it
    (some sites put the year in the title). The title is scraped, the year is not."""
    title = str(row.get("title") or "untitled")
    year = row.get("year")
    return (title, year) if year and not title.endswith(f"({year})") else (title, None)


def film(row: dict[str, Any]) -> str:
    """'Title (year)' as plain text; the template escapes it."""
    title, year = film_parts(row)
    return f"{title} ({year})" if year else title


def person_parts(row: dict[str, Any]) -> tuple[str, str | None]:
    """(name, outlet) of a critic row, both scraped; outlet None when there is none."""
    outlet = row.get("outlet")
    return str(row.get("name") or "anonymous"), str(outlet) if outlet else None


def person(row: dict[str, Any]) -> str:
    name, outlet = person_parts(row)
    return f"{name}, {outlet}" if outlet else name


@dataclass
class ReportData:
    """Everything one week's report renders; rows are dicts keyed by the SQL column names."""

    week: str
    week_start: date
    week_end: date  # the Sunday, inclusive
    numbers: Row
    crawl_runs: list[Row] = field(default_factory=list)
    unloaded_runs: list[Row] = field(default_factory=list)  # landed, not loaded: in no figure yet
    first_written: datetime | None = None  # when this week's first complete report was written
    arrived_since: int = 0  # the week's reviews first seen after that
    top_films: list[Row] = field(default_factory=list)
    movers: list[Row] = field(default_factory=list)
    new_films: list[Row] = field(default_factory=list)
    divisive_films: list[Row] = field(default_factory=list)
    active_critics: list[Row] = field(default_factory=list)
    harshest_critics: list[Row] = field(default_factory=list)
    kindest_critics: list[Row] = field(default_factory=list)
    critics_vs_users: list[Row] = field(default_factory=list)
    quotes: list[Row] = field(default_factory=list)
    score_distribution: list[Row] = field(default_factory=list)
    reviews_per_day: list[Row] = field(default_factory=list)
    min_reviews_top: int = 3

    @property
    def empty(self) -> bool:
        return not self.numbers.get("reviews")

    @property
    def top_film(self) -> Row | None:
        return self.top_films[0] if self.top_films else None


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """A pull quote: whitespace collapsed, whole sentences while they fit, else cut at a word, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    sentences = re.split(r"(?<=[.!?])\s+", text)
    kept = ""
    for sentence in sentences:
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept + " …"
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(",;:-–— ") + "…"


def pick_quotes(rows: list[Row], count: int = QUOTES) -> list[Row]:
    """A few quotes from distinct reviewers, skipping repeated text (syndicated or pasted reviews)."""
    seen_text: set[str] = set()
    seen_people: set[tuple[Any, Any]] = set()
    picked: list[Row] = []
    for row in rows:
        quote = shorten(row["body"])
        person = (row["name"], row["outlet"])
        if quote.lower() in seen_text or person in seen_people:
            continue
        seen_text.add(quote.lower())
        seen_people.add(person)
        picked.append({**row, "quote": quote})
        if len(picked) == count:
            break
    return picked


def load_report_data(conn: duckdb.DuckDBPyConnection, week: Week, first_written: datetime | None = None
                     ) -> ReportData:
    params: dict[str, Any] = {"week_start": week.start}
    numbers = report_rows(conn, "week_numbers", params)[0]
    min_top = report_rows(conn, "min_reviews_top", {})[0]["min_reviews_top"]
    data = ReportData(week=week.label, week_start=week.start, week_end=week.start + timedelta(days=6),
                      numbers=numbers, min_reviews_top=int(min_top), first_written=first_written)
    if first_written is not None:
        since = first_written.astimezone(UTC).replace(tzinfo=None)  # first_seen is a UTC time
        data.arrived_since = report_rows(conn, "arrived_since", {**params, "since": since})[0]["arrived_since"]
    data.score_distribution = report_rows(conn, "score_distribution", params)
    data.reviews_per_day = report_rows(conn, "reviews_per_day", params)
    data.crawl_runs = report_rows(conn, "crawl_runs", params)  # an empty week may still have a run that failed
    if data.empty:
        return data
    data.top_films = report_rows(conn, "top_films", params)
    # Ordered, and cut, by what the report prints (flows/report/figures.py).
    data.movers = by_printed_difference(report_rows(conn, "movers", params), "cumulative_bayes_score",
                                        "previous_bayes_score", MOVERS, keep_zero=False)
    data.new_films = report_rows(conn, "new_films", params)
    data.divisive_films = report_rows(conn, "divisive_films", params)
    data.active_critics = report_rows(conn, "active_critics", params)
    extremes = report_rows(conn, "critic_extremes", params)
    data.harshest_critics = [row for row in extremes if row["side"] == "harshest"]
    data.kindest_critics = [row for row in extremes if row["side"] == "kindest"]
    # A gap printed as 0.0 is no disagreement (marts QA: five films listed at "65.7 | 65.7 | 0.0").
    data.critics_vs_users = by_printed_difference(report_rows(conn, "critics_vs_users", params),
                                                  "critic_mean_score", "user_mean_score", CRITICS_VS_USERS,
                                                  keep_zero=False)
    if data.top_film:
        candidates = report_rows(conn, "pull_quotes", {**params, "film_id": data.top_film["film_id"]})
        data.quotes = pick_quotes(candidates)
    return data
