"""Dataset dumps (CSV or JSON lines of reviews) into the landing zone, as a crawl would land them.

An import is a run of its own source: `<data-dir>/raw/<source>/<run-id>.jsonl` with its rejects and stats
files, so the same normalize and load path takes it, with the same accounting (scraped = loaded +
duplicates + rejected) and the same idempotency. Like a spider, the importer only extracts: each row's
values land as the dump wrote them (blank cells as missing), and every cleaning rule runs later.

- Columns are found by their usual names (`DEFAULT_COLUMNS`, compared without case, spaces or
  punctuation), or named with `field=column` mappings; `field=a,b` takes the first non-blank of a and b
  (a score column, else a Fresh/Rotten one).
- A row without an id column is known by a hash of what it says (critic, film, year, outlet, date,
  rating, title, body): importing the same dump again finds the same reviews, and a row whose text changed
  is a new review, not an edit. A row without a url gets the dump's file URI and that key.
- The encoding is UTF-8 when the whole file decodes as UTF-8 (a BOM is dropped), else what
  charset-normalizer reads in its first 4 MB (Windows-1252 where it reads the same) (`encoding=` overrides);
  the whole file is decoded with it, never guessed per row.
- JSON is one object per line, or one array of objects (read whole, so keep those small).
- A CSV row with the wrong number of cells (an unclosed quote swallows the lines after it, and its row
  then names the lines it spans) and a JSON line that is not an object become rejects with their text.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawlers.items import AUDIENCES, ReviewItem
from crawlers.landing import json_line, new_run_id, run_paths, write_json_atomic
from flows.errors import ReviewsError

FIELDS = ("url", "source_review_id", "film_title", "film_year", "imdb_id", "tmdb_id", "critic_name", "critic_url",
          "outlet", "audience", "rating_raw", "rating_value", "rating_best", "rating_worst", "review_title", "body",
          "published_raw", "language_declared")
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "url": ("url", "review_url", "review_link", "link", "permalink"),
    "source_review_id": ("review_id", "id"),
    "film_title": ("film_title", "film", "movie_title", "movie", "film_name", "movie_name"),
    "film_year": ("film_year", "movie_year", "release_year", "year"),
    "imdb_id": ("imdb_id", "imdb", "tconst", "imdb_url"),
    "tmdb_id": ("tmdb_id", "tmdb"),
    "critic_name": ("critic_name", "critic", "author", "reviewer", "user_name", "username", "user"),
    "critic_url": ("critic_url", "author_url", "reviewer_url"),
    "outlet": ("outlet", "publication", "publication_name", "publisher", "publisher_name"),
    "audience": ("audience",),
    "rating_raw": ("rating", "review_score", "score", "grade", "stars", "review_type", "verdict"),
    "rating_value": ("rating_value",),
    "rating_best": ("rating_best", "best_rating", "out_of", "scale"),
    "rating_worst": ("rating_worst", "worst_rating"),
    "review_title": ("review_title", "headline"),
    "body": ("body", "review_text", "review_content", "review", "text", "content", "quote"),
    "published_raw": ("published", "review_date", "date_published", "published_at", "date", "created_at"),
    "language_declared": ("language", "lang"),
}
FORMATS = ("csv", "jsonl")
MAX_CELL = 16 * 1024 * 1024  # a longer CSV cell is a runaway quote, rejected, not a review
_IMDB = re.compile(r"\btt\d{7,}\b")
_TMDB = re.compile(r"\d+")


@dataclass
class ImportResult:
    source: str
    run_id: str
    items: Path
    rows: int
    landed: int
    rejected: int
    encoding: str
    columns: dict[str, list[str]] = field(default_factory=dict)
    already: str | None = None  # the run that imported a file with the same content before


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def parse_mappings(pairs: list[str]) -> dict[str, list[str]]:
    """`field=column[,column...]` pairs, checked against FIELDS."""
    mapping: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, columns = pair.partition("=")
        name = name.strip()
        if not sep or not columns.strip():
            raise ReviewsError(f"--map {pair!r}: expected FIELD=COLUMN, e.g. --map film_title=movie")
        if name not in FIELDS:
            raise ReviewsError(f"--map {pair!r}: unknown field {name!r}; fields: {', '.join(FIELDS)}")
        mapping[name] = [c.strip() for c in columns.split(",") if c.strip()]
    return mapping


def column_map(columns: list[str], given: dict[str, list[str]], where: str) -> dict[str, list[str]]:
    """Which dump columns feed each item field: the given mappings, else the usual names found."""
    by_key = {}
    for column in columns:
        by_key.setdefault(_key(column), column)
    chosen: dict[str, list[str]] = {}
    for name, wanted in given.items():
        missing = [c for c in wanted if c not in columns]
        if missing:
            raise ReviewsError(f"{where}: no column {missing[0]!r} (for {name}); columns: {', '.join(columns)}")
        chosen[name] = wanted
    used = {c for wanted in chosen.values() for c in wanted}
    for name, aliases in DEFAULT_COLUMNS.items():
        if name not in chosen:
            # The field's own name first: a dump of this project's landing items maps itself.
            names = dict.fromkeys((name, *aliases))
            found = [by_key[_key(a)] for a in names if _key(a) in by_key and by_key[_key(a)] not in used]
            if found:
                chosen[name] = found
                used.update(found)
    for needed, hint in (("critic_name", "critic"), ("film_title", "film")):
        if needed not in chosen and not (needed == "film_title" and "imdb_id" in chosen):
            raise ReviewsError(f"{where}: no {hint} column (looked for {', '.join(DEFAULT_COLUMNS[needed])}); "
                               f"name it with --map {needed}=COLUMN; columns: {', '.join(columns)}")
    if "body" not in chosen and "rating_raw" not in chosen and "rating_value" not in chosen:
        raise ReviewsError(f"{where}: neither a review text nor a rating column; name one with --map body=COLUMN "
                           f"or --map rating_raw=COLUMN; columns: {', '.join(columns)}")
    return chosen


def detect_encoding(path: Path) -> str:
    """'utf-8' (or 'utf-8-sig' with a BOM) when the whole file decodes as UTF-8, else charset-normalizer's
    reading of its first megabytes."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
        except UnicodeDecodeError:
            pass
        handle.seek(0)
        sample = handle.read(4 << 20)
    from charset_normalizer import from_bytes

    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        raise ReviewsError(f"{path}: cannot tell its text encoding (not UTF-8); give it with --encoding")
    # Short Western text often reads as well in several code pages (é is 0xE9 in cp1250 and cp1252 alike, è
    # is "č" in cp1250); among readings as likely as the best, Windows-1252's, by far the most common, wins.
    tied = [m for m in matches if (m.percent_chaos, m.percent_coherence) == (best.percent_chaos,
                                                                            best.percent_coherence)]
    return "cp1252" if any("cp1252" in m.could_be_from_charset for m in tied) else best.encoding


def _cells(path: Path, encoding: str) -> Iterator[tuple[int, int, list[str] | None, str | None]]:
    """CSV records as (first line, last line, cells or None, error)."""
    csv.field_size_limit(MAX_CELL)
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        sample = handle.read(64 * 1024)
        handle.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(handle, dialect)
        last = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield last + 1, reader.line_num, None, str(exc)
            else:
                yield last + 1, reader.line_num, cells, None
            last = reader.line_num


def read_rows(path: Path, fmt: str, encoding: str) -> tuple[list[str], Iterator[tuple[int, dict | None, str]]]:
    """The dump's columns, and its rows as (line, values or None, reason when None)."""
    if fmt == "jsonl":
        return _json_rows(path, encoding)
    records = _cells(path, encoding)
    header = next((cells for _, _, cells, _ in records if cells), None)
    if header is None:
        raise ReviewsError(f"{path}: no header row; the first row must name the columns")

    def rows() -> Iterator[tuple[int, dict | None, str]]:
        for first, last, cells, error in records:
            if cells is not None and not any(c.strip() for c in cells):
                continue  # a blank line
            if cells is None or len(cells) != len(header):
                span = f"lines {first}-{last}" if last > first else f"line {first}"
                found = f"{len(cells)} cells where the header has {len(header)}" if cells is not None else error
                reason = f"unreadable CSV row at {span}: {found}" + (
                    " (an unclosed quote runs over the lines after it)" if last > first else "")
                yield first, {"cells": cells} if cells is not None else None, reason
                continue
            yield first, dict(zip(header, cells, strict=True)), ""
    return header, rows()


def _json_lines(path: Path, encoding: str) -> Iterator[tuple[int, dict | None, str, str]]:
    with path.open(encoding=encoding, errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                yield number, None, f"unreadable JSON line {number}: {exc.msg}", line
                continue
            if not isinstance(value, dict):
                yield number, None, f"line {number} is JSON but not an object", line
                continue
            yield number, value, "", line


def _json_array(path: Path, encoding: str) -> Iterator[tuple[int, dict | None, str, str]]:
    try:
        values = json.loads(path.read_text(encoding=encoding, errors="replace"))
    except ValueError as exc:
        raise ReviewsError(f"{path}: not a JSON array of reviews nor JSON lines ({exc})") from None
    for number, value in enumerate(values, 1):
        if isinstance(value, dict):
            yield number, value, "", ""
        else:
            yield number, None, f"entry {number} of the array is not an object", json.dumps(value)


def _json_rows(path: Path, encoding: str) -> tuple[list[str], Iterator[tuple[int, dict | None, str]]]:
    # Two passes, so a million-line dump is never held in memory: the columns first, then the rows. A file
    # holding one JSON array is read whole.
    with path.open(encoding=encoding, errors="replace") as handle:
        start = handle.read(4096).lstrip()
    entries = _json_array if start.startswith("[") else _json_lines
    columns: dict[str, None] = {}
    for _, value, _, _ in entries(path, encoding):
        if value is not None:
            columns.update(dict.fromkeys(value))
    rows = ((number, value if value is not None else {"line": line.rstrip("\n")}, reason)
            for number, value, reason, line in entries(path, encoding))
    return list(columns), rows


def _text(value: Any) -> str | None:
    """A cell as landed text: blank is missing; numbers and nested values as their JSON."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if text.strip() else None


def _first(row: dict, columns: list[str]) -> str | None:
    return next((t for c in columns if (t := _text(row.get(c))) is not None), None)


def to_item(row: dict, mapping: dict[str, list[str]], source: str, run_id: str, fetched_at: str,
            file_uri: str, audience: str) -> dict[str, Any]:
    value = {name: _first(row, columns) for name, columns in mapping.items()}
    imdb = _IMDB.search(value.get("imdb_id") or "")
    tmdb = _TMDB.fullmatch((value.get("tmdb_id") or "").strip())
    external = {k: v for k, v in (("imdb", imdb and imdb.group()), ("tmdb", tmdb and tmdb.group())) if v}
    key = value.get("source_review_id") or "sha1:" + hashlib.sha1("\x1f".join(
        value.get(f) or "" for f in ("critic_name", "film_title", "film_year", "outlet", "published_raw",
                                     "rating_raw", "rating_value", "review_title", "body")).encode()).hexdigest()
    item = ReviewItem(
        source=source, url=value.get("url") or f"{file_uri}#{key}", source_review_id=key,
        film_title=value.get("film_title"), film_year=value.get("film_year"), external_ids=external,
        critic_name=value.get("critic_name"), critic_url=value.get("critic_url"), outlet=value.get("outlet"),
        audience=value.get("audience") or audience, rating_raw=value.get("rating_raw"),
        rating_value=value.get("rating_value"), rating_best=value.get("rating_best"),
        rating_worst=value.get("rating_worst"), review_title=value.get("review_title"), body=value.get("body"),
        published_raw=value.get("published_raw"), language_declared=value.get("language_declared"),
        fetched_at=fetched_at, run_id=run_id, page_url=file_uri, syntax="import")
    return vars(item)  # the item is new and goes no further: no deep copy (asdict was half the import's time)


def _file_sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _imported_before(folder: Path, sha1: str) -> str | None:
    for stats in sorted(folder.glob("*.stats.json")):
        try:
            if json.loads(stats.read_text(encoding="utf-8")).get("file_sha1") == sha1:
                return stats.name.removesuffix(".stats.json")
        except (OSError, ValueError, AttributeError):
            continue
    return None


def import_file(path: Path, source: str, root: Path, mappings: dict[str, list[str]] | None = None,
                audience: str = "critic", encoding: str | None = None, fmt: str | None = None,
                again: bool = False, on_rows: Callable[[int], None] | None = None) -> ImportResult:
    """Land a dump as one run of `source`; a file already imported (same bytes) is not landed again
    unless `again`. `on_rows(n)` hears how many rows are read, every 10,000."""
    from filelock import FileLock

    if not path.is_file():
        raise ReviewsError(f"{path}: no such file")
    if audience not in AUDIENCES:
        raise ReviewsError(f"--audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
    fmt = fmt or ("jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv")
    if fmt not in FORMATS:
        raise ReviewsError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    sha1 = _file_sha1(path)
    run_id = new_run_id()
    paths = run_paths(root, source, run_id)
    paths["items"].parent.mkdir(parents=True, exist_ok=True)
    previous = None if again else _imported_before(paths["items"].parent, sha1)
    if previous:
        return ImportResult(source, previous, paths["items"].parent / f"{previous}.jsonl", 0, 0, 0, "", {}, previous)
    if encoding is None:
        encoding = detect_encoding(path)
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ReviewsError(f"--encoding {encoding!r} is no encoding Python knows") from None
    columns, rows = read_rows(path, fmt, encoding)
    mapping = column_map(columns, mappings or {}, str(path))
    started = datetime.now(UTC)
    fetched_at, file_uri = started.isoformat(), path.resolve().as_uri()
    landed = rejected = 0
    coverage: dict[str, int] = {}
    lock = FileLock(paths["lock"])
    lock.acquire(timeout=0)  # a load must not take the batch until its stats are written
    try:
        part = paths["items"].with_name(paths["items"].name + ".part")
        with part.open("w", encoding="utf-8") as items, paths["rejects"].open("w", encoding="utf-8") as rejects:
            for line, row, reason in rows:
                if reason:
                    rejects.write(json_line({"reason": f"{path.name}: {reason}", "item": row or {"line": line}}))
                    rejected += 1
                    continue
                item = to_item(row, mapping, source, run_id, fetched_at, file_uri, audience)
                for name, value in item.items():
                    if value not in (None, [], {}):
                        coverage[name] = coverage.get(name, 0) + 1
                items.write(json_line(item))
                landed += 1
                if on_rows is not None and (landed + rejected) % 10_000 == 0:
                    on_rows(landed + rejected)
        part.replace(paths["items"])
        if not rejected:
            paths["rejects"].unlink()
        write_json_atomic(paths["stats"], {
            "source": source, "run_id": run_id, "spider": "import", "pages": 0, "items": landed,
            "scraped": landed + rejected, "landed": landed, "rejected": rejected, "repeated_in_run": 0,
            "errors": 0, "field_coverage": coverage, "started": started.isoformat(),
            "finished": datetime.now(UTC).isoformat(), "finish_reason": "finished", "file": str(path.resolve()),
            "file_sha1": sha1, "encoding": encoding, "columns": mapping})
    except BaseException:
        for leftover in (paths["items"].with_name(paths["items"].name + ".part"), paths["items"],
                         paths["rejects"], paths["stats"]):
            leftover.unlink(missing_ok=True)
        raise
    finally:
        lock.release()
        paths["lock"].unlink(missing_ok=True)
    return ImportResult(source, run_id, paths["items"], landed + rejected, landed, rejected, encoding, mapping)

