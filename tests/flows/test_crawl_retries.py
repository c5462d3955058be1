"""A page that failed for good in a crawl that otherwise finished is requested by the source's next crawl,
whatever its sitemap entry says (an incremental run used to skip it until a --full run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawlers.retries import read_retries, retry_file
from flows.pipeline import SourceSpec, pipeline
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite, review_page
from warehouse.db import connect, warehouse_path

FAST = {"RETRY_TIMES": 1, "REVIEWS_RETRY_BACKOFF_MAX": 0.1, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0,
        "REVIEWS_CANARY_PAGES": 0}


def _sitemap(base: str) -> Answer:
    modified = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    entries = "".join(f"<url><loc>{base}/film/{name}/</loc><lastmod>{modified}</lastmod></url>" for name in "ab")
    return Answer(200, f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                       f"{entries}</urlset>", content_type="application/xml")


def _route(site: LocalSite, path: str) -> Answer:
    base = site.state["base"]
    if path == "/sitemap.xml":
        return _sitemap(base)
    if path == "/film/a/":
        return review_page(f"{base}/film/a/", "a")
    if path == "/film/b/":
        return Answer(500, "down") if site.state.get("b_down") else review_page(f"{base}/film/b/", "b")
    return NOT_FOUND


def _films(root: Path) -> list[str]:
    conn = connect(warehouse_path(root), read_only=True)
    try:
        return [row[0] for row in conn.execute("select title from films order by title").fetchall()]
    finally:
        conn.close()


def test_a_page_that_failed_is_fetched_by_the_next_incremental_run_though_its_sitemap_entry_is_old(tmp_path):
    root = tmp_path / "data"
    with LocalSite(_route) as site:
        site.state["base"] = site.url
        site.state["b_down"] = True
        spec = SourceSpec("schema_org", [f"{site.url}/sitemap.xml"], "films", settings=FAST, incremental=True)
        first = pipeline([spec], str(root))
        assert first.crawls[0]["errors"] == 1 and first.crawls[0]["finish_reason"] == "finished"
        assert _films(root) == ["Film a"]
        assert read_retries(retry_file(root, "films")) == {f"{site.url}/film/b/": "page"}

        site.state["b_down"] = False
        asked = len(site.hits)
        pipeline([spec], str(root))
        second = [hit.path for hit in site.hits[asked:]]
        assert "/film/a/" not in second  # skipped as unmodified since the last complete crawl
        assert "/film/b/" in second  # it was skipped too, and its reviews stayed missing
        assert _films(root) == ["Film a", "Film b"]
        assert not retry_file(root, "films").exists()  # fetched: off the list
