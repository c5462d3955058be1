"""A landing folder a user tidied by hand: what the load does with what is left (ops QA)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.load import Batch, load, normalize
from warehouse.db import WarehouseError, open_writer


def batch(root: Path, landed: int) -> Batch:
    folder = root / "raw" / "demo"
    folder.mkdir(parents=True)
    found = Batch("demo", "20261128T100000Z", folder / "20261128T100000Z.jsonl")
    found.stats.write_text(json.dumps({"spider": "schema_org", "pages": 12, "finish_reason": "finished",
                                       "landed": landed, "scraped": landed}), encoding="utf-8")
    return found


def test_a_deleted_landing_file_whose_stats_say_reviews_landed_is_an_error_not_an_empty_crawl(tmp_path: Path) -> None:
    missing = batch(tmp_path, landed=60)
    with open_writer(tmp_path / "reviews.duckdb") as conn, pytest.raises(WarehouseError) as raised:
        normalize(conn, missing)
    assert str(raised.value) == (f"{missing.items} is missing, though its stats file says 60 reviews landed there: "
                                 f"restore it, or delete {missing.stats.name} beside it to give the run up")
    assert not missing.items.exists()



def test_a_landing_file_cut_short_after_its_crawl_is_an_error_until_restored_or_given_up(tmp_path: Path) -> None:
    # Recovery QA: a file of 50 landed reviews cut mid-line at 24 loaded as a whole batch; its missing half was lost
    # for good (the next crawl knows those reviews), and restoring the file later loaded nothing.
    from tests.flows.test_normalize_batch import item

    torn = batch(tmp_path, landed=3)
    lines = [json.dumps(item(source_review_id=f"r{n}", url=f"https://x/review/{n}/", critic_name=f"Critic {n}"))
             for n in range(3)]
    torn.items.write_text("\n".join(lines)[:-20], encoding="utf-8")  # the third line cut
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        with pytest.raises(WarehouseError) as raised:
            normalize(conn, torn)
        assert str(raised.value) == (f"{torn.items} holds 2 whole lines, though its stats file says 3 reviews landed "
                                     f"there: it was cut short; restore it, or delete {torn.stats.name} beside it "
                                     "to load what is left")
        torn.items.write_text("\n".join(lines) + "\n", encoding="utf-8")  # restored
        result, _ = load(conn, torn, normalize(conn, torn))
        assert (result.scraped, result.loaded) == (3, 3)

def test_a_crawl_that_landed_nothing_still_loads_as_an_empty_run(tmp_path: Path) -> None:
    empty = batch(tmp_path, landed=0)
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        load(conn, empty, normalize(conn, empty))
        assert conn.execute("select run_id, scraped, loaded from crawl_runs").fetchall() == [(empty.run_id, 0, 0)]


def test_a_crawl_whose_landing_file_was_deleted_is_no_yardstick_for_the_next_incremental_crawl(tmp_path: Path) -> None:
    # Left pending by the error above, its start became `since`: later crawls skipped what it had covered.
    from flows.incremental import write_state

    missing = batch(tmp_path, landed=60)
    stats = json.loads(missing.stats.read_text(encoding="utf-8"))
    missing.stats.write_text(json.dumps({**stats, "errors": 0, "started": "2026-11-20T10:00:00"}), encoding="utf-8")
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        state = json.loads(write_state(conn, tmp_path, "demo").read_text(encoding="utf-8"))
    assert state["since"] is None
