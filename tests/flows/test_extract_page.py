"""`reviews extract URL` reads a page as a crawl would, and no more (security QA: an endless answer took memory
until the command died, and a redirect to ftp:// was followed)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from flows import extract_page
from flows.errors import ReviewsError
from flows.extract_page import load_page
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite


def _site(site: LocalSite, path: str) -> Answer:
    return {"/big": Answer(200, b"<p>" + b"x" * (9 * 2**20)),
            "/ftp": Answer(302, headers={"Location": "ftp://127.0.0.1/page.html"}),
            "/page": Answer(200, "<p>" + "y" * 200_000 + "</p>")}.get(path, NOT_FOUND)


def test_a_page_larger_than_the_crawls_limit_is_refused() -> None:
    with LocalSite(_site) as site, pytest.raises(ReviewsError, match="larger than 8 MB"):
        load_page(site.url + "/big")


def test_a_redirect_to_another_scheme_is_not_followed() -> None:
    with LocalSite(_site) as site, pytest.raises(ReviewsError, match="not a web address"):
        load_page(site.url + "/ftp")


def _trickling_server(headers_too: bool) -> tuple[socket.socket, threading.Event]:
    """A server on 127.0.0.1 that sends its answer a byte (or a header line) every 0.2 s, for ever."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(4096)
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            if not headers_too:
                connection.sendall(b"Content-Type: text/html\r\n\r\n")
            while not done.wait(0.2):
                try:
                    connection.sendall(b"X-Slow: 1\r\n" if headers_too else b"x")
                except OSError:
                    return

    threading.Thread(target=serve, daemon=True).start()
    return listener, done


@pytest.mark.parametrize("headers_too", [False, True])
def test_a_page_that_trickles_in_is_given_up_after_the_total_time(monkeypatch: pytest.MonkeyPatch,
                                                                   headers_too: bool) -> None:
    # A byte every 5 s held the command for hours: the 30 s timeout is per read (verification QA).
    monkeypatch.setattr(extract_page, "TOTAL_SECONDS", 1.0)
    listener, done = _trickling_server(headers_too)
    try:
        started = time.monotonic()
        with pytest.raises(ReviewsError, match="not all there after 1 s"):
            load_page(f"http://127.0.0.1:{listener.getsockname()[1]}/page")
        assert time.monotonic() - started < 5
    finally:
        done.set()
        listener.close()


def test_a_page_that_arrives_whole_is_read() -> None:
    with LocalSite(_site) as site:
        assert "y" * 1000 in load_page(site.url + "/page")[0]
