"""`reviews sql` writes a result of any size as it comes: the rows are fetched in batches from DuckDB's streaming
result, never held whole (output QA: a piped table of 200,000 reviews took 10 minutes and 4.8 GB, and CSV or
JSON of 10 million rows 1.3-1.8 GB)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from flows.cli import app
from flows.output import SHOWN_ON_A_TERMINAL, print_rows
from warehouse.db import connect, migrate

runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sql")
    conn = connect(root / "reviews.duckdb")
    migrate(conn)
    conn.close()
    return root


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_a_reader_that_stops_early_ends_the_query_quietly_with_exit_0(data_dir, fmt):
    # `| head -1` ended in exit 1 (Typer's answer to a closed pipe), which fails a `set -o pipefail` script.
    child = subprocess.Popen([sys.executable, "-m", "flows.cli", "sql", "select range as n from range(300000)",
                              "--format", fmt, "--data-dir", str(data_dir)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = child.stdout.readline()
    child.stdout.close()
    child.wait(timeout=60)
    assert first.strip() in (b"n", b'{"n":0}')
    assert child.returncode == 0 and child.stderr.read() == b""


def test_a_slow_reader_does_not_keep_the_warehouse_from_a_writer(data_dir):
    # Written straight to `| less` left open, the query held the file and a scheduled load gave up (review).
    from warehouse.db import connect_writer

    child = subprocess.Popen([sys.executable, "-m", "flows.cli", "sql", "select range as n from range(2000000)",
                              "-f", "csv", "--data-dir", str(data_dir)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"n\r\n"  # the result is out, and nobody reads the rest yet
        connect_writer(data_dir / "reviews.duckdb", wait_seconds=10).close()
    finally:
        child.kill()
        child.wait()


def test_a_piped_table_is_one_line_a_row_and_one_long_value_widens_no_other_row(data_dir):
    query = ("select range as id, case when range = 0 then repeat('x', 50000) else 'short' end as body, "
             "'two' || chr(10) || 'lines' as note from range(2000)")
    result = runner.invoke(app, ["sql", query, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split(" | ") == ["id  ", "body" + " " * 56, "note"]  # padded to at most 60
    assert "x" * 50000 in lines[2]  # whole
    assert lines[3].split(" | ") == ["1   ", "short" + " " * 55, "two\\nlines"]
    assert lines[-1] == "(2,000 rows)" and len(lines) == 2003
    assert len(result.stdout) < 250_000  # it was 100 MB: every row padded to the widest cell


def test_a_terminals_table_shows_the_first_rows_and_counts_the_rest():
    out = io.StringIO()
    batches = iter([[(str(n),) for n in range(start, start + 600)] for start in (0, 600, 1200)])
    print_rows(["n"], batches, "table", Console(force_terminal=True, width=120, color_system=None), out)
    shown = out.getvalue()
    assert f" {SHOWN_ON_A_TERMINAL - 1} " in shown and f" {SHOWN_ON_A_TERMINAL} " not in shown
    assert shown.rstrip().endswith("1,800 rows (the first 1,000 shown; --format csv or json gives them all)")



def test_a_terminals_table_cuts_a_huge_value_and_counts_one_row_in_the_singular():
    # Sizes QA: Rich wrapped a 5 MB body in 49 s and a 20 MB one in over ten minutes; the footer said "1 rows".
    from flows.output import TERMINAL_CELL_MAX

    out = io.StringIO()
    print_rows(["body"], iter([[("word " * 1_000_000,)]]), "table",
               Console(force_terminal=True, width=120, color_system=None), out)
    shown = out.getvalue()
    assert "(5,000,000 characters; --format csv or json gives it whole)" in shown
    assert shown.count("word") <= TERMINAL_CELL_MAX // 5 and shown.rstrip().endswith("\n1 row")

def test_every_row_of_a_result_larger_than_a_batch_is_written_once(data_dir):
    result = runner.invoke(app, ["sql", "select range as n from range(25001)", "-f", "csv",
                                 "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["n", *map(str, range(25001))]
