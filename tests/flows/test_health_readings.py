"""Health sees ratings and dates the normalizer can no longer read, not only fields the crawl stopped filling: a
site whose `ratingValue` became "Rating: 4" kept `rating_raw` on every review, lost every score, and was healthy
(site-drift QA)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.load import Batch, load, normalize
from tests.flows.test_normalize_batch import item
from warehouse.db import open_writer

FIELDS = ("film_title", "critic_name", "body", "rating_raw", "published_raw")


def load_run(root: Path, run_id: str, **overrides: str):
    folder = root / "raw" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    batch = Batch("demo", run_id, folder / f"{run_id}.jsonl")
    items = [item(source_review_id=f"r{i}", url=f"https://x/review/{i}/", run_id=run_id, **overrides)
             for i in range(6)]
    batch.items.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    batch.stats.write_text(json.dumps({"spider": "schema_org", "pages": 10, "errors": 0, "finish_reason": "finished",
                                       "field_coverage": dict.fromkeys(FIELDS, 6)}), encoding="utf-8")
    with open_writer(root / "reviews.duckdb") as conn:
        return load(conn, batch, normalize(conn, batch))[1]


@pytest.mark.parametrize(("change", "note"), [
    ({"rating_raw": "Rating: 4"}, "ratings_read on 0% of reviews against a usual 100%"),
    ({"published_raw": "le cinq brumaire"}, "dates_read on 0% of reviews against a usual 100%"),
])
def test_ratings_or_dates_that_became_unreadable_make_the_run_unhealthy(tmp_path: Path, change, note) -> None:
    for run_id in ("run-1", "run-2"):
        assert load_run(tmp_path, run_id).healthy is True
    run = load_run(tmp_path, "run-3", **change)
    assert run.healthy is False and run.health_notes == note
    assert run.field_coverage["rating_raw"] == 6 and run.field_coverage["published_raw"] == 6  # still given


def test_the_readings_are_stored_with_the_runs_field_coverage(tmp_path: Path) -> None:
    run = load_run(tmp_path, "run-1", rating_raw="Rating: 4")
    assert (run.field_coverage["ratings_read"], run.field_coverage["dates_read"]) == (0, 6)
    assert run.healthy is True  # no history: nothing to compare with
