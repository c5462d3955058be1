"""Text that is UTF-8 except for some lines in a single-byte code page: the codec `utf-8-or-<code page>`.

A dump edited in more than one program (a UTF-8 export with rows pasted from an old Excel sheet) is UTF-8
with a few lines in cp1252. Read whole in a code page, every accent of its UTF-8 lines became mojibake in
film titles and critic names; read as strict UTF-8, the import stopped. The codec reads what is valid UTF-8
as UTF-8 and each byte that is not as the code page, as a browser would read the code page (a byte the code
page leaves undefined is the C1 control of that number), so no byte is lost or replaced by U+FFFD.

`utf-8-or-cp1252` is an ordinary encoding name once this module is imported: `open()`, `bytes.decode` and
`--encoding` take it. A byte pair that is valid UTF-8 is read as UTF-8 even inside a code-page line; in a
line of accented words such a pair is rare (é followed by a byte from 0x80 to 0xBF).
"""

from __future__ import annotations

import codecs
import importlib
import re
from collections.abc import Iterable
from functools import cache

PREFIX = "utf-8-or-"
_NORMALIZED = re.compile(r"^utf_8_or_(.+)$")  # codecs hands a search function the name in this form


def mixed_name(code_page: str) -> str:
    return PREFIX + codecs.lookup(code_page).name


def is_single_byte(encoding: str) -> bool:
    """Whether `encoding` maps each byte to one character by a table (cp1252, iso8859-x, koi8-r, mac-roman…)."""
    name = codecs.lookup(encoding).name.replace("-", "_")
    if name in ("latin_1", "iso8859_1"):
        return True
    try:
        return hasattr(importlib.import_module(f"encodings.{name}"), "decoding_table")
    except ImportError:
        return False


def _byte_reader(code_page: str):
    def read(byte: int) -> str:
        try:
            return bytes([byte]).decode(code_page)
        except UnicodeDecodeError:
            return chr(byte)  # undefined in the code page: its C1 control, as browsers read cp1252
    return read


@cache
def _codec(code_page: str) -> codecs.CodecInfo:
    read = _byte_reader(code_page)
    handler = f"reviews-{code_page}-bytes"

    def as_code_page(error: UnicodeError) -> tuple[str, int]:
        if not isinstance(error, UnicodeDecodeError):
            raise error
        return "".join(read(byte) for byte in error.object[error.start:error.end]), error.end

    codecs.register_error(handler, as_code_page)
    utf8 = codecs.lookup("utf-8")

    def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
        text, used = codecs.utf_8_decode(data, handler, True)
        return text.removeprefix("\ufeff"), used  # a UTF-8 BOM is dropped, as utf-8-sig drops it

    class IncrementalDecoder(codecs.BufferedIncrementalDecoder):
        def __init__(self, errors: str = "strict") -> None:
            super().__init__(errors)
            self.first = True

        def _buffer_decode(self, data: bytes, errors: str, final: bool) -> tuple[str, int]:
            text, used = codecs.utf_8_decode(data, handler, final)
            if self.first and (text or final):
                self.first, text = False, text.removeprefix("\ufeff")
            return text, used

        def reset(self) -> None:
            super().reset()
            self.first = True

    return codecs.CodecInfo(name=PREFIX + code_page, encode=utf8.encode, decode=decode,
                            incrementalencoder=utf8.incrementalencoder, incrementaldecoder=IncrementalDecoder,
                            streamreader=utf8.streamreader, streamwriter=utf8.streamwriter)


def _search(name: str) -> codecs.CodecInfo | None:
    found = _NORMALIZED.match(name)
    if not found:
        return None
    try:
        code_page = codecs.lookup(found.group(1)).name
    except LookupError:
        return None
    return _codec(code_page) if is_single_byte(code_page) else None


codecs.register(_search)


def utf8_census(lines: Iterable[bytes], sample_limit: int = 2 << 20) -> tuple[int, int, bytes]:
    """(lines that are valid UTF-8 with non-ASCII text, lines that are not UTF-8, the latter's first bytes)."""
    utf8_lines = other_lines = 0
    sample = bytearray()
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            other_lines += 1
            if len(sample) < sample_limit:
                sample += line
        else:
            utf8_lines += 1
    return utf8_lines, other_lines, bytes(sample)
