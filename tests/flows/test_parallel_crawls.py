"""A run's sources on different sites crawl side by side; sources sharing a host crawl in turn."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from prefect import flow, task
from prefect.futures import PrefectFuture
from prefect.states import Completed

import flows.pipeline
from flows.demosite import DemoSite, serve_in_thread
from flows.parallel import crawl_in_lanes, ended, lanes, sites_of
from flows.pipeline import SourceSpec, pipeline
from warehouse.db import WarehouseBusy, connect, migrate, open_writer, warehouse_path

SLOW = {"DOWNLOAD_DELAY": 0.05, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}


def spec(*urls: str) -> SimpleNamespace:
    return SimpleNamespace(urls=list(urls))


def by_host(specs: list[SimpleNamespace]) -> list[list[SimpleNamespace]]:
    return lanes(specs, lambda s: sites_of(s.urls))


def test_sources_on_different_hosts_get_a_lane_each_in_the_order_given() -> None:
    a, b, c = spec("https://a.example/"), spec("https://b.example/x"), spec("http://c.example:8080/")
    assert by_host([a, b, c]) == [[a], [b], [c]]


def test_sources_sharing_a_host_crawl_in_one_lane_in_turn_whatever_the_port_or_case() -> None:
    a, b, c = spec("https://A.example/sitemap.xml"), spec("https://b.example/"), spec("http://a.example:81/feed")
    assert by_host([a, b, c]) == [[a, c], [b]]


def test_www_and_the_bare_domain_are_one_site_and_one_lane() -> None:
    a, b = spec("https://www.example.org/sitemap.xml"), spec("https://example.org/feed.xml")
    assert by_host([a, b]) == [[a, b]]


def test_subdomains_of_one_registrable_domain_are_one_site_and_one_lane() -> None:
    feed, pages, other = spec("https://feeds.example.co.uk/rss"), spec("https://reviews.example.co.uk/"), \
        spec("https://example.com/")
    assert by_host([feed, other, pages]) == [[feed, pages], [other]]


def test_sites_under_a_hosting_suffix_are_separate_lanes_and_ip_hosts_are_sites() -> None:
    one, two = spec("https://one.blogspot.com/"), spec("https://two.blogspot.com/")
    local, other_ip = spec("http://127.0.0.2:8080/"), spec("http://127.0.0.3:8080/")
    assert by_host([one, two, local, other_ip]) == [[one], [two], [local], [other_ip]]
    assert sites_of(["http://LOCALHOST:81/", "http://[::1]/"]) == {"localhost", "::1"}


def test_hosts_off_the_suffix_list_still_take_www_as_the_bare_domain() -> None:
    a, b = spec("https://www.reviews.internal/"), spec("http://reviews.internal/feed")
    assert by_host([a, b]) == [[a, b]]


def test_a_source_naming_two_hosts_joins_their_lanes() -> None:
    a, b, both, d = spec("https://a.example/"), spec("https://b.example/"), \
        spec("https://b.example/", "https://a.example/"), spec("https://d.example/")
    assert by_host([a, b, d, both]) == [[a, b, both], [d]]


@pytest.fixture(scope="module")
def two_sites():
    """Two small demo sites (other seeds: other reviews) on two loopback hosts: two sites to the crawler."""
    servers = [serve_in_thread(DemoSite(films=4, reviews_per_film=10, seed=seed), host=host, port=0)
               for seed, host in ((7, "127.0.0.2"), (11, "127.0.0.3"))]
    yield [server.url for server in servers]
    for server in servers:
        server.shutdown()


def crawl_windows(root: Path) -> dict[str, tuple[float, float]]:
    """Each source's crawl as (start, finish) POSIX seconds: its run id is its start, its stats file is
    written as it finishes."""
    windows = {}
    for stats in (root / "raw").glob("*/*.stats.json"):
        run_id = stats.name.removesuffix(".stats.json")
        started = datetime.strptime(run_id, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC).timestamp()
        windows[stats.parent.name] = (started, stats.stat().st_mtime)
    return windows


def two_sources(urls: list[str]) -> list[SourceSpec]:
    return [SourceSpec("schema_org", [f"{url}sitemap.xml"], name, settings=dict(SLOW))
            for url, name in zip(urls, ("first", "second"), strict=True)]


def test_two_sites_crawl_at_the_same_time_and_both_load(two_sites: list[str], tmp_path: Path) -> None:
    result = pipeline(two_sources(two_sites), str(tmp_path), parallel=2)
    assert [crawl["source"] for crawl in result.crawls] == ["first", "second"]
    (first_start, first_end), (second_start, second_end) = (crawl_windows(tmp_path)[s] for s in ("first", "second"))
    assert second_start < first_end and first_start < second_end  # the crawls overlapped
    with connect(warehouse_path(tmp_path), read_only=True) as conn:
        loaded = dict(conn.execute("select source, loaded + duplicates from crawl_runs").fetchall())
    assert loaded == {"first": 40, "second": 40}


@task
def occupy(spec: SimpleNamespace) -> tuple[str, float, float]:
    began = time.monotonic()
    time.sleep(0.4)
    return spec.source, began, time.monotonic()


@flow
def run_in_lanes(specs: list[SimpleNamespace], parallel: int) -> dict[str, tuple[float, float]]:
    windows: dict[str, tuple[float, float]] = {}

    def collect(spec: SimpleNamespace, future: PrefectFuture) -> None:
        source, began, ended = future.result()
        windows[source] = (began, ended)

    crawl_in_lanes(specs, lambda spec: occupy.submit(spec), parallel, collect)
    return windows


def overlap(one: tuple[float, float], other: tuple[float, float]) -> bool:
    return one[0] < other[1] and other[0] < one[1]


def named(source: str, url: str) -> SimpleNamespace:
    return SimpleNamespace(source=source, urls=[url])


def test_in_lanes_sites_overlap_and_sources_of_one_host_take_turns() -> None:
    windows = run_in_lanes([named("a1", "https://a.example/"), named("b", "https://b.example/"),
                            named("a2", "https://a.example/feed")], parallel=4)
    assert overlap(windows["a1"], windows["b"])
    assert windows["a1"][1] <= windows["a2"][0]


def test_in_lanes_no_more_than_parallel_crawls_run_at_once() -> None:
    windows = run_in_lanes([named(name, f"https://{name}.example/") for name in "abc"], parallel=2)
    assert overlap(windows["a"], windows["b"])
    assert windows["c"][0] >= min(windows["a"][1], windows["b"][1])


def test_in_lanes_parallel_1_is_one_crawl_after_the_other() -> None:
    windows = run_in_lanes([named(name, f"https://{name}.example/") for name in "ab"], parallel=1)
    assert windows["a"][1] <= windows["b"][0]


@task
def watch_alarm(spec: SimpleNamespace) -> tuple[str, float, float]:
    """Like occupy, from a worker thread: the most time left on the process's SIGALRM timer while it ran."""
    left = 0.0
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        left = max(left, signal.getitimer(signal.ITIMER_REAL)[0])
        time.sleep(0.01)
    return spec.source, left, 0.0


@flow
def alarm_while_in_lanes() -> float:
    seen: list[float] = []
    crawl_in_lanes([named("a", "https://a.example/")], lambda spec: watch_alarm.submit(spec), 1,
                   lambda spec, future: seen.append(future.result()[1]))
    return seen[0]


def test_waiting_for_crawls_arms_no_alarm_that_a_stop_could_land_in() -> None:
    # Prefect's wait(timeout) times out by SIGALRM in the main thread; a stop signal that landed while Python
    # handled one left threading's lock half restored, and the stopped run ended Failed ("release unlocked lock").
    # Prefect arms no alarm where another handler holds SIGALRM, as pytest-timeout's does: lift it for this test.
    timer = signal.setitimer(signal.ITIMER_REAL, 0)  # disarmed first: its alarm must not meet the default action
    handler = signal.signal(signal.SIGALRM, signal.SIG_DFL)
    try:
        assert alarm_while_in_lanes() == 0.0
    finally:
        signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, *timer)


class Elsewhere(PrefectFuture):
    """A future of another task runner (Dask's, Ray's): no thread-pool future inside, done after `seconds`."""

    def __init__(self, seconds: float) -> None:
        self._task_run_id, self._final_state = uuid.uuid4(), None
        self.ends = time.monotonic() + seconds

    def wait(self, timeout: float | None = None) -> None:
        left = self.ends - time.monotonic()
        time.sleep(max(0.0, left if timeout is None else min(left, timeout)))
        if time.monotonic() >= self.ends:
            self._final_state = Completed()

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> None:
        self.wait(timeout)

    def add_done_callback(self, fn: Callable[[PrefectFuture], None]) -> None:
        def done() -> None:
            self._final_state = Completed()
            fn(self)

        timer = threading.Timer(max(0.0, self.ends - time.monotonic()), done)
        timer.daemon = True
        timer.start()


def test_crawls_on_another_task_runner_are_waited_for_prefects_way() -> None:
    quick, slow = Elsewhere(0.1), Elsewhere(60)
    started = time.monotonic()
    assert ended([quick, slow], 2.0) == [quick]
    assert time.monotonic() - started < 30  # the slow one was not waited for to its end


def test_a_stop_while_two_sites_crawl_stops_both_cleanly_so_both_resume(
        two_sites: list[str], tmp_path: Path) -> None:
    config = tmp_path / "reviews.toml"
    config.write_text("".join(
        f'[[sources]]\nname = "{name}"\nspider = "schema_org"\nurls = ["{url}sitemap.xml"]\ndownload_delay = 0.1\n'
        f'concurrency = 1\nsettings = {{AUTOTHROTTLE_ENABLED = false}}\n'
        for url, name in zip(two_sites, ("first", "second"), strict=True)))
    command = [sys.executable, "-m", "flows.cli", "run", "--config", str(config), "--data-dir", str(tmp_path),
               "--quiet"]
    run = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    deadline = time.monotonic() + 120
    while not all(any((tmp_path / "raw" / name).glob("*.jsonl")) for name in ("first", "second")):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(run.pid, signal.SIGTERM)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1].startswith("stopped: ")
    assert "Traceback" not in stderr
    for name in ("first", "second"):
        stats = json.loads(next((tmp_path / "raw" / name).glob("*.stats.json")).read_text())
        assert stats["finish_reason"] == "shutdown", name
        assert not (tmp_path / "jobs" / name / "RUNNING").exists(), name  # closed cleanly: it resumes


def test_an_error_that_ends_the_run_stops_the_other_running_crawls_at_once(
        two_sites: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Such an error used to leave the other crawls running to their end, for hours on a slow site, before the
    # run reported it; and the lanes not yet started were never crawled.
    original = flows.pipeline._incremental_args

    def busy_for_second(spec: SourceSpec, root: Path, database: Path):
        if spec.source == "second":
            # Once the first crawl is running (its spider holds its run's lock); a fixed wait was too short for
            # a busy machine to start a Scrapy child, which then had nothing to stop and wrote no stats.
            deadline = time.monotonic() + 60
            while not list((tmp_path / "raw" / "first").glob("*.lock")) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)
            raise WarehouseBusy("the warehouse is open in another process")
        return original(spec, root, database)

    monkeypatch.setattr(flows.pipeline, "_incremental_args", busy_for_second)
    slow = SourceSpec("schema_org", [f"{two_sites[0]}sitemap.xml"], "first",
                      settings={**SLOW, "DOWNLOAD_DELAY": 0.5})
    second = SourceSpec("schema_org", [f"{two_sites[1]}sitemap.xml"], "second", incremental=True)
    with pytest.raises(WarehouseBusy):
        pipeline([slow, second], str(tmp_path), parallel=2)
    stats = json.loads(next((tmp_path / "raw" / "first").glob("*.stats.json")).read_text())
    assert stats["finish_reason"] == "shutdown"  # stopped: at this pace the site alone takes a minute


def test_a_runs_own_parallel_crawls_take_turns_without_warning_of_another_run(
        two_sites: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every run of two incremental sources warned "another run is writing the warehouse" (cron mailed it): its
    # own crawls met at the writer lock. The slot is held a little longer here, so that they would meet for sure.
    specs = [SourceSpec("schema_org", [f"{url}sitemap.xml"], name, incremental=True)
             for url, name in zip(two_sites, ("first", "second"), strict=True)]
    with open_writer(warehouse_path(tmp_path)) as conn:  # a warehouse: each crawl then takes the slot to read it
        migrate(conn)
    real_slot, warned, held = flows.pipeline.writer_slot, [], []

    @contextmanager
    def slow_slot(root: Path, **kwargs):
        with real_slot(root, **(kwargs | {"waiting": warned.append})):
            held.append(root)
            time.sleep(0.5)
            yield

    monkeypatch.setattr(flows.pipeline, "writer_slot", slow_slot)
    pipeline(specs, str(tmp_path), parallel=2)
    assert len(held) >= 2  # both crawls and the load took it
    assert warned == []
