"""Stopping `reviews serve` while a scheduled run crawls (Prefect QA): the run is stopped cleanly and recorded.

Prefect's own Ctrl-C handling killed the run's process at once: the run stayed Running in the UI for ever, and
its crawl went on as an orphan with nobody to load what it landed.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.flows.test_serve import free_port
from tests.flows.test_serve_process import _alive, _cmdline

pytestmark = pytest.mark.timeout(300)


def _crawl_processes(run_id: str) -> list[int]:
    return [int(path.name) for path in Path("/proc").glob("[0-9]*")
            if f"run_id={run_id}" in _cmdline(int(path.name)) and _alive(int(path.name))]


def test_ctrl_c_on_serve_stops_the_run_in_flight_cleanly_and_records_it_cancelled(small_demo, tmp_path: Path) -> None:
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    config = tmp_path / "reviews.toml"
    config.write_text(f'[report]\nschedule = ""\n\n[[sources]]\nname = "demo"\nspider = "schema_org"\n'
                      f'urls = ["{small_demo.url}sitemap.xml"]\nschedule = "0 3 1 1 *"\ndownload_delay = 0.5\n'
                      'concurrency = 1\n', encoding="utf-8")
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    port = free_port()
    serve = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--config", str(config), "--data-dir",
                              str(data), "--port", str(port)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert serve.stdout is not None
        for line in serve.stdout:
            if line.startswith("deployments:"):
                break
        else:
            raise AssertionError(f"serve ended before serving (exit {serve.wait()})")
        with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}):
            with get_client(sync_client=True) as client:
                deployment = client.read_deployment_by_name("pipeline/crawl-demo")
                run_id = client.create_flow_run_from_deployment(deployment.id).id
        raw = data / "raw" / "demo"
        deadline = time.monotonic() + 120
        while not any(path.stat().st_size for path in raw.glob("*[0-9]Z.jsonl")) if raw.exists() else True:
            assert time.monotonic() < deadline, "the run never landed a review"
            time.sleep(0.5)
        (crawl_id,) = [path.stem for path in (data / "logs" / "demo").glob("*.log")]
        os.killpg(serve.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        rest = serve.communicate(timeout=150)[0]
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
    assert serve.returncode == 0, rest
    assert "stopping: runs in flight are stopped cleanly first" in rest
    with sqlite3.connect(data / ".prefect" / "prefect.db") as db:
        (state,) = db.execute("select state_type from flow_run where id = ?", [str(run_id)]).fetchone()
    assert state == "CANCELLED"  # it stayed RUNNING
    orphans = _crawl_processes(crawl_id)
    for pid in orphans:  # never left behind by a failing test
        os.kill(pid, signal.SIGKILL)
    assert orphans == []  # the crawl went on without its run
    stats = data / "raw" / "demo" / f"{crawl_id}.stats.json"
    assert '"finish_reason": "shutdown"' in stats.read_text(encoding="utf-8")  # closed cleanly, its job kept
    assert (data / "jobs" / "demo" / "requests.queue").is_dir()
