"""The User-Agent a real crawl sends, robots.txt included: a source's own `user_agent`, else the project's naming
`[crawl] contact_url` (test audit: only the settings handed to a stubbed crawl were checked, so a crawl that
sent none would have passed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.crawlers.localsite import Answer, LocalSite, review_page

runner = CliRunner()
FAST = "settings = {AUTOTHROTTLE_ENABLED = false, RETRY_TIMES = 0, REVIEWS_CANARY_PAGES = 0}\n"


def _route(site: LocalSite, path: str) -> Answer:
    if path == "/robots.txt":
        return Answer(200, "User-agent: *\nAllow: /\n", content_type="text/plain")
    return review_page(f"{site.url}{path}", 1)


@pytest.mark.parametrize(("source_line", "sent"), [
    ('user_agent = "ExampleBot/2.0 (+https://ops.example.org/bot)"\n', "ExampleBot/2.0 (+https://ops.example.org/bot)"),
    ("", "film-reviews/0.1 (+https://ops.example.org/contact)"),
], ids=["source-user-agent", "contact-url"])
def test_every_request_of_a_crawl_carries_the_configured_user_agent(tmp_path: Path, source_line: str,
                                                                    sent: str) -> None:
    with LocalSite(_route) as site:
        config = tmp_path / "reviews.toml"
        config.write_text('[crawl]\ncontact_url = "https://ops.example.org/contact"\n'
                          f'[[sources]]\nname = "site"\nspider = "schema_org"\nurls = ["{site.url}/r/1"]\n'
                          f"download_delay = 0\n{source_line}{FAST}", encoding="utf-8")
        result = runner.invoke(app, ["run", "site", "--config", str(config), "--data-dir", str(tmp_path / "data"),
                                     "--quiet"])
        assert result.exit_code == 0, result.output
        hits = list(site.hits)
    assert {hit.path for hit in hits} >= {"/robots.txt", "/r/1"}
    assert {hit.user_agent for hit in hits} == {sent}
