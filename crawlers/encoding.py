"""The encoding of an HTML page that declares none, read as a browser would (and of one labelled "utf-16"
without a byte-order mark: little-endian, as browsers read it).

A page with a BOM, a charset in its Content-Type or a `<meta charset>` is decoded as it says (Scrapy
does that). One that declares nothing is UTF-8 when it decodes as UTF-8; otherwise it is read in the legacy
encoding Firefox's detector names (crawlers/detect_encoding.py), given the site's top-level domain as Firefox
gives it. Scrapy's own guess read a short French review's "crème" as "crčme" or "Cafķ".
"""

from __future__ import annotations

import codecs
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Response, TextResponse, XmlResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from crawlers.detect_encoding import WEB_DEFAULT, legacy_encoding, python_codec
from crawlers.mixed_encoding import is_single_byte, mixed_name  # registers the utf-8-or-<code page> codecs

logger = logging.getLogger(__name__)
NOT_UTF8 = "encoding/labelled_utf8_is_not"

# The ASCII-compatible multi-byte code pages of Japanese, Chinese and Korean pages (Python's codec names).
CJK_CODE_PAGES = frozenset({"shift_jis", "cp932", "shift_jis_2004", "shift_jisx0213", "euc_jp", "euc_jis_2004",
                            "euc_jisx0213", "gbk", "gb2312", "gb18030", "big5", "big5hkscs", "euc_kr", "cp949"})


def browser_encoding(body: bytes, url: str | None = None) -> str:
    """The encoding to read an undeclared HTML body with (a Python codec name)."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return legacy_encoding(body, _tld(url))


def _tld(url: str | None) -> bytes | None:
    """The host's top-level domain as chardetng takes it (lower-case ASCII, Punycode), or None for an IP address
    or a host without one."""
    try:
        label = (urlsplit(url).hostname or "").rpartition(".")[2] if url else ""
        encoded = label.encode("idna").lower()
    except (ValueError, UnicodeError):
        return None
    return encoded if encoded and not encoded.isdigit() else None


_XML_DECLARATION = re.compile(rb"""^(\s*<\?xml\s[^>]*?encoding\s*=\s*["'])([A-Za-z0-9._:-]+)(["'])""")


def feed_as_utf8(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """A feed's bytes and Content-Type in UTF-8, when it declares (in its Content-Type, else its XML declaration)
    a legacy encoding its bytes decode in as browsers read the label; else both as they were, for feedparser.

    feedparser decodes a declared Shift_JIS or EUC-KR with Python's strict codecs of those names, which lack the
    characters Windows added (～, ①, 똠) that browsers read the labels with (cp932, cp949); on the first such
    character it fell back to a Western code page and the feed's names and texts landed as mojibake."""
    # Bytes that are UTF-8 (a BOM says so, or they decode) are left to feedparser, which falls back to UTF-8 from a
    # wrong label ("us-ascii", "utf8mb4"): read in the label's browser meaning, they were windows-1252 mojibake.
    if read_bom(body)[0] or _decodes(body, "utf-8"):
        return body, content_type
    declaration = _XML_DECLARATION.match(body)
    label = http_content_type_encoding(content_type or "") or (
        declaration.group(2).decode("ascii") if declaration else None)
    codec = python_codec(label) if label else None
    if codec is None or codecs.lookup(codec).name.startswith("utf"):
        return body, content_type
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        return body, content_type
    utf8 = text.encode("utf-8")
    if declaration:
        utf8 = _XML_DECLARATION.sub(rb"\1utf-8\3", utf8, count=1)
    mime = (content_type or "application/xml").split(";")[0].strip()
    return utf8, f"{mime}; charset=utf-8"


def declared_encoding(response: Response) -> str | None:
    """The encoding a page declares: its BOM, its Content-Type charset, or its <meta> charset."""
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    return read_bom(response.body)[0] or http_content_type_encoding(content_type) or \
        html_body_declared_encoding(response.body)


class UndeclaredEncodingMiddleware:
    """Downloader middleware: an HTML (or JSON, or plain-text) response that declares no encoding is decoded
    with `browser_encoding` instead of Scrapy's guess, and one labelled UTF-8 that is not, line by line."""

    def process_response(self, request: Any, response: Response, spider: Any = None) -> Response:
        # A page served as JSON or plain text is read for reviews too (a cp1252 one labelled UTF-8 lost every
        # accent to U+FFFD); a feed or sitemap (XML) is decoded by its parser, from the bytes.
        if not isinstance(response, TextResponse) or isinstance(response, XmlResponse) or not response.body:
            return response
        declared = declared_encoding(response)
        if declared is None:
            return response.replace(encoding=browser_encoding(response.body, response.url))
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
