"""Stopping `reviews serve` while scheduled runs crawl (Prefect QA, serve QA): each run is stopped cleanly and recorded.

Prefect's own Ctrl-C handling killed the runs' processes at once: each stayed Running in the UI for ever, and its
crawl went on as an orphan with nobody to load what it landed. A run the terminal's Ctrl-C reached directly
recorded itself Crashed, a second Ctrl-C cut the runner's stop short, and a serve killed with -9 left its runs
crawling for minutes.
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
from tests.flows.test_serve_process import _alive, _cmdline, start_serving

pytestmark = pytest.mark.timeout(300)


def _crawl_processes(run_id: str) -> list[int]:
    return [int(path.name) for path in Path("/proc").glob("[0-9]*")
            if f"run_id={run_id}" in _cmdline(int(path.name)) and _alive(int(path.name))]


def _serve_with_runs_in_flight(site_url: str, tmp_path: Path, sources: list[str]) -> tuple[subprocess.Popen, dict]:
    """`reviews serve` of one slow source per name, each run started at once and landing reviews; returns serve and
    {source: (flow run id, crawl run id)}."""
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    config = tmp_path / "reviews.toml"
    config.write_text('[report]\nschedule = ""\n' + "".join(
        f'\n[[sources]]\nname = "{name}"\nspider = "schema_org"\nurls = ["{site_url}sitemap.xml"]\n'
        'schedule = "0 3 1 1 *"\ndownload_delay = 0.5\nconcurrency = 1\n' for name in sources), encoding="utf-8")
    data = tmp_path / "data"
    port = free_port()
    serve = start_serving(config, data, port)
    runs = {}
    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}):
        with get_client(sync_client=True) as client:
            for name in sources:
                deployment = client.read_deployment_by_name(f"pipeline/crawl-{name}")
                runs[name] = client.create_flow_run_from_deployment(deployment.id).id
    deadline = time.monotonic() + 150
    for name in sources:
        raw = data / "raw" / name
        while not (raw.exists() and any(path.stat().st_size for path in raw.glob("*[0-9]Z.jsonl"))):
            assert time.monotonic() < deadline, f"the run of {name} never landed a review"
            time.sleep(0.5)
        (crawl_id,) = [path.stem for path in (data / "logs" / name).glob("*.log")]
        runs[name] = (runs[name], crawl_id)
    return serve, runs


def _states(data: Path, runs: dict) -> dict[str, str]:
    with sqlite3.connect(data / ".prefect" / "prefect.db") as db:
        return {name: db.execute("select state_type from flow_run where id = ?", [str(run)]).fetchone()[0]
                for name, (run, _) in runs.items()}


def _history(data: Path, runs: dict) -> dict[str, list[str]]:
    with sqlite3.connect(data / ".prefect" / "prefect.db") as db:
        query = "select type from flow_run_state where flow_run_id = ? order by timestamp"
        return {name: [row[0] for row in db.execute(query, [str(run)])] for name, (run, _) in runs.items()}


def _crawl_task_states(data: Path, runs: dict) -> dict[str, list[str]]:
    with sqlite3.connect(data / ".prefect" / "prefect.db") as db:
        query = "select state_type from task_run where flow_run_id = ? and name like 'crawl-%'"
        return {name: [row[0] for row in db.execute(query, [str(run)])] for name, (run, _) in runs.items()}


def _ctrl_c(serve: subprocess.Popen, times: int = 1) -> str:
    """What a terminal's Ctrl-C does (serve's whole group hears it), `times` over a second apart; serve's output
    from then on, once it has ended (killed if it does not end)."""
    try:
        for time_ in range(times):
            if time_:
                time.sleep(1)
            os.killpg(serve.pid, signal.SIGINT)
        return serve.communicate(timeout=150)[0]
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


def _no_orphans(runs: dict) -> list[int]:
    orphans = [pid for _, crawl_id in runs.values() for pid in _crawl_processes(crawl_id)]
    for pid in orphans:  # never left behind by a failing test
        os.kill(pid, signal.SIGKILL)
    return orphans


def _stopped_cleanly(data: Path, source: str, crawl_id: str) -> bool:
    stats = data / "raw" / source / f"{crawl_id}.stats.json"
    return '"finish_reason": "shutdown"' in stats.read_text(encoding="utf-8") and \
        (data / "jobs" / source / "requests.queue").is_dir()  # closed cleanly, its job kept to resume


def test_ctrl_c_twice_on_serve_stops_every_run_in_flight_cleanly_and_records_each_cancelled(small_demo,
                                                                                           tmp_path: Path) -> None:
    serve, runs = _serve_with_runs_in_flight(small_demo.url, tmp_path, ["demo", "again"])
    rest = _ctrl_c(serve, times=2)  # impatient: a second one cut the runner's stop short (serve QA)
    assert serve.returncode == 0, rest
    assert "stopping: runs in flight are stopped cleanly first" in rest and "still stopping" in rest
    assert "Traceback" not in rest
    data = tmp_path / "data"
    assert _states(data, runs) == {"demo": "CANCELLED", "again": "CANCELLED"}  # Running for ever, then one Crashed
    # Each was recorded Crashed ~2 s before Cancelled: an automation on Crashed would have fired.
    assert all("CRASHED" not in states for states in _history(data, runs).values()), _history(data, runs)
    assert _crawl_task_states(data, runs) == {"demo": ["CANCELLED"], "again": ["CANCELLED"]}  # were Completed
    assert _no_orphans(runs) == []  # the crawls went on without their runs
    assert all(_stopped_cleanly(data, name, crawl_id) for name, (_, crawl_id) in runs.items())


def test_a_run_whose_serve_was_killed_stops_its_crawl_cleanly(small_demo, tmp_path: Path) -> None:
    serve, runs = _serve_with_runs_in_flight(small_demo.url, tmp_path, ["demo"])
    try:
        os.kill(serve.pid, signal.SIGKILL)
        serve.wait()
        deadline = time.monotonic() + 60
        while _crawl_processes(runs["demo"][1]) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _no_orphans(runs) == []  # it crawled on for minutes, reparented
    finally:
        os.killpg(serve.pid, signal.SIGKILL)  # the run's process, in serve's group, if it is still there
    assert _stopped_cleanly(tmp_path / "data", "demo", runs["demo"][1])


@pytest.mark.parametrize(("serve", "stopped"), [
    ("dead", False),  # a command started from a served run's environment after serve ended stopped itself (QA)
    ("1", False),  # a live process that is not its parent: a command started from a served run's environment
    ("parent", True),  # serve's own run, whose serve then ends
])
def test_a_served_run_stops_itself_only_when_its_serve_is_gone(serve: str, stopped: bool) -> None:
    # Review: the run took its parent as it found it, so one whose serve died during its start never stopped.
    if serve == "parent":  # a shell as serve: it starts the run, then ends
        script = ("import subprocess, sys, time\n"
                  "subprocess.Popen([sys.executable, '-c', 'import time\\nfrom flows.served import prepare_served_run"
                  "\\nprepare_served_run()\\ntime.sleep(6)\\nprint(\\'went on\\', flush=True)'], "
                  "env={**__import__('os').environ, 'REVIEWS_SERVED_RUN': str(__import__('os').getpid())})\n"
                  "time.sleep(2)\n")
        # Read to the end of the orphaned run's output too: it holds the pipe until it ends.
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert "went on" not in done.stdout
        return
    if serve == "dead":
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        serve = str(gone.pid)
    child = subprocess.run([sys.executable, "-c", "import time\nfrom flows.served import prepare_served_run\n"
                            "prepare_served_run()\ntime.sleep(3)\nprint('went on')"],
                           env={**os.environ, "REVIEWS_SERVED_RUN": serve}, capture_output=True, text=True, timeout=60)
    assert (child.returncode == -signal.SIGTERM) is stopped, (child.returncode, child.stderr)
    assert ("went on" in child.stdout) is not stopped


def _two_idle_sources(tmp_path: Path) -> tuple[Path, Path]:
    """A config of two sources and the report, none due during a test (the config, the data folder)."""
    config = tmp_path / "reviews.toml"
    config.write_text('[report]\nschedule = "0 3 1 1 *"\n' + "".join(
        f'\n[[sources]]\nname = "{name}"\nspider = "feed"\nurls = ["http://127.0.0.1:9/feed.xml"]\n'
        'schedule = "0 3 1 1 *"\n' for name in ("first", "second")), encoding="utf-8")
    return config, tmp_path / "data"


def _paused(data: Path) -> dict[str, int]:
    with sqlite3.connect(data / ".prefect" / "prefect.db") as db:
        return dict(db.execute("select name, paused from deployment").fetchall())


def test_a_deployment_deleted_while_serving_leaves_a_clean_stop_that_pauses_the_rest(tmp_path: Path) -> None:
    # Prefect QA: Prefect's own pause on shutdown stopped at the deleted deployment with a 404 traceback, exit 1, and
    # left the deployments after it unpaused (their runs piled up as Late with nobody serving them).
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    config, data = _two_idle_sources(tmp_path)
    port = free_port()
    serve = start_serving(config, data, port)
    try:
        with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}):
            with get_client(sync_client=True) as client:
                deadline = time.monotonic() + 60  # once the runner polls it (it registers its deployments again)
                while (first := client.read_deployment_by_name("pipeline/crawl-first")).status != "READY":
                    assert time.monotonic() < deadline, first.status
                    time.sleep(0.5)
                client.delete_deployment(first.id)
    finally:
        rest = _ctrl_c(serve)
    assert serve.returncode == 0, rest
    assert "Traceback" not in rest
    assert _paused(data) == {"crawl-second": 1, "weekly-report": 1}


def test_sigterms_while_serve_stops_still_pause_every_deployment(tmp_path: Path) -> None:
    # Stop-timing QA: a SIGTERM before the runner took the signal over, or one while serve paused its deployments
    # after the runner had stopped (systemd's, a second kill), met the default action: serve died with -15 and left
    # deployments unpaused, their runs piling up as Late. One every 0.3 s lands in each step of the stop.
    config, data = _two_idle_sources(tmp_path)
    serve = start_serving(config, data, free_port())
    try:
        deadline = time.monotonic() + 120
        while serve.poll() is None and time.monotonic() < deadline:
            serve.send_signal(signal.SIGTERM)
            time.sleep(0.3)
        rest = serve.communicate(timeout=30)[0]
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
    assert serve.returncode == 0, rest
    assert "Traceback" not in rest
    assert _paused(data) == {"crawl-first": 1, "crawl-second": 1, "weekly-report": 1}
