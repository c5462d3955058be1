"""Short printed summaries of a warehouse: loads of this run, top films, critics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from flows.output import counted, show, visible
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


def _failed_requests(load: dict[str, Any]) -> str | None:
    """A line for a run some of whose requests failed, with how it was judged, or None: a crawl whose requests
    mostly failed was "not judged" and looked like any other in the table (crawler QA)."""
    errors = load.get("errors")
    if not isinstance(errors, int) or errors <= 0:
        return None
    judged = {True: "judged healthy", False: "judged UNHEALTHY"}.get(load.get("healthy"))  # type: ignore[arg-type]
    return (f"{load['source']} run {load['run_id']}: {counted(errors, 'failed request')} "
            f"({counted(load.get('pages') or 0, 'page')} fetched); "
            f"{judged or load.get('health_notes') or 'not judged'}")


def print_summary(database: Path, console: Console, loads: list[dict[str, Any]] | None = None) -> None:
    if loads:
        show(console, _table("Loads", ["source", "run", "scraped", "loaded", "duplicates", "rejected"],
                             [(x["source"], x["run_id"], x["scraped"], x["loaded"], x["duplicates"], x["rejected"])
                              for x in loads]))
        for line in filter(None, map(_failed_requests, loads)):
            console.print(Text(f"failed requests: {visible(line)}"), soft_wrap=True)
    with connect(database, read_only=True) as conn:
        for name, title in (("top_films", "Top films (Bayesian score)"), ("top_critics", "Most active critics")):
            columns, rows = run_query(conn, name)
            show(console, _table(title, columns, rows))
