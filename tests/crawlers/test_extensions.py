"""The run's stats file is replaced atomically: a failed or killed write never leaves a partial file."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from crawlers import landing
from crawlers.extensions import RunStats
from crawlers.landing import write_atomic, write_json_atomic
from crawlers.spiders.schema_org import SchemaOrgSpider
from tests.crawlers.conftest import make_spider


def test_write_json_atomic_writes_indented_sorted_json(tmp_path):
    path = tmp_path / "run.stats.json"
    write_json_atomic(path, {"b": 1, "a": {"c": 2}})
    assert path.read_text() == '{\n  "a": {\n    "c": 2\n  },\n  "b": 1\n}\n'
    assert os.listdir(tmp_path) == ["run.stats.json"]


def test_unserializable_value_leaves_no_file(tmp_path):
    path = tmp_path / "run.stats.json"
    with pytest.raises(TypeError):
        write_json_atomic(path, {"landed": 3, "bad": object()})
    assert os.listdir(tmp_path) == []


def test_failed_rewrite_leaves_the_stats_file_unchanged(tmp_path):
    path = tmp_path / "run.stats.json"
    write_json_atomic(path, {"landed": 3})
    before = path.read_text()
    with pytest.raises(TypeError):
        write_json_atomic(path, {"landed": 4, "job_state": object()})
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["run.stats.json"]


def test_failure_midway_through_the_write_removes_the_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "run.stats.json"
    write_json_atomic(path, {"landed": 3})
    before = path.read_text()

    def crash(fd: int) -> None:  # the new text is written but not yet durable or renamed
        raise OSError("disk gone")

    monkeypatch.setattr(landing.os, "fsync", crash)
    with pytest.raises(OSError, match="disk gone"):
        write_atomic(path, '{"landed": 4, "truncated')
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["run.stats.json"]


def test_file_mode_follows_the_umask(tmp_path):
    path = tmp_path / "run.stats.json"
    write_atomic(path, "{}\n")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_spider_closed_writes_the_stats_file(tmp_path):
    spider = make_spider(SchemaOrgSpider)
    crawler = spider.crawler
    crawler.settings.frozen = False
    crawler.settings.set("REVIEWS_DATA_DIR", str(tmp_path))
    crawler.spider = spider
    crawler.stats.set_value("start_time", datetime(2026, 1, 1, tzinfo=UTC))
    crawler.stats.set_value("reviews/landed", 2)
    RunStats.from_crawler(crawler).spider_closed(spider, "finished")
    folder = tmp_path / "raw" / "test"
    stats = json.loads((folder / "run-1.stats.json").read_text())
    assert (stats["landed"], stats["finish_reason"], stats["started"]) == (2, "finished", "2026-01-01T00:00:00+00:00")
    assert os.listdir(folder) == ["run-1.stats.json"]
