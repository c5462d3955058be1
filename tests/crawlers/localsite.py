"""A scriptable HTTP site on 127.0.0.1 for crawl tests: each test says how every path answers.

`LocalSite(route)` serves in a thread; `route(site, path)` returns `Answer(status, body, headers)`, or
None to drop the connection without an answer. Every request is logged with its arrival time
(`time.monotonic()`) and status; `site.times(prefix)` lists when paths under `prefix` were asked for.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"


@dataclass
class Hit:
    at: float
    path: str
    status: int | None
    user_agent: str | None = None


def review_page(url: str, n: int | str, links: list[str] | tuple[str, ...] = ()) -> Answer:
    """An HTML page holding one JSON-LD Review (id = url), linking `links`."""
    review = {"@context": "https://schema.org", "@type": "Review", "@id": url,
              "itemReviewed": {"@type": "Movie", "name": f"Film {n}"},
              "author": {"@type": "Person", "name": f"Critic {n}"},
              "reviewBody": f"A fine film, number {n}.",
              "reviewRating": {"@type": "Rating", "ratingValue": "4", "bestRating": "5"}}
    anchors = "".join(f'<a href="{link}">{link}</a> ' for link in links)
    return Answer(200, f'<!DOCTYPE html><html><head><title>Review {n}</title>'
                       f'<script type="application/ld+json">{json.dumps(review)}</script></head>'
                       f'<body><p>Review {n}</p>{anchors}</body></html>')


def plain_page(title: str, links: list[str] | tuple[str, ...] = ()) -> Answer:
    """An HTML page without reviews, linking `links`."""
    anchors = "".join(f'<a href="{link}">{link}</a> ' for link in links)
    return Answer(200, f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{anchors}</body></html>")


NOT_FOUND = Answer(404, "<h1>Not found</h1>")


class LocalSite:
    def __init__(self, route: Callable[[LocalSite, str], Answer | None], host: str = "127.0.0.1"):
        """`host`: another loopback address (127.0.0.2 …) is another host to the crawler, with its own
        download slot, as another site would be."""
        self.route = route
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.state: dict[str, Any] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                arrived = time.monotonic()
                with site.lock:
                    answer = site.route(site, self.path)
                    site.hits.append(Hit(arrived, self.path, answer.status if answer else None,
                                         self.headers.get("User-Agent")))
                if answer is None:  # no answer at all: the connection just closes
                    self.close_connection = True
                    return
                body = answer.body.encode("utf-8") if isinstance(answer.body, str) else answer.body
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(OSError):  # a client that stops reading (a cut robots.txt)
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LocalSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self) -> list[str]:
        with self.lock:
            return [hit.path for hit in self.hits]

    def times(self, prefix: str) -> list[Hit]:
        with self.lock:
            return [hit for hit in self.hits if hit.path.startswith(prefix)]


def gaps(hits: list[Hit]) -> list[float]:
    """Seconds between consecutive requests."""
    return [later.at - earlier.at for earlier, later in zip(hits, hits[1:], strict=False)]


def logged_stat(log_text: str, key: str) -> float | None:
    """One of Scrapy's stats as dumped at the end of a crawl log ("Dumping Scrapy stats:")."""
    found = re.findall(rf"'{re.escape(key)}': ([0-9.]+)", log_text)
    return float(found[-1]) if found else None
