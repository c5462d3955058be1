"""A run stopped during normalization (SIGTERM, Ctrl-C) ends at once: it does not wait for Python's share of the
batch (clean_text, language detection) to finish, which took ~30 s on a million-row dump (import QA)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import duckdb
import pytest

from flows.normalize import batch as batch_module
from flows.normalize import rowfixes
from flows.normalize.python_share import PythonShare, Stopped
from tests.flows.test_normalize_batch import item


def _landing(tmp_path: Path) -> Path:
    path = tmp_path / "run-1.jsonl"
    rows = [item(source_review_id=f"r{i}", language_declared=None, body=f"<p>Review {i} of a tender film.</p>")
            for i in range(5)]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


def test_a_stop_during_normalization_does_not_wait_for_the_python_share(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started, finished = threading.Event(), threading.Event()

    def slow_detection(texts: list[str | None]) -> list[str | None]:
        started.set()
        time.sleep(30)  # a million texts' detection, deaf to the stop
        finished.set()
        return [None] * len(texts)

    def stopped_while_scoring(duck: duckdb.DuckDBPyConnection) -> None:
        assert started.wait(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(rowfixes, "detect_languages", slow_detection)
    monkeypatch.setattr(batch_module, "infer_plain", stopped_while_scoring)
    duck = duckdb.connect(str(tmp_path / "w.duckdb"))
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        batch_module.normalize_landing(_landing(tmp_path), [], duck=duck)
    assert time.monotonic() - began < 15 and not finished.is_set()
    # The scratch tables are gone, so the next batch in this connection starts clean.
    temp = "select count(*) from information_schema.tables where table_catalog = 'temp'"
    assert duck.execute(temp).fetchone() == (0,)


def test_work_queued_after_a_stop_is_skipped_and_the_running_piece_sees_it() -> None:
    share = PythonShare()
    running, release = threading.Event(), threading.Event()

    def first() -> str:
        running.set()
        release.wait(5)
        return "done" if not share.stopped.is_set() else "saw the stop"

    one, two = share.submit(first), share.submit(lambda: "ran")
    assert running.wait(5)
    share.close(stop=True)
    release.set()
    assert one.result(5) == "saw the stop"
    assert two.cancelled()


def test_cleaning_many_flagged_texts_stops_between_chunks() -> None:
    stopped = threading.Event()
    stopped.set()
    flagged = [(i, "json-ld", True, False, "<b>x</b>", None) for i in range(3)]
    undeclared = duckdb.sql("select 1::bigint as row_no, 'text' as text").to_arrow_table()
    with pytest.raises(Stopped):
        rowfixes.clean_flagged(flagged, undeclared, stopped)


def test_errors_of_the_python_share_reach_the_batch_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(texts: list[str | None]) -> list[str | None]:
        raise ValueError("the detector broke")

    monkeypatch.setattr(rowfixes, "detect_languages", broken)
    with pytest.raises(ValueError, match="the detector broke"):
        batch_module.normalize_landing(_landing(tmp_path), [])
