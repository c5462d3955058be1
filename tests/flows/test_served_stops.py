"""A served run's stop ends its run and the task it stopped Cancelled (verification QA, Prefect QA): a stopped report
was recorded Crashed and its task Crashed, a stopped load's task Failed, and a report's bad week was two tracebacks.
In-process flow runs on Prefect's temporary server, with the served run's environment set."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect import get_client

import flows.pipeline
import flows.report.flow
from bench.warehouse import synthesize
from crawlers.landing import new_run_id
from flows.crawl import signalled
from flows.errors import ReviewsError
from flows.pipeline import pipeline
from flows.quiet_errors import SERVED_ENV
from flows.report.flow import weekly_report
from warehouse.db import connect, warehouse_path


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A served run's environment, naming a serve that is no parent of the test: nothing watches it."""
    monkeypatch.setenv(SERVED_ENV, "1:0")
    previous = signal.getsignal(signal.SIGINT)  # a served run ignores SIGINT in its main thread
    yield
    signal.signal(signal.SIGINT, previous)
    signalled.clear()


def _task_states(flow_run_id: object) -> dict[str, str]:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return {run.name: run.state.type.value for run in runs}


def test_a_served_report_stopped_while_rendering_ends_cancelled_with_its_task(served, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def stopped(*args: object) -> None:
        raise KeyboardInterrupt  # what the runner's SIGTERM is, taken as Ctrl-C

    monkeypatch.setattr(flows.report.flow, "write_report", stopped)
    state = weekly_report(data=str(tmp_path), week="2026-W40", return_state=True)
    assert state.is_cancelled(), state  # was Crashed: an automation on Crashed fired
    assert state.message == "stopped: no report was written for this week; the next run writes it"
    assert _task_states(state.state_details.flow_run_id) == {"render-report-2026-W40": "CANCELLED"}


def test_a_served_load_stopped_ends_cancelled_with_its_task_and_the_batch_stays_pending(
        served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = new_run_id()
    (tmp_path / "raw" / "bench").mkdir(parents=True)
    synthesize(tmp_path / "raw" / "bench" / f"{run_id}.jsonl", reviews=50)

    def stopped(conn: object, batch: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(flows.pipeline, "normalize", stopped)
    state = pipeline([], str(tmp_path), return_state=True)
    assert state.is_cancelled(), state
    assert state.message.startswith(f"stopped while loading run {run_id} of bench: that load was rolled back")
    tasks = _task_states(state.state_details.flow_run_id)
    assert tasks[f"load-bench-{run_id}"] == "CANCELLED"  # was Failed
    with connect(warehouse_path(tmp_path), read_only=True) as conn:
        assert conn.execute("select count(*) from reviews").fetchone()[0] == 0


def test_a_stop_outside_serve_still_ends_the_run_with_one_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(flows.report.flow, "write_report", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        weekly_report(data=str(tmp_path), week="2026-W40")


@pytest.mark.parametrize("week", ["garbage", "2026-W1", "2999-W01"])
def test_a_report_week_that_cannot_be_written_is_a_users_error(tmp_path: Path, week: str) -> None:
    with pytest.raises(ReviewsError, match="week"):
        weekly_report(data=str(tmp_path), week=week)


def test_a_source_name_given_as_a_deployment_parameter_is_checked_as_the_configs(tmp_path: Path) -> None:
    # Prefect QA: a deployment run with the parameter source "../../evil" wrote its crawl log outside the data folder.
    from flows.pipeline import SourceSpec

    spec = SourceSpec("schema_org", ["http://127.0.0.1:9/"], "../../evil")
    with pytest.raises(ReviewsError, match="may use only"):
        pipeline([spec], str(tmp_path / "data"))
    assert not (tmp_path / "evil").exists()
