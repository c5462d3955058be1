"""A mistake in reviews.toml stops every command that crawls or writes, but not those that only read the
warehouse (`sql`, `status`, `report`): they warn and read the data folder the file names."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawlers.landing import DATA_DIR_ENV
from flows.cli import app
from warehouse.db import connect, migrate

runner = CliRunner()
# A source with a typo in a key, as made while editing a weekly config.
BROKEN_SOURCE = '[[sources]]\nname = "s"\nspider = "feed"\nurl = "http://127.0.0.1:8931/feed.xml"\ndelay = 2\n'


@pytest.fixture(autouse=True)
def no_data_dir_from_the_environment(monkeypatch) -> None:
    # An earlier command run in this process (flows.settings.configure) leaves REVIEWS_DATA_DIR set.
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "warehouse-here"
    folder.mkdir()
    conn = connect(folder / "reviews.duckdb")
    migrate(conn)
    conn.execute("insert into films values ('f1', 'tt1798709', null, 'Her', 2013, 'her', now())")
    conn.close()
    return folder


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reviews.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sql_reads_the_configs_data_dir_despite_a_mistake_in_a_source(tmp_path: Path, data: Path) -> None:
    config = write_config(tmp_path, f'data_dir = "{data}"\n' + BROKEN_SOURCE)
    result = runner.invoke(app, ["sql", "select title from films", "--format", "csv", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["title", "Her"]
    assert result.stderr.startswith("warning: ") and "unknown key 'delay'" in result.stderr
    assert "no run can start until it is mended" in result.stderr


def test_status_reads_the_configs_data_dir_despite_a_mistake(tmp_path: Path, data: Path) -> None:
    config = write_config(tmp_path, f'data_dir = "{data}"\n' + BROKEN_SOURCE)
    result = runner.invoke(app, ["status", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert str(data) in result.stdout and "unknown key 'delay'" in result.stderr


def test_report_writes_to_the_configs_report_folder_despite_a_mistake(tmp_path: Path, data: Path) -> None:
    out = tmp_path / "weekly"
    config = write_config(tmp_path, f'data_dir = "{data}"\n[report]\nout = "{out}"\nschedule = "weekly"\n')
    result = runner.invoke(app, ["report", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "not a valid cron expression" in result.stderr
    assert len(list(out.glob("*.html"))) == 1 and len(list(out.glob("*.md"))) == 1


@pytest.mark.parametrize("command", [["run"], ["sources"], ["prune", "--older-than", "8w"]])
def test_commands_that_crawl_or_change_files_still_refuse_a_config_with_a_mistake(
        tmp_path: Path, data: Path, command: list[str]) -> None:
    config = write_config(tmp_path, f'data_dir = "{data}"\n' + BROKEN_SOURCE)
    result = runner.invoke(app, [*command, "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and "unknown key 'delay'" in result.stderr


def test_a_file_that_is_not_toml_needs_data_dir_to_be_read(tmp_path: Path, data: Path) -> None:
    config = write_config(tmp_path, f'data_dir = "{data}"\n[[sources]\n')
    refused = runner.invoke(app, ["sql", "select title from films", "--config", str(config)])
    assert refused.exit_code == 2
    assert "is not valid TOML" in refused.stderr and "give --data-dir" in refused.stderr
    given = runner.invoke(app, ["sql", "select title from films", "-f", "csv", "--config", str(config),
                                "--data-dir", str(data)])
    assert given.exit_code == 0, given.output
    assert given.stdout.splitlines() == ["title", "Her"] and "is not valid TOML" in given.stderr


def test_a_data_dir_that_cannot_be_read_is_not_guessed(tmp_path: Path, data: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # ./data is not there: a guess would open an empty warehouse there
    config = write_config(tmp_path, "data_dir = 5\n")
    result = runner.invoke(app, ["sql", "select 1", "--config", str(config)])
    assert result.exit_code == 2 and "data_dir must be a folder path" in result.stderr
    assert not (tmp_path / "data").exists()


def test_a_misspelt_data_dir_is_not_guessed(tmp_path: Path, data: Path, monkeypatch) -> None:
    # `datadir = ...` read ./data as if the file named no folder (review).
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, f'datadir = "{data}"\n')
    result = runner.invoke(app, ["sql", "select 1", "--config", str(config)])
    assert result.exit_code == 2 and "unknown top-level key 'datadir'" in result.stderr
    assert "give --data-dir" in result.stderr and not (tmp_path / "data").exists()


def test_a_config_file_that_is_not_there_is_still_an_error(tmp_path: Path, data: Path) -> None:
    result = runner.invoke(app, ["sql", "select 1", "--config", str(tmp_path / "missing.toml"),
                                 "--data-dir", str(data)])
    assert result.exit_code == 2 and result.stderr.strip() == f"error: no config file at {tmp_path / 'missing.toml'}"
