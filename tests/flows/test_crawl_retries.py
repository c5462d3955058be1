"""A page that failed for good in a crawl that otherwise finished is requested by the source's next crawl,
whatever its sitemap entry says (an incremental run used to skip it until a --full run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawlers.retries import MAX_ATTEMPTS, Retry, read_retries, retry_file, update_retries
from flows.pipeline import SourceSpec, pipeline
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite, plain_page, review_page
from warehouse.db import connect, warehouse_path

FAST = {"RETRY_TIMES": 1, "REVIEWS_RETRY_BACKOFF_MAX": 0.1, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0,
        "REVIEWS_CANARY_PAGES": 0}


def _sitemap(base: str) -> Answer:
    modified = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    entries = "".join(f"<url><loc>{base}/film/{name}/</loc><lastmod>{modified}</lastmod></url>" for name in "ab")
    return Answer(200, f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                       f"{entries}</urlset>", content_type="application/xml")


def _route(site: LocalSite, path: str) -> Answer | None:
    """Films a and b in the sitemap; b answers 500 while `b_down`, else its page, or a redirect to /b-new/ once
    `b_moved`; /film/dead/ never answers (its connection closes)."""
    base = site.state["base"]
    if path == "/sitemap.xml":
        return _sitemap(base)
    if path == "/film/a/":
        return review_page(f"{base}/film/a/", "a")
    if path == "/film/b/":
        if site.state.get("b_down"):
            return Answer(500, "down")
        if site.state.get("b_soft_404"):
            return plain_page("Sorry, this page could not be found")
        return Answer(301, "", {"Location": f"{base}/b-new/"}) if site.state.get("b_moved") else \
            review_page(f"{base}/film/b/", "b")
    if path == "/b-new/":
        return review_page(f"{base}/b-new/", "b")
    return None if path == "/film/dead/" else NOT_FOUND


def _sitemap_source(site: LocalSite, **state: object) -> SourceSpec:
    """The site's state set (its base url and what is down), and a source crawling it from its sitemap."""
    site.state.update(base=site.url, **state)
    return SourceSpec("schema_org", [f"{site.url}/sitemap.xml"], "films", settings=FAST, incremental=True)


def _films(root: Path) -> list[str]:
    conn = connect(warehouse_path(root), read_only=True)
    try:
        return [row[0] for row in conn.execute("select title from films order by title").fetchall()]
    finally:
        conn.close()


def test_a_page_that_failed_is_fetched_by_the_next_incremental_run_though_its_sitemap_entry_is_old(tmp_path):
    root = tmp_path / "data"
    with LocalSite(_route) as site:
        spec = _sitemap_source(site, b_down=True)
        first = pipeline([spec], str(root))
        assert first.crawls[0]["errors"] == 1 and first.crawls[0]["finish_reason"] == "finished"
        assert _films(root) == ["Film a"]
        assert read_retries(retry_file(root, "films")) == {f"{site.url}/film/b/": Retry("page", 1)}

        site.state["b_down"] = False
        asked = len(site.hits)
        pipeline([spec], str(root))
        second = [hit.path for hit in site.hits[asked:]]
        assert "/film/a/" not in second  # skipped as unmodified since the last complete crawl
        assert "/film/b/" in second  # it was skipped too, and its reviews stayed missing
        assert _films(root) == ["Film a", "Film b"]
        assert not retry_file(root, "films").exists()  # fetched: off the list


def test_a_known_review_page_answered_without_reviews_is_retried_by_the_next_run(tmp_path):
    # A soft 404 (200, "page not found") for a day: the next incremental runs skipped the page as unmodified, and
    # an edit made there stayed unread until a full crawl (site-drift QA).
    root = tmp_path / "data"
    with LocalSite(_route) as site:
        spec = _sitemap_source(site)
        pipeline([spec], str(root))
        site.state["b_soft_404"] = True
        from dataclasses import replace

        pipeline([replace(spec, full=True)], str(root))  # a full crawl reads b: it gives nothing
        assert read_retries(retry_file(root, "films")) == {f"{site.url}/film/b/": Retry("page", 1)}
        site.state["b_soft_404"] = False
        asked = len(site.hits)
        pipeline([spec], str(root))
        assert "/film/b/" in [hit.path for hit in site.hits[asked:]]
        assert not retry_file(root, "films").exists()


def _index_route(site: LocalSite, path: str) -> Answer:
    """A sitemap index of two child sitemaps; the second answers 500 while the site's `down` is set."""
    base, modified = site.state["base"], (datetime.now(UTC) - timedelta(days=2)).date().isoformat()

    def urlset(names: str) -> Answer:
        entries = "".join(f"<url><loc>{base}/film/{n}/</loc><lastmod>{modified}</lastmod></url>" for n in names)
        return Answer(200, f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                           f"{entries}</urlset>", content_type="application/xml")

    if path == "/sitemap.xml":
        kids = "".join(f"<sitemap><loc>{base}/sitemap-{k}.xml</loc><lastmod>{modified}</lastmod></sitemap>"
                       for k in "12")
        return Answer(200, f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                           f"{kids}</sitemapindex>", content_type="application/xml")
    if path == "/sitemap-1.xml":
        return urlset("a")
    if path == "/sitemap-2.xml":
        return Answer(500, "down") if site.state.get("down") else urlset("xy")
    if path.startswith("/film/"):
        return review_page(f"{base}{path}", path.split("/")[2])
    return NOT_FOUND


def test_a_retried_sitemap_has_all_its_entries_read_whatever_their_lastmod(tmp_path):
    # Fetched again, its entries were skipped as modified before the failed run: lost as before (a review).
    root = tmp_path / "data"
    with LocalSite(_index_route) as site:
        spec = _sitemap_source(site, down=True)
        pipeline([spec], str(root))
        site.state["down"] = False
        pipeline([spec], str(root))
    assert _films(root) == ["Film a", "Film x", "Film y"]
    assert not retry_file(root, "films").exists()


def test_a_retried_page_that_moved_leaves_the_list_and_one_failing_again_is_no_error_of_the_run(tmp_path):
    root = tmp_path / "data"
    with LocalSite(_route) as site:
        spec = _sitemap_source(site, b_down=True, b_moved=True)
        pipeline([spec], str(root))
        path = retry_file(root, "films")
        path.write_text(path.read_text() + f"page\t1\t{site.url}/film/dead/\n", encoding="utf-8")
        site.state["b_down"] = False
        second = pipeline([spec], str(root))
    # Answered after a redirect, under its new address: it stayed on the list for ever.
    assert read_retries(path) == {f"{site.url}/film/dead/": Retry("page", 2)}
    # A dead page tried again is no failure of this run: it made every later run "a site that is down".
    assert (second.crawls[0]["errors"], second.crawls[0]["retries_failed_again"]) == (0, 1)
    assert second.unhealthy == [] and _films(root) == ["Film a", "Film b"]


def test_an_entry_no_run_could_fetch_leaves_the_list_after_its_last_attempt(tmp_path):
    path = tmp_path / "site.retry.txt"
    update_retries(path, {"https://x/gone": "page"}, set())
    for attempt in range(2, MAX_ATTEMPTS + 1):
        update_retries(path, {}, set())  # not reached (robots.txt forbids it now, or it is off the site)
        assert read_retries(path) == {"https://x/gone": Retry("page", attempt)}
    update_retries(path, {"https://x/gone": "page"}, set())  # tried once more, and failed again
    assert not path.exists()
