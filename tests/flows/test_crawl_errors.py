"""A crawl's `errors` counts its requests that failed for good, once each, on real crawls of a loopback server.

Before, it counted ERROR log lines: a timeout retried and given up made two ("Gave up retrying", "Error
downloading"), an unreachable page four (its robots.txt twice too), and a gzip bomb, which Scrapy drops
without an error, none: a site answering only gzip bombs crawled 0 pages with 0 errors and was not judged.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from flows.crawl import run_crawl
from flows.load import landing_batches, load, normalize
from warehouse.db import open_writer

MAXSIZE = 100_000
# 2 MB of HTML in 2 KB: over DOWNLOAD_MAXSIZE only once decompressed (HttpCompressionMiddleware drops it).
BOMB = gzip.compress(b"<html><body>" + b" " * 2_000_000 + b"</body></html>")
# REVIEWS_RETRY_BACKOFF: the wait before a retry (crawlers/politeness.py), kept short.
SETTINGS = {"RETRY_TIMES": 1, "DOWNLOAD_MAXSIZE": MAXSIZE, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0,
            "REVIEWS_RETRY_BACKOFF": 0.01}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def answer(self, status: int, body: bytes = b"", headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        path, _, query = self.path.partition("?")
        if path == "/bomb":
            self.answer(200, BOMB, (("Content-Type", "text/html"), ("Content-Encoding", "gzip")))
        elif path == "/500":
            self.answer(500, b"down")
        elif path == "/loop":  # a new URL every time, so only REDIRECT_MAX_TIMES ends it
            self.answer(302, headers=(("Location", f"/loop?{int(query or 0) + 1}"),))
        elif path == "/reset":  # the connection is reset before any answer
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        elif path == "/ok":
            self.answer(200, b"<html><body>ok</body></html>", (("Content-Type", "text/html"),))
        else:
            self.answer(404)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def mixed(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    urls = [f"{server}{path}" for path in ("/bomb", "/500", "/reset", "/loop", "/ok")]
    return run_crawl("schema_org", urls, source="site", data=tmp_path_factory.mktemp("mixed"), settings=SETTINGS,
                     show_progress=False).stats


def test_each_request_that_failed_for_good_is_one_error_however_often_it_was_retried(mixed: dict[str, Any]) -> None:
    # Logged: "Gave up retrying" for /500; "Gave up retrying" and "Error downloading" for /reset; nothing for the
    # bomb and the loop, which Scrapy drops with IgnoreRequest.
    assert mixed["errors"] == 4
    assert mixed["log_errors"] == 3
    assert mixed["failed_requests"] == {"no_answer": 1, "error_status_after_retries": 1, "dropped": 2,
                                        "spider_exceptions": 0, "robots_unreachable": 0}  # reset; 500; bomb, loop
    assert mixed["pages"] == 2  # /500 and /ok: what reached the spider


def test_a_site_answering_with_a_gzip_bomb_is_recorded_unhealthy(server: str, tmp_path: Path) -> None:
    stats = run_crawl("schema_org", [f"{server}/bomb"], source="site", data=tmp_path, settings=SETTINGS,
                      show_progress=False).stats
    assert (stats["pages"], stats["errors"], stats["finish_reason"]) == (0, 1, "finished")
    (batch,) = landing_batches(tmp_path)
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        _, run = load(conn, batch, normalize(conn, batch))
    assert run.healthy is False and run.health_notes.startswith("no page fetched: every request failed (1 error)")
