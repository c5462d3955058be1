"""The crawl runs a weekly report shows for a week, through real imports and loads."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flows.importer import import_file
from flows.load import load, normalize, pending_batches
from flows.report import write_report
from warehouse.db import open_writer, warehouse_path
from warehouse.marts import build_marts


def _import_and_load(dump: Path, root: Path) -> None:
    """`reviews import` without Prefect: land the dump, then normalize and load it as a run does."""
    import_file(dump, "dump", root)
    with open_writer(warehouse_path(root)) as conn:
        for batch in pending_batches(conn, root):
            load(conn, batch, normalize(conn, batch))
        build_marts(conn)


def _dump(path: Path, body: str) -> Path:
    rows = [{"source_review_id": f"r{day}", "film_title": "Her", "film_year": "2013", "critic_name": f"Critic {day}",
             "rating_raw": "4/5", "body": f"{body} {day}", "published_raw": f"2024-05-0{day}"} for day in (6, 7)]
    rows.append({"source_review_id": "r14", "film_title": "Her", "film_year": "2013", "critic_name": "Critic 14",
                 "rating_raw": "3/5", "body": "Another week.", "published_raw": "2024-05-14"})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_a_week_keeps_the_run_that_loaded_its_reviews_after_a_later_run_edits_them(tmp_path: Path) -> None:
    # The later run took the first one's place in the week's crawl health: the report changed after the fact.
    data = tmp_path / "data"
    for name, body in (("v1.jsonl", "Tender and sad."), ("v2.jsonl", "Tender and sad, edited.")):
        _import_and_load(_dump(tmp_path / name, body), data)
    paths = write_report(warehouse_path(data), "2024-W19", tmp_path / "out")
    markdown = paths.markdown.read_text(encoding="utf-8")
    health = markdown[markdown.index("dump: "):]
    assert health.count("dump: 3 scraped") == 2, health  # the first run (3 loaded) and the edit (2 updated)
    assert "dump: 3 scraped, 3 loaded" in health



def test_a_report_names_the_runs_landed_but_not_loaded(tmp_path: Path) -> None:
    # Report-history QA: a run whose load failed left the report looking complete.
    data = tmp_path / "data"
    _import_and_load(_dump(tmp_path / "v1.jsonl", "Tender and sad."), data)
    import_file(_dump(tmp_path / "v2.jsonl", "Tender and sad, edited."), "other", data)  # landed, not loaded
    (run_id,) = [path.name.removesuffix(".jsonl") for path in (data / "raw" / "other").glob("*.jsonl")]
    paths = write_report(warehouse_path(data), "2024-W19", tmp_path / "out")
    assert (f"**Not in these figures:** 1 crawl run landed but not loaded yet (other {run_id}); `reviews status` "
            "lists it, and the next `reviews run` loads it.") in paths.markdown.read_text(encoding="utf-8")
    assert f"<bdi>other</bdi> <bdi>{run_id}</bdi>" in paths.html.read_text(encoding="utf-8")


def test_a_past_week_written_again_says_how_many_of_its_reviews_arrived_since_its_first_report(tmp_path: Path) -> None:
    # Report-history QA: a week holds reviews by publication date, so the same week written again later had other
    # figures than the report sent, and nothing said why. Its first report says nothing of the kind.
    data, out = tmp_path / "data", tmp_path / "out"
    _import_and_load(_dump(tmp_path / "v1.jsonl", "Tender and sad."), data)
    first = write_report(warehouse_path(data), "2024-W19", out).markdown.read_text(encoding="utf-8")
    assert "**2** new reviews\n" in first and "first report" not in first
    late = tmp_path / "late.jsonl"
    late.write_text(json.dumps({"source_review_id": "r8", "film_title": "Her", "film_year": "2013",
                                "critic_name": "Critic 8", "rating_raw": "5/5", "body": "Late but sure.",
                                "published_raw": "2024-05-08"}) + "\n", encoding="utf-8")
    _import_and_load(late, data)
    again = write_report(warehouse_path(data), "2024-W19", out)
    markdown = again.markdown.read_text(encoding="utf-8")
    assert re.search(r"\*\*3\*\* new reviews, 1 of them first seen after this week's first report "
                     r"\(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)", markdown), markdown[:400]
    assert "1 of them first seen after this week's first report" in again.html.read_text(encoding="utf-8")
