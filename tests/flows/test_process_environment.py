"""The process a scheduled job gives `reviews`: cron's environment, a closed or full standard output or error, a
narrow COLUMNS, a stdout that cannot spell a title, a group's umask (environment QA)."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from filelock import FileLock
from rich.console import Console
from rich.table import Table

from bench.warehouse import synthesize
from crawlers.landing import new_run_id
from flows.errors import ReviewsError
from flows.incremental import crawl_lock, crawl_lock_path
from flows.output import show
from flows.writer import writer_slot
from warehouse.db import connect, migrate, warehouse_path

REVIEWS = [sys.executable, "-m", "flows.cli"]


def reviews(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    return subprocess.run([*REVIEWS, *args], env={**env, **kwargs.pop("env", {})}, capture_output=True, text=True,
                          timeout=300, **kwargs)


@pytest.fixture
def pending(tmp_path: Path) -> Path:
    folder = tmp_path / "raw" / "bench"
    folder.mkdir(parents=True)
    synthesize(folder / f"{new_run_id()}.jsonl", reviews=200)
    return tmp_path


def test_a_run_whose_standard_output_is_full_still_builds_the_marts(pending: Path) -> None:
    # The progress display's last newline on a full stdout ended the run between the loads and the marts.
    with open("/dev/full", "w") as full:
        done = subprocess.run([*REVIEWS, "run", "--data-dir", str(pending)], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "the run's summary could not be written to standard output (No space left on device)" in done.stderr
    with connect(warehouse_path(pending), read_only=True) as conn:
        assert conn.execute("select count(*) from film_scores").fetchone()[0] > 0


def test_a_run_whose_reader_is_gone_ends_with_the_runs_own_exit_code(pending: Path) -> None:
    child = subprocess.Popen([*REVIEWS, "run", "--data-dir", str(pending)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    child.stdout.close()  # Rich's answer to the broken pipe was SystemExit(1) after a good run
    assert child.wait(timeout=300) == 0, child.stderr.read()
    assert "could not be written to standard output (Broken pipe)" in child.stderr.read()


def test_a_run_with_its_standard_error_closed_completes(pending: Path) -> None:
    done = subprocess.run([*REVIEWS, "run", "--data-dir", str(pending), "--quiet"], capture_output=True, text=True,
                          timeout=300, preexec_fn=lambda: os.close(2))
    assert done.returncode == 0  # an AttributeError on sys.stderr ended it, exit 1


def test_columns_0_still_prints_the_error_line(tmp_path: Path) -> None:
    done = reviews("sql", "drop table films", "--data-dir", str(tmp_path), env={"COLUMNS": "0"})
    assert done.returncode == 2 and done.stderr.startswith("error: ")  # it printed nothing at all


def empty_warehouse(root: Path) -> Path:
    with connect(warehouse_path(root)) as conn:
        migrate(conn)
    return root


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_sql_onto_a_full_disk_is_one_error_line(tmp_path: Path, fmt: str) -> None:
    root = empty_warehouse(tmp_path)
    with open("/dev/full", "w") as full:  # a traceback ending in OSError (sql QA)
        done = subprocess.run([*REVIEWS, "sql", "select 1 as n", "-f", fmt, "--data-dir", str(root)], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr == "error: cannot write the result: No space left on device\n"


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["sources"]])
def test_status_onto_a_full_disk_is_one_error_line(tmp_path: Path, command: list[str]) -> None:
    root = empty_warehouse(tmp_path)
    with open("/dev/full", "w") as full:  # a traceback ending in OSError (resources QA)
        done = subprocess.run([*REVIEWS, *command, "--data-dir", str(root)], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr == "error: cannot write to standard output: No space left on device\n"


def test_sql_from_a_closed_standard_input_is_one_error_line(tmp_path: Path) -> None:
    done = reviews("sql", "-", "--data-dir", str(empty_warehouse(tmp_path)), preexec_fn=lambda: os.close(0))
    assert done.returncode == 2  # an AttributeError on sys.stdin, exit 1
    assert done.stderr == "error: - reads the SQL from standard input, which is closed\n"


def test_a_stdout_that_cannot_spell_a_title_gets_escapes_in_a_table_and_utf8_in_csv(tmp_path: Path) -> None:
    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    conn.close()
    ascii_out = {"PYTHONIOENCODING": "ascii"}
    table = reviews("sql", "select '七人の侍' as t", "--data-dir", str(tmp_path), env=ascii_out)
    assert table.returncode == 0, table.stderr  # a UnicodeEncodeError, exit 1
    assert "\\u4e03\\u4eba\\u306e\\u4f8d" in table.stdout
    exact = subprocess.run([*REVIEWS, "sql", "select '七人の侍 😀' as t", "-f", "json", "--data-dir", str(tmp_path)],
                           env={**os.environ, **ascii_out}, capture_output=True, timeout=120)
    assert exact.returncode == 0 and exact.stdout.decode("utf-8") == '{"t":"七人の侍 😀"}\n'  # JSON is UTF-8


def test_a_data_folder_whose_name_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    latin = os.fsdecode(os.fsencode(tmp_path) + b"/d\xe9")
    done = reviews("status", "--data-dir", latin)
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: the data folder's name is not UTF-8")


def test_a_crawl_lock_is_made_as_the_umask_says(tmp_path: Path) -> None:
    previous = os.umask(0o002)  # a team's shared folder
    try:
        with crawl_lock(tmp_path / "jobs" / "demo"):
            pass
    finally:
        os.umask(previous)
    assert stat.S_IMODE(crawl_lock_path(tmp_path / "jobs" / "demo").stat().st_mode) == 0o664


def test_a_crawl_lock_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    crawl_lock_path(tmp_path / "jobs" / "demo").mkdir(parents=True)  # stands for another user's file
    with pytest.raises(ReviewsError, match="cannot open the crawl lock"), crawl_lock(tmp_path / "jobs" / "demo"):
        pass


def test_a_writer_lock_that_cannot_be_opened_is_one_line(tmp_path: Path, monkeypatch) -> None:
    def refused(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(FileLock, "acquire", refused)  # root opens any file: the refusal is simulated
    with pytest.raises(ReviewsError, match="cannot open the writer lock .*: Permission denied"), writer_slot(tmp_path):
        pass


def test_a_table_not_on_a_terminal_keeps_every_value_whole() -> None:
    # Cut to 80 columns in cron's mail, a run id could not be found among the logs.
    table = Table("source", "run")
    table.add_row("demo-feed", "20261127T193555668370Z-" + "x" * 80)
    out = io.StringIO()
    show(Console(file=out, width=80), table)
    assert "20261127T193555668370Z-" + "x" * 80 in out.getvalue()


def test_a_report_under_a_home_that_cannot_be_written_keeps_matplotlib_quiet(pending: Path) -> None:
    # cron under a service account: matplotlib warned on every report and rebuilt its font cache in a new
    # temporary folder each time.
    assert reviews("run", "--data-dir", str(pending)).returncode == 0
    env = {"HOME": "/proc/no-such-home", "XDG_CONFIG_HOME": "", "MPLCONFIGDIR": ""}
    base = {key: value for key, value in os.environ.items() if key not in env}
    done = subprocess.run([*REVIEWS, "report", "--data-dir", str(pending), "--out", str(pending / "out")],
                          env={**base, "HOME": env["HOME"]}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "matplotlib" not in done.stderr.lower()
    assert (pending / ".matplotlib").is_dir()


def test_prefects_own_history_past_its_retention_is_vacuumed_unless_the_user_says_otherwise(tmp_path: Path) -> None:
    # Ops QA: the flow runs of an hourly schedule under `reviews serve` stayed in data/.prefect for good.
    script = ("import sys; from flows.settings import configure; configure(sys.argv[1]); "
              "from prefect.settings import get_current_settings; "
              "print(sorted(get_current_settings().server.services.db_vacuum.enabled))")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_SERVER_SERVICES")}
    ours = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=120)
    theirs = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                            env={**env, "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": '["events"]'}, timeout=120)
    assert (ours.stdout.strip(), theirs.stdout.strip()) == ("['events', 'flow_runs']", "['events']"), ours.stderr


def test_a_run_summary_over_a_warehouse_without_marts_is_a_warning_not_a_traceback(tmp_path: Path, capsys) -> None:
    # A first run whose loads and marts failed on a full disk ended in a traceback from the summary's query of
    # film_scores, which hid the run's own error line (resources QA).
    from flows.cli import _report_run
    from flows.pipeline import PipelineResult

    result = PipelineResult(warehouse=str(warehouse_path(empty_warehouse(tmp_path))))
    assert _report_run(result, quiet=False) is False
    assert "warning: no summary of the run: " in capsys.readouterr().err


def test_a_proxy_in_the_environment_is_not_asked_for_prefects_own_server(pending: Path) -> None:
    # Security QA: the Prefect client sent its calls to the temporary server on 127.0.0.1 through http_proxy, with
    # the proxy's credentials, and the run ended in a traceback of the proxy's 502.
    asked: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            asked.append(self.path)
            self.send_error(502)

        do_POST = do_PATCH = do_PUT = do_DELETE = do_GET  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Proxy) as proxy:
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        url = f"http://user:secret@127.0.0.1:{proxy.server_address[1]}"
        done = reviews("run", "--data-dir", str(pending), "--quiet",
                       env={"http_proxy": url, "HTTP_PROXY": url, "https_proxy": url, "ALL_PROXY": url,
                            "no_proxy": "", "NO_PROXY": ""})
        proxy.shutdown()
    assert done.returncode == 0, done.stderr
    assert asked == []


@pytest.mark.parametrize(("given", "merged"), [
    ({"NO_PROXY": "127.0.0.2"}, "127.0.0.2,127.0.0.1,localhost,::1"),  # urllib read only a new lowercase list
    ({"no_proxy": "a.example", "NO_PROXY": "b.example,a.example"}, "a.example,b.example,127.0.0.1,localhost,::1"),
    ({}, "127.0.0.1,localhost,::1"),
])
def test_loopback_joins_the_users_own_no_proxy_list_under_both_names(monkeypatch, given, merged) -> None:
    from flows.settings import loopback_without_proxy

    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    loopback_without_proxy()
    assert (os.environ["no_proxy"], os.environ["NO_PROXY"]) == (merged, merged)


@pytest.mark.parametrize("given", [{"no_proxy": "*"}, {"NO_PROXY": "*", "no_proxy": "a.example"}])
def test_a_no_proxy_wildcard_stays_a_wildcard_under_both_names(monkeypatch, given) -> None:
    # "*,127.0.0.1" proxied every host; a lowercase list beside an uppercase "*" hid the wildcard from urllib (review).
    from flows.settings import loopback_without_proxy

    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    loopback_without_proxy()
    assert (os.environ["no_proxy"], os.environ["NO_PROXY"]) == ("*", "*")
