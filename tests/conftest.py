"""Test-session settings that must exist before Prefect is first imported."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

# Prefect reads its settings at import: give the tests their own home and a temporary API,
# never the user's, and room for the temporary server to start on a busy 2-core machine.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="reviews-tests-prefect-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
os.environ.pop("PREFECT_API_URL", None)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than the cores this process may use (`--maxprocesses` still caps it). Many tests
    wait on a child process (a crawl, Prefect's server starting, a stopped command): with one worker a core, 1.56 of
    2 cores were busy; with three, 1.83. A fresh clone's suite took 12:18 with three, 14:20 with two (2026-11-29)."""
    return len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) + 1


@pytest.fixture(scope="session", autouse=True)
def _prefect_starts_the_temporary_server_of_flows_prefect_server() -> None:
    # Flows the tests call directly left the temporary server's port to Prefect: a random pick another worker's
    # server could take at the same moment, which flows/prefect_server.py closes (flakiness QA).
    from flows.prefect_server import temporary_server

    temporary_server()


@pytest.fixture(autouse=True)
def _no_data_folder_left_by_an_earlier_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # flows.settings.configure sets REVIEWS_DATA_DIR for a command's child processes; a command an earlier test
    # ran in this process pointed later tests' commands at its folder (test_config.py after test_cli.py failed).
    monkeypatch.delenv("REVIEWS_DATA_DIR", raising=False)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A migrated, empty warehouse at tmp_path/reviews.duckdb (tmp_path works as its data dir)."""
    from warehouse.db import connect, migrate

    connection = connect(tmp_path / "reviews.duckdb")
    migrate(connection)
    yield connection
    connection.close()
