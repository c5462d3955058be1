"""Short printed summaries of a warehouse: loads of this run, top films, critics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from flows.output import visible
from warehouse.db import connect
from warehouse.queries import run_query


def _table(title: str, columns: list[str], rows: list[tuple[Any, ...]]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        # Text, not markup: a title "[/bold] film" raised a MarkupError, "[link=…]" printed a hidden link; and
        # controls shown as escapes, as `reviews sql` shows them.
        table.add_row(*[Text("" if v is None else f"{v:.1f}" if isinstance(v, float) else visible(str(v)))
                        for v in row])
    return table


def _health(load: dict[str, Any]) -> str:
    """How the run was judged (flows/health.py), in a word: its notes are printed apart."""
    return {True: "ok", False: "UNHEALTHY"}.get(load.get("healthy"), "not judged")  # type: ignore[arg-type]


def print_summary(database: Path, console: Console, loads: list[dict[str, Any]] | None = None) -> None:
    if loads:
        # Pages, failed requests and the verdict too: a crawl whose requests mostly failed was "not judged" and
        # looked like any other (crawler QA).
        console.print(_table("Loads", ["source", "run", "pages", "errors", "scraped", "loaded", "duplicates",
                                       "rejected", "health"],
                             [(x["source"], x["run_id"], x.get("pages"), x.get("errors"), x["scraped"], x["loaded"],
                               x["duplicates"], x["rejected"], _health(x)) for x in loads]))
    with connect(database, read_only=True) as conn:
        for name, title in (("top_films", "Top films (Bayesian score)"), ("top_critics", "Most active critics")):
            columns, rows = run_query(conn, name)
            console.print(_table(title, columns, rows))
