"""A crawl given on the command line (`reviews crawl`, `reviews run SPIDER --url`) under the name of a configured
source is that source: its politeness settings apply, and its history stays one spider's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import flows.cli
import flows.crawl
from flows.errors import ReviewsError
from flows.pipeline import SourceSpec

runner = CliRunner()
URL = "http://127.0.0.1:9/"
CONFIG = ('[crawl]\ncontact_url = "ops@example.org"\n[[sources]]\nname = "blog"\nspider = "schema_org"\n'
          f'urls = ["{URL}"]\ndownload_delay = 3\nconcurrency = 2\nsettings = {{ROBOTSTXT_OBEY = true}}\n')


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "reviews.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def crawled(monkeypatch) -> list[dict[str, Any]]:
    """The settings `reviews crawl` hands the crawl (which then stops: no site is needed to see them)."""
    seen: list[dict[str, Any]] = []

    def run_crawl(spider: str, urls: list[str], **kwargs: Any) -> None:
        seen.append(kwargs["settings"])
        raise ReviewsError("captured")

    monkeypatch.setattr(flows.crawl, "run_crawl", run_crawl)
    return seen


@pytest.fixture
def specs(monkeypatch) -> list[SourceSpec]:
    seen: list[SourceSpec] = []
    monkeypatch.setattr(flows.cli, "run_pipeline", lambda cfg, root, sources, *args, **kwargs: seen.extend(sources))
    return seen


def test_crawl_of_a_configured_source_keeps_its_delay_and_concurrency(config, tmp_path, crawled) -> None:
    # It was crawled as fast as Scrapy goes, with only the contact in the user agent.
    runner.invoke(flows.cli.app, ["crawl", "schema_org", "--url", URL, "--source", "blog", "--config", str(config),
                                  "--data-dir", str(tmp_path)])
    assert crawled == [{"ROBOTSTXT_OBEY": True, "DOWNLOAD_DELAY": 3, "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
                        "USER_AGENT": "film-reviews/0.1 (+ops@example.org)"}]


def test_a_setting_given_with_s_wins_over_the_sources_own(config, tmp_path, crawled) -> None:
    runner.invoke(flows.cli.app, ["crawl", "schema_org", "--url", URL, "--source", "blog", "-s", "CONCURRENT_REQUESTS"
                                  "_PER_DOMAIN=1", "--config", str(config), "--data-dir", str(tmp_path)])
    assert crawled[0]["CONCURRENT_REQUESTS_PER_DOMAIN"] == "1" and crawled[0]["DOWNLOAD_DELAY"] == 3


def test_crawl_under_another_name_takes_only_the_contact(config, tmp_path, crawled) -> None:
    runner.invoke(flows.cli.app, ["crawl", "schema_org", "--url", URL, "--source", "other", "--config", str(config),
                                  "--data-dir", str(tmp_path)])
    assert crawled == [{"USER_AGENT": "film-reviews/0.1 (+ops@example.org)"}]


def test_run_from_url_of_a_configured_source_keeps_its_settings(config, tmp_path, specs) -> None:
    result = runner.invoke(flows.cli.app, ["run", "schema_org", "--url", URL, "--source", "blog", "--config",
                                           str(config), "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [spec.settings for spec in specs] == [{"ROBOTSTXT_OBEY": True, "DOWNLOAD_DELAY": 3,
                                                  "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
                                                  "USER_AGENT": "film-reviews/0.1 (+ops@example.org)"}]


@pytest.mark.parametrize("command", [["crawl", "feed"], ["run", "feed"]])
def test_another_spider_under_a_configured_sources_name_is_refused(config, tmp_path, crawled, specs,
                                                                   command) -> None:
    result = runner.invoke(flows.cli.app, [*command, "--url", URL, "--source", "blog", "--config", str(config),
                                           "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and not crawled and not specs
    assert "source 'blog' is crawled with the schema_org spider" in result.stderr


def test_two_spiders_under_one_source_name_are_refused(config, tmp_path, specs) -> None:
    result = runner.invoke(flows.cli.app, ["run", "schema_org", "feed", "--url", URL, "--source", "mixed",
                                           "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and not specs
    assert "--source names one source" in result.stderr


def test_two_spiders_without_a_source_name_land_under_their_own_names(tmp_path, specs) -> None:
    result = runner.invoke(flows.cli.app, ["run", "schema_org", "feed", "--url", URL, "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [spec.source for spec in specs] == ["schema_org", "feed"]
