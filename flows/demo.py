"""`reviews demo`: the whole pipeline on the bundled demo site, checked against its ground truth.

Serves the seeded demo site on 127.0.0.1 (no internet), crawls it with both spiders, loads
the warehouse, builds the marts, and prints what was landed and loaded next to what the site
published, so a new user sees in one command that the numbers can be trusted.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

DEMO_SEED = 7


def landed_ids(path: Path) -> Counter[str]:
    ids: Counter[str] = Counter()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            ids[json.loads(line).get("source_review_id")] += 1
    return ids


def truth_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def compare_landing(truth: list[dict[str, Any]], landed: Counter[str]) -> dict[str, int]:
    published = {row["identifier"] for row in truth}
    return {
        "published": len(published),
        "landed": sum(landed.values()),
        "matched": len(published & set(landed)),
        "missing": len(published - set(landed)),
        "unexpected": len(set(landed) - published),
        "landed_twice": sum(1 for count in landed.values() if count > 1),
    }


def _counts_table(comparison: dict[str, int], crawls: list[dict[str, Any]]) -> Table:
    table = Table(title="Demo crawl against the ground truth")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for crawl in crawls:
        table.add_row(f"{crawl['source']}: pages / reviews landed / rejected",
                      f"{crawl['pages']} / {crawl['landed']} / {crawl['rejected']}")
    for key, value in comparison.items():
        table.add_row(f"schema.org crawl: {key.replace('_', ' ')}", str(value))
    return table


def latest_week(database: Path) -> str | None:
    from flows.report import latest_week_with_reviews
    from warehouse.db import connect

    with connect(database, read_only=True) as conn:
        return latest_week_with_reviews(conn)


def run_demo(data: str | Path | None, films: int = 40, reviews_per_film: int = 75, quiet: bool = False,
             console: Console | None = None) -> bool:
    """Run the demo; True when every published review landed exactly once."""
    from flows.settings import configure

    root = configure(data, quiet=True)
    console = console or Console()
    from flows.crawl import signalled
    from flows.demosite import DemoSite, serve_in_thread, write_truth
    from flows.pipeline import SourceSpec, outcome, pipeline
    from flows.prefect_server import start_temporary_server
    from flows.report.flow import weekly_report
    from flows.summary import print_summary

    site = DemoSite(films=films, reviews_per_film=reviews_per_film, seed=DEMO_SEED)
    truth_path = root / "demo" / "truth.jsonl"
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    write_truth(site, truth_path)
    server = serve_in_thread(site, host="127.0.0.1", port=0)
    try:
        console.print(f"demo site serving at {server.url} ({films} films, {films * reviews_per_film} reviews)")
        sources = [SourceSpec("schema_org", [server.url], "demo"),
                   SourceSpec("feed", [f"{server.url}feed.xml"], "demo-feed")]
        signalled.clear()  # a stop of an earlier run in this process is not this one's
        start_temporary_server()
        result = outcome(pipeline(sources, str(root), show_progress=not quiet, return_state=True))
    finally:
        server.shutdown()
    demo_run = next(c for c in result.crawls if c["source"] == "demo")
    landed = landed_ids(root / "raw" / "demo" / f"{demo_run['run_id']}.jsonl")
    comparison = compare_landing(truth_rows(truth_path), landed)
    console.print(_counts_table(comparison, result.crawls))
    print_summary(Path(result.warehouse), console, result.loads)
    report = weekly_report(str(root), latest_week(Path(result.warehouse)), str(root / "reports"))
    console.print(f"warehouse: {result.warehouse}\nground truth: {truth_path}\n"
                  f"weekly report ({report['week']}): {report['html']}\n  and {report['markdown']}")
    return comparison["missing"] == 0 and comparison["unexpected"] == 0 and comparison["landed_twice"] == 0
