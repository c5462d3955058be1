"""A crawl's job state after it ends: resumed after a clean stop, discarded after a kill or when nothing is left.

A killed crawl child (SIGKILL, the OOM killer) leaves no stats and a torn Scrapy JOBDIR: its dupefilter holds the
start pages, its queue is lost, so resuming it would crawl nothing and silently lose the rest of the site.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from flows.crawl import run_crawl
from flows.errors import ReviewsError
from flows.incremental import RUNNING_MARKER, close_job, open_job, read_marker, write_marker

SLOW = {"DOWNLOAD_DELAY": 0.05, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}


def scrapy_job(folder: Path, active: object | None) -> None:
    """What Scrapy leaves in a JOBDIR: the dupefilter's fingerprints and, when it closed, its queue state."""
    (folder / "requests.queue").mkdir(parents=True, exist_ok=True)
    (folder / "requests.seen").write_text("0123456789abcdef\n", encoding="utf-8")
    if active is not None:
        (folder / "requests.queue" / "active.json").write_text(json.dumps(active), encoding="utf-8")


def test_a_crawl_that_died_without_stats_leaves_its_job_to_be_discarded(tmp_path: Path) -> None:
    job = tmp_path / "jobs" / "demo"
    open_job(job)
    scrapy_job(job, active=None)  # killed: Scrapy never closed, so it saved no queue
    close_job(job, None)  # run_crawl found no stats file: no finish reason
    assert (job / RUNNING_MARKER).exists()
    assert open_job(job) == "discarded after a crash"
    assert not (job / "requests.seen").exists()


def test_a_gracefully_stopped_crawl_with_requests_queued_resumes(tmp_path: Path) -> None:
    job = tmp_path / "jobs" / "demo"
    open_job(job)
    scrapy_job(job, active={"127.0.0.1-0123": [0]})
    close_job(job, "shutdown")
    assert open_job(job) == "resumed"
    assert (job / "requests.seen").exists()


def orphan_that_closed_itself(tmp_path: Path, finish_reason: str, active: object) -> Path:
    """A job whose run was killed with -9 while its crawl child went on, and then closed by itself:
    its stats written, its RUNNING marker left behind (nobody was there to remove it)."""
    job = tmp_path / "jobs" / "demo"
    open_job(job)
    stats = tmp_path / "raw" / "demo" / "run-1.stats.json"
    stats.parent.mkdir(parents=True)
    write_marker(job, (999_999_998, 999_999_999), stats)
    scrapy_job(job, active=active)
    stats.write_text(json.dumps({"finish_reason": finish_reason}), encoding="utf-8")
    return job


def test_an_orphaned_crawl_that_finished_by_itself_is_no_crash(tmp_path: Path) -> None:
    job = orphan_that_closed_itself(tmp_path, "finished", active={})
    assert open_job(job) == "fresh"  # not "discarded after a crash": nothing was torn, nothing is left
    assert not (job / "requests.seen").exists()
    assert read_marker(job)[0] != [999_999_998, 999_999_999]


def test_an_orphaned_crawl_stopped_by_a_signal_resumes(tmp_path: Path) -> None:
    job = orphan_that_closed_itself(tmp_path, "shutdown", active={"127.0.0.1-0123": [0]})
    assert open_job(job) == "resumed"
    assert (job / "requests.seen").exists()


def test_a_marker_naming_stats_that_were_never_written_is_a_crash(tmp_path: Path) -> None:
    job = tmp_path / "jobs" / "demo"
    open_job(job)
    write_marker(job, (999_999_998, 999_999_999), tmp_path / "raw" / "demo" / "run-1.stats.json")
    scrapy_job(job, active=None)
    assert open_job(job) == "discarded after a crash"


@pytest.mark.parametrize("active", [{}, None], ids=["empty queue", "no queue saved"])
def test_a_stopped_crawl_with_nothing_queued_starts_afresh(tmp_path: Path, active: object | None) -> None:
    job = tmp_path / "jobs" / "demo"
    open_job(job)
    scrapy_job(job, active=active)
    (job / RUNNING_MARKER).unlink()  # as a clean stop, or an older version after a kill, left it
    assert open_job(job) == "discarded: nothing left to resume"
    assert not (job / "requests.seen").exists()


def landed(root: Path) -> int:
    folder = root / "raw" / "demo"
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.jsonl")
               if not p.name.endswith(".rejects.jsonl")) if folder.exists() else 0


def test_killing_the_crawl_child_makes_the_next_run_crawl_afresh(small_demo, tmp_path: Path) -> None:
    failures: list[BaseException] = []

    def first_crawl() -> None:
        try:
            run_crawl("schema_org", [small_demo.url], source="demo", data=tmp_path, settings=SLOW,
                      show_progress=False, resumable=True)
        except ReviewsError as exc:
            failures.append(exc)

    crawling = threading.Thread(target=first_crawl)
    crawling.start()
    deadline = time.monotonic() + 60
    while landed(tmp_path) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert landed(tmp_path) >= 20, "the first crawl landed too little to interrupt"
    _, child = read_marker(tmp_path / "jobs" / "demo")[0]
    os.kill(child, signal.SIGKILL)  # the crawl child only, as the OOM killer would
    crawling.join(timeout=60)
    assert failures and "failed (exit -9)" in str(failures[0])

    again = run_crawl("schema_org", [small_demo.url], source="demo", data=tmp_path, settings=FAST, show_progress=False,
                      resumable=True)
    assert again.stats["job_state"] == "discarded after a crash"
    items = [json.loads(line) for line in again.items_path.read_text(encoding="utf-8").splitlines()]
    assert sorted(item["source_review_id"] for item in items) == sorted(row["identifier"] for row in small_demo.truth)
    assert not (tmp_path / "jobs" / "demo").exists()  # finished: nothing left to resume


def _run_row(conn, run_id: str, started: str, finish_reason: str, resumed: bool) -> None:
    conn.execute("insert into crawl_runs (run_id, source, started, scraped, loaded, updated, duplicates, rejected, "
                 "loaded_at, finish_reason, resumed) values (?, 'site', ?, 0, 0, 0, 0, 0, now(), ?, ?)",
                 [run_id, started, finish_reason, resumed])


def test_a_resumed_run_does_not_move_where_the_next_incremental_crawl_starts(tmp_path):
    # Stopped at 11:00, resumed and finished at 12:00: pages changed after 10:00 may not have been seen.
    from flows.incremental import write_state
    from warehouse.db import connect, migrate

    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    _run_row(conn, "a", "2026-11-20 10:00:00", "finished", False)
    _run_row(conn, "b", "2026-11-21 11:00:00", "shutdown", False)
    _run_row(conn, "c", "2026-11-21 12:00:00", "finished", True)
    state = json.loads(write_state(conn, tmp_path, "site").read_text())
    assert state["since"] == "2026-11-20T10:00:00"


def test_a_run_judged_unhealthy_does_not_move_where_the_next_incremental_crawl_starts(tmp_path):
    # The site was down on the 21st: every request failed, yet the crawl "finished". A page modified on the
    # 20th was then skipped by every later run (from the scheduled-runs QA).
    from flows.incremental import write_state
    from warehouse.db import connect, migrate

    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    _run_row(conn, "a", "2026-11-18 06:00:00", "finished", False)
    _run_row(conn, "b", "2026-11-21 06:00:00", "finished", False)
    conn.execute("update crawl_runs set healthy = false where run_id = 'b'")
    state = json.loads(write_state(conn, tmp_path, "site").read_text())
    assert state["since"] == "2026-11-18T06:00:00"


def _landed_run(root: Path, run_id: str, stats: dict) -> None:
    folder = root / "raw" / "site"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{run_id}.jsonl").write_text("", encoding="utf-8")
    (folder / f"{run_id}.stats.json").write_text(json.dumps(stats), encoding="utf-8")


def test_a_complete_crawl_not_loaded_yet_moves_where_the_next_incremental_crawl_starts(tmp_path):
    # An orphaned crawl finished after its run was killed: its batch waits for this run's loads, after the crawls.
    from flows.incremental import write_state
    from warehouse.db import connect, migrate

    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    _run_row(conn, "a", "2026-11-20 10:00:00", "finished", False)
    _landed_run(tmp_path, "20261122T090000-orphan", {"spider": "schema_org", "started": "2026-11-22T09:00:00",
                                                     "finish_reason": "finished", "errors": 0})
    _landed_run(tmp_path, "20261122T100000-down", {"spider": "schema_org", "started": "2026-11-22T10:00:00",
                                                   "finish_reason": "finished", "errors": 3})
    _landed_run(tmp_path, "20261123T090000-stopped", {"spider": "schema_org", "started": "2026-11-23T09:00:00",
                                                      "finish_reason": "shutdown"})
    _landed_run(tmp_path, "20261124T090000-resumed", {"spider": "schema_org", "started": "2026-11-24T09:00:00",
                                                      "finish_reason": "finished", "job_state": "resumed"})
    state = json.loads(write_state(conn, tmp_path, "site").read_text())
    assert state["since"] == "2026-11-22T09:00:00"


def test_migration_009_marks_runs_stored_as_resumed_by_their_health_note(tmp_path):
    from warehouse.db import connect, migrate, migrations

    conn = connect(tmp_path / "reviews.duckdb")
    conn.execute("create table schema_migrations (version integer, name varchar, applied_at timestamp default now())")
    for version, name, sql in migrations():
        if version < 9:
            conn.execute(sql)
            conn.execute("insert into schema_migrations (version, name) values (?, ?)", [version, name])
    for run_id, note in [("r", "not judged: the crawl resumed a stopped one, so it saw only part of the site"),
                         ("s", "not judged: the crawl was stopped"), ("h", None)]:
        conn.execute("insert into crawl_runs (run_id, source, scraped, loaded, updated, duplicates, rejected, "
                     "loaded_at, health_notes) values (?, 'site', 0, 0, 0, 0, 0, now(), ?)", [run_id, note])
    migrate(conn)
    assert conn.execute("select run_id, resumed from crawl_runs order by run_id").fetchall() == [
        ("h", False), ("r", True), ("s", False)]


def test_the_reviews_of_a_batch_not_loaded_yet_are_known_to_the_next_incremental_crawl(tmp_path):
    # Crash QA: after an orphaned crawl finished alone, the next run's crawl read the whole site again (2,056 pages
    # where 3 do): its known ids came from the warehouse only, before the loads.
    from flows.incremental import write_state
    from warehouse.db import connect, migrate

    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    _landed_run(tmp_path, "20261122T090000-orphan", {"spider": "schema_org", "started": "2026-11-22T09:00:00",
                                                     "finish_reason": "finished", "errors": 0})
    items = tmp_path / "raw" / "site" / "20261122T090000-orphan.jsonl"
    items.write_text('{"source_review_id": "r1"}\nnot json\n{"source_review_id": "r2", "body": "x"}\n{}\n',
                     encoding="utf-8")
    (tmp_path / "raw" / "other").mkdir()
    (tmp_path / "raw" / "other" / "20261122T080000-x.jsonl").write_text('{"source_review_id": "o1"}\n')
    state = json.loads(write_state(conn, tmp_path, "site").read_text())
    assert Path(state["known_ids_path"]).read_text(encoding="utf-8").split("\n") == ["r1", "r2"]
    assert state["known_ids"] == 2
