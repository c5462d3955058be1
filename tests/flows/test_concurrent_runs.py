"""Two runs on one data folder: a batch another crawl is still writing is not loaded, and a source another
run is crawling is not crawled twice (its job state is not taken for a crash's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from filelock import FileLock
from rich.console import Console

from crawlers.landing import being_written, run_paths
from flows.crawl import run_crawl
from flows.errors import SourceBusy
from flows.incremental import RUNNING_MARKER, crawl_lock, open_job, read_marker
from flows.load import landing_batches
from warehouse.db import connect, migrate

# Slow enough to be seen crawling, short enough not to crawl the whole site.
SLOW = {"DOWNLOAD_DELAY": 0.05, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "CLOSESPIDER_PAGECOUNT": 40}


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


def test_a_complete_batch_waiting_behind_a_crawl_in_progress_is_named_not_silent(tmp_path: Path) -> None:
    # Its run exited 0 saying nothing, and `reviews status` counted 0 batches pending.
    from flows.load import held_notes
    from flows.output import print_status
    from flows.status import status

    crawling = run_paths(tmp_path, "demo", "20261126T100000Z")
    done = run_paths(tmp_path, "demo-feed", "20261126T100500Z")
    for paths in (crawling, done):
        paths["items"].parent.mkdir(parents=True, exist_ok=True)
        paths["items"].write_text(json.dumps({"source": "x"}) + "\n", encoding="utf-8")
    warehouse = connect(tmp_path / "reviews.duckdb")
    migrate(warehouse)
    warehouse.close()
    lock = FileLock(crawling["lock"])
    lock.acquire()
    try:
        expected = ("run 20261126T100500Z of demo-feed is not loaded yet: it waits for run 20261126T100000Z of demo, "
                    "still being written by another process (a crawl or an import), and loads with the first run "
                    "after that one")
        assert held_notes(tmp_path) == [expected]
        console = Console(record=True, width=400)
        print_status(status(tmp_path), console)
        shown = console.export_text()
        assert f"waiting: {expected}" in shown
        assert "landing batches not yet loaded: 0 (and 1 waiting, below)" in shown  # "0" alone read as lost
        # For scripts, the run waited for as fields, not only inside the sentence (output QA).
        assert status(tmp_path)["waiting_batches"] == [{
            "source": "demo-feed", "run_id": "20261126T100500Z", "path": str(done["items"]),
            "waits_for": {"source": "demo", "run_id": "20261126T100000Z"}, "note": expected}]
    finally:
        lock.release()
    assert held_notes(tmp_path) == []


def test_a_scheduled_run_logs_the_batch_it_leaves_waiting_behind_a_crawl(tmp_path: Path) -> None:
    # Under `reviews serve` the run's log (Prefect's, on the console and in the UI) is all anyone sees of it,
    # and it said nothing of the held batch.
    import logging

    import prefect.main  # noqa: F401  (sets up Prefect's logging, which would drop a handler added before)

    from flows.pipeline import pipeline

    class Recorder(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.INFO)
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    crawling = run_paths(tmp_path, "demo", "20261126T100000Z")
    crawling["items"].parent.mkdir(parents=True, exist_ok=True)
    crawling["items"].write_text(json.dumps({"source": "x"}) + "\n", encoding="utf-8")
    held = run_paths(tmp_path, "demo", "20261126T100500Z")
    held["items"].write_text(json.dumps({"source": "x"}) + "\n", encoding="utf-8")
    lock = FileLock(crawling["lock"])
    lock.acquire()
    try:
        recorder, flow_runs = Recorder(), logging.getLogger("prefect.flow_runs")  # where a run's logger writes
        flow_runs.addHandler(recorder)
        flow_runs.setLevel(logging.INFO)  # as `reviews serve` logs (the tests log warnings only)
        try:
            result = pipeline([], str(tmp_path))
        finally:
            flow_runs.removeHandler(recorder)
            flow_runs.setLevel(logging.NOTSET)
    finally:
        lock.release()
    assert len(result.held) == 1
    assert f"waiting: {result.held[0]}" in recorder.messages

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


def hold_crawl_lock(job: Path) -> subprocess.Popen:
    """Another process that holds the source's crawl lock, as a live run's crawl does."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from flows.incremental import crawl_lock\n"
        f"with crawl_lock(Path({str(job)!r})):\n    print('held', flush=True); time.sleep(120)")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_source_another_live_run_is_crawling_is_refused_and_its_job_state_kept(tmp_path: Path) -> None:
    job = tmp_path / "jobs" / "site"
    job.mkdir(parents=True)
    (job / "requests.seen").write_text("x", encoding="utf-8")
    (job / RUNNING_MARKER).write_text("1 2", encoding="utf-8")
    holder = hold_crawl_lock(job)
    try:
        with pytest.raises(SourceBusy, match="site is being crawled by another run"), crawl_lock(job):
            open_job(job)
        assert (job / "requests.seen").exists()
    finally:
        holder.kill()
        holder.wait()
    with crawl_lock(job):  # its process gone, however it ended: the same marker is a crash's
        assert open_job(job) == "discarded after a crash"


def test_a_busy_source_names_the_orphaned_crawl_to_wait_for(tmp_path: Path) -> None:
    job = tmp_path / "jobs" / "site"
    job.mkdir(parents=True)
    holder = hold_crawl_lock(job)
    try:
        # The run that started the crawl was killed (no such process); its crawl (here the holder) goes on.
        (job / RUNNING_MARKER).write_text(f"999999999 {holder.pid}", encoding="utf-8")
        with pytest.raises(SourceBusy, match=rf"crawl process {holder.pid}, going on alone: the run that started "
                           r"it, process 999999999, was killed"), crawl_lock(job):
            pass
        (job / RUNNING_MARKER).write_text(f"{os.getpid()} {holder.pid}", encoding="utf-8")
        with pytest.raises(SourceBusy, match=rf"\(run process {os.getpid()}, its crawl process {holder.pid}\)"), \
                crawl_lock(job):
            pass
    finally:
        holder.kill()
        holder.wait()





def test_a_crawl_whose_lock_file_was_deleted_still_holds_its_source(tmp_path: Path) -> None:
    # A 0-byte lock file looks like junk: deleted under a live crawl, a second crawl went on beside it and took
    # the first's job state for a crash's (ops QA). The live crawl is known by its command line.
    job = tmp_path / "jobs" / "site"
    job.mkdir(parents=True)
    (job / "requests.seen").write_text("x", encoding="utf-8")
    crawl = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "scrapy", "crawl", "schema_org",
                              "-a", "source=site"])
    try:
        # Its command line as the check reads it, once the child has started (a loaded CI machine once checked first).
        deadline = time.monotonic() + 30
        while b"source=site" not in Path(f"/proc/{crawl.pid}/cmdline").read_bytes().split(b"\0"):
            assert crawl.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        (job / RUNNING_MARKER).write_text(f"999999999 {crawl.pid}", encoding="utf-8")
        with pytest.raises(SourceBusy, match=rf"site is being crawled by process {crawl.pid}, though its crawl lock "
                                             r".* was deleted"), crawl_lock(job):
            open_job(job)
        assert (job / "requests.seen").exists()
    finally:
        crawl.kill()
        crawl.wait()
    with crawl_lock(job):  # gone: the marker is a crash's
        assert open_job(job) == "discarded after a crash"


def _marker(job: Path) -> list[int]:
    return read_marker(job)[0]


def test_the_crawl_child_keeps_its_source_locked_when_its_parent_is_killed(small_demo, tmp_path: Path) -> None:
    import os
    import signal

    command = [sys.executable, "-m", "flows.cli", "crawl", "schema_org", "--url", small_demo.url, "--source", "demo",
               "--data-dir", str(tmp_path), "--quiet", "-s", "DOWNLOAD_DELAY=0.05", "-s", "AUTOTHROTTLE_ENABLED=False",
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    parent = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    job = tmp_path / "jobs" / "demo"
    deadline = time.monotonic() + 60
    # open_job writes the parent's pid alone; the crawl's start rewrites it with the child's.
    while len(pids := _marker(job)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    _, child = pids
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(timeout=30)
    try:
        with pytest.raises(SourceBusy), crawl_lock(job):  # the orphaned crawl still writes this source
            pass
    finally:
        os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with crawl_lock(job):
                break
        except SourceBusy:
            time.sleep(0.1)
    else:
        raise AssertionError("the lock stayed taken after the crawl child died")


def test_an_orphaned_crawl_that_finishes_leaves_no_crash_for_the_next_run(small_demo, tmp_path: Path) -> None:
    import os
    import signal

    command = [sys.executable, "-m", "flows.cli", "crawl", "schema_org", "--url", small_demo.url, "--source", "demo",
               "--data-dir", str(tmp_path), "--quiet", "-s", "AUTOTHROTTLE_ENABLED=False"]
    parent = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    job = tmp_path / "jobs" / "demo"
    deadline = time.monotonic() + 60
    while len(_marker(job)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(parent.pid, signal.SIGKILL)  # the run dies; its crawl child goes on and finishes alone
    parent.wait(timeout=30)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with crawl_lock(job):
                outcome = open_job(job)
            break
        except SourceBusy:
            time.sleep(0.1)
    else:
        raise AssertionError("the orphaned crawl did not end")
    stats = json.loads(next((tmp_path / "raw" / "demo").glob("*.stats.json")).read_text(encoding="utf-8"))
    assert stats["finish_reason"] == "finished"
    assert outcome == "fresh"  # it used to read as "discarded after a crash", and an incremental run then crawled all


@pytest.mark.parametrize("landed", ["a part file", "nothing"])
def test_a_run_holding_its_lock_holds_back_the_batches_crawled_after_it_whatever_it_has_landed(tmp_path: Path,
                                                                                              landed: str) -> None:
    # Crash QA: a feed crawled while a big import was landing (into a part file the crawl-order guard did not look
    # at) loaded first, so the reviews the two shared were credited to the later batch. Review: a crawl that had
    # taken its lock but landed no line yet was missed too.
    writing = run_paths(tmp_path, "dump", "20261126T100000Z")
    later = run_paths(tmp_path, "feed", "20261126T100500Z")
    writing["items"].parent.mkdir(parents=True)
    if landed == "a part file":
        part = writing["items"].with_name(writing["items"].name + ".part")
        part.write_text(json.dumps({"source": "dump"}) + "\n", encoding="utf-8")
    (writing["items"].parent / ".import.lock").touch()  # a source's import lock is no run
    later["items"].parent.mkdir(parents=True)
    later["items"].write_text(json.dumps({"source": "feed"}) + "\n", encoding="utf-8")
    lock = FileLock(writing["lock"])
    lock.acquire()
    try:
        assert landing_batches(tmp_path) == []
    finally:
        lock.release()
    # Once let go (a killed import's part file, a crawl that died), it is no batch and holds nothing back.
    assert [batch.source for batch in landing_batches(tmp_path)] == ["feed"]


def test_a_run_waiting_for_another_runs_load_says_so_even_quiet(tmp_path: Path) -> None:
    # Crash QA: a second cron run waited 45 s for the writer lock without a word.
    import subprocess
    import sys
    import time

    lock = FileLock(tmp_path / ".writer.lock")
    lock.acquire()
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        run = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--data-dir", str(tmp_path), "--quiet"],
                               stderr=stderr, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while "waiting for it to finish" not in errors.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert f"another run is writing the warehouse in {tmp_path}; waiting for it to finish" in errors.read_text()
    finally:
        lock.release()
    assert run.wait(timeout=120) == 0


def test_status_names_the_part_file_a_killed_import_left(tmp_path: Path) -> None:
    # Crash QA: a kill -9'd import left a .jsonl.part that neither status nor prune mentioned.
    from flows.output import print_status
    from flows.status import status

    killed = run_paths(tmp_path, "dump", "20261126T100000Z")
    killed["items"].parent.mkdir(parents=True)
    part = killed["items"].with_name(killed["items"].name + ".part")
    part.write_text(json.dumps({"source": "dump"}) + "\n", encoding="utf-8")
    warehouse = connect(tmp_path / "reviews.duckdb")
    migrate(warehouse)
    warehouse.close()
    lock = FileLock(killed["lock"])
    lock.acquire()  # still being written: no leftover
    try:
        assert status(tmp_path)["killed_imports"] == []
    finally:
        lock.release()
    report = status(tmp_path)
    assert report["killed_imports"] == [str(part)]
    console = Console(record=True, width=400)
    print_status(report, console)
    assert f"left by a killed import, never loaded (the next import into its source removes it): {part}" in \
        console.export_text()
