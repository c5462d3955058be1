"""The `reviews` command line: outputs users rely on, and one-line errors instead of tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.errors import ReviewsError
from warehouse.db import connect, migrate
from warehouse.marts import build_marts

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
runner = CliRunner()


def test_extract_on_saved_letterboxd_page_prints_movie_with_aggregate_rating():
    result = runner.invoke(app, ["extract", str(PAGES / "letterboxd-film-breathless.html")])
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    (film,) = [line for line in lines if line["type"] == "film"]
    assert (film["title"], film["rating_value"], film["rating_best"]) == ("Breathless", "3.92", "5")


def test_extract_of_missing_file_is_one_line_and_exit_2():
    result = runner.invoke(app, ["extract", "no-such-page.html"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no such file: no-such-page.html"


def test_python_dash_m_flows_runs_the_reviews_command(tmp_path):
    env = {**os.environ, "REVIEWS_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "flows", "status"], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: no warehouse at {tmp_path / 'reviews.duckdb'}; "
                                     "run `reviews run` or `reviews demo` first")


@pytest.fixture
def warehouse_dir(tmp_path):
    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    conn.execute("insert into films values ('f1', 'tt1798709', null, 'Her', 2013, 'her', now())")
    conn.close()
    return tmp_path


def test_sql_prints_json_lines(warehouse_dir):
    result = runner.invoke(app, ["sql", "select film_id, title, year from films", "--format", "json",
                                 "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"film_id": "f1", "title": "Her", "year": 2013}


def test_sql_prints_csv(warehouse_dir):
    result = runner.invoke(app, ["sql", "select title, year from films", "-f", "csv", "--data-dir", str(warehouse_dir)])
    assert result.stdout.splitlines() == ["title,year", "Her,2013"]


def test_sql_error_is_one_line_and_exit_2(warehouse_dir):
    result = runner.invoke(app, ["sql", "select nope from films", "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: SQL error:")


def test_sql_error_keeps_duckdbs_hint_on_its_one_line(warehouse_dir):
    result = runner.invoke(app, ["sql", "select * from film", "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert 'Did you mean "films"?' in result.stderr and "LINE 1" not in result.stderr


@pytest.mark.parametrize("sql", ["", " ", ";", "/* only a comment */"])
def test_sql_without_a_statement_is_one_line_and_exit_2(warehouse_dir, sql):
    result = runner.invoke(app, ["sql", sql, "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no SQL statement given"


def test_sql_reads_a_saved_query_starting_with_a_comment_from_a_file(warehouse_dir, tmp_path):
    # As an argument, text starting with "--" is taken for an option.
    saved = tmp_path / "films.sql"
    saved.write_text("-- every film\nselect title, year from films;\n", encoding="utf-8")
    result = runner.invoke(app, ["sql", "--file", str(saved), "-f", "csv", "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["title,year", "Her,2013"]


def test_sql_reads_standard_input_for_a_dash(warehouse_dir):
    result = runner.invoke(app, ["sql", "-", "-f", "csv", "--data-dir", str(warehouse_dir)],
                           input="-- piped\nselect title from films\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["title", "Her"]


@pytest.mark.parametrize("args", [[], ["select 1", "--file", "q.sql"]])
def test_sql_needs_exactly_one_query(warehouse_dir, args):
    result = runner.invoke(app, ["sql", *args, "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: give the SQL as an argument, - to read it from standard input")


def test_sql_file_that_cannot_be_read_is_one_line(warehouse_dir, tmp_path):
    result = runner.invoke(app, ["sql", "--file", str(tmp_path / "none.sql"), "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: cannot read --file {tmp_path / 'none.sql'}: No such file or directory"


def test_help_shows_no_value_type_for_a_flag():
    # Typer 0.29 printed "--quiet <bool>", as if the flag took a value.
    result = runner.invoke(app, ["run", "--help"], terminal_width=100)
    assert result.exit_code == 0 and "--quiet" in result.stdout and "--full" in result.stdout
    assert "<bool>" not in result.stdout


def test_sql_that_is_not_utf8_is_one_line(warehouse_dir):
    # A Latin-1 terminal's "é" reaches Python as a lone surrogate: DuckDB's TypeError was a traceback (output QA).
    result = runner.invoke(app, ["sql", "select 'Am\udce9lie'", "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: the SQL is not UTF-8 text; set the terminal (or the file) to UTF-8"


def test_sql_is_read_only(warehouse_dir):
    result = runner.invoke(app, ["sql", "drop table films", "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2
    assert "read-only" in result.stderr.lower()


def test_sql_without_warehouse_says_how_to_make_one(tmp_path):
    result = runner.invoke(app, ["sql", "select 1", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "run `reviews run` or `reviews demo` first" in result.stderr


@contextmanager
def _held_by_another_process(database: Path) -> Iterator[None]:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
         " time.sleep(60)", str(database)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_sql_while_another_process_writes_gives_a_clear_message(warehouse_dir):
    with _held_by_another_process(warehouse_dir / "reviews.duckdb"):
        result = runner.invoke(app, ["sql", "select 1", "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2
    assert "being written by another process" in result.stderr


def test_run_while_another_process_writes_is_one_line_before_crawling(warehouse_dir):
    with _held_by_another_process(warehouse_dir / "reviews.duckdb"):
        # The start URL is never fetched: the run stops at the lock.
        result = runner.invoke(app, ["run", "schema_org", "--url", "http://127.0.0.1:9/", "--quiet",
                                     "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: the warehouse") and "Traceback" not in result.output
    assert not (warehouse_dir / "raw").exists()


def test_crawl_of_unknown_spider_is_exit_2(tmp_path):
    result = runner.invoke(app, ["crawl", "nope", "--url", "http://127.0.0.1:9/", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown spider 'nope'" in result.stderr


def test_run_with_spider_but_no_url_is_exit_2(tmp_path):
    result = runner.invoke(app, ["run", "schema_org", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "--url" in result.stderr


@pytest.fixture
def marts_dir(warehouse_dir):
    conn = connect(warehouse_dir / "reviews.duckdb")
    build_marts(conn)
    conn.close()
    return warehouse_dir


def test_report_out_that_is_a_file_is_one_line_and_exit_2(warehouse_dir):
    (warehouse_dir / "notes.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["report", "--week", "2026-W47", "--out", str(warehouse_dir / "notes.txt"),
                                 "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: --out {warehouse_dir / 'notes.txt'} is a file, not a folder"
    assert (warehouse_dir / "notes.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize("out", ["notes.txt/reports", "/proc/nope"])
def test_report_out_that_cannot_be_written_is_one_line_and_exit_2(marts_dir, out):
    (marts_dir / "notes.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["report", "--week", "2026-W47", "--out", str(marts_dir / out),
                                 "--data-dir", str(marts_dir)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: cannot write the report to ")


@pytest.mark.parametrize(("week", "reason"), [("9999-W52", "between 1900 and 9998"),
                                              ("2999-W01", "2999-W01 has not started yet")])
def test_report_of_an_impossible_week_is_one_line_and_exit_2(warehouse_dir, week, reason):
    result = runner.invoke(app, ["report", "--week", week, "--out", str(warehouse_dir / "reports"),
                                 "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and reason in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (warehouse_dir / "reports").exists()


def test_demo_too_small_for_its_special_cases_is_one_line_and_exit_2(tmp_path):
    result = runner.invoke(app, ["demo", "--films", "6", "--reviews-per-film", "5", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and "need at least 4 films and 10 reviews per film" in line


def test_sql_on_a_warehouse_whose_marts_were_never_built_says_so(warehouse_dir):
    # A first run that stopped after the migrations leaves core tables and no marts.
    result = runner.invoke(app, ["sql", "select * from weekly_reviews", "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no run has built them yet" in result.stderr


def test_sql_naming_a_missing_table_that_is_no_mart_gets_no_marts_hint(warehouse_dir):
    result = runner.invoke(app, ["sql", "select * from film_scoress", "--data-dir", str(warehouse_dir)])
    assert result.exit_code == 2 and "marts" not in result.stderr


def test_reviews_data_dir_overrides_the_configs_data_dir(tmp_path, monkeypatch):
    from flows.cli import project

    config = tmp_path / "reviews.toml"
    config.write_text('data_dir = "from-config"\n')
    monkeypatch.setenv("REVIEWS_DATA_DIR", str(tmp_path / "from-env"))
    assert project(config, None)[1] == tmp_path / "from-env"
    assert project(config, tmp_path / "from-option")[1] == tmp_path / "from-option"
    monkeypatch.delenv("REVIEWS_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    assert project(config, None)[1] == tmp_path / "from-config"


def test_crawl_reads_the_config_for_its_data_folder_and_contact_url(tmp_path, monkeypatch):
    import flows.crawl

    seen = {}

    def fake_run_crawl(spider, urls, source=None, data=None, settings=None, **kwargs):
        seen.update(data=data, settings=settings)
        raise ReviewsError("stop here")

    monkeypatch.setattr(flows.crawl, "run_crawl", fake_run_crawl)
    monkeypatch.delenv("REVIEWS_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reviews.toml").write_text('data_dir = "mydata"\n[crawl]\ncontact_url = "https://me.example/bot"\n')
    result = runner.invoke(app, ["crawl", "schema_org", "--url", "http://127.0.0.1:9/", "-s", "DOWNLOAD_DELAY=2"])
    assert result.exit_code == 2 and "stop here" in result.stderr
    assert seen["data"] == tmp_path / "mydata"
    assert seen["settings"] == {"USER_AGENT": "film-reviews/0.1 (+https://me.example/bot)", "DOWNLOAD_DELAY": "2"}


def test_crawl_with_a_setting_scrapy_cannot_read_is_one_line_before_crawling(tmp_path):
    result = runner.invoke(app, ["crawl", "schema_org", "--url", "http://127.0.0.1:9/", "-s", "DOWNLOAD_DELAY=fast",
                                 "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.startswith("error: -s DOWNLOAD_DELAY must be a number")
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "raw").exists()


def test_demo_site_on_a_port_in_use_is_one_error_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["demo-site", "--port", str(port), "--films", "4", "--reviews-per-film", "10"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: cannot serve on 127.0.0.1:{port}: Address already in use; choose another --port, or 0 for a free one"]


def test_a_prefect_home_that_cannot_be_made_adds_no_warning_before_the_one_error_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {**os.environ, "PREFECT_HOME": str(blocker / ".prefect")}
    result = subprocess.run([sys.executable, "-m", "flows.cli", "run", "nosuch", "--data-dir", str(tmp_path / "d")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and result.stderr.startswith("error:")


def test_run_with_a_prefect_api_url_that_does_not_answer_is_one_error_line(tmp_path):
    # Config QA: a 135-line traceback ending in "Failed to reach API", exit 1 (reviews serve already said so).
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:1/api"}
    done = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--data-dir", str(tmp_path / "d"), "--quiet"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == ("error: PREFECT_API_URL=http://127.0.0.1:1/api does not answer (no "
                                   "http://127.0.0.1:1/api/health): start that Prefect server, or unset "
                                   "PREFECT_API_URL for a server started for the command")


@pytest.mark.parametrize("command", [["run", "--quiet"], ["status"], ["sql", "select 1"],
                                     ["crawl", "schema_org", "--url", "http://127.0.0.1:9/"]])
def test_a_data_folder_that_is_a_file_is_one_error_line(tmp_path, command):
    # Config QA: run and demo failed with a FileExistsError traceback; status and sql said "no warehouse at f/...".
    (tmp_path / "f").touch()
    result = runner.invoke(app, [*command, "--data-dir", str(tmp_path / "f")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: the data folder {tmp_path / 'f'} is a file, not a folder"
    # Review: one inside a file was a NotADirectoryError traceback.
    result = runner.invoke(app, [*command, "--data-dir", str(tmp_path / "f" / "sub")])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: the data folder {tmp_path / 'f' / 'sub'} cannot be made: "
                                     f"{tmp_path / 'f'} is a file, not a folder")


@pytest.mark.parametrize("value", ["abc", "-5", "inf"])
def test_a_min_free_mb_that_is_no_number_of_mb_is_one_error_line(tmp_path, monkeypatch, value):
    # Config QA: "abc" was a ValueError traceback, "-5" was taken; review: "inf" refused every run.
    monkeypatch.setenv("REVIEWS_MIN_FREE_MB", value)
    result = runner.invoke(app, ["crawl", "schema_org", "--url", "http://127.0.0.1:9/", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: REVIEWS_MIN_FREE_MB must be a finite number of MB >= 0, not {value!r}"


def test_extract_with_a_min_free_mb_that_is_no_number_is_no_traceback(tmp_path):
    # Review: `reviews extract` imports the crawl settings without a crawl's check of the value.
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>nothing</p></body></html>", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "flows.cli", "extract", str(page)], capture_output=True, text=True,
                          env={**os.environ, "REVIEWS_MIN_FREE_MB": "abc"}, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr


def test_a_truth_file_that_cannot_be_written_is_one_error_line(tmp_path):
    result = runner.invoke(app, ["demo-site", "--truth", str(tmp_path / "no" / "such" / "x.jsonl")])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: --truth {tmp_path / 'no' / 'such' / 'x.jsonl'}: cannot write")


def test_a_prefect_server_that_dies_during_the_run_is_one_error_line(tmp_path, monkeypatch):
    # Crash QA: a run whose crawl, load and marts had finished ended in 218 lines of connection tracebacks, exit 1,
    # and no word of what was kept, after the temporary server was killed (the OOM killer's likeliest pick).
    import httpx

    import flows.pipeline
    import flows.prefect_server

    def server_gone(*args, **kwargs):
        try:
            raise httpx.ConnectError("All connection attempts failed")
        except httpx.ConnectError as exc:
            raise RuntimeError("Failed to set the flow run state") from exc

    monkeypatch.setattr("flows.cli.configured", lambda *args, **kwargs: None)
    monkeypatch.setattr(flows.prefect_server, "start_temporary_server", lambda: None)
    monkeypatch.setattr(flows.pipeline, "pipeline", server_gone)
    result = runner.invoke(app, ["run", "--data-dir", str(tmp_path), "--quiet"])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith("error: Prefect's API server stopped answering during the run (its log: ") and \
        line.endswith("/server.log); what the run crawled and loaded before is kept (`reviews status` shows it), and "
                      "the next run loads any batch left pending") and "\n" not in line


def test_an_unhealthy_line_keeps_its_brackets_and_is_one_line_off_a_terminal(capsys, tmp_path):
    # "give the site profile its [rating_scale]" lost the fix as Rich markup, and the line wrapped at 80 columns
    # in cron mail (diagnosis QA).
    from flows.cli import _report_run
    from flows.pipeline import PipelineResult

    note = ("50 of 50 reviews have a rating and none could be read (reviews.rating_problem says why): give the site "
            "profile its [rating_scale], or leave the rating out")
    result = PipelineResult(unhealthy=[{"source": "bare", "run_id": "20261128T165923004079Z", "health_notes": note}],
                            warehouse=str(tmp_path / "reviews.duckdb"))
    assert _report_run(result, quiet=True)
    err = capsys.readouterr().err
    assert err == f"unhealthy: bare run 20261128T165923004079Z: {note}\n"
