"""Dataset dumps (CSV or JSON lines of reviews) into the landing zone, as a crawl would land them.

An import is a run of its own source: `<data-dir>/raw/<source>/<run-id>.jsonl` with its rejects and stats
files, so the same normalize and load path takes it, with the same accounting (scraped = loaded +
duplicates + rejected) and the same idempotency. Like a spider, the importer only extracts: each row's
values land as the dump wrote them (blank cells as missing), and every cleaning rule runs later.

- Columns are found by their usual names (`DEFAULT_COLUMNS` in flows/import_columns.py, compared without
  case, spaces or punctuation), or named with `field=column` mappings; `field=a,b` takes the first non-blank
  of a and b (a score column, else a Fresh/Rotten one); for the rating, the first the rating rules can read (a bare
  "7" of no known scale gives way to the row's "Fresh"; an impossible 11/10 does not), the other cells kept
  in the item's `other_ratings`.
- A row without a review_id column is known by a hash of what it says (critic, film, year, outlet, date,
  rating, title, body): importing the same dump again finds the same reviews, and a row whose text changed
  is a new review, not an edit. A row without a url gets the dump's file URI and that key.
- Reading (encodings, CSV dialects, unreadable rows) is flows/dumps.py's.
- A source another spider crawls is refused: an import would become its last complete crawl.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from crawlers.items import AUDIENCES, ReviewItem
from crawlers.landing import json_line, new_run_id, run_paths, safe_name, write_json_atomic
from crawlers.nobody import names_nobody
from flows.dumps import Row, csv_rows, detect_encoding, json_rows
from flows.errors import ReviewsError
from flows.import_columns import column_map, unused_columns
from flows.import_dates import DateOrder, DateTally, decide, remember, remembered

FORMATS = ("csv", "jsonl")
IMPORT_SPIDER = "import"  # crawl_runs.spider of an import run
_IMDB = re.compile(r"\btt\d{7,}\b", re.IGNORECASE)  # "TT0084787" in a shouting export is the same id
# A TMDB id alone, or in its page's url (https://www.themoviedb.org/movie/1091-the-thing).
_TMDB = re.compile(r"(\d+)|(?:https?://)?(?:www\.)?themoviedb\.org/movie/(\d+)(?:-[^/?#]*)?/?(?:[?#].*)?",
                   re.IGNORECASE)


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
    unused: list[str] = field(default_factory=list)  # "column 'reveiw_score' is not used: ..." notes
    dates: DateOrder | None = None  # the order its slashed dates are read in, and what to tell of it


def _text(value: Any) -> str | None:
    """A cell as landed text: blank is missing; numbers and nested values as their JSON."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if text.strip() else None


def _first(row: dict, columns: list[str]) -> str | None:
    return next((t for c in columns if (t := _text(row.get(c))) is not None), None)


@functools.lru_cache(maxsize=65536)
def _gives_way(rating: str, best: str | None = None, worst: str | None = None) -> bool:
    """A cell the rating rules cannot read, or whose scale they cannot tell (a bare "7" when the row and
    `--scale` give none), yields to the row's next rating cell. An impossible one (11/10) does not: its
    problem is what the warehouse must record."""
    # Imported here: a crawl's start imports this module (flows.incremental, for IMPORT_SPIDER), and the
    # rating rules cost it ~0.17 s of imports it never uses.
    from flows.normalize.ratings import parse_rating

    read = parse_rating(rating, best=best, worst=worst)
    if read.problem is not None:
        return read.problem.startswith(("unparseable", "ambiguous"))
    return read.score is None and read.is_positive is None


def _rating(row: dict, columns: list[str], best: str | None = None,
            worst: str | None = None) -> tuple[str | None, list[str]]:
    """The rating cell to land (the first that does not give way on the row's scale, else the first non-blank)
    and the others."""
    cells = [t for c in columns if (t := _text(row.get(c))) is not None]
    if len(cells) < 2:
        return next(iter(cells), None), []
    chosen = next((i for i, cell in enumerate(cells) if not _gives_way(cell, best, worst)), 0)
    return cells[chosen], cells[:chosen] + cells[chosen + 1:]


def to_item(row: dict, mapping: dict[str, list[str]], source: str, run_id: str, fetched_at: str,
            file_uri: str, audience: str, seen: dict[int, int] | None = None,
            scale: tuple[str, str] | None = None, critic: str | None = None) -> dict[str, Any]:
    """One row as a landed item. ``seen`` counts the row keys met so far in the file: rows alike in every
    field by a name that names nobody (two anonymous "Loved it!" for one film) are numbered, #2, #3, in file
    order, so they stay two reviews, and importing the file again numbers them the same way. By a named critic
    or user, such a row is the same review listed twice: one key, so the load counts it as a duplicate. (When
    these were numbered too, a ratings export's repeated row, with no text to find it as a copy by, loaded as a
    second rating.)"""
    value = {name: _first(row, columns) for name, columns in mapping.items()}
    if critic and not value.get("critic_name"):  # --critic: the author of rows that name none
        value["critic_name"] = critic
    # This project's own landing items carry their ids in an external_ids object, which no column maps.
    landed_ids = row.get("external_ids") if isinstance(row.get("external_ids"), dict) else {}
    given_imdb = value.get("imdb_id") or ""
    # A column given as the IMDb id may hold its digits alone (MovieLens' imdbId "0114709"): tt0114709.
    if given_imdb.strip().isdigit() and len(given_imdb.strip()) <= 8:
        given_imdb = "tt" + given_imdb.strip().zfill(7)
    imdb = _IMDB.search(given_imdb or _text(landed_ids.get("imdb")) or "")
    tmdb = _TMDB.fullmatch((value.get("tmdb_id") or _text(landed_ids.get("tmdb")) or "").strip())
    external = {k: v for k, v in (("imdb", imdb and imdb.group().lower()),
                                  ("tmdb", tmdb and (tmdb.group(1) or tmdb.group(2)))) if v}
    said = "\x1f".join(value.get(f) or "" for f in ("critic_name", "film_title", "film_year", "outlet",
                                                   "published_raw", "rating_raw", "rating_value", "review_title",
                                                   "body"))
    # backslashreplace: a lone surrogate hashes as it lands, spelled out (crawlers.landing.storable)
    key = value.get("source_review_id")
    if not key:
        digest = hashlib.sha1(said.encode("utf-8", "backslashreplace")).digest()
        key = "sha1:" + digest.hex()
        if seen is not None and names_nobody(value.get("critic_name"), value.get("outlet")):
            short = int.from_bytes(digest[:8])
            seen[short] = occurrence = seen.get(short, 0) + 1
            if occurrence > 1:
                key += f"#{occurrence}"
    # Chosen after the key, which keeps the first non-blank cell: a dump imported by an earlier version
    # finds its rows again.
    others: list[str] = []
    # A row's own scale wins over the one --scale gives the dump.
    best, worst = value.get("rating_best") or (scale and scale[0]), value.get("rating_worst") or (scale and scale[1])
    if "rating_raw" in mapping:
        value["rating_raw"], others = _rating(row, mapping["rating_raw"], best or None, worst or None)
    item = ReviewItem(
        source=source, url=value.get("url") or f"{file_uri}#{key}", source_review_id=key,
        film_title=value.get("film_title"), film_year=value.get("film_year"), external_ids=external,
        critic_name=value.get("critic_name"), critic_url=value.get("critic_url"), outlet=value.get("outlet"),
        audience=value.get("audience") or audience, rating_raw=value.get("rating_raw"),
        rating_value=value.get("rating_value"),
        rating_best=best or None, rating_worst=worst or None, other_ratings=others,
        review_title=value.get("review_title"),
        body=value.get("body"),
        published_raw=value.get("published_raw"), language_declared=value.get("language_declared"),
        fetched_at=fetched_at, run_id=run_id, page_url=file_uri, syntax="import")
    return vars(item)  # the item is new and goes no further: no deep copy (asdict was half the import's time)


def _landed_runs(folder: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for stats in sorted(folder.glob("*.stats.json")):
        try:
            data = json.loads(stats.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if isinstance(data, dict):
            yield stats.name.removesuffix(".stats.json"), data


def _check_source(root: Path, source: str) -> None:
    """Refuse a source a spider crawls: the import would become its last complete crawl, and its next
    incremental crawl would skip what changed before the import."""
    from flows.incremental import job_dir

    name = safe_name(source)
    crawled = any(data.get("spider") not in (None, IMPORT_SPIDER) for _, data in _landed_runs(root / "raw" / name))
    if crawled or (root / "state" / f"{name}.json").exists() or job_dir(root, source).exists():
        raise ReviewsError(f"--source {source!r} is crawled by a spider; import under a name of its own")


def import_file(path: Path, source: str, root: Path, mappings: dict[str, list[str]] | None = None,
                audience: str = "critic", encoding: str | None = None, fmt: str | None = None,
                again: bool = False, on_rows: Callable[[int], None] | None = None,
                delimiter: str | None = None, scale: tuple[str, str] | None = None,
                critic: str | None = None, date_order: str | None = None) -> ImportResult:
    """Land a dump as one run of `source`; a file already imported (same bytes) is not landed again
    unless `again`. `on_rows(n)` hears how many rows are read, every 10,000. `scale` (best, worst) is the
    rating scale of rows that give none (import_columns.parse_scale); `critic` the author of rows that name
    none (a single account's export has no critic column); `date_order` (import_dates.parse_date_order) the
    order of day and month in its numeric dates, else decided from them (import_dates.decide)."""
    from filelock import FileLock, Timeout

    from flows.load import file_sha1

    if path.is_dir():
        raise ReviewsError(f"{path}: is a folder; give the dump file")
    if not path.is_file():
        raise ReviewsError(f"{path}: no such file")
    if critic is not None:
        # Typed at each import: spaced alike, so the rows' keys (a hash of what they say) match across imports.
        critic = " ".join(critic.split())
        if not critic:
            raise ReviewsError("--critic must name the export's author, not be blank")
    if audience not in AUDIENCES:
        raise ReviewsError(f"--audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
    fmt = fmt or ("jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv")
    if fmt not in FORMATS:
        raise ReviewsError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    _check_source(root, source)
    folder = root / "raw" / safe_name(source)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        one_at_a_time = FileLock(folder / ".import.lock")
        one_at_a_time.acquire(timeout=0)
    except Timeout:
        raise ReviewsError(f"another import into {source!r} is running; try again when it ends") from None
    except OSError as exc:
        raise ReviewsError(f"{folder}: cannot write the landing zone ({exc.strerror})") from None
    try:
        # Under the source's import lock no other import writes here: a `.part` left now is a killed import's.
        for leftover in folder.glob("*.jsonl.part"):
            leftover.unlink(missing_ok=True)
        return _import(path, source, root, folder, mappings or {}, audience, encoding, fmt, again, on_rows,
                       delimiter, file_sha1(path), scale, critic, date_order)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            # A write that failed for room: the landing zone's, not the dump's, whose name it was given (crash QA).
            # _import has removed what it wrote.
            raise ReviewsError(f"{folder}: cannot write the landing zone ({exc.strerror}); nothing was landed") \
                from None
        where = path if exc.filename in (None, str(path)) else exc.filename
        raise ReviewsError(f"{where}: {exc.strerror or exc}") from None
    finally:
        one_at_a_time.release()


def _read(path: Path, fmt: str, encoding: str, delimiter: str | None) -> tuple[list[str], Iterator[Row]]:
    try:
        "x".encode(encoding).decode(encoding)  # str.encode takes text encodings only: not hex, base64, zlib
    except (LookupError, ValueError, TypeError):
        raise ReviewsError(f"--encoding {encoding!r} is no text encoding Python knows") from None
    return json_rows(path, encoding) if fmt == "jsonl" else csv_rows(path, encoding, delimiter)


def _import(path: Path, source: str, root: Path, folder: Path, mappings: dict[str, list[str]], audience: str,
            encoding: str | None, fmt: str, again: bool, on_rows: Callable[[int], None] | None,
            delimiter: str | None, sha1: str | None, scale: tuple[str, str] | None = None,
            critic: str | None = None, date_order: str | None = None) -> ImportResult:
    from filelock import FileLock

    previous = None if again else next((run for run, data in _landed_runs(folder)
                                        if data.get("file_sha1") == sha1), None)
    if previous:
        return ImportResult(source, previous, folder / f"{previous}.jsonl", 0, 0, 0, "", {}, previous)
    encoding = encoding or detect_encoding(path)
    line = 0
    seen: dict[int, int] = {}
    dates = DateTally()
    try:
        columns, rows = _read(path, fmt, encoding, delimiter)
        if not columns:  # only a CSV header names columns when there are no rows; JSON has none to show
            raise ReviewsError(f"{path}: no review in it: neither one JSON object per line nor one JSON array of "
                               "objects (an empty file, or one object spread over several lines)")
        mapping = column_map(columns, mappings, str(path), critic_given=bool(critic))
        # The run id is taken when the batch's lock is: loads take batches in run-id order and stop at
        # one still being written, so none is loaded before this one that started after it.
        run_id = new_run_id()
        paths = run_paths(root, source, run_id)
        lock = FileLock(paths["lock"])
        lock.acquire(timeout=0)
        started = datetime.now(UTC)
        fetched_at, file_uri = started.isoformat(), path.resolve().as_uri()
        landed = rejected = 0
        coverage: dict[str, int] = {}
        parts = {name: paths[name].with_name(paths[name].name + ".part") for name in ("items", "rejects")}
        try:
            with parts["items"].open("w", encoding="utf-8") as items, \
                    parts["rejects"].open("w", encoding="utf-8") as rejects:
                for line, row, reason, raw in rows:  # noqa: B007 (line names where a decode error stops)
                    if not reason:
                        item = to_item(row, mapping, source, run_id, fetched_at, file_uri, audience, seen, scale,
                                       critic)
                        text = json_line(item)
                    if reason:
                        rejects.write(json.dumps({"reason": f"{path.name}: {reason}", "item": raw}) + "\n")
                        rejected += 1
                    else:
                        for name, value in item.items():
                            if value not in (None, [], {}):
                                coverage[name] = coverage.get(name, 0) + 1
                        dates.add(item["published_raw"])
                        items.write(text)
                        landed += 1
                    if on_rows is not None and (landed + rejected) % 10_000 == 0:
                        on_rows(landed + rejected)
            parts["items"].replace(paths["items"])
            if rejected:
                parts["rejects"].replace(paths["rejects"])
            else:
                parts["rejects"].unlink()
            order = decide(dates, date_order, remembered(folder), source)
            write_json_atomic(paths["stats"], {
                "source": source, "run_id": run_id, "spider": IMPORT_SPIDER, "pages": 0, "items": landed,
                "scraped": landed + rejected, "landed": landed, "rejected": rejected, "repeated_in_run": 0,
                "errors": 0, "field_coverage": coverage, "started": started.isoformat(),
                "finished": datetime.now(UTC).isoformat(), "finish_reason": "finished",
                "file": str(path.resolve()), "file_sha1": sha1, "encoding": encoding, "columns": mapping,
                **({"scale": {"best": scale[0], "worst": scale[1]}} if scale else {}),
                **({"critic": critic} if critic else {}),
                **({"date_order": order.order} if order.order else {})})
            remember(folder, order, run_id)
        except BaseException:
            for leftover in (*parts.values(), paths["items"], paths["rejects"], paths["stats"]):
                leftover.unlink(missing_ok=True)
            raise
        finally:
            lock.release()
            paths["lock"].unlink(missing_ok=True)
    except UnicodeDecodeError as exc:
        raise ReviewsError(f"{path}: not {encoding} text (near row {line + 1}: {exc.reason}); give its encoding "
                           "with --encoding") from None
    except UnicodeError as exc:  # utf-16 without a byte-order mark, and the like
        raise ReviewsError(f"{path}: cannot be read as {encoding} ({exc}); give its encoding with --encoding") \
            from None
    return ImportResult(source, run_id, paths["items"], landed + rejected, landed, rejected, encoding, mapping,
                        unused=unused_columns(columns, mapping), dates=order)


def possible_edits(conn: duckdb.DuckDBPyConnection, source: str, run_id: str) -> int:
    """How many reviews this import added, known by their content hash (no review id), whose critic already
    had a review of the same film from the source: each may be an edit of that one, which such a key cannot
    tell from a new review (see the module's docstring), so it is a second review."""
    # Not for a name that names nobody: two "Anonymous" reviews of a film are two people.
    return conn.execute("""
        select count(*) from reviews as r
        inner join critics as c using (critic_id)
        where r.source = ? and r.run_id = ? and starts_with(r.source_review_id, 'sha1:')
          and not names_nobody(c.name_key)
          and exists (select 1 from reviews as o
                      where o.source = r.source and o.critic_id = r.critic_id and o.film_id = r.film_id
                        and o.first_seen < r.first_seen)""", [source, run_id]).fetchone()[0]


def kept_edits(conn: duckdb.DuckDBPyConnection, source: str, run_id: str) -> int:
    """How many rows of this import, known by their content hash (no review id), repeat the text of a review an
    earlier import of the source loaded, with another rating or title: such a row is taken for a copy of that
    review, and a copy never replaces what the review holds, so the stored rating stays (the import's stats
    count the row as a duplicate)."""
    return conn.execute("""
        select count(*) from review_keys as k
        inner join reviews as r using (review_id)
        inner join crawl_runs as run on run.run_id = ? and run.source = k.source
        where k.source = ? and starts_with(k.source_review_id, 'sha1:')
          and k.first_seen = cast(run.started as timestamp)
          and r.source = k.source and r.source_review_id <> k.source_review_id
          and r.run_id <> ?
          and k.content_hash is distinct from r.content_hash""", [run_id, source, run_id]).fetchone()[0]
