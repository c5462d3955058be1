"""Canary pages: an incremental run reads a few known review pages again and health judges what they give."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from crawlers.canaries import known_pages, pages_file, pick, remember_pages
from flows.health import canaries_silent
from flows.pipeline import PipelineResult, SourceSpec, outcome, pipeline
from tests.flows.conftest import SmallDemo
from warehouse.db import connect, warehouse_path

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0}


def test_the_sample_is_the_same_all_week_and_another_the_next():
    urls = [f"https://site.test/film/{n}/" for n in range(50)]
    monday, sunday, next_week = date(2026, 11, 23), date(2026, 11, 29), date(2026, 11, 30)
    assert pick(urls, 3, monday) == pick(reversed(urls), 3, sunday)
    assert len(pick(urls, 3, monday)) == 3 and pick(urls, 3, monday) != pick(urls, 3, next_week)
    assert pick(urls, 0, monday) == [] and sorted(pick(urls[:2], 3, monday)) == urls[:2]


def test_pages_that_gave_reviews_are_remembered_across_runs(tmp_path: Path):
    path = pages_file(tmp_path, "demo")
    remember_pages(path, {"https://a/1", "https://a/2"})
    remember_pages(path, {"https://a/2", "https://a/3"})
    remember_pages(path, set())
    assert known_pages(path) == {"https://a/1", "https://a/2", "https://a/3"}


def run(sources: list[SourceSpec], root: Path) -> PipelineResult:
    """A pipeline run, unhealthy or not (an unhealthy one's flow ends Failed)."""
    return outcome(pipeline(sources, str(root), return_state=True))


def _runs(root: Path) -> list[tuple]:
    conn = connect(warehouse_path(root), read_only=True)
    try:
        return conn.execute("select healthy, health_notes, pages from crawl_runs order by run_id").fetchall()
    finally:
        conn.close()


def _stats(root: Path) -> dict:
    newest = sorted((root / "raw" / "demo").glob("*.stats.json"))[-1]
    return json.loads(newest.read_text(encoding="utf-8"))


@pytest.fixture
def demo(tmp_path: Path):
    (tmp_path / "site").mkdir()
    site = SmallDemo(tmp_path / "site", films=6, reviews_per_film=12)
    yield site
    site.server.shutdown()


def test_a_redesign_that_kept_the_sitemap_dates_makes_the_incremental_run_unhealthy(demo, tmp_path: Path):
    root = tmp_path / "data"
    spec = SourceSpec("schema_org", [demo.url + "sitemap.xml"], "demo", settings=FAST, incremental=True)
    run([spec], root)
    assert known_pages(pages_file(root, "demo"))  # the first crawl listed the pages that gave reviews

    run([spec], root)  # nothing new: the canaries give their reviews again
    healthy_run = _stats(root)["incremental"]
    assert healthy_run["canary_pages"] == 3 and healthy_run["canary_reviews"] > 0
    assert _runs(root)[-1][0] in (None, True)  # 3 pages: too few to judge otherwise

    demo.server.relaunch("redesigned")  # same pages and sitemap, no schema.org markup any more
    run([spec], root)
    healthy, notes, _ = _runs(root)[-1]
    assert healthy is False
    assert notes.startswith("3 pages that gave reviews before, read again to check the site, gave none now")


@pytest.mark.parametrize(("canaries", "canary_reviews", "accepted", "flagged"), [
    (3, 0, 0, True),  # a relaunch: none of the known pages, nor anything else, gave a review
    (1, 0, 0, False),  # one page's reviews taken down is no relaunch
    (3, 0, 5, False),  # other pages still give reviews: the markup works
    (3, 2, 2, False),
    (0, 0, 0, False),
])
def test_silent_canaries_are_unhealthy_only_when_two_or_more_and_nothing_else_gave_a_review(
        canaries: int, canary_reviews: int, accepted: int, flagged: bool):
    stats = {"incremental": {"canary_pages": canaries, "canary_reviews": canary_reviews, "canary_missing": 1}}
    note = canaries_silent(stats, accepted)
    assert (note is not None) is flagged
    if flagged:
        assert "(1 answered 404 or 410)" in note


def test_an_unhealthy_full_crawl_leaves_the_next_incremental_runs_their_canaries(demo, tmp_path: Path):
    # The --full the unhealthy message advises, run while the site was still broken, emptied the list of pages
    # that gave reviews: every later run fetched no canary and was "not judged", exit 0 (site-drift QA).
    root = tmp_path / "data"
    spec = SourceSpec("schema_org", [demo.url + "sitemap.xml"], "demo", settings=FAST, incremental=True)
    run([spec], root)
    known = known_pages(pages_file(root, "demo"))
    demo.server.relaunch("redesigned")
    from dataclasses import replace

    run([replace(spec, full=True)], root)
    assert _runs(root)[-1][0] is False
    assert known_pages(pages_file(root, "demo")) == known
    run([spec], root)
    healthy, notes, _ = _runs(root)[-1]
    assert healthy is False and "read again to check the site, gave none now" in notes


def _moved_site(reviews: int = 6):
    """A site whose review pages move from /reviews/N.html to /r/N.html (the old addresses answer 301) while its
    sitemap keeps the old lastmod; once `site.state["markup"]` is False the pages carry no review markup."""
    from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite, plain_page, review_page

    def route(site: LocalSite, path: str) -> Answer:
        moved, prefix = site.state.get("moved", False), "/r/" if site.state.get("moved") else "/reviews/"
        if path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{site.url}{prefix}{n}.html</loc><lastmod>2026-01-05</lastmod></url>"
                           for n in range(reviews))
            return Answer(200, f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                               f"{urls}</urlset>", content_type="application/xml")
        if path.startswith("/reviews/") and moved:
            return Answer(301, "", {"Location": path.replace("/reviews/", "/r/")})
        if path.startswith(prefix) and path.endswith(".html"):
            n = path.rsplit("/", 1)[1].removesuffix(".html")
            return review_page(site.url + f"/reviews/{n}.html", n) if site.state.get("markup", True) \
                else plain_page(f"Review {n}")
        return NOT_FOUND

    return LocalSite(route)


@pytest.mark.parametrize("markup", [False, True])
def test_pages_moved_without_new_sitemap_dates_are_checked_through_their_old_addresses(tmp_path: Path, markup):
    # The sitemap listed only the new addresses, none known, all skipped as unmodified: no canary was read, so a
    # relaunch that also dropped the markup was "not judged" week after week (site-drift QA).
    root = tmp_path / "data"
    with _moved_site() as site:
        spec = SourceSpec("schema_org", [site.url + "/sitemap.xml"], "demo", settings=FAST, incremental=True)
        run([spec], root)
        site.state.update(moved=True, markup=markup)
        run([spec], root)
        assert _stats(root)["incremental"]["canary_pages"] == 3
    healthy, notes, _ = _runs(root)[-1]
    if markup:
        assert healthy is not False
    else:
        assert healthy is False and "read again to check the site, gave none now" in notes
    with connect(warehouse_path(root), read_only=True) as conn:
        assert conn.execute("select count(*) from reviews").fetchone() == (6,)  # a moved review is no new one


def test_pages_listed_from_another_site_under_the_source_name_are_no_canaries(tmp_path: Path):
    # `reviews demo` crawls its own site, on a port of its own, as the source `demo`, the name the example config
    # gives its source: every later run of that source read the demo's pages, gone with its site, as canaries,
    # found nothing answering and was unhealthy, exit 3 (concurrency QA).
    root = tmp_path / "data"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    gone = SmallDemo(tmp_path / "a", films=4, reviews_per_film=10)
    run([SourceSpec("schema_org", [gone.url + "sitemap.xml"], "demo", settings=FAST)], root)
    gone.server.shutdown()
    assert all(page.startswith(gone.url) for page in known_pages(pages_file(root, "demo")))
    configured = SmallDemo(tmp_path / "b", films=4, reviews_per_film=10)
    try:
        run([SourceSpec("schema_org", [configured.url + "sitemap.xml"], "demo", settings=FAST, incremental=True)],
            root)
    finally:
        configured.server.shutdown()
    healthy, notes, _ = _runs(root)[-1]
    assert healthy is not False, notes
    assert _stats(root)["incremental"].get("canaries_unlisted", 0) == 0
