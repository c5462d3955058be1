"""Text that is UTF-8 except for some lines in a single-byte code page: the codec `utf-8-or-<code page>`.

A dump edited in more than one program (a UTF-8 export with rows pasted from an old Excel sheet) is UTF-8
with a few lines in cp1252. Read whole in a code page, every accent of its UTF-8 lines became mojibake in
film titles and critic names; read as strict UTF-8, the import stopped. The codec reads each line that is
valid UTF-8 as UTF-8 and every other line wholly in the code page: byte by byte, a code-page line would read
some of its pairs as UTF-8 ("ß“", DF 93, is a valid two-byte sequence). A byte the code page leaves undefined
is read as the character of that number (U+0080-U+00FF), as browsers read cp1252's five, so no byte is lost or
replaced by U+FFFD. A UTF-8 BOM at the start is dropped.

`utf-8-or-cp1252` is an ordinary encoding name once this module is imported: `open()`, `bytes.decode` and
`--encoding` take it. Lines end at LF (a CR before it stays with its line), as in UTF-8 and every ASCII-based
code page alike.
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


@cache
def _codec(code_page: str) -> codecs.CodecInfo:
    handler = f"reviews-{code_page}-undefined"

    def undefined_bytes(error: UnicodeError) -> tuple[str, int]:
        if not isinstance(error, UnicodeDecodeError):
            raise error
        return "".join(map(chr, error.object[error.start:error.end])), error.end

    codecs.register_error(handler, undefined_bytes)

    def lines(data: bytes) -> str:
        parts = []
        for line in data.split(b"\n"):
            try:
                parts.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                parts.append(line.decode(code_page, handler))
        return "\n".join(parts)

    def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
        return lines(bytes(data).removeprefix(codecs.BOM_UTF8)), len(data)

    class IncrementalDecoder(codecs.IncrementalDecoder):
        # Whole lines only: the rest of a chunk waits for its line's end (or the end of the input). The waiting
        # chunks are kept apart and joined once, so a long line costs its length, not its length squared.
        def __init__(self, errors: str = "strict") -> None:
            super().__init__(errors)
            self.waiting: list[bytes] = []
            self.first = True

        def decode(self, input: bytes, final: bool = False) -> str:  # noqa: A002 (codecs' own name)
            data = bytes(input)
            cut = len(data) if final else data.rfind(b"\n") + 1
            if cut == 0:
                if data:
                    self.waiting.append(data)
                return ""
            chunk = b"".join([*self.waiting, data[:cut]])
            self.waiting = [data[cut:]] if cut < len(data) else []
            if self.first and chunk:  # the first whole line: the BOM is no text of it
                self.first, chunk = False, chunk.removeprefix(codecs.BOM_UTF8)
            return lines(chunk)

        def reset(self) -> None:
            self.waiting, self.first = [], True

        def getstate(self) -> tuple[bytes, int]:
            return b"".join(self.waiting), int(not self.first)

        def setstate(self, state: tuple[bytes, int]) -> None:
            waiting, started = state
            self.waiting, self.first = ([waiting] if waiting else []), not started

    utf8 = codecs.lookup("utf-8")
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
