"""Stops sent to the whole process group of `reviews run`, as a terminal's Ctrl-C and supervisors do.

Prefect's temporary API server used to share the run's process group: a Ctrl-C or a group SIGTERM stopped it
too, and the run's clean stop then ended in a minute of retries, pages of connection tracebacks and exit 1.
A SIGTERM while loading was Prefect's "crashed" run, ended by the signal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.warehouse import synthesize
from crawlers.landing import new_run_id
from warehouse.db import connect, open_writer, warehouse_path


@pytest.fixture(scope="module")
def big_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A landing batch large enough that its load takes seconds, so a signal can arrive in the middle."""
    path = tmp_path_factory.mktemp("batch") / "items.jsonl"
    synthesize(path, reviews=150_000)
    return path


def pending_run(root: Path, batch: Path) -> str:
    run_id = new_run_id()
    folder = root / "raw" / "bench"
    folder.mkdir(parents=True)
    os.link(batch, folder / f"{run_id}.jsonl")
    with open_writer(warehouse_path(root)):  # migrated beforehand: the signal must find the load itself
        pass
    return run_id


def servers_of(root: Path) -> list[int]:
    """Pids of Prefect API servers started with this data folder's PREFECT_HOME."""
    home = f"PREFECT_HOME={root / '.prefect'}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if b"uvicorn" in (proc / "cmdline").read_bytes() and home in (proc / "environ").read_bytes().split(b"\0"):
                pids.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return pids


def start_run(root: Path) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    command = [sys.executable, "-m", "flows.cli", "run", "--data-dir", str(root), "--quiet"]
    # SIGINT as a terminal leaves it: a shell starting this test suite in the background ignores SIGINT, its
    # children inherit that, and Python then installs no Ctrl-C handler.
    return subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def signal_group_while_loading(root: Path, run: subprocess.Popen[str], signum: int) -> list[int]:
    """Send `signum` to the run's process group in the middle of its load; the Prefect servers it started."""
    deadline = time.monotonic() + 120
    while not (root / ".writer.lock").exists():  # taken first by the load (no source to crawl)
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.05)
    time.sleep(1.5)
    assert run.poll() is None, "the load ended before the signal: make the batch larger"
    servers = servers_of(root)
    assert servers, "no Prefect server found for the run"
    os.killpg(run.pid, signum)
    return servers


def gone(pids: list[int], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_sent_to_the_whole_group_while_loading_is_one_line_exit_130_and_the_batch_stays_pending(
        tmp_path: Path, big_batch: Path, signum: int) -> None:
    run_id = pending_run(tmp_path, big_batch)
    run = start_run(tmp_path)
    servers = signal_group_while_loading(tmp_path, run, signum)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    # On a loaded machine (CI beside other work) the stop can land 1.5 s after the lock but still in the step that
    # finds the pending batches, just before the load: its own one line, and the batch is as pending.
    assert stderr.strip() in (f"error: stopped while loading run {run_id} of bench: that load was rolled back and "
                              "the next run loads the batch (batches loaded before it are kept; the next run "
                              "rebuilds the marts)",
                              "error: stopped before loading: the next run loads what this one crawled")
    with connect(warehouse_path(tmp_path), read_only=True) as conn:
        assert conn.execute("select count(*) from reviews").fetchone() == (0,)
        assert conn.execute("select count(*) from crawl_runs").fetchone() == (0,)
    assert gone(servers)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and relies on PR_SET_PDEATHSIG")
def test_a_run_killed_with_its_group_leaves_no_prefect_server_running(tmp_path: Path, big_batch: Path) -> None:
    pending_run(tmp_path, big_batch)
    run = start_run(tmp_path)
    servers = signal_group_while_loading(tmp_path, run, signal.SIGKILL)
    run.communicate(timeout=60)
    assert gone(servers), f"Prefect servers {servers} outlived the killed run"


def test_a_prefect_server_that_cannot_start_is_one_line_with_its_log_named(tmp_path: Path) -> None:
    # Its database in a folder that does not exist stands for a full disk: the server exits at start-up.
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path}/missing/dir/prefect.db",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "8"}
    done = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--data-dir", str(tmp_path / "data"), "--quiet"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    log = tmp_path / "prefect-home" / "server.log"
    (line,) = done.stderr.splitlines()  # the README: one `error:` line naming that log
    assert line.startswith("error: Prefect's temporary server did not start") and str(log) in line
    assert log.stat().st_size > 0


def test_a_prefect_server_that_keeps_failing_at_start_is_not_called_slow(tmp_path: Path) -> None:
    # Run from a folder that was deleted (a cleaned CI workspace): the server fails at once, Prefect starts it
    # again, and the one alive at the deadline was reported as "still starting" with advice to wait longer.
    gone = tmp_path / "gone"
    gone.mkdir()
    reviews = Path(sys.executable).parent / "reviews"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "10"}
    done = subprocess.run(["sh", "-c", f'cd "{gone}" && rmdir "{gone}" && exec "{reviews}" run --data-dir '
                                       f'"{tmp_path / "data"}" --quiet'],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: Prefect's temporary server did not start (")
    assert "still starting" not in done.stderr and "Traceback" not in done.stderr


def run_with_env(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flows.cli", "run", "--data-dir", str(tmp_path / "data"), "--quiet"],
                          env={**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), **env},
                          capture_output=True, text=True, timeout=120)


def test_a_prefect_server_still_starting_when_its_time_is_up_says_so_in_its_log_and_error(tmp_path: Path) -> None:
    # On a busy machine the server can still be importing when the wait ends: its log was empty, and the error
    # advised deleting Prefect's folder as after a full disk.
    done = run_with_env(tmp_path, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="0")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: Prefect's temporary server did not start: still starting after 0 s")
    assert "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS higher" in done.stderr and "delete" not in done.stderr
    assert "reviews: stopped, still starting after 0 s" in (tmp_path / "prefect-home" / "server.log").read_text()


def test_a_prefect_setting_that_cannot_be_read_is_one_line_naming_it(tmp_path: Path) -> None:
    done = run_with_env(tmp_path, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="0.5")
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "error: Prefect cannot read its setting PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS = '0.5': Input "
        "should be a valid integer, unable to parse string as an integer; fix it in the environment or in Prefect's "
        "profiles.toml"]


def test_a_prefect_folder_on_a_full_disk_is_one_line_before_its_server_starts(tmp_path: Path, monkeypatch) -> None:
    # With PREFECT_HOME on another disk, a full one hung the server with nothing in its log, and the run waited
    # two minutes to call it "still starting" (resources QA).
    import flows.crawl
    from flows.errors import ReviewsError
    from flows.prefect_server import _check_room_for

    monkeypatch.setattr(flows.crawl, "free_bytes", lambda path: 200 * 1024)
    with pytest.raises(ReviewsError, match=r"only 0\.2 MB free on the disk of .*prefect-home \(Prefect's folder"):
        _check_room_for(tmp_path / "prefect-home")
    monkeypatch.setattr(flows.crawl, "free_bytes", lambda path: 2**40)
    _check_room_for(tmp_path / "prefect-home")
