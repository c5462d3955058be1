"""Two runs on one data folder: a batch another crawl is still writing is not loaded, and a source another
run is crawling is not crawled twice (its job state is not taken for a crash's)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from filelock import FileLock

from crawlers.landing import being_written, run_paths
from flows.crawl import run_crawl
from flows.errors import ReviewsError
from flows.incremental import RUNNING_MARKER, open_job
from flows.load import landing_batches

SLOW = {"DOWNLOAD_DELAY": 0.05, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}


def test_a_batch_whose_crawl_holds_its_lock_is_not_pending_until_the_crawl_lets_go(tmp_path: Path) -> None:
    paths = run_paths(tmp_path, "site", "20261126T100000Z")
    paths["items"].parent.mkdir(parents=True)
    paths["items"].write_text(json.dumps({"source": "site"}) + "\n", encoding="utf-8")
    lock = FileLock(paths["lock"])
    lock.acquire()
    try:
        assert being_written(paths["lock"])
        assert landing_batches(tmp_path) == []
    finally:
        lock.release()
    assert [batch.run_id for batch in landing_batches(tmp_path)] == ["20261126T100000Z"]  # a crawl that died


def test_a_crawl_holds_its_batch_lock_while_it_runs_and_removes_it_when_done(small_demo, tmp_path: Path) -> None:
    seen: list[bool] = []
    crawl = threading.Thread(target=lambda: run_crawl("schema_org", [small_demo.url], source="demo", data=tmp_path,
                                                       settings=SLOW, show_progress=False))
    crawl.start()
    deadline = time.monotonic() + 60
    while not seen and time.monotonic() < deadline:
        for items in (tmp_path / "raw" / "demo").glob("*.jsonl") if (tmp_path / "raw" / "demo").exists() else []:
            if items.stat().st_size:
                seen.append(being_written(items.with_suffix(".lock")))
                seen.append(landing_batches(tmp_path) == [])
        time.sleep(0.05)
    crawl.join(timeout=300)
    assert seen == [True, True]  # items landed, and the run was not offered for loading while it crawled
    assert not list((tmp_path / "raw" / "demo").glob("*.lock"))
    assert len(landing_batches(tmp_path)) == 1


def test_a_source_another_live_run_is_crawling_is_refused_and_its_job_state_kept(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        job = tmp_path / "jobs" / "site"
        job.mkdir(parents=True)
        (job / "requests.seen").write_text("x", encoding="utf-8")
        (job / RUNNING_MARKER).write_text(f"{other.pid} {other.pid}", encoding="utf-8")
        with pytest.raises(ReviewsError, match=rf"site is being crawled by another run \(process {other.pid}\)"):
            open_job(job)
        assert (job / "requests.seen").exists()
    finally:
        other.kill()
        other.wait()
    assert open_job(job) == "discarded after a crash"  # the same marker, its processes gone


def test_a_zombie_crawl_child_is_a_dead_one(tmp_path: Path) -> None:
    # Killed with its parent, a crawl child nobody reaps stays a zombie: its job state is a crash's.
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "Z" not in Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1]:
        time.sleep(0.05)  # exited, not yet waited for
    job = tmp_path / "jobs" / "site"
    job.mkdir(parents=True)
    (job / RUNNING_MARKER).write_text(f"999999999 {zombie.pid}", encoding="utf-8")
    try:
        assert open_job(job) == "discarded after a crash"
    finally:
        zombie.wait()


def test_no_batch_after_one_still_being_written_is_pending_so_batches_load_in_crawl_order(tmp_path: Path) -> None:
    # A later batch of another source loaded first would take the earlier one's reviews for its copies.
    runs = [("orig", "20261126T100000Z"), ("mirror", "20261126T110000Z")]
    for source, run_id in runs:
        items = run_paths(tmp_path, source, run_id)["items"]
        items.parent.mkdir(parents=True, exist_ok=True)
        items.write_text(json.dumps({"source": source}) + "\n", encoding="utf-8")
    lock = FileLock(run_paths(tmp_path, *runs[0])["lock"])
    with lock:
        assert landing_batches(tmp_path) == []
    assert [batch.source for batch in landing_batches(tmp_path)] == ["orig", "mirror"]
