"""Reading a dataset dump's rows: its text encoding, CSV or JSON, and the rows that cannot be read.

Each reader gives the dump's columns and its rows as (line, values, reason, raw): values is a dict of the
row's cells when it can be read, else None with the reason; `raw` is what there is of the row's text, kept
verbatim for the rejects (a JSON line's text also when it parses, in case a later check rejects it).

- The encoding is UTF-8 when the whole file decodes as UTF-8 (a BOM is dropped); `utf-8-or-<code page>` when
  more of its non-ASCII lines are UTF-8 than not (crawlers/mixed_encoding.py); else what charset-normalizer
  reads in the file's first megabytes together with the stretch where UTF-8 first failed (a file may be
  ASCII for megabytes before its first accent); among readings nearly as clean as its best, the Windows code
  pages first (dumps are mostly Excel and database exports), then the most coherent.
  Short text in one code page can read alike in several (Czech in cp1250 reads as clean and as coherent
  in cp1252): the encoding used is printed, and --encoding sets it. The file is then decoded strictly: a byte
  the encoding cannot read stops the import with one line asking for --encoding, never a silent U+FFFD
  (`utf-8-or-*` reads every byte).
- CSV: the delimiter is the one of , ; tab | the header line uses most (or --delimiter); quoting is Excel's
  (a quote inside a cell doubled). A row whose cell count differs from the header's is rejected naming its
  lines. An unclosed quote swallows the lines after it up to the next quote: the row is rejected when its
  cell count comes out wrong or the quote is open at the end of the file, but CSV cannot tell it from a cell
  with line breaks when the count comes out right and a later quote closes it (the swallowed lines then land
  in that cell).
- JSON: one object per line, or one array of objects (read whole: keep those small).
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crawlers.detect_encoding import legacy_encoding
from crawlers.mixed_encoding import is_single_byte, mixed_name, utf8_census
from flows.errors import ReviewsError

MAX_CELL = 16 * 1024 * 1024  # a longer CSV cell is a runaway quote, rejected, not a review
DELIMITERS = (",", ";", "\t", "|")
# Tie-breaks among equally likely readings: the code pages of Windows, which most exports come from.
PREFERRED_ENCODINGS = ("cp1252", "cp1251", "cp1250", "cp1253", "cp1254", "cp1257", "cp1255", "cp1256", "cp1258")
# What a file that is no text dump starts with, and what to call it.
BINARY_MAGIC = ((b"\x1f\x8b", "gzip-compressed file"), (b"PK\x03\x04", "zip file (or an Excel .xlsx)"),
                (b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"%PDF", "PDF"),
                (b"BZh", "bzip2-compressed file"), (b"\xfd7zXZ", "xz-compressed file"),
                (b"\x28\xb5\x2f\xfd", "zstd-compressed file"), (b"SQLite format 3", "SQLite database"),
                (b"\xd0\xcf\x11\xe0", "legacy Office file (an Excel .xls)"))
CHAOS_MARGIN = 2.0  # percent points of charset-normalizer's "chaos" within which readings count as clean
Row = tuple[int, dict[str, Any] | None, str, Any]


def detect_encoding(path: Path) -> str:
    """'utf-8' (or 'utf-8-sig', 'utf-16' by their BOM) when the file decodes so, else charset-normalizer's
    reading of it (see the module docstring)."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE 00 00 starts with FF FE
            return "utf-32"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset = 0
        try:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
            return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
        except UnicodeDecodeError as exc:
            failed_at = offset + exc.start
        handle.seek(0)
        sample = handle.read(2 << 20)
        if failed_at > len(sample):
            handle.seek(max(0, failed_at - 4096))
            sample += b"\n" + handle.read(2 << 20)
    kind = next((name for magic, name in BINARY_MAGIC if sample.startswith(magic)), None)
    if kind:
        raise ReviewsError(f"{path}: a {kind}, not a text dump; give a CSV or JSON-lines file (decompress it first)")
    with path.open("rb") as handle:
        utf8_lines, other_lines, other = utf8_census(handle)
    if utf8_lines > other_lines:
        # Mostly UTF-8 with some lines in a code page (crawlers/mixed_encoding.py): the code page is the one those
        # lines read in.
        code_page = _code_page(other)
        if code_page and is_single_byte(code_page):
            return mixed_name(code_page)
    code_page = _code_page(sample)
    if code_page is None:
        raise ReviewsError(f"{path}: cannot tell its text encoding (not UTF-8); give it with --encoding")
    return code_page


def _code_page(sample: bytes) -> str | None:
    """The legacy encoding Firefox's detector reads `sample` in, when the sample decodes in it; else
    charset-normalizer's reading, Windows code pages first among the nearly as clean."""
    guess = legacy_encoding(sample)
    try:
        codecs.getincrementaldecoder(guess)().decode(sample)  # not final: the sample may end mid-character
        return guess
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        return None
    # charset-normalizer's best is the least "chaotic" reading; on short text a wrong code page can be as
    # clean as the right one (Cyrillic read as mac_cyrillic, French latin-1 as Baltic cp775, Greek cp1253 as
    # mac_greek), so among readings nearly as clean the Windows code pages come first, dumps being mostly
    # Excel and database exports; then the most coherent, then PREFERRED_ENCODINGS' order.
    clean = [m for m in matches if m.percent_chaos <= best.percent_chaos + CHAOS_MARGIN]
    windows = [m for m in clean if _windows_pages(m)]
    candidates = windows or clean
    top = max(m.percent_coherence for m in candidates)
    tied = [m for m in candidates if m.percent_coherence == top]
    names = {name for m in tied for name in (m.encoding, *m.could_be_from_charset)}
    return next((name for name in PREFERRED_ENCODINGS if name in names), tied[0].encoding)


def _windows_pages(match: Any) -> list[str]:
    return [name for name in (match.encoding, *match.could_be_from_charset) if name in PREFERRED_ENCODINGS]


def _text_handle(path: Path, encoding: str, newline: str | None = None) -> Any:
    return path.open(encoding=encoding, errors="strict", newline=newline)


_EXCEL_SEP = re.compile(r'^\ufeff?"?sep=([^\r\n])"?\r?\n?$')


def _delimiter(path: Path, encoding: str) -> str:
    with _text_handle(path, encoding, newline="") as handle:
        header = handle.readline()
    counts = {d: header.count(d) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d))) if any(counts.values()) else ","


def csv_rows(path: Path, encoding: str, delimiter: str | None = None) -> tuple[list[str], Iterator[Row]]:
    csv.field_size_limit(MAX_CELL)
    handle = _text_handle(path, encoding, newline="")
    # Excel's own first line naming the delimiter ("sep=;"): no header, and it says what the delimiter is.
    excel_sep = _EXCEL_SEP.match(handle.readline())
    offset = 1 if excel_sep else 0  # file lines before the reader's first
    if excel_sep:
        delimiter = delimiter or excel_sep.group(1)
    else:
        handle.seek(0)
    reader = csv.reader(handle, csv.excel, delimiter=delimiter or _delimiter(path, encoding))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        handle.close()
        raise ReviewsError(f"{path}: its header row cannot be read ({exc})") from None
    if not header or not any(cell.strip() for cell in header):
        handle.close()
        raise ReviewsError(f"{path}: no header row; the first row must name the columns")
    repeated = sorted({name for name in header if name.strip() and header.count(name) > 1})
    if repeated:
        # dict(zip()) would keep the last of them and drop the other cells without a word.
        handle.close()
        raise ReviewsError(f"{path}: the header names {', '.join(map(repr, repeated))} more than once; rename "
                           "one of each so every column can be mapped")

    def rows() -> Iterator[Row]:
        line_count: list[int] = []
        with handle:
            last = reader.line_num + offset
            while True:
                try:
                    cells: list[str] | None = next(reader)
                    error = ""
                except StopIteration:
                    return
                except csv.Error as exc:
                    cells, error = None, str(exc)
                first, last = last + 1, reader.line_num + offset
                span = f"lines {first}-{last}" if last > first else f"line {first}"
                if cells is not None and cells[:1] and [cells[0].removeprefix("\ufeff"), *cells[1:]] == header:
                    # Two exports joined with `cat`: their second header is no review (it keeps its BOM there).
                    yield first, None, f"the header row again at {span}", {"lines": span, "cells": cells}
                elif cells is not None and len(cells) == len(header) and last > first \
                        and _open_quote_at_end(path, encoding, first, last, line_count):
                    yield first, None, f"an unclosed quote runs from line {first} to the end of the file", {
                        "lines": span, "cells": cells}
                elif cells is not None and len(cells) == len(header):
                    yield first, dict(zip(header, cells, strict=True)), "", None
                elif cells is not None and not any(c.strip() for c in cells):
                    continue  # a blank line
                else:
                    found = f"{len(cells)} cells where the header has {len(header)}" if cells is not None else error
                    swallowed = " (an unclosed quote runs over the lines after it)" if last > first else ""
                    yield first, None, f"unreadable CSV row at {span}: {found}{swallowed}", {
                        "lines": span, "cells": cells}
    return header, rows()


# Numbers as the dump wrote them ("7.50", "1e309", not 7.5 and Infinity): a rating lands verbatim.
_VERBATIM_NUMBERS: dict[str, Any] = {"parse_float": str, "parse_int": str, "parse_constant": str}


def _json_problem(exc: ValueError | RecursionError, one_line: bool = False) -> str:
    # Python's parser recurses once per nesting level: a hostile or corrupt value of 100,000 brackets overflows it.
    if isinstance(exc, RecursionError):
        return "values nested too deeply to read"
    if one_line and isinstance(exc, json.JSONDecodeError):
        # Each line is parsed alone, so the parser's "line 1 column 5" would name the wrong line.
        return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"
    return str(exc)


def _json_lines(path: Path, encoding: str) -> Iterator[Row]:
    with _text_handle(path, encoding) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line, **_VERBATIM_NUMBERS)
            except (ValueError, RecursionError) as exc:
                yield number, None, f"unreadable JSON line {number}: {_json_problem(exc, one_line=True)}", {
                    "line": number, "text": line.rstrip("\n")}
                continue
            if not isinstance(value, dict):
                yield number, None, f"line {number} is JSON but not an object", {"line": number, "text": line.rstrip()}
                continue
            yield number, value, "", {"line": number, "text": line.rstrip("\n")}


def _json_array(path: Path, encoding: str) -> Iterator[Row]:
    with _text_handle(path, encoding) as handle:
        try:
            values = json.load(handle, **_VERBATIM_NUMBERS)
        except (ValueError, RecursionError) as exc:
            raise ReviewsError(f"{path}: neither one JSON array of reviews nor JSON lines ({_json_problem(exc)})"
                               ) from None
    for number, value in enumerate(values if isinstance(values, list) else [values], 1):
        if isinstance(value, dict):
            yield number, value, "", None
        else:
            yield number, None, f"entry {number} of the array is not an object", {"entry": number, "value": value}


def _open_quote_at_end(path: Path, encoding: str, first: int, last: int, total: list[int]) -> bool:
    """Whether the row on lines first..last is the file's last and leaves a quote open: Python's csv reads
    such a row whole, the rows after the quote inside its cell. A well-quoted row has an even number of quote
    characters (each quoted cell opens, closes and doubles its own). `total` caches the file's line count,
    counted the first time a row spans lines, so only the last row is read again."""
    if not total:
        with _text_handle(path, encoding, newline="") as handle:
            total.append(sum(1 for _ in handle))
    if last != total[0]:
        return False
    with _text_handle(path, encoding, newline="") as handle:
        lines = list(itertools.islice(handle, first - 1, None))
    return "".join(lines).count('"') % 2 == 1


def json_rows(path: Path, encoding: str) -> tuple[list[str], Iterator[Row]]:
    # Two passes, so a million-line dump is never held in memory: the columns first, then the rows.
    with _text_handle(path, encoding) as handle:
        start = handle.read(4096).lstrip()
    entries = _json_array if start.startswith("[") else _json_lines
    columns: dict[str, None] = {}
    for _, value, _, _ in entries(path, encoding):
        if value is not None:
            columns.update(dict.fromkeys(value))
    return list(columns), entries(path, encoding)
