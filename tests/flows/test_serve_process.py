"""`reviews serve` as a long-running process (from a QA of unattended weekly use): one per data folder, its
Prefect server ends with it however it ends, it ends when its server does, and its weekly report writes the
week it was scheduled for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.config import Config, Source
from flows.errors import ReviewsError
from flows.serve import _serving, serve_forever
from tests.flows.test_serve import free_port

pytestmark = pytest.mark.timeout(300)


def test_a_second_serve_on_one_data_folder_is_refused_and_names_the_first(tmp_path: Path) -> None:
    with _serving(tmp_path), pytest.raises(ReviewsError, match=rf"another `reviews serve` serves .*\(process "
                                                                rf"{os.getpid()}\); stop it first"):
        with _serving(tmp_path):
            pass
    with _serving(tmp_path):  # free again
        pass


def test_nothing_to_serve_when_every_scheduled_source_has_a_broken_profile(tmp_path: Path) -> None:
    # It went on to start a server, then failed with an IndexError traceback.
    config = Config(sources=[Source("site", "profile", ["http://x/"], schedule="* * * * *",
                                    profile_error="selectors: missing 'reviews'")], report_schedule="")
    with pytest.raises(ReviewsError, match="nothing to serve: every scheduled source has an unusable site profile"):
        serve_forever(config, tmp_path)


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/api", "notaurl"])
def test_a_prefect_api_url_that_does_not_answer_is_one_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path, url: str) -> None:
    monkeypatch.setenv("PREFECT_API_URL", url)
    config = Config(sources=[Source("site", "feed", ["http://x/feed.xml"], schedule="0 6 * * *")])
    with pytest.raises(ReviewsError, match=f"PREFECT_API_URL={url} does not answer"):
        serve_forever(config, tmp_path)


def test_the_scheduled_report_writes_the_week_its_run_was_scheduled_for(monkeypatch: pytest.MonkeyPatch) -> None:
    # Prefect starts a run up to a second early: Monday 00:00 started on Sunday 23:59:59 wrote the week before last.
    from prefect.runtime import flow_run

    from flows.report.flow import _scheduled_day

    monday = datetime(2031, 1, 6, 0, 0).astimezone()  # local midnight, as a crontab schedule means it
    monkeypatch.setitem(flow_run.FIELDS, "scheduled_start_time", lambda: monday.astimezone(UTC))
    assert _scheduled_day().isoformat() == "2031-01-06"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:  # ended meanwhile (a short-lived helper process)
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def start_serving(config: Path, data: Path, port: int) -> subprocess.Popen:
    """`reviews serve` in a session of its own (so a group signal is a terminal's Ctrl-C), once it serves."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    serve = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--config", str(config), "--data-dir",
                              str(data), "--port", str(port)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert serve.stdout is not None
    for line in serve.stdout:
        if line.startswith("deployments:"):
            return serve
    raise AssertionError(f"serve ended before serving (exit {serve.wait()})")


def _start_serve(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    """`reviews serve` of a config whose one schedule never fires during the test, once its server answers;
    returns it and its Prefect server's pid."""
    config = tmp_path / "reviews.toml"
    config.write_text('[report]\nschedule = ""\n\n[[sources]]\nname = "site"\nspider = "feed"\n'
                      'urls = ["http://127.0.0.1:9/feed.xml"]\nschedule = "0 3 1 1 *"\n', encoding="utf-8")
    serve = start_serving(config, tmp_path / "data", free_port())
    servers = [pid for pid in _children(serve.pid) if "prefect" in _cmdline(pid)]
    assert len(servers) == 1
    return serve, servers[0]


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _alive(pid)


def test_serve_killed_with_sigkill_takes_its_prefect_server_with_it(tmp_path: Path) -> None:
    serve, server = _start_serve(tmp_path)
    try:
        os.kill(serve.pid, signal.SIGKILL)
        serve.wait(timeout=30)
        # It kept answering on the port, and a restart was refused.
        assert _gone_within(server, 30)
    finally:
        for pid in (serve.pid, server):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_serve_ends_when_its_prefect_server_is_stopped(tmp_path: Path) -> None:
    serve, server = _start_serve(tmp_path)
    try:
        os.kill(server, signal.SIGTERM)  # as systemd's default stop signals every process of the service
        rest = serve.communicate(timeout=60)[0]  # it waited for ever
        assert serve.returncode == 0
        assert "stopping: the Prefect server was stopped" in rest
    finally:
        for pid in (serve.pid, server):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_scheduled_run_with_an_unhealthy_crawl_ends_failed_after_loading(tmp_path: Path) -> None:
    # It showed as Completed in Prefect's UI, the warning only in its log (from the serve QA).
    import socket

    from flows.errors import RunUnhealthy
    from flows.pipeline import SourceSpec, pipeline
    from warehouse.db import connect, warehouse_path

    with socket.socket() as probe:  # a port nothing listens on: the site is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = SourceSpec("schema_org", [f"http://127.0.0.1:{port}/"], "site", settings={"RETRY_TIMES": 0},
                      incremental=True)
    with pytest.raises(RunUnhealthy, match=r"unhealthy: run \S+ of site: no page fetched: every request failed"):
        pipeline([spec], str(tmp_path), fail_unhealthy=True)
    conn = connect(warehouse_path(tmp_path), read_only=True)
    try:  # loaded and judged first, as any run
        assert conn.execute("select source, healthy from crawl_runs").fetchall() == [("site", False)]
    finally:
        conn.close()
    # Named Unhealthy, as `reviews run`'s: it was a plain Failed with two tracebacks (Prefect QA).
    state = pipeline([spec], str(tmp_path), fail_unhealthy=True, return_state=True)
    assert (state.is_failed(), state.name) == (True, "Unhealthy")


def test_an_unhealthy_run_called_as_a_function_raises_run_unhealthy_holding_its_result(tmp_path: Path) -> None:
    # Its flow run ends Failed (named Unhealthy) as `reviews run`'s does; the caller still gets what was loaded.
    import socket

    from flows.errors import RunUnhealthy
    from flows.pipeline import PipelineResult, SourceSpec, pipeline

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = SourceSpec("schema_org", [f"http://127.0.0.1:{port}/"], "site", settings={"RETRY_TIMES": 0})
    with pytest.raises(RunUnhealthy, match="no page fetched") as raised:
        pipeline([spec], str(tmp_path))
    assert isinstance(raised.value.result, PipelineResult)
    assert [bad["source"] for bad in raised.value.result.unhealthy] == ["site"]
    # Prefect may persist the Failed state's data: it would not unpickle (review).
    import pickle

    again = pickle.loads(pickle.dumps(raised.value))
    assert str(again) == str(raised.value) and again.result == raised.value.result
    from flows.errors import RunIncomplete

    incomplete = RunIncomplete(["run r of s was not loaded"], raised.value.result)
    assert str(pickle.loads(pickle.dumps(incomplete))) == str(incomplete)


def test_a_scheduled_run_whose_site_is_still_being_crawled_is_skipped_not_failed(tmp_path: Path) -> None:
    # A crawl slower than its schedule: the next scheduled run ended Failed, as if something broke. (A Cancelled
    # state, tried first, made Prefect's engine log a traceback.)
    from flows.pipeline import PipelineResult, SourceSpec, pipeline
    from tests.flows.test_concurrent_runs import hold_crawl_lock

    job = tmp_path / "jobs" / "site"
    job.mkdir(parents=True)
    holder = hold_crawl_lock(job)
    try:
        spec = SourceSpec("schema_org", ["http://127.0.0.1:9/"], "site", incremental=True)
        state = pipeline([spec], str(tmp_path), fail_unhealthy=True, return_state=True)
        assert (state.is_completed(), state.name) == (True, "Skipped")
        assert state.message.startswith("skipped: site is being crawled by another run")
        result = state.result()
        assert isinstance(result, PipelineResult) and result.marts  # pending batches loaded, marts rebuilt
        assert isinstance(pipeline([spec], str(tmp_path), fail_unhealthy=True), PipelineResult)  # no exception
    finally:
        holder.kill()
        holder.wait()


def test_a_scheduled_run_is_not_failed_by_another_sources_unhealthy_batch_it_loads(small_demo, tmp_path: Path) -> None:
    # A batch `reviews crawl` left pending for a site that was down ended the next scheduled run of another, healthy
    # source as Failed, naming the other source (Prefect QA).
    import socket

    from flows.crawl import run_crawl
    from flows.pipeline import PipelineResult, SourceSpec, pipeline

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run_crawl("schema_org", [f"http://127.0.0.1:{port}/"], source="down", data=tmp_path, show_progress=False,
              settings={"RETRY_TIMES": 0})
    spec = SourceSpec("schema_org", [small_demo.url + "sitemap.xml"], "demo", incremental=True)
    result = pipeline([spec], str(tmp_path), fail_unhealthy=True)
    assert isinstance(result, PipelineResult)
    assert result.unhealthy == []
    assert [bad["source"] for bad in result.elsewhere] == ["down"]  # loaded and judged, as any batch


def test_a_runs_own_crawl_that_another_run_loaded_and_judged_unhealthy_is_still_its_own(tmp_path: Path) -> None:
    # Two cron jobs on one data folder: the job that crawled a broken site exited 0, silent, while the job that
    # happened to load its batch meanwhile exited 3 for it (diagnosis QA).
    import socket

    from flows.crawl import run_crawl
    from flows.load import judged_elsewhere
    from flows.pipeline import pipeline
    from warehouse.db import warehouse_path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    crawl = run_crawl("schema_org", [f"http://127.0.0.1:{port}/"], source="down", data=tmp_path, show_progress=False,
                      settings={"RETRY_TIMES": 0})
    other = pipeline([], str(tmp_path), return_state=True)  # the other job: loads it, judges it unhealthy
    assert other.is_failed()
    mine = [{"source": "down", "run_id": crawl.run_id}]
    (judged,) = judged_elsewhere(warehouse_path(tmp_path), mine, loaded=[])
    assert (judged["source"], judged["run_id"], judged["healthy"]) == ("down", crawl.run_id, False)
    assert "no page fetched" in judged["health_notes"]
    assert judged_elsewhere(warehouse_path(tmp_path), mine, loaded=[judged]) == []  # loaded by itself: counted there


def test_a_prefect_api_url_with_a_trailing_slash_is_the_same_server() -> None:
    # "http://host:port/api/" was refused as a server that does not answer (…/api//health), while prefect took it.
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from flows.prefect_server import healthy

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/api/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api"
        assert healthy(url) and healthy(url + "/")
    finally:
        server.shutdown()


def test_a_source_that_cannot_be_crawled_does_not_keep_the_others_crawls_from_loading(small_demo,
                                                                                      tmp_path: Path) -> None:
    # Its error ended the run: the other source's finished crawl stayed unloaded until the next run (Prefect QA).
    from flows.errors import RunIncomplete
    from flows.pipeline import SourceSpec, pipeline
    from warehouse.db import connect, warehouse_path

    broken = SourceSpec("profile", ["http://127.0.0.1:9/"], "broken",
                        spider_args={"profile": str(tmp_path / "gone.toml")})
    demo = SourceSpec("schema_org", [small_demo.url + "sitemap.xml"], "demo")
    with pytest.raises(RunIncomplete, match="broken was not crawled: .*gone.toml") as raised:
        pipeline([broken, demo], str(tmp_path), parallel=1)
    assert [load["source"] for load in raised.value.result.loads] == ["demo"]
    conn = connect(warehouse_path(tmp_path), read_only=True)
    try:
        assert conn.execute("select count(*) from reviews").fetchone()[0] > 0
    finally:
        conn.close()
