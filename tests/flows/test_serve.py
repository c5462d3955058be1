"""The deployments register on a local Prefect server started by the test.

A real `prefect server start` child (what `reviews serve` starts) because Prefect's temporary server
cannot schedule: the crons and a manual run must survive on a real API.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.objects import StateType
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.config import Config, Source
from flows.errors import ReviewsError
from flows.serve import build_deployments, register
from flows.serve_server import LocalServer, ensure_server, start_local_server
from flows.writer import writer_slot

pytestmark = pytest.mark.timeout(300)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A real server on a free port with its own PREFECT_HOME; stopped even when a test fails."""
    started = time.monotonic()
    local = start_local_server(tmp_path_factory.mktemp("prefect-home"), free_port(), timeout=120)
    print(f"prefect server up in {time.monotonic() - started:.1f}s")
    try:
        with temporary_settings(updates={PREFECT_API_URL: local.api_url}):
            yield local
    finally:
        local.stop()
        assert not local.running()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    out = tmp_path_factory.mktemp("reports")
    return Config(
        contact_url="https://example.org/contact",
        sources=[
            Source("alpha", "schema_org", ["http://127.0.0.1:8765/sitemap.xml"], schedule="0 6 * * *",
                   download_delay=0.5, concurrency=2),
            Source("beta", "feed", ["http://127.0.0.1:8765/feed.xml"], schedule="30 * * * *"),
            Source("manual", "feed", ["http://127.0.0.1:8765/feed.xml"]),  # no schedule: not served
        ],
        report_schedule="0 7 * * 1",
        report_out=str(out),
    )


def test_deployments_are_built_from_the_config(config: Config, tmp_path: Path) -> None:
    deployments = build_deployments(config, tmp_path)
    assert [d.full_name for d in deployments] == ["pipeline/crawl-alpha", "pipeline/crawl-beta",
                                                  "weekly_report/weekly-report"]
    assert all(d.description for d in deployments)
    assert deployments[0].entrypoint == "flows.pipeline.pipeline"
    assert deployments[2].entrypoint == "flows.report.flow.weekly_report"
    # No deployment concurrency limit: its slot is held in the server's database, its lease in the server's
    # memory, so a serve killed during a run (with its server) leaked the slot and every later run was cancelled.
    assert all(d.concurrency_limit is None for d in deployments)


def test_bad_cron_is_one_clear_error(tmp_path: Path) -> None:
    bad = Config(sources=[Source("alpha", "feed", ["http://x/feed.xml"], schedule="every monday")])
    with pytest.raises(ReviewsError, match="source 'alpha' schedule.*not a valid cron"):
        build_deployments(bad, tmp_path)


def test_deployments_register_on_a_local_server(server: LocalServer, config: Config, tmp_path: Path) -> None:
    names = register(config, tmp_path)
    assert names == ["pipeline/crawl-alpha", "pipeline/crawl-beta", "weekly_report/weekly-report"]
    register(config, tmp_path)  # again: updates in place, no duplicates

    with get_client(sync_client=True) as client:
        crons = {}
        for name in names:
            deployment = client.read_deployment_by_name(name)
            assert len(deployment.schedules) == 1, name
            assert deployment.schedules[0].active
            crons[deployment.name] = deployment.schedules[0].schedule.cron
            assert "reviews" in deployment.tags
            assert deployment.description
        assert crons == {"crawl-alpha": "0 6 * * *", "crawl-beta": "30 * * * *", "weekly-report": "0 7 * * 1"}
        with pytest.raises(ObjectNotFound):
            client.read_deployment_by_name("pipeline/crawl-manual")

        alpha = client.read_deployment_by_name("pipeline/crawl-alpha")
        (spec,) = alpha.parameters["sources"]
        assert spec["source"] == "alpha" and spec["spider"] == "schema_org"
        assert spec["settings"]["DOWNLOAD_DELAY"] == 0.5
        assert spec["settings"]["USER_AGENT"] == "film-reviews/0.1 (+https://example.org/contact)"
        assert alpha.parameters["data"] == str(tmp_path.resolve())
        assert spec["incremental"] is True  # scheduled crawls skip what the warehouse has
        assert alpha.parameters["health"]["min_pages"] == config.health.min_pages

        # What `prefect deployment run weekly_report/weekly-report` does: a run, Scheduled for now.
        report = client.read_deployment_by_name("weekly_report/weekly-report")
        run = client.create_flow_run_from_deployment(report.id)
        run = client.read_flow_run(run.id)
        assert run.deployment_id == report.id
        assert run.state is not None and run.state.type == StateType.SCHEDULED
        assert run.parameters["out"] == config.report_out


def test_writer_slot_admits_one_writer_and_says_the_other_waits(tmp_path: Path) -> None:
    heard: list[str] = []
    with writer_slot(tmp_path):
        with pytest.raises(TimeoutError, match="another run still writes"), \
                writer_slot(tmp_path, timeout_seconds=0.5, waiting=heard.append):
            pass
    assert heard == [f"another run is writing the warehouse in {tmp_path}; waiting for it to finish"]
    with writer_slot(tmp_path, timeout_seconds=0.5):  # free again
        pass


def test_a_wait_for_the_writer_slot_ends_within_a_second_of_being_cancelled(tmp_path: Path) -> None:
    # A stopped run's crawl thread, waiting to write its incremental state, kept the stop waiting for another
    # run's whole load: a worker thread never sees the KeyboardInterrupt.
    import time

    cancel_at = time.monotonic() + 0.5
    with writer_slot(tmp_path):
        with pytest.raises(InterruptedError, match="stopped while waiting for the warehouse writer lock"), \
                writer_slot(tmp_path, cancelled=lambda: time.monotonic() >= cancel_at):
            pass
    assert time.monotonic() - cancel_at < 1.5
    with writer_slot(tmp_path, timeout_seconds=0.5, cancelled=lambda: False):  # free again, and not cancelled
        pass


def test_a_writer_killed_while_holding_the_slot_does_not_block_the_next_run(tmp_path: Path) -> None:
    # A run killed mid-load (SIGKILL, the OOM killer) used to leave a Prefect concurrency slot taken for ever.
    import signal
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from flows.writer import writer_slot\n"
        f"with writer_slot(Path({str(tmp_path)!r})):\n    print('held', flush=True); time.sleep(600)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(TimeoutError):
            with writer_slot(tmp_path, timeout_seconds=0.5):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        with writer_slot(tmp_path, timeout_seconds=5):
            pass
    finally:
        holder.kill()


def test_busy_port_is_one_clear_error(server: LocalServer, tmp_path: Path) -> None:
    with pytest.raises(ReviewsError, match=f"port {server.port} .* in use.*PREFECT_API_URL={server.api_url}"):
        start_local_server(tmp_path, server.port)


def test_a_server_of_another_home_that_took_the_port_meanwhile_is_not_taken_for_serves_own(
        server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The port is checked free and bound seconds later: another process's server that took it meanwhile answered
    # /health, and serve registered its schedules in that server (flakiness QA).
    monkeypatch.setattr("flows.serve_server._port_free", lambda port: True)  # free when checked, taken since
    started: list[LocalServer] = []
    try:
        with pytest.raises(ReviewsError, match=f"exited with code .* before it answered \\(port {server.port} was "
                                               "taken by another process while it started"):
            started.append(start_local_server(tmp_path / "home", server.port, timeout=120))
    finally:
        for local in started:
            local.stop()


def test_configured_server_is_used_as_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    assert ensure_server(tmp_path) is None


def test_schedules_follow_a_tz_the_tz_database_names_and_a_posix_rule_is_a_warning(
        config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tzlocal import get_localzone_name

    from flows.schedules import schedule_timezone

    monkeypatch.setenv("TZ", "EST5EDT")  # tzlocal answers the system's zone for it
    assert [d.schedules[0].schedule.timezone for d in build_deployments(config, tmp_path)] == ["EST5EDT"] * 3
    assert schedule_timezone() == ("EST5EDT", None)
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    zone, warning = schedule_timezone()
    assert zone == get_localzone_name()
    assert warning == (f"warning: TZ='CET-1CEST,M3.5.0,M10.5.0/3' is no time zone name (such as America/New_York); "
                       f"the schedules are in {zone}")


def _run_in_state(client, deployment_name: str, state) -> object:
    deployment = client.read_deployment_by_name(deployment_name)
    run = client.create_flow_run_from_deployment(deployment.id)
    client.set_flow_run_state(run.id, state, force=True)
    return run


def test_runs_a_stopped_serve_left_in_flight_are_marked_crashed(server: LocalServer, config: Config,
                                                                tmp_path: Path) -> None:
    # A serve killed with -9, or whose server systemd stopped with it, left its run Running in the UI for ever.
    from prefect.states import Completed, Running

    from flows.serve_runs import ORPHANED, settle_orphaned_runs

    mine, other = tmp_path / "mine", tmp_path / "other"
    register(config, mine)
    with get_client(sync_client=True) as client:
        left = _run_in_state(client, "pipeline/crawl-alpha", Running())
        done = _run_in_state(client, "pipeline/crawl-beta", Completed())
        assert settle_orphaned_runs(mine) == [left.name]
        settled = client.read_flow_run(left.id)
        assert settled.state.type == StateType.CRASHED and settled.state.message == ORPHANED
        assert client.read_flow_run(done.id).state.type == StateType.COMPLETED  # finished runs are left alone
        register(config, other)  # the same deployments, now serving another data folder
        elsewhere = _run_in_state(client, "pipeline/crawl-alpha", Running())
        assert settle_orphaned_runs(mine) == []  # not this folder's run
        assert client.read_flow_run(elsewhere.id).state.type == StateType.RUNNING


def test_deployments_no_longer_in_the_config_are_removed_with_their_scheduled_runs(server: LocalServer,
                                                                                   config: Config,
                                                                                   tmp_path: Path) -> None:
    # A source taken out of the config kept its deployment and schedule: its runs piled up as Late.
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from flows.serve_runs import retire_stale_deployments

    register(config, tmp_path)
    with get_client(sync_client=True) as client:
        beta = client.read_deployment_by_name("pipeline/crawl-beta")
        client.create_flow_run_from_deployment(beta.id)  # a scheduled run of it
        kept = ["pipeline/crawl-alpha", "weekly_report/weekly-report"]
        assert retire_stale_deployments(tmp_path, kept) == ["pipeline/crawl-beta"]
        with pytest.raises(ObjectNotFound):
            client.read_deployment_by_name("pipeline/crawl-beta")
        assert client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[beta.id]))) == []
        assert [client.read_deployment_by_name(name).name for name in kept] == ["crawl-alpha", "weekly-report"]
        assert retire_stale_deployments(tmp_path / "elsewhere", []) == []  # another folder's are not touched


def test_reviews_run_against_a_prefect_server_records_an_unhealthy_run_failed_with_its_logs(
        server: LocalServer, tmp_path: Path) -> None:
    # It exited 3 while its run showed as Completed, and --quiet (as under cron) sent the server no logs at all.
    import os
    import subprocess
    import sys

    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    down = free_port()  # nothing listens there: the site is down
    config = tmp_path / "reviews.toml"
    config.write_text(f'[[sources]]\nname = "down"\nspider = "schema_org"\nurls = ["http://127.0.0.1:{down}/"]\n'
                      '[sources.settings]\nRETRY_TIMES = 0\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    run = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--config", str(config), "--data-dir",
                          str(tmp_path / "data"), "--quiet"], env={**env, "PREFECT_API_URL": server.api_url},
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 3, run.stderr
    assert "unhealthy: down run" in run.stderr
    assert "| INFO" not in run.stderr  # the terminal stays quiet
    with get_client(sync_client=True) as client:
        (flow_run,) = [run for run in client.read_flow_runs()
                       if run.parameters.get("data") == str((tmp_path / "data").resolve())]
        assert (flow_run.state.type, flow_run.state.name) == (StateType.FAILED, "Unhealthy")
        assert "no page fetched" in flow_run.state.message
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id])))
        assert logs, "no logs reached the server"
        assert any(log.level == 20 for log in logs)  # INFO too, not only the warnings the terminal shows


def test_serving_a_second_data_folder_from_one_server_is_refused_naming_the_first(
        server: LocalServer, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Deployment names hold no data folder: the second folder's serve overwrote the first's deployments, the first's
    # serve then crawled into the second folder, and stopping either paused both (serve QA).
    from flows.serve import serve_forever
    from flows.serve_runs import taken_names

    first, second = tmp_path / "first", tmp_path / "second"
    names = register(config, first)
    assert taken_names(first, names) == {}
    assert taken_names(second, names) == dict.fromkeys(names, str(first.resolve()))
    monkeypatch.setenv("PREFECT_API_URL", server.api_url)
    with pytest.raises(ReviewsError, match=r"already has pipeline/crawl-alpha for another data folder \(.*first\), "
                                           r"and 3 such deployments in all"):
        serve_forever(config, second, echo=lambda line: None)
    with get_client(sync_client=True) as client:  # left as they were
        assert client.read_deployment_by_name("pipeline/crawl-alpha").parameters["data"] == str(first.resolve())


def test_served_runs_have_no_limit_and_a_repeated_sigterm_does_not_exit_mid_stop(config: Config,
                                                                                 tmp_path: Path) -> None:
    # Runner's default limit is 5 (a sixth source due at once waited, Late), and its SIGTERM handler called sys.exit
    # when a stop was under way (serve QA).
    from flows.serve_runner import STILL_STOPPING, make_runner

    heard: list[str] = []
    runner = make_runner(build_deployments(config, tmp_path), heard.append)
    assert runner.limit is None
    with pytest.raises(SystemExit):  # nothing served yet: ends at once, as Prefect's own does
        runner.handle_sigterm()
    runner.asked = True
    runner.handle_sigterm()
    assert heard == [STILL_STOPPING]


def test_a_deployment_is_this_folders_by_its_serve_id_not_its_path(server: LocalServer, config: Config,
                                                                   tmp_path: Path) -> None:
    # Two hosts keeping their data in one path and sharing a server took each other's deployments (review).
    from flows.serve_runs import retire_stale_deployments, taken_names

    names = register(config, tmp_path)
    assert taken_names(tmp_path, names) == {}
    (tmp_path / "locks" / "serve.id").write_text("another-host\n", encoding="utf-8")  # same path, another folder
    assert sorted(taken_names(tmp_path, names)) == sorted(names)
    assert retire_stale_deployments(tmp_path, []) == []  # not this folder's to delete


def test_a_source_whose_profile_is_broken_for_now_keeps_its_deployment(server: LocalServer, config: Config,
                                                                       tmp_path: Path) -> None:
    # Being skipped, it lost its deployment and scheduled runs at the next start: a typo being fixed (review).
    from dataclasses import replace

    from flows.serve import _retire

    names = register(config, tmp_path)
    broken = replace(config, sources=[replace(config.sources[0], profile_error="selectors: missing 'reviews'"),
                                      *config.sources[1:]])
    heard: list[str] = []
    _retire(tmp_path, broken, [name for name in names if name != "pipeline/crawl-alpha"], heard.append)
    assert heard == ["paused until its site profile is fixed: pipeline/crawl-alpha"]  # nothing serves it: no Late runs
    with get_client(sync_client=True) as client:
        alpha = client.read_deployment_by_name("pipeline/crawl-alpha")
        assert alpha.parameters["data"] == str(tmp_path.resolve()) and alpha.paused
