"""Re-runs ask the server every time: a cached page is reused only after a 304 to a conditional request.

The site is served by the standard library's `http.server`, as `python -m http.server` serves it: `Last-Modified`
from the file's mtime, no `Cache-Control`, no `ETag`, and 304 on `If-Modified-Since`. Scrapy's RFC2616Policy
calls such a page fresh for a tenth of its age and does not ask for it at all.
"""

from __future__ import annotations

import json
import os
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flows.pipeline import SourceSpec, pipeline
from warehouse.db import connect, warehouse_path

DAY = 86400


class _Handler(SimpleHTTPRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.log.append((self.path, int(code)))  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


class StaticSite:
    """A folder of static pages behind `http.server` on loopback; `log` holds (path, status) per request."""

    def __init__(self, root: Path):
        self.root = root
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
        self.server.log = []  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def log(self) -> list[tuple[str, int]]:
        return list(self.server.log)  # type: ignore[attr-defined]

    def write(self, path: str, text: str, age_days: float) -> None:
        """Write a page whose Last-Modified is `age_days` ago (a whole second apart from any other version)."""
        file = self.root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
        stamp = time.time() - age_days * DAY
        os.utime(file, (stamp, stamp))


def review_page(film: str, ids: list[str], next_url: str | None = None) -> str:
    reviews = [{"@context": "https://schema.org", "@type": "Review", "@id": f"/review/{i}", "url": f"/review/{i}",
                "itemReviewed": {"@type": "Movie", "name": film, "datePublished": "2024"},
                "author": {"@type": "Person", "name": f"Critic {i}"},
                "reviewRating": {"@type": "Rating", "ratingValue": 4, "bestRating": 5},
                "reviewBody": f"Review {i} of {film}, quite a thing.", "datePublished": "2026-11-10",
                "inLanguage": "en"} for i in ids]
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(r)}</script>' for r in reviews)
    more = f'<link rel="next" href="{next_url}"><a href="{next_url}">next</a>' if next_url else ""
    return f"<html><head>{scripts}{more}</head><body>{film}</body></html>"


@pytest.fixture
def site(tmp_path):
    site = StaticSite(tmp_path / "www")
    site.write("index.html", '<html><body><a href="/film-a/">Film A</a> <a href="/about.html">About</a></body></html>',
               30)
    site.write("about.html", "<html><body>About</body></html>", 30)
    site.write("film-a/index.html", review_page("Film A", ["a1", "a2", "a3"], "/film-a/page2.html"), 30)
    site.write("film-a/page2.html", review_page("Film A", ["a4", "a5", "a6"]), 30)
    yield site
    site.server.shutdown()
    site.server.server_close()


def run(site: StaticSite, root: Path, full: bool = False) -> list[tuple[str, int]]:
    """One pipeline run of the site; returns the (path, status) of every request it made."""
    start = len(site.log)
    pipeline([SourceSpec("schema_org", [site.url], "static", incremental=True, full=full)], str(root))
    return site.log[start:]


def landed_ids(root: Path) -> set[str]:
    conn = connect(warehouse_path(root), read_only=True)
    try:
        return {row[0].rsplit("/", 1)[-1] for row in conn.execute("select source_review_id from reviews").fetchall()}
    finally:
        conn.close()


def add_new_reviews(site: StaticSite) -> None:
    """A day ago, a new review went on page 1 (pushing one to page 2) and another on page 2."""
    site.write("film-a/index.html", review_page("Film A", ["n1", "a1", "a2"], "/film-a/page2.html"), 1)
    site.write("film-a/page2.html", review_page("Film A", ["a3", "a4", "a5", "a6", "n2"]), 1)


def test_incremental_rerun_asks_for_pages_the_cache_thinks_fresh_and_lands_their_new_reviews(site, tmp_path):
    root = tmp_path / "data"
    run(site, root)
    add_new_reviews(site)
    second = run(site, root)
    assert ("/film-a/", 200) in second and ("/film-a/page2.html", 200) in second
    assert {"n1", "n2"} <= landed_ids(root)


def test_full_rerun_does_not_read_stale_pages_from_the_cache(site, tmp_path):
    root = tmp_path / "data"
    run(site, root)
    add_new_reviews(site)
    run(site, root, full=True)
    assert {"n1", "n2"} <= landed_ids(root)


def test_unchanged_pages_are_revalidated_with_304s_and_reused(site, tmp_path):
    root = tmp_path / "data"
    run(site, root)
    second = [(path, status) for path, status in run(site, root) if path != "/robots.txt"]
    assert second and all(status == 304 for _, status in second), second
    assert landed_ids(root) == {"a1", "a2", "a3", "a4", "a5", "a6"}


def test_a_cache_entry_older_than_a_day_is_still_revalidated(site, tmp_path):
    root = tmp_path / "data"
    run(site, root)
    aged = time.time() - 2 * DAY  # a weekly schedule: the developer cache's one-day expiry must not apply
    for file in (root / "httpcache").rglob("*"):
        os.utime(file, (aged, aged))
    second = [(path, status) for path, status in run(site, root) if path != "/robots.txt"]
    assert second and all(status == 304 for _, status in second), second


def test_a_page_moved_behind_a_redirect_is_fetched_not_answered_with_the_old_pages_304(site, tmp_path):
    root = tmp_path / "data"
    site.write("index.html", '<html><body><a href="/film-c.html">Film C</a></body></html>', 30)
    site.write("film-c.html", review_page("Film C", ["c1"]), 1)
    run(site, root)
    # film-c.html becomes a folder: http.server answers 301 to /film-c.html/, a page older than the one cached.
    (site.root / "film-c.html").unlink()
    site.write("film-c.html/index.html", review_page("Film C", ["c1", "c2"]), 30)
    second = run(site, root)
    assert ("/film-c.html", 301) in second and ("/film-c.html/", 200) in second
    assert "c2" in landed_ids(root)


def last_run_ids(root: Path) -> set[str]:
    """The review ids the latest run landed."""
    latest = max((root / "raw" / "static").glob("*.jsonl"))
    return {json.loads(line)["source_review_id"].rsplit("/", 1)[-1]
            for line in latest.read_text(encoding="utf-8").splitlines() if line.strip()}


def cache_entries(root: Path) -> list[Path]:
    return [meta.parent for meta in (root / "httpcache").rglob("pickled_meta")]


def test_a_page_stored_cut_short_is_fetched_in_full_not_served_cut_on_a_304(site, tmp_path):
    # A crawl killed while storing a page left its validators and part of its body: every later 304 served the
    # cut page, whose reviews were then missing from the run.
    root = tmp_path / "data"
    run(site, root)
    for entry in cache_entries(root):
        body = (entry / "response_body").read_bytes()
        (entry / "response_body").write_bytes(body[: len(body) // 3])
    second = [(path, status) for path, status in run(site, root) if path != "/robots.txt"]
    assert second and all(status == 200 for _, status in second), second
    landed = last_run_ids(root)
    third = [(path, status) for path, status in run(site, root) if path != "/robots.txt"]
    assert third and all(status == 304 for _, status in third), third  # stored whole again
    # The first page's reviews, as any re-run of the unchanged site lands them (its second page, with none new
    # on the first, is not asked for).
    assert landed == last_run_ids(root) == {"a1", "a2", "a3"}


@pytest.mark.parametrize("damage", ["a torn pickle", "no digest", "an interrupted write"])
def test_a_cache_entry_that_cannot_be_trusted_is_a_miss_never_a_failed_request(site, tmp_path, damage):
    root = tmp_path / "data"
    run(site, root)
    for entry in cache_entries(root):
        if damage == "a torn pickle":
            (entry / "pickled_meta").write_bytes((entry / "pickled_meta").read_bytes()[:10])
        elif damage == "no digest":  # an entry stored before entries were checked
            (entry / "complete").unlink()
        else:
            (entry / "complete").write_text("writing", encoding="utf-8")
    second = [(path, status) for path, status in run(site, root) if path != "/robots.txt"]
    assert second and all(status == 200 for _, status in second), second
    assert last_run_ids(root) == {"a1", "a2", "a3"}
    third = [(path, status) for path, status in run(site, root) if path != "/robots.txt"]
    assert third and all(status == 304 for _, status in third), third  # stored whole again
    with connect(warehouse_path(root), read_only=True) as conn:
        assert conn.execute("select errors from crawl_runs order by started desc limit 1").fetchall() == [(0,)]
