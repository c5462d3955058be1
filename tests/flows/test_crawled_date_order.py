"""The order of day and month in a crawled batch's slashed dates: what its own dates show, else the source's
earlier batches'. A site's "05/11/2026" was read as 11 May beside twenty dates of the same batch that could
only be day first, "16/11/2026" to "22/11/2026" (site-drift QA)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from flows.import_dates import MEMORY
from flows.load import Batch, load, normalize
from tests.flows.test_normalize_batch import item
from warehouse.db import open_writer


def load_run(root: Path, run_id: str, dates: list[str]) -> dict[str, date]:
    folder = root / "raw" / "site"
    folder.mkdir(parents=True, exist_ok=True)
    batch = Batch("site", run_id, folder / f"{run_id}.jsonl")
    items = [item(source="site", source_review_id=f"{run_id}-{i}", url=f"https://x/{run_id}/{i}/", run_id=run_id,
                  published_raw=raw, critic_name=f"Critic {run_id} {i}", body=f"A film seen in {run_id}, note {i}.",
                  fetched_at="2026-11-25T10:00:00+00:00") for i, raw in enumerate(dates)]
    batch.items.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    batch.stats.write_text(json.dumps({"spider": "schema_org", "pages": len(dates), "finish_reason": "finished"}),
                           encoding="utf-8")
    with open_writer(root / "reviews.duckdb") as conn:
        load(conn, batch, normalize(conn, batch))
        rows = conn.execute("select published_on from reviews where source_review_id like ? "
                            "order by source_review_id", [f"{run_id}-%"]).fetchall()
    return dict(zip(dates, (row[0] for row in rows), strict=True))


def test_a_crawled_batch_whose_dates_show_day_first_reads_them_all_day_first(tmp_path: Path) -> None:
    read = load_run(tmp_path, "run-1", ["16/11/2026", "05/11/2026", "22/11/2026"])
    assert read["05/11/2026"] == date(2026, 11, 5)
    assert json.loads((tmp_path / "raw" / "site" / MEMORY).read_text(encoding="utf-8"))["date_order"] == "DMY"


def test_a_later_batch_of_ambiguous_dates_keeps_the_sources_order(tmp_path: Path) -> None:
    load_run(tmp_path, "run-1", ["16/11/2026", "05/11/2026"])
    assert load_run(tmp_path, "run-2", ["06/11/2026"])["06/11/2026"] == date(2026, 11, 6)


def test_month_first_dates_stay_month_first(tmp_path: Path) -> None:
    read = load_run(tmp_path, "run-1", ["11/16/2026", "11/05/2026"])
    assert read["11/05/2026"] == date(2026, 11, 5)
    assert load_run(tmp_path, "run-2", ["11/06/2026"])["11/06/2026"] == date(2026, 11, 6)


def test_ambiguous_dates_with_no_past_are_read_month_first_as_before(tmp_path: Path) -> None:
    assert load_run(tmp_path, "run-1", ["05/11/2026"])["05/11/2026"] == date(2026, 5, 11)
    assert not (tmp_path / "raw" / "site" / MEMORY).exists()
