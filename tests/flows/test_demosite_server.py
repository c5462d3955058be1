"""The demo site served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from flows.demosite import DemoSite, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("log") / "requests.log"
    srv = serve_in_thread(DemoSite(films=6, reviews_per_film=30, now=NOW), request_log=str(log))
    srv.log_path = log
    yield srv
    srv.shutdown()


def fetch(url: str, headers: dict[str, str] | None = None):
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5)


def test_server_serves_robots_and_records_requested_paths(server):
    assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/")
    body = fetch(server.url + "robots.txt").read().decode()
    assert body.startswith("User-agent: *\nDisallow: /search\n")
    assert f"Sitemap: {server.url}sitemap.xml" in body
    fetch(server.url + "search?q=her").read()
    paths = server.requested_paths
    assert "/robots.txt" in paths and "/search?q=her" in paths
    assert "/search?q=her" in server.log_path.read_text().splitlines()


def test_a_server_for_days_keeps_no_list_of_requested_paths_but_still_logs_them(tmp_path: Path) -> None:
    log = tmp_path / "requests.log"
    with serve_in_thread(DemoSite(films=4, reviews_per_film=10, now=NOW), request_log=str(log),
                         keep_paths=False) as srv:
        for _ in range(3):
            fetch(srv.url + "robots.txt").read()
        assert srv.requested_paths == []
    assert log.read_text().splitlines() == ["/robots.txt"] * 3


def test_etag_and_last_modified_give_304(server):
    first = fetch(server.url + "film/her-2013/")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Content-Length"] == str(len(first.read()))
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        with pytest.raises(urllib.error.HTTPError) as err:
            fetch(server.url + "film/her-2013/", headers)
        assert err.value.code == 304
    assert fetch(server.url + "film/her-2013/", {"If-None-Match": '"other"'}).status == 200


def test_unknown_paths_are_404(server):
    with pytest.raises(urllib.error.HTTPError) as err:
        fetch(server.url + "no/such/page")
    assert err.value.code == 404


def test_keep_alive_serves_many_requests_on_one_connection(server):
    u = urlsplit(server.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    for path in ["/", "/films/", "/feed.xml", "/critics/", "/nope", "/users/"] * 3:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        assert resp.status in (200, 404) and not resp.will_close
    conn.close()


def test_cli_prints_url_first_writes_truth_and_stops_on_sigterm(tmp_path):
    truth = tmp_path / "truth.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.demosite.server", "--port", "0", "--films", "5",
         "--reviews-per-film", "20", "--seed", "3", "--truth", str(truth)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert len(truth.read_text().splitlines()) == 100
        assert json.loads(truth.read_text().splitlines()[0])["identifier"] == "r000000"
        assert fetch(url + "film/her-2013/").status == 200
    finally:
        proc.terminate()
    assert proc.wait(timeout=10) == 0
