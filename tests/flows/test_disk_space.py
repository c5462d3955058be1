"""Where a crawl writes: a disk without room or a folder it cannot write stops it before it starts, and a disk
filling up closes it as `disk_full` (it used to hang)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import flows.crawl
from flows.crawl import run_crawl
from flows.errors import ReviewsError, RunIncomplete
from flows.pipeline import SourceSpec, pipeline

NO_ROOM = {"REVIEWS_MIN_FREE_MB": 10**12}  # more than any disk has: reads as a full one


def test_a_crawl_does_not_start_on_a_disk_without_room(small_demo, tmp_path: Path) -> None:
    with pytest.raises(ReviewsError,
                       match=r"MB free on the disk of .* under the 1,000,000,000,000 MB a crawl or load needs"):
        run_crawl("schema_org", [small_demo.url + "sitemap.xml"], source="demo", data=tmp_path, settings=NO_ROOM,
                  show_progress=False)
    assert not (tmp_path / "raw").exists()


def test_a_crawl_whose_disk_fills_closes_as_disk_full_keeping_its_job_to_resume(small_demo, tmp_path: Path,
                                                                                monkeypatch) -> None:
    monkeypatch.setattr(flows.crawl, "check_room", lambda root, settings: None)  # room at the start only
    result = run_crawl("schema_org", [small_demo.url + "sitemap.xml"], source="demo", data=tmp_path,
                       settings=NO_ROOM, show_progress=False, resumable=True)
    assert result.stats["finish_reason"] == "disk_full"
    assert (tmp_path / "jobs" / "demo" / "requests.seen").exists()
    assert not (tmp_path / "jobs" / "demo" / "RUNNING").exists()  # closed cleanly: the next run resumes


def test_a_run_whose_crawl_ran_out_of_room_says_so_and_loads_what_landed(small_demo, tmp_path: Path,
                                                                         monkeypatch) -> None:
    monkeypatch.setattr(flows.crawl, "check_room", lambda root, settings: None)
    with pytest.raises(RunIncomplete, match="the crawl of demo stopped early: the disk of .* is nearly full"):
        pipeline([SourceSpec("schema_org", [small_demo.url + "sitemap.xml"], "demo", settings=dict(NO_ROOM),
                             incremental=True)], str(tmp_path))
    stats = json.loads(next((tmp_path / "raw" / "demo").glob("*.stats.json")).read_text())
    assert stats["finish_reason"] == "disk_full"


def test_a_landing_folder_that_cannot_be_written_is_one_line_before_the_crawl(small_demo, tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "demo").write_text("a file where the source's folder goes", encoding="utf-8")
    with pytest.raises(ReviewsError, match=r"raw/demo: cannot write there \(File exists\)"):
        run_crawl("schema_org", [small_demo.url + "sitemap.xml"], source="demo", data=tmp_path, show_progress=False)


def test_reviews_crawl_says_when_its_disk_filled_and_exits_1(small_demo, tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    monkeypatch.setattr(flows.crawl, "check_room", lambda root, settings: None)
    result = CliRunner().invoke(app, ["crawl", "schema_org", "--url", small_demo.url + "sitemap.xml", "--source",
                                      "demo", "--data-dir", str(tmp_path), "--quiet", "-s",
                                      "REVIEWS_MIN_FREE_MB=1000000000000"])
    assert result.exit_code == 1 and "the crawl stopped early: the data folder's disk is nearly full" in result.output


def test_the_floor_for_runs_and_imports_comes_from_the_environment(tmp_path: Path) -> None:
    code = "from pathlib import Path; from flows.crawl import check_room; check_room(Path('.'))"
    low = subprocess.run([sys.executable, "-c", code], env={**os.environ, "REVIEWS_MIN_FREE_MB": "0"},
                         capture_output=True, text=True)
    high = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "REVIEWS_MIN_FREE_MB": "1e12"})
    assert low.returncode == 0 and "MB a crawl or load needs" in high.stderr


def test_what_a_crawl_stopped_by_a_full_disk_landed_is_loaded(tmp_path: Path) -> None:
    # The crawl above lands nothing (its first check finds no room); a crawl whose disk filled later has landed
    # reviews, and they load like any batch's (test audit: nothing checked that they did).
    from tests.flows.test_normalize_batch import item
    from warehouse.db import connect, warehouse_path

    run_id = "20261125T100000000000Z"
    folder = tmp_path / "raw" / "demo"
    folder.mkdir(parents=True)
    items = [item(source="demo", source_review_id=f"r{n}", run_id=run_id, url=f"https://x/r/{n}", film_title=film)
             for n, film in ((1, "Her"), (2, "Dune"))]
    (folder / f"{run_id}.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    (folder / f"{run_id}.stats.json").write_text(json.dumps(
        {"source": "demo", "run_id": run_id, "spider": "schema_org", "started": "2026-11-25T10:00:00",
         "finished": "2026-11-25T10:05:00", "finish_reason": "disk_full", "pages": 3, "scraped": 2, "landed": 2,
         "rejected": 0, "repeated_in_run": 0, "errors": 0}), encoding="utf-8")
    (load,) = pipeline([], str(tmp_path)).loads
    assert (load["run_id"], load["loaded"]) == (run_id, 2)
    conn = connect(warehouse_path(tmp_path), read_only=True)
    try:
        assert conn.execute("select finish_reason, loaded from crawl_runs").fetchall() == [("disk_full", 2)]
    finally:
        conn.close()


def blocked(folder: Path) -> None:
    """A file where the folder goes: as root (these tests' CI user) no permission bit stops a write, and this fails
    the same check a folder owned by another user does."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder", encoding="utf-8")


def test_a_state_folder_that_cannot_be_written_is_one_line_before_the_crawl(small_demo, tmp_path: Path) -> None:
    # It was a crawl ended as 'start_error' with "2 failed requests", the cause only in the crawl's log.
    blocked(tmp_path / "state")
    with pytest.raises(ReviewsError, match=r"/state: cannot write there \(File exists\); it holds the retry"):
        run_crawl("schema_org", [small_demo.url + "sitemap.xml"], source="demo", data=tmp_path, show_progress=False)
    assert not list((tmp_path / "raw" / "demo").glob("*.stats.json"))  # no crawl began


def test_a_job_folder_that_cannot_be_written_is_one_line_before_the_crawl(small_demo, tmp_path: Path) -> None:
    blocked(tmp_path / "jobs" / "demo")
    with pytest.raises(ReviewsError, match=r"jobs/demo: cannot write there \(.*\); it holds the state a stopped"):
        run_crawl("schema_org", [small_demo.url + "sitemap.xml"], source="demo", data=tmp_path, show_progress=False,
                  resumable=True)


def test_a_locks_folder_that_cannot_be_written_is_one_line(small_demo, tmp_path: Path) -> None:
    blocked(tmp_path / "locks")
    with pytest.raises(ReviewsError, match=r"cannot open the crawl lock .*/locks/demo.lock"):
        run_crawl("schema_org", [small_demo.url + "sitemap.xml"], source="demo", data=tmp_path, show_progress=False,
                  resumable=True)


def test_a_run_whose_http_cache_cannot_be_written_says_so_not_that_the_site_is_down(small_demo,
                                                                                   tmp_path: Path) -> None:
    blocked(tmp_path / "httpcache" / "demo")
    with pytest.raises(ReviewsError, match=r"httpcache/demo: cannot write there .*; it holds the pages an incremental"):
        pipeline([SourceSpec("schema_org", [small_demo.url + "sitemap.xml"], "demo", incremental=True)],
                 str(tmp_path))


def test_an_incremental_runs_state_folder_that_cannot_be_written_is_one_line(small_demo, tmp_path: Path) -> None:
    spec = SourceSpec("schema_org", [small_demo.url + "sitemap.xml"], "demo", incremental=True)
    pipeline([spec], str(tmp_path))  # a warehouse: the next run writes the source's known ids into state/ first
    shutil.rmtree(tmp_path / "state")
    blocked(tmp_path / "state")
    with pytest.raises(ReviewsError, match=r"/state: cannot write there \(File exists\)"):
        pipeline([spec], str(tmp_path))


def test_a_crawl_whose_landing_writes_fail_stops_as_disk_full_leaving_whole_lines(small_demo, tmp_path: Path) -> None:
    # Under a file-size limit (or a disk that fills between the free-space checks) each item that failed to land
    # was dropped with a logged error and the crawl finished as healthy, 87 of 159 reviews landed (resources QA).
    import resource

    limit = 60 * 1024

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run([sys.executable, "-m", "flows.cli", "crawl", "schema_org", "--url",
                           small_demo.url + "sitemap.xml", "--source", "demo", "--data-dir", str(tmp_path), "--quiet"],
                          preexec_fn=small_files, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "the crawl stopped early" in done.stdout + done.stderr
    stats = json.loads(next((tmp_path / "raw" / "demo").glob("*.stats.json")).read_text())
    assert stats["finish_reason"] == "disk_full"
    lines = next((tmp_path / "raw" / "demo").glob("*.jsonl")).read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line) for line in lines)  # no torn line, which would load as a reject
    assert stats["landed"] == len(lines) < len(small_demo.truth)
