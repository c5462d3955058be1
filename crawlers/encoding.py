"""The encoding of an HTML page that declares none, read as a browser would (and of one labelled "utf-16"
without a byte-order mark: little-endian, as browsers read it).

A page with a BOM, a charset in its Content-Type or a `<meta charset>` is decoded as it says (Scrapy
does that). One that declares nothing is UTF-8 when it decodes as UTF-8; otherwise Scrapy asks
charset_normalizer, which cannot tell windows-1252 from windows-1250 or -1257 on a short French review
and may pick the wrong one ("crème" read as "crčme"). Browsers read an unlabelled Western page as
windows-1252, the web's legacy default. Here, among charset_normalizer's near-best readings, the one whose
words with non-ASCII letters look most like a language to the language detector (fastText) wins, a tie
going to windows-1252: a French page reads "crème", a Czech windows-1250 page "překonal" (not
"pøekonal"), a Japanese Shift-JIS page as Japanese (charset_normalizer alone says EUC-KR).
"""

from __future__ import annotations

import codecs
import logging
import re
from typing import Any

from charset_normalizer import from_bytes
from scrapy.http import HtmlResponse, Response
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from flows.mixed_encoding import is_single_byte, mixed_name  # registers the utf-8-or-<code page> codecs

logger = logging.getLogger(__name__)
NOT_UTF8 = "encoding/labelled_utf8_is_not"

WEB_DEFAULT = "cp1252"
# The ASCII-compatible multi-byte code pages of Japanese, Chinese and Korean pages (Python's codec names).
CJK_CODE_PAGES = frozenset({"shift_jis", "cp932", "shift_jis_2004", "shift_jisx0213", "euc_jp", "euc_jis_2004",
                            "euc_jisx0213", "gbk", "gb2312", "gb18030", "big5", "big5hkscs", "euc_kr", "cp949"})
MAX_CANDIDATES = 6  # charset_normalizer's best readings considered
CHAOS_MARGIN = 0.15  # how much more garbled than the best a reading may look and still be considered
_WORD = re.compile(r"\w+")


def browser_encoding(body: bytes) -> str:
    """The encoding to read an undeclared HTML body with (a Python codec name)."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = list(from_bytes(body))[:MAX_CANDIDATES]
    if not matches:
        return WEB_DEFAULT
    # charset_normalizer scores windows-1250, -1252, -1257 and cp775 alike on most Latin text (a French
    # "crème", a Czech "překonal"), and ranks EUC-KR above Shift-JIS for Japanese; what tells such near
    # ties apart is which reading of the words with non-ASCII letters looks more like a language. Equal
    # readings go to windows-1252, the browsers' default, then to the lower chaos.
    best = matches[0]
    near = [match for match in matches if match.chaos <= best.chaos + CHAOS_MARGIN]
    if len(near) == 1:
        return best.encoding
    return max(near, key=lambda match: (round(_accented_words_confidence(body, match.encoding), 2),
                                        match.encoding == WEB_DEFAULT, -match.chaos)).encoding


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
        if not isinstance(response, HtmlResponse) or not response.body:
            return response
        declared = declared_encoding(response)
        if declared is None:
            return response.replace(encoding=browser_encoding(response.body))
        if _codec(declared) == "utf-16" and not read_bom(response.body)[0]:
            # The label "utf-16" without a byte-order mark means little-endian to browsers (WHATWG); read as
            # big-endian, every character was a CJK one and the page's reviews were lost without a word.
            return response.replace(encoding="utf-16-le")
        if _codec(declared) == "utf-8" and not _decodes(response.body, "utf-8"):
            return self._not_utf8(response, spider)
        return response

    def _not_utf8(self, response: Response, spider: Any) -> Response:
        """A page labelled UTF-8 whose bytes are not (a template in UTF-8 around reviews in cp1252, or a whole
        page in latin-1): its lines that are UTF-8 read as UTF-8 and the others in the code page its <meta>
        names, else windows-1252; a whole page in the multi-byte code page its <meta> names, in that. Read as
        UTF-8, each such letter became U+FFFD, beyond any repair, and a critic's name with it ("Fran�oise":
        crawler QA); read in a code page, UTF-8 letters on a mixed line come out as mojibake,
        which the flows repair (ftfy)."""
        meta = html_body_declared_encoding(response.body)
        if meta and _codec(meta) in CJK_CODE_PAGES and _decodes(response.body, meta) \
                and not _has_utf8_line(response.body):
            # A whole page in the CJK code page its <meta> names (Shift_JIS, GBK, EUC-KR) behind a server's default
            # UTF-8 label: read in cp1252, every letter was mojibake no repair undoes. Not when a line is UTF-8 (a
            # stale <meta> on a UTF-8 page), nor for a <meta> of UTF-16, which the page's ASCII markup belies.
            encoding, reading = meta, f"as {meta}"
        else:
            page = meta if meta and _codec(meta) != "utf-8" and is_single_byte(meta) else WEB_DEFAULT
            encoding, reading = mixed_name(page), f"as UTF-8 where it is, else as {page}"
        stats = getattr(getattr(spider, "crawler", None), "stats", None)
        if stats is not None:
            if not stats.get_value(NOT_UTF8):
                logger.warning("%s is labelled UTF-8 but is not: read %s (every such page is counted as %s)",
                               response.url, reading, NOT_UTF8)
            stats.inc_value(NOT_UTF8)
        # Without its BOM: Scrapy lets a BOM decide the encoding over the one set here.
        return response.replace(body=response.body.removeprefix(codecs.BOM_UTF8), encoding=encoding)


def _has_utf8_line(body: bytes) -> bool:
    """Whether a line of the body holds non-ASCII bytes that are UTF-8."""
    return any(not line.isascii() and _decodes(line, "utf-8") for line in body.split(b"\n"))


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None
