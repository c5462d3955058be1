"""A real DuckDB warehouse in tmp_path, with helpers that insert hand-made rows with defaults."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from warehouse.marts import build_marts

SEEN = datetime(2026, 11, 20, 12, 0)
_INSERTS = {
    "films": "insert into films (film_id, imdb_id, title, year, title_key, first_seen) values (?, ?, ?, ?, ?, ?)",
    "critics": "insert into critics (critic_id, name, name_key, outlet, audience, first_seen) "
               "values (?, ?, ?, ?, ?, ?)",
    "reviews": "insert into reviews (review_id, film_id, critic_id, source, source_review_id, urls, audience, "
               "score, is_positive, score_source, content_hash, published_on, first_seen, last_seen, run_id) "
               "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
}


class Warehouse:
    """Inserts films, critics and reviews with sensible defaults, builds the marts, reads rows back.

    Rows are queued and written in one transaction before anything reads the warehouse: a commit per
    row costs a disk sync each and would make the suite several times slower.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        self._ids = itertools.count(1)
        self._audience: dict[str, str] = {}
        self._films: set[str] = set()
        self._pending: dict[str, list[list[Any]]] = {"films": [], "critics": [], "reviews": []}

    def film(self, film_id: str, title: str | None = None, year: int | None = 2026, imdb_id: str | None = None) -> str:
        title = title or film_id.title()
        self._pending["films"].append([film_id, imdb_id, title, year, title.lower(), SEEN])
        self._films.add(film_id)
        return film_id

    def critic(self, critic_id: str, name: str | None = None, outlet: str | None = "The Daily",
               audience: str = "critic", name_key: str | None = None) -> str:
        name = name or critic_id.title()
        self._pending["critics"].append([critic_id, name, name_key or name.lower(), outlet, audience, SEEN])
        self._audience[critic_id] = audience
        return critic_id

    def review(self, film_id: str, critic_id: str, score: float | None = None, is_positive: bool | None = None,
               score_source: str | None = None, published_on: date | str | None = "2026-11-18",
               source: str = "example", audience: str | None = None) -> str:
        """One review; creates its film and critic on first use. score_source defaults to 'explicit'
        when a score is given; is_positive defaults to score >= 60 like the normalizer sets it."""
        if film_id not in self._films:
            self.film(film_id)
        if critic_id not in self._audience:
            self.critic(critic_id)
        if score is not None:
            score_source = score_source or "explicit"
            if is_positive is None:
                is_positive = score >= 60
        review_id = f"r{next(self._ids)}"
        self._pending["reviews"].append(
            [review_id, film_id, critic_id, source, review_id, [f"https://example.org/{review_id}"],
             audience or self._audience[critic_id], score, is_positive, score_source, int(review_id[1:]),
             published_on, SEEN, SEEN, "run-1"])
        return review_id

    def flush(self) -> None:
        """Write the queued rows in one transaction."""
        if not any(self._pending.values()):
            return
        self.conn.execute("begin transaction")
        for table, rows in self._pending.items():
            if rows:
                self.conn.executemany(_INSERTS[table], rows)
        self.conn.execute("commit")
        self._pending = {table: [] for table in self._pending}

    def set_param(self, name: str, value: float) -> None:
        self.conn.execute("update mart_params set value = ? where name = ?", [value, name])

    def build(self) -> dict[str, int]:
        self.flush()
        return build_marts(self.conn)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        self.flush()
        result = self.conn.execute(sql, params or [])
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def one(self, table: str, **where: Any) -> dict[str, Any]:
        """The single row of a mart matching every column = value given."""
        clause = " and ".join(f"{column} = ?" for column in where) or "true"
        found = self.rows(f"select * from {table} where {clause}", list(where.values()))
        assert len(found) == 1, f"expected one {table} row for {where}, got {found}"
        return found[0]


@pytest.fixture
def wh(conn: duckdb.DuckDBPyConnection) -> Warehouse:
    return Warehouse(conn)
