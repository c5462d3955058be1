"""Runs people schedule and leave alone: incremental re-runs, safe stops, loud failures."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.demosite import DemoSite, serve_in_thread
from flows.incremental import read_marker
from flows.pipeline import SourceSpec, pipeline
from tests.flows.conftest import SmallDemo
from warehouse.db import connect, warehouse_path

REVIEW_COLUMNS = ("review_id, film_id, critic_id, source_review_id, score, is_positive, score_source, title, body, "
                  "language, published_on, content_hash")


def review_set(root: Path) -> list[tuple]:
    conn = connect(warehouse_path(root), read_only=True)
    try:
        return conn.execute(f"select {REVIEW_COLUMNS} from reviews order by review_id").fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    demo = SmallDemo(tmp_path_factory.mktemp("site"), films=6, reviews_per_film=20)
    yield demo
    demo.server.shutdown()


@pytest.fixture(scope="module")
def uninterrupted(site, tmp_path_factory):
    """A first, complete, incremental-mode run: the reference warehouse and its request count."""
    root = tmp_path_factory.mktemp("uninterrupted")
    before = len(site.server.requested_paths)
    result = pipeline([SourceSpec("schema_org", [site.url + "sitemap.xml"], "demo", incremental=True)], str(root))
    return root, len(site.server.requested_paths) - before, result


def test_first_run_lands_every_published_review(uninterrupted, site):
    root, _, result = uninterrupted
    published = {row["syndication_group"] or row["identifier"] for row in site.truth}
    assert len(review_set(root)) == len(published)
    assert result.unhealthy == []


def test_second_run_of_an_unchanged_site_requests_at_most_a_tenth(uninterrupted, site):
    root, first_requests, _ = uninterrupted
    before = review_set(root)
    start = len(site.server.requested_paths)
    again = pipeline([SourceSpec("schema_org", [site.url + "sitemap.xml"], "demo", incremental=True)], str(root))
    second_requests = len(site.server.requested_paths) - start
    assert second_requests <= 0.1 * first_requests, (second_requests, first_requests)
    assert again.unhealthy == []
    assert review_set(root) == before
    # The re-run found the site unchanged, so the health rule on page counts will not compare with it.
    (run_id,) = [crawl["run_id"] for crawl in again.crawls]
    conn = connect(warehouse_path(root), read_only=True)
    try:
        assert conn.execute("select site_unchanged from crawl_runs where run_id = ?", [run_id]).fetchone() == (True,)
    finally:
        conn.close()


def scrapy_stat(root: Path, run: dict, name: str) -> int:
    """A counter from the crawl's Scrapy stats dump in its log (the run's stats file keeps only some)."""
    log = (root / "logs" / run["source"] / f"{run['run_id']}.log").read_text(encoding="utf-8")
    found = re.search(rf"'{re.escape(name)}': (\d+)", log)
    return int(found.group(1)) if found else 0


def test_second_run_revalidates_no_cache_pages_and_gets_304s(site, tmp_path):
    # The demo site sends `Cache-Control: no-cache` with an ETag and Last-Modified: every page must be asked for
    # again with If-None-Match, and the cached copy used on the 304. HttpCacheMiddleware swaps the 304 for the
    # cached page before DownloaderStats counts it, so `downloader/response_status_count/304` stays 0;
    # `httpcache/revalidate` counts the 304s.
    # (From the sitemap the re-run asks for robots.txt and sitemap.xml only: AutoThrottle never shortens its delay
    # on a 304, so a re-run of many unchanged pages goes at AUTOTHROTTLE_START_DELAY per request.)
    spec = SourceSpec("schema_org", [site.url + "sitemap.xml"], "demo", incremental=True)
    pipeline([spec], str(tmp_path))
    start = len(site.server.requested_paths)
    (again,) = pipeline([spec], str(tmp_path)).crawls
    requests = len(site.server.requested_paths) - start
    assert requests >= 2
    # The canary pages are asked for afresh, not revalidated (crawlers/canaries.py).
    canaries = json.loads(next((tmp_path / "raw" / "demo").glob(f"{again['run_id']}.stats.json")).read_text(
        encoding="utf-8"))["incremental"]["canary_pages"]
    assert canaries == 3
    assert scrapy_stat(tmp_path, again, "httpcache/revalidate") == requests - canaries
    assert scrapy_stat(tmp_path, again, "httpcache/invalidate") == 0


def test_full_overrides_incremental(uninterrupted, site):
    root, first_requests, _ = uninterrupted
    start = len(site.server.requested_paths)
    pipeline([SourceSpec("schema_org", [site.url + "sitemap.xml"], "demo", incremental=True, full=True)], str(root))
    assert len(site.server.requested_paths) - start > 0.5 * first_requests


def start_crawl(site: SmallDemo, root: Path) -> subprocess.Popen:
    """`reviews crawl` in its own process group, slowed down so the test can stop it mid-way."""
    command = [sys.executable, "-m", "flows.cli", "crawl", "schema_org", "--url", site.url + "sitemap.xml",
               "--source", "demo", "--data-dir", str(root), "--quiet", "-s", "DOWNLOAD_DELAY=0.05",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    return subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_items(root: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        landed = sum(len(p.read_text().splitlines()) for p in (root / "raw" / "demo").glob("*.jsonl")
                     if not p.name.endswith(".rejects.jsonl")) if (root / "raw" / "demo").exists() else 0
        if landed >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"the crawl landed fewer than {count} items in {timeout}s")


def rerun(site: SmallDemo, root: Path) -> None:
    result = CliRunner().invoke(app, ["run", "schema_org", "--url", site.url + "sitemap.xml", "--source", "demo",
                                      "--data-dir", str(root), "--quiet"])
    assert result.exit_code == 0, result.output


def test_sigterm_stops_cleanly_and_the_next_run_resumes(uninterrupted, site, tmp_path):
    crawl = start_crawl(site, tmp_path)
    wait_for_items(tmp_path, 25)
    crawl.send_signal(signal.SIGTERM)
    assert crawl.wait(timeout=60) == 130
    stats = json.loads(next((tmp_path / "raw" / "demo").glob("*.stats.json")).read_text())
    assert stats["finish_reason"] == "shutdown"
    job = tmp_path / "jobs" / "demo"
    assert (job / "requests.seen").exists() and not (job / "RUNNING").exists()
    start = len(site.server.requested_paths)
    rerun(site, tmp_path)
    resumed_requests = len(site.server.requested_paths) - start
    assert resumed_requests < uninterrupted[1]  # pages fetched before the stop were not fetched again
    assert review_set(tmp_path) == review_set(uninterrupted[0])
    assert not job.exists()  # a finished crawl leaves nothing to resume


def test_after_sigkill_a_rerun_ends_with_the_same_warehouse(uninterrupted, site, tmp_path):
    crawl = start_crawl(site, tmp_path)
    wait_for_items(tmp_path, 25)
    parent, child = read_marker(tmp_path / "jobs" / "demo")[0]
    for pid in (child, parent):
        os.kill(pid, signal.SIGKILL)
    crawl.wait(timeout=30)
    rerun(site, tmp_path)
    assert review_set(tmp_path) == review_set(uninterrupted[0])
    conn = connect(warehouse_path(tmp_path), read_only=True)
    try:
        reasons = [r[0] for r in conn.execute("select finish_reason from crawl_runs order by loaded_at").fetchall()]
        counts = conn.execute("select count(*) from crawl_runs where scraped <> loaded + duplicates + rejected")
        assert counts.fetchall()[0][0] == 0
    finally:
        conn.close()
    assert sorted(reasons) == ["finished", "killed"]


def test_a_redesigned_site_makes_an_unhealthy_run_and_exit_code_3(uninterrupted, tmp_path):
    root = uninterrupted[0]
    server = serve_in_thread(DemoSite(films=6, reviews_per_film=20, seed=7, variant="redesigned"))
    config = tmp_path / "reviews.toml"
    config.write_text(f'[[sources]]\nname = "demo"\nspider = "schema_org"\nurls = ["{server.url}sitemap.xml"]\n')
    try:
        result = CliRunner().invoke(app, ["run", "--config", str(config), "--data-dir", str(root), "--full",
                                          "--quiet"])
    finally:
        server.shutdown()
    assert result.exit_code == 3, result.output
    assert "unhealthy" in result.stderr and "no reviews on" in result.stderr
    status = CliRunner().invoke(app, ["status", "--json", "--data-dir", str(root)])
    last = {run["source"]: run for run in json.loads(status.stdout)["last_runs"]}["demo"]
    assert last["healthy"] is False and "no reviews on" in last["health_notes"]


def test_sigterm_to_the_parent_and_the_crawl_child_at_once_still_stops_cleanly_and_resumes(uninterrupted, site,
                                                                                          tmp_path):
    # systemd's default KillMode=control-group signals every process of the service; the parent then forwards
    # one more SIGTERM to its child, which Scrapy alone would take as "force an unclean stop".
    crawl = start_crawl(site, tmp_path)
    wait_for_items(tmp_path, 25)
    parent, child = read_marker(tmp_path / "jobs" / "demo")[0]
    for pid in (child, parent):
        os.kill(pid, signal.SIGTERM)
    assert crawl.wait(timeout=60) == 130
    stats = json.loads(next((tmp_path / "raw" / "demo").glob("*.stats.json")).read_text())
    assert stats["finish_reason"] == "shutdown"
    job = tmp_path / "jobs" / "demo"
    assert (job / "requests.seen").exists() and not (job / "RUNNING").exists()
    log = next((tmp_path / "logs" / "demo").glob("*.log")).read_text()
    assert "unclean" not in log
    start = len(site.server.requested_paths)
    rerun(site, tmp_path)
    assert len(site.server.requested_paths) - start < uninterrupted[1]
    assert review_set(tmp_path) == review_set(uninterrupted[0])
