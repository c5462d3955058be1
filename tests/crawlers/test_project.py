"""The Scrapy project works from the repository root, as `scrapy list` and `scrapy crawl` expect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_scrapy_list_from_repository_root_names_every_spider():
    result = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["feed", "profile", "schema_org"]


def test_settings_obey_robots_and_identify_the_project():
    from crawlers import settings

    assert settings.ROBOTSTXT_OBEY is True
    assert settings.AUTOTHROTTLE_ENABLED is True
    assert settings.USER_AGENT.startswith("film-reviews/") and "+http" in settings.USER_AGENT
    assert 429 in settings.RETRY_HTTP_CODES and 503 in settings.RETRY_HTTP_CODES
    assert 1024 * 1024 <= settings.DOWNLOAD_MAXSIZE <= 16 * 1024 * 1024


def test_no_crawl_opens_a_server_that_runs_code_sent_to_it():
    # Recovery QA: Scrapy 2.19's RemoteControl ran in every crawl, and with no writable home logged an ERROR.
    from scrapy.settings import Settings
    from scrapy.utils.conf import build_component_list

    from crawlers import settings

    enabled = build_component_list(Settings({"EXTENSIONS": settings.EXTENSIONS}).getwithbase("EXTENSIONS"))
    assert not any("remote_control" in str(name).lower() or "telnet" in str(name).lower() for name in enabled)
