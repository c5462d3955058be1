"""`reviews prune`: the files of old loaded runs go, everything a run or a load still needs stays."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from filelock import FileLock
from typer.testing import CliRunner

from crawlers.landing import run_paths
from flows.cli import app
from flows.load import Batch, load, normalize
from flows.prune import parse_duration
from tests.flows.test_cli import _held_by_another_process
from tests.flows.test_normalize_batch import item
from warehouse.db import open_writer, warehouse_path

runner = CliRunner()
OLD, RECENT = 70, 20  # days ago, either side of the 8w cutoff the tests prune with


def land(root: Path, source: str, days_ago: float, body: str = "A tender and wonderful film about love.") -> Batch:
    """A complete run as a crawl leaves it: items, rejects, stats and crawl log, its run id `days_ago` old."""
    run_id = (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y%m%dT%H%M%S%fZ")
    paths = run_paths(root, source, run_id)
    paths["items"].parent.mkdir(parents=True, exist_ok=True)
    paths["items"].write_text(json.dumps(item(source=source, run_id=run_id, body=body)) + "\n", encoding="utf-8")
    paths["rejects"].write_text(json.dumps({"reason": "no film", "item": item(film_title=None)}) + "\n",
                                encoding="utf-8")
    paths["stats"].write_text(json.dumps({"spider": "schema_org", "finish_reason": "finished", "pages": 1}),
                              encoding="utf-8")
    log = log_path(root, source, run_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("INFO: Spider closed (finished)\n", encoding="utf-8")
    return Batch(source, run_id, paths["items"])


def log_path(root: Path, source: str, run_id: str) -> Path:
    return root / "logs" / source / f"{run_id}.log"


def files_of(root: Path, batch: Batch) -> list[Path]:
    return [batch.items, batch.rejects, batch.stats, log_path(root, batch.source, batch.run_id)]


def load_runs(root: Path, *batches: Batch) -> None:
    with open_writer(warehouse_path(root)) as conn:
        for batch in batches:
            load(conn, batch, normalize(conn, batch))


def prune(root: Path, *args: str):
    return runner.invoke(app, ["prune", "--older-than", "8w", "--data-dir", str(root), *args])


def test_an_old_loaded_run_is_removed_with_its_rejects_stats_log_and_leftover_lock(tmp_path: Path) -> None:
    old = land(tmp_path, "demo", OLD)
    load_runs(tmp_path, old)
    lock = run_paths(tmp_path, "demo", old.run_id)["lock"]
    lock.touch()  # a killed crawl's lock, free
    result = prune(tmp_path)
    assert result.exit_code == 0, result.output
    assert [p for p in [*files_of(tmp_path, old), lock] if p.exists()] == []
    assert result.stdout.startswith("removed 1 loaded run started before ")
    assert ": 5 files, " in result.stdout and "  demo: 1 run\n" in result.stdout
    assert result.stderr == ""


def test_state_jobs_locks_httpcache_prefect_and_the_warehouse_are_left_alone(tmp_path: Path) -> None:
    old = land(tmp_path, "demo", OLD)
    load_runs(tmp_path, old)
    kept = [tmp_path / name for name in ("state/demo.json", "state/demo.known.txt", "jobs/demo/requests.seen",
                                         "locks/demo.lock", "httpcache/demo/ab/cd/response_body",
                                         ".prefect/prefect.db", ".writer.lock", "reports/2026-W47.md")]
    for path in kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    assert prune(tmp_path).exit_code == 0
    assert not old.items.exists()
    assert [p for p in [*kept, warehouse_path(tmp_path)] if not p.exists()] == []


def test_a_pending_run_is_kept_however_old(tmp_path: Path) -> None:
    loaded, pending = land(tmp_path, "demo", OLD + 1), land(tmp_path, "demo", OLD)
    load_runs(tmp_path, loaded)
    result = prune(tmp_path)
    assert result.exit_code == 0, result.output
    assert not loaded.items.exists()
    assert all(p.exists() for p in files_of(tmp_path, pending))


def test_an_old_log_of_a_crawl_that_landed_nothing_is_removed_and_a_recent_one_kept(tmp_path: Path) -> None:
    # A crawl killed before it landed an item leaves only its log, which no load records (ops QA).
    loaded = land(tmp_path, "demo", OLD + 1)
    load_runs(tmp_path, loaded)
    lone = {age: log_path(tmp_path, "demo", (datetime.now(UTC) - timedelta(days=age)).strftime("%Y%m%dT%H%M%S%fZ"))
            for age in (OLD, RECENT)}
    for log in lone.values():
        log.write_text("INFO: killed\n", encoding="utf-8")
    result = prune(tmp_path)
    assert result.exit_code == 0, result.output
    assert not lone[OLD].exists() and lone[RECENT].exists()
    assert "removed 1 loaded run and 1 log of crawls that landed nothing " in result.stdout


def test_a_loaded_run_newer_than_the_cutoff_is_kept(tmp_path: Path) -> None:
    old, recent = land(tmp_path, "demo", OLD), land(tmp_path, "demo", RECENT)
    load_runs(tmp_path, old, recent)
    result = prune(tmp_path)
    assert result.exit_code == 0, result.output
    assert not old.items.exists()
    assert all(p.exists() for p in files_of(tmp_path, recent))
    assert "removed 1 loaded run " in result.stdout


def test_a_loaded_run_whose_lock_a_crawl_holds_is_kept_until_the_crawl_lets_go(tmp_path: Path) -> None:
    old = land(tmp_path, "demo", OLD)
    load_runs(tmp_path, old)
    lock_path = run_paths(tmp_path, "demo", old.run_id)["lock"]
    lock = FileLock(lock_path)
    lock.acquire()
    try:
        held = prune(tmp_path)
    finally:
        lock.release()
    assert held.exit_code == 0, held.output
    assert all(p.exists() for p in [*files_of(tmp_path, old), lock_path])
    assert held.stdout.startswith("nothing to prune")
    assert held.stderr.startswith("warning: kept 1 loaded run a crawl is still writing")
    assert str(old.items) in held.stderr
    assert prune(tmp_path).exit_code == 0
    assert [p for p in [*files_of(tmp_path, old), lock_path] if p.exists()] == []


def test_a_loaded_run_whose_landing_file_grew_after_its_load_is_kept_with_a_warning(tmp_path: Path) -> None:
    grown, intact = land(tmp_path, "demo", OLD), land(tmp_path, "feed", OLD)
    load_runs(tmp_path, grown, intact)
    with grown.items.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(item(source_review_id="r2")) + "\n")
    result = prune(tmp_path)
    assert result.exit_code == 0, result.output
    assert all(p.exists() for p in files_of(tmp_path, grown))
    assert not intact.items.exists()
    assert "  feed: 1 run" in result.stdout and "demo" not in result.stdout
    assert result.stderr.startswith("warning: kept 1 loaded run whose landing file is not the one loaded")
    assert str(grown.items) in result.stderr


def test_a_dry_run_removes_nothing_and_reports_what_the_prune_then_removes(tmp_path: Path) -> None:
    old, recent = land(tmp_path, "demo", OLD), land(tmp_path, "demo", RECENT)
    load_runs(tmp_path, old, recent)
    before = sorted((p, p.stat().st_size) for p in tmp_path.rglob("*") if p.is_file())
    dry = prune(tmp_path, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert sorted((p, p.stat().st_size) for p in tmp_path.rglob("*") if p.is_file()) == before
    assert dry.stdout.startswith("would remove 1 loaded run started before ")
    real = prune(tmp_path)
    assert real.stdout == dry.stdout.replace("would remove", "removed", 1)
    assert not old.items.exists()


def test_the_runs_per_source_files_and_bytes_removed_are_reported(tmp_path: Path) -> None:
    runs = [land(tmp_path, "demo", OLD + 2, body="Long. " * 200), land(tmp_path, "demo", OLD + 1),
            land(tmp_path, "feed", OLD)]
    load_runs(tmp_path, *runs)
    removed = [p for run in runs for p in files_of(tmp_path, run)]
    freed = sum(p.stat().st_size for p in removed)
    assert freed > 1000
    result = prune(tmp_path)
    assert result.exit_code == 0, result.output
    first, *per_source = result.stdout.splitlines()
    assert first.startswith("removed 3 loaded runs started before ")
    assert first.endswith(f": 12 files, {freed / 1000:.1f} kB ({freed:,} bytes)")
    assert per_source == ["  demo: 2 runs", "  feed: 1 run"]
    assert not any(p.exists() for p in removed)


def test_quiet_prints_nothing_when_all_is_well(tmp_path: Path) -> None:
    old = land(tmp_path, "demo", OLD)
    load_runs(tmp_path, old)
    result = prune(tmp_path, "--quiet")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert not old.items.exists()


def test_without_a_warehouse_nothing_is_loaded_so_nothing_is_pruned(tmp_path: Path) -> None:
    pending = land(tmp_path, "demo", OLD)
    result = prune(tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"nothing to prune: no warehouse at {warehouse_path(tmp_path)}, so no run is loaded yet\n"
    assert all(p.exists() for p in files_of(tmp_path, pending))
    assert not warehouse_path(tmp_path).exists()


def test_a_prune_while_a_run_writes_the_warehouse_is_one_error_line_and_removes_nothing(tmp_path: Path) -> None:
    old = land(tmp_path, "demo", OLD)
    load_runs(tmp_path, old)
    with _held_by_another_process(warehouse_path(tmp_path)):
        result = prune(tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the warehouse") and len(result.stderr.splitlines()) == 1
    assert all(p.exists() for p in files_of(tmp_path, old))


@pytest.mark.parametrize("duration", ["8", "w", "8 w", "8W", "1.5w", "-3d", "0d", "0w", "8h", "2m", "8weeks",
                                      "٣d", "", "999999w", "99999999999w"])
def test_a_duration_that_is_not_whole_days_or_weeks_is_refused_with_one_error_line(tmp_path: Path,
                                                                                   duration: str) -> None:
    pending = land(tmp_path, "demo", OLD)
    result = runner.invoke(app, ["prune", "--older-than", duration, "--data-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: --older-than ") and len(result.stderr.splitlines()) == 1
    assert pending.items.exists()


def test_older_than_must_be_given(tmp_path: Path) -> None:
    result = runner.invoke(app, ["prune", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "--older-than" in result.stderr


@pytest.mark.parametrize(("duration", "days"), [("1d", 1), ("30d", 30), ("8w", 56), ("52w", 364)])
def test_durations_are_whole_days_or_weeks(duration: str, days: int) -> None:
    assert parse_duration(duration) == timedelta(days=days)


def test_ctrl_c_during_a_prune_is_one_line_and_exit_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.prune

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(flows.prune, "prune_landing", interrupted)
    result = runner.invoke(app, ["prune", "--older-than", "8w", "--data-dir", str(tmp_path)])
    assert result.exit_code == 130
    assert result.stderr.strip() == "stopped: runs not yet pruned stay; run it again to finish"


def test_files_that_could_not_be_removed_are_not_called_nothing_to_prune() -> None:
    # A read-only folder printed "nothing to prune: …" and then "error: could not remove 2 files".
    from flows.prune import PruneResult

    result = PruneResult(cutoff=datetime(2026, 11, 1), dry_run=False, warehouse=Path("reviews.duckdb"),
                         unremoved=["raw/demo/r1.jsonl: Read-only file system", "raw/demo/r1.stats.json: Read-only"])
    assert result.summary() == []
    assert result.failure().startswith("could not remove 2 files: raw/demo/r1.jsonl")
