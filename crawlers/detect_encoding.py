"""The legacy encoding of bytes that are not UTF-8, as Firefox reads an unlabelled page: its detector chardetng
(chardetng-py), with the WHATWG meaning of the label it names (Shift_JIS is cp932, EUC-KR cp949).

Shared by the crawl (pages that declare no encoding: crawlers/encoding.py) and imports (dumps: flows/dumps.py).
charset-normalizer, used alone before, read a short French text as Baltic cp775 ("Zoë" as "Zoļ") or even Korean
johab, and a short Japanese one as cp1250: on a few accented words its cleanest readings seldom included
windows-1252. chardetng is built for exactly this (short texts, the web's legacy code pages, a hint from the
top-level domain).
"""

from __future__ import annotations

import codecs

import chardetng_py
from w3lib.encoding import resolve_encoding

WEB_DEFAULT = "cp1252"


def legacy_encoding(body: bytes, tld: bytes | None = None) -> str:
    """The legacy encoding a browser would read `body` in (a Python codec name); `tld` the site's top-level domain
    in lower-case ASCII (b"lt" tells a Lithuanian page from a Czech one)."""
    return python_codec(chardetng_py.detect(body, allow_utf8=False, tld=tld))


def python_codec(label: str) -> str:
    """The Python codec a browser reads an encoding label with: its WHATWG meaning (latin-1 is windows-1252), else
    the codec of that name, else windows-1252."""
    resolved = resolve_encoding(label)
    if resolved:
        return resolved
    try:
        return codecs.lookup(label).name
    except LookupError:
        return WEB_DEFAULT
