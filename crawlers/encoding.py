"""The encoding of an HTML page that declares none, read as a browser would.

A page with a BOM, a charset in its Content-Type or a `<meta charset>` is decoded as it says (Scrapy
does that). One that declares nothing is UTF-8 when it decodes as UTF-8; otherwise Scrapy asks
charset_normalizer, which cannot tell windows-1252 from windows-1250 or -1257 on a short French review
and may pick the wrong one ("crème" read as "crčme"). Browsers read an unlabelled Western page as
windows-1252, the web's legacy default; so does this whenever windows-1252 is among the encodings
charset_normalizer finds plausible. A page in another script (Cyrillic, Greek, CJK) is not plausible
as windows-1252 and keeps its detected encoding.
"""

from __future__ import annotations

from typing import Any

from charset_normalizer import from_bytes
from scrapy.http import HtmlResponse, Response
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

WEB_DEFAULT = "cp1252"


def browser_encoding(body: bytes) -> str:
    """The encoding to read an undeclared HTML body with (a Python codec name)."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = from_bytes(body)
    best = matches.best()
    # charset_normalizer keeps only the encodings the body reads plausibly in: if windows-1252 is one,
    # the near-ties between Western code pages (1250, 1252, 1257, 775) go to the web's default.
    if best is None or any(match.encoding == WEB_DEFAULT for match in matches):
        return WEB_DEFAULT
    return best.encoding


def declared_encoding(response: Response) -> str | None:
    """The encoding a page declares: its BOM, its Content-Type charset, or its <meta> charset."""
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    return read_bom(response.body)[0] or http_content_type_encoding(content_type) or \
        html_body_declared_encoding(response.body)


class UndeclaredEncodingMiddleware:
    """Downloader middleware: an HTML response that declares no encoding is decoded with
    `browser_encoding` instead of Scrapy's guess."""

    def process_response(self, request: Any, response: Response, spider: Any = None) -> Response:
        if isinstance(response, HtmlResponse) and response.body and declared_encoding(response) is None:
            return response.replace(encoding=browser_encoding(response.body))
        return response
