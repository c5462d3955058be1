"""Threaded HTTP/1.1 server for a ``DemoSite`` (keep-alive, Content-Length, ETag/304).

Run ``python -m flows.demosite.server --port 0 --films N --reviews-per-film K --seed S`` to serve
until SIGTERM/SIGINT; the first stdout line is the base URL (printed once the optional
``--truth`` file is complete).
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO

from .routes import Response, respond
from .site import LAST_MODIFIED, VARIANTS, DemoSite
from .truth import write_truth

LAST_MODIFIED_HTTP = formatdate(LAST_MODIFIED.timestamp(), usegmt=True)
REASONS = {200: "OK", 304: "Not Modified", 404: "Not Found", 405: "Method Not Allowed"}


class DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, site: DemoSite, address: tuple[str, int], request_log: str | None = None,
                 keep_paths: bool = True) -> None:
        # Before binding: a bind that fails (port in use) calls server_close, which needs them.
        self.site = site
        # A test reads them back; `reviews demo-site` serves for days, where the list only grew (dead-code QA).
        self._keep_paths = keep_paths
        self._lock = threading.Lock()
        self._paths: list[str] = []
        self._log: IO[str] | None = None
        super().__init__(address, _Handler)
        self._log = open(request_log, "a", encoding="utf-8") if request_log else None
        # Bodies are deterministic per (host, target); a bounded cache keeps repeat hits cheap
        # without holding a large site in memory.
        self.render = lru_cache(maxsize=512)(lambda base, target: respond(site, base, target))

    def record(self, target: str) -> None:
        with self._lock:
            if self._keep_paths:
                self._paths.append(target)
            if self._log:
                self._log.write(target + "\n")
                self._log.flush()

    @property
    def requested_paths(self) -> list[str]:
        """Every path requested so far; always empty for a server made with `keep_paths=False`."""
        with self._lock:
            return list(self._paths)

    def server_close(self) -> None:
        super().server_close()
        with self._lock:
            if self._log:
                self._log.close()
                self._log = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # avoids 40 ms delayed-ACK stalls on keep-alive connections
    server: DemoHTTPServer

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def _serve(self, with_body: bool) -> None:
        srv = self.server
        srv.record(self.path)
        host = self.headers.get("Host") or "{}:{}".format(*srv.server_address[:2])
        resp: Response = srv.render("http://" + host, self.path)
        status = resp.status
        if resp.etag and self._not_modified(resp.etag):
            status = 304
        lines = [f"HTTP/1.1 {status} {REASONS[status]}", f"Date: {formatdate(usegmt=True)}",
                 "Server: demosite"]
        if resp.etag:
            lines += [f"ETag: {resp.etag}", f"Last-Modified: {LAST_MODIFIED_HTTP}", "Cache-Control: no-cache"]
        body = b""
        if status != 304:
            lines += [f"Content-Type: {resp.content_type}", f"Content-Length: {len(resp.body)}"]
            body = resp.body if with_body else b""
        if self.close_connection:
            lines.append("Connection: close")
        # One write per response: headers and body in the same segment.
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def _not_modified(self, etag: str) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # RFC 9110: If-None-Match takes precedence over If-Modified-Since
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return parsedate_to_datetime(ims) >= LAST_MODIFIED
            except (TypeError, ValueError):
                return False
        return False

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass  # access logging would dominate the cost of serving


class DemoServer:
    """A running server: ``.url``, ``.requested_paths``, ``.shutdown()``; usable as a context manager."""

    def __init__(self, httpd: DemoHTTPServer, thread: threading.Thread | None) -> None:
        self.httpd = httpd
        self.thread = thread
        host, port = httpd.server_address[:2]
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        self.url = f"http://{host}:{port}/"

    @property
    def site(self) -> DemoSite:
        return self.httpd.site

    def relaunch(self, variant: str) -> None:
        """Serve the same reviews as `variant` from now on, as a site relaunched under the crawler does (the
        rendered pages cached so far are dropped)."""
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; choose {' or '.join(VARIANTS)}")
        self.httpd.site.variant = variant
        self.httpd.render.cache_clear()

    @property
    def requested_paths(self) -> list[str]:
        return self.httpd.requested_paths

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def __enter__(self) -> DemoServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def serve_in_thread(
    site: DemoSite, host: str = "127.0.0.1", port: int = 0, request_log: str | None = None, keep_paths: bool = True
) -> DemoServer:
    """`keep_paths`: keep every requested path for `requested_paths` (off for a server that runs for days)."""
    httpd = DemoHTTPServer(site, (host, port), request_log, keep_paths)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                              name="demosite-server", daemon=True)
    thread.start()
    return DemoServer(httpd, thread)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--films", type=int, default=40)
    ap.add_argument("--reviews-per-film", type=int, default=75)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--variant", default="standard")
    ap.add_argument("--now", help="ISO datetime used for relative dates (default: current UTC time)")
    ap.add_argument("--truth", help="write JSONL ground truth here before serving")
    ap.add_argument("--request-log", help="append every requested path+query to this file")
    args = ap.parse_args(argv)
    now = None
    if args.now:
        now = dt.datetime.fromisoformat(args.now)
        now = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    site = DemoSite(args.films, args.reviews_per_film, args.seed, args.variant, now=now)
    if args.truth:
        write_truth(site, args.truth)
    httpd = DemoHTTPServer(site, (args.host, args.port), args.request_log, keep_paths=False)
    signal.signal(signal.SIGTERM, _stop)
    print(DemoServer(httpd, None).url, flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
