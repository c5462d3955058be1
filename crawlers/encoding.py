"""The encoding of an HTML page that declares none, read as a browser would.

A page with a BOM, a charset in its Content-Type or a `<meta charset>` is decoded as it says (Scrapy
does that). One that declares nothing is UTF-8 when it decodes as UTF-8; otherwise Scrapy asks
charset_normalizer, which cannot tell windows-1252 from windows-1250 or -1257 on a short French review
and may pick the wrong one ("crème" read as "crčme"). Browsers read an unlabelled Western page as
windows-1252, the web's legacy default. So does this when windows-1252 ties with charset_normalizer's
best guess and its reading of the accented words looks at least as much like a language to the
language detector (fastText); a Czech page in windows-1250 keeps that ("překonal", not "pøekonal"). A
page in another script (Cyrillic, Greek, CJK) does not tie and keeps its detected encoding.
"""

from __future__ import annotations

import re
from typing import Any

from charset_normalizer import from_bytes
from scrapy.http import HtmlResponse, Response
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

WEB_DEFAULT = "cp1252"
_WORD = re.compile(r"\w+")


def browser_encoding(body: bytes) -> str:
    """The encoding to read an undeclared HTML body with (a Python codec name)."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = from_bytes(body)
    best = matches.best()
    if best is None:
        return WEB_DEFAULT
    # charset_normalizer scores windows-1250, -1252, -1257 and cp775 alike on most Latin text (a French
    # "crème" or a Czech "překonal" alike); what tells them apart is which reading of the words with
    # accented letters looks more like a language. A tie goes to windows-1252, the browsers' default.
    tied = [match.encoding for match in matches if match.chaos <= best.chaos]
    if WEB_DEFAULT not in tied or best.encoding == WEB_DEFAULT:
        return best.encoding
    return max((WEB_DEFAULT, best.encoding), key=lambda encoding: _accented_words_confidence(body, encoding))


def _accented_words_confidence(body: bytes, encoding: str) -> float:
    from flows.normalize.language import language_confidence

    words = [word for word in _WORD.findall(body.decode(encoding, "replace")) if not word.isascii()]
    return language_confidence(" ".join(words)[:400])


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
