"""The landing file staged in DuckDB: read once, checked, and the helper that moves Python values in.

Every table here and in the other batch modules is a temp table named `nz_*`, keyed by `row_no`
(the item's line in the landing file), and dropped with the batch (see `batch.drop_normalized`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.db import WarehouseError
from warehouse.load import Reject

RAW_COLUMNS = ("source", "url", "source_review_id", "film_title", "film_year", "critic_name", "critic_url",
               "outlet", "audience", "rating_raw", "rating_value", "rating_best", "rating_worst", "review_title",
               "body", "published_raw", "language_declared", "fetched_at", "run_id", "page_url", "syntax")


def register(duck: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list[Any]],
              types: dict[str, pa.DataType] | None = None) -> None:
    """Python values as temp table `name` (a copy, so nothing refers back to Python objects)."""
    arrays = {}
    for column, values in columns.items():
        # An all-None or empty column infers Arrow's null type, which DuckDB cannot use as a typed column.
        kind = (types or {}).get(column)
        array = pa.array(values, type=kind) if kind else pa.array(values)
        arrays[column] = pa.array(values, type=pa.string()) if array.type == pa.null() else array
    duck.register("nz_incoming", pa.table(arrays))
    duck.execute(f"create or replace temp table {name} as select * from nz_incoming")
    duck.unregister("nz_incoming")


MAX_LINE_BYTES = 256 * 1024 * 1024  # DuckDB holds a whole line in memory, per reading thread


def _object_limit(items_path: Path) -> int:
    """A maximum_object_size that fits the file's longest line, or a clear error if a line is absurd."""
    longest, number = 0, 0
    with items_path.open("rb") as lines:
        for index, line in enumerate(lines, 1):
            if len(line) > longest:
                longest, number = len(line), index
    if longest > MAX_LINE_BYTES:
        raise WarehouseError(f"{items_path}: line {number} is {longest / 2**20:.0f} MB, over the "
                             f"{MAX_LINE_BYTES // 2**20} MB a landed item may take; remove or split it")
    return longest + 1024


def read_items(duck: duckdb.DuckDBPyConnection, items_path: Path) -> tuple[list[Reject], list[int]]:
    """Stage the landing file; lines that are not JSON (a crawl killed mid-write) become rejects.

    A row's number is its rowid: its place among the file's non-blank lines (DuckDB keeps insertion
    order and skips blank lines). Rejects name the line's number in the file.
    """
    columns = {name: "VARCHAR" for name in RAW_COLUMNS} | {"external_ids": "JSON"}
    # An audience written "User", "CRITIC" or " users " (Excel exports, padded CSV) is the one it names.
    read = ("create or replace temp table nz_raw as select * replace ("
            "case when audience in ('critic', 'user') then audience "
            "when lower(trim(audience)) in ('critic', 'critics') then 'critic' "
            "when lower(trim(audience)) in ('user', 'users') then 'user' else audience end as audience) "
            "from read_json(?, format='newline_delimited', columns=?{})")
    # Strict first: ignore_errors makes DuckDB's reader ~20% slower, and a broken line is rare (a
    # crawl killed mid-write). A broken line means reading again, keeping what can be read; a line
    # over DuckDB's 16 MB object limit means reading again with a limit that fits it.
    options = ""
    while True:
        try:
            duck.execute(read.format(options), [str(items_path), columns])
            break
        except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
            if "maximum_object_size" in str(exc) and "maximum_object_size" not in options:
                options += f", maximum_object_size={_object_limit(items_path)}"
            elif "ignore_errors" not in options:
                options += ", ignore_errors=true"
            else:
                raise
    # Rows with neither source nor url: a broken line (fallback read), a `null` line, or an item
    # validation will reject. Only the first two are rejected here, with the line's text.
    empty = [r[0] for r in duck.execute("select rowid from nz_raw where source is null and url is null").fetchall()]
    if not empty:
        return [], []
    lines = landed_lines(items_path, set(empty))
    # A last line without its newline was cut off: the crawl was killed while writing it. Said so, since the
    # review it held is fetched again by a later crawl, and then loads (the reject stays, as the record of the cut).
    (last,) = duck.execute("select max(rowid) from nz_raw").fetchone()
    torn = last in empty and not _ends_with_newline(items_path)
    rejects, broken = [], []
    for row_no in empty:
        number, raw = lines.get(row_no, (row_no + 1, b""))
        if torn and row_no == last and not _whole_json(raw):  # cut anywhere, inside a character too (landed as
            # UTF-8, not \u escapes); a whole object without its newline gets validation's reason
            rejects.append(Reject(f"line {number} was cut off: the crawl was stopped while writing it (a later "
                                  "crawl fetches its review again)",
                                  {"line": raw.decode("utf-8", errors="backslashreplace")}))
            broken.append(row_no)
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # DuckDB cannot read the line at all; keep its bytes visible (\xe9) rather than guess an encoding.
            rejects.append(Reject(f"line {number} is not valid UTF-8 (byte {exc.start})",
                                  {"line": raw.decode("utf-8", errors="backslashreplace")}))
            broken.append(row_no)
            continue
        try:
            value = json.loads(text)
        except ValueError:
            reason = f"unreadable JSON line {number}"
        else:
            if isinstance(value, dict):
                continue  # a real item with neither source nor url: validation rejects it with a reason
            reason = f"line {number} is JSON but not an object"
        rejects.append(Reject(reason, {"line": text}))
        broken.append(row_no)
    return rejects, broken


def _whole_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        if handle.seek(0, 2) == 0:
            return True
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"


def fetched_minute(alias: str = "") -> str:
    """SQL: the UTC minute a row was fetched; relative dates resolve against it ("10 minutes ago" just
    after midnight is today), and the date map is keyed on it (dates.py caches the costly parse per
    string and per hour, so a key per minute costs little)."""
    return f"date_trunc('minute', cast({alias}fetched_at as timestamptz) at time zone 'UTC')"


def external_id(name: str, alias: str = "") -> str:
    """SQL: one id ('imdb', 'tmdb') from a row's external_ids object, or null."""
    return f"json_extract_string({alias}external_ids, '$.{name}')"


# A review's body or title over this many bytes is refused: a 120 MB body (a dump's zero-filled region read as
# text) took more than the 1 GB memory limit to normalize, and its batch never loaded (sizes QA; 70 MB loaded).
# War and Peace is 3 MB.
TEXT_MAX = 32 * 1024 * 1024


def blank(column: str) -> str:
    """SQL: the column is missing or whitespace only (a regex finds the first letter at once; trim copies)."""
    return f"not regexp_matches(coalesce({column}, ''), '\\S')"


def validate(duck: duckdb.DuckDBPyConnection, broken: list[int], items_path: Path | None = None) -> list[Reject]:
    """Reasons for refusing rows, kept narrow; view nz_checked holds the rows that pass. Given the landing
    file, a refused row's reject holds its item as landed (see _refused_items)."""
    duck.execute(f"""
        create or replace temp table nz_reasons as
        with reasons as (
            select rowid as row_no, concat_ws('; ',
                case when {blank("url")} then 'missing url' end,
                case when {blank("critic_name")} then coalesce(
                    'no author name (the page gives only the address ' || critic_url || ')', 'no author') end,
                case when {blank("film_title")}
                      and coalesce({external_id("imdb")}, {external_id("tmdb")}) is null then 'no film' end,
                case when {blank("body")} and {blank("rating_raw")} and {blank("rating_value")}
                     then 'no content: neither body nor rating' end,
                case when strlen(body) > {TEXT_MAX} or strlen(review_title) > {TEXT_MAX}
                     then 'a review text over 32 MB (' || greatest(strlen(body), strlen(review_title))
                          || ' bytes): no review is that long, and normalizing it took more than the memory limit' end,
                case when audience is not null and audience not in ('critic', 'user')
                     then 'unknown audience ''' || audience || ''' (critic or user)' end,
                case when try_cast(fetched_at as timestamptz) is null then 'bad fetched_at' end
            ) as reason
            from nz_raw
        )
        select * from reasons where reason <> '' and not list_contains(?::bigint[], row_no)""", [broken])
    rejects = _refused_items(duck, "nz_reasons", items_path)
    if broken:
        duck.execute("insert into nz_reasons select unnest(?::bigint[]), 'unreadable'", [broken])
    _define_checked(duck, refused=bool(rejects or broken))
    return rejects


def refuse_more(duck: duckdb.DuckDBPyConnection, reasons: str, items_path: Path | None = None) -> list[Reject]:
    """Refuse rows that only a later step can judge: `reasons` is a query giving (row_no, reason) of rows of
    nz_checked; they become rejects and leave nz_checked."""
    duck.execute(f"create or replace temp table nz_more_reasons as {reasons}")
    rejects = _refused_items(duck, "nz_more_reasons", items_path)
    if rejects:
        duck.execute("insert into nz_reasons select row_no, reason from nz_more_reasons")
        _define_checked(duck, refused=True)
    duck.execute("drop table nz_more_reasons")
    return rejects


def _refused_items(duck: duckdb.DuckDBPyConnection, reasons_table: str,
                   items_path: Path | None = None) -> list[Reject]:
    """The landed items of the rows in `reasons_table`, as published, each with its reason: read again from
    their lines in the landing file when it is given, since nz_raw holds only the columns the flows use (a
    dump's `other_ratings` and `co_authors` were missing from rejects.raw, and `external_ids` was a string:
    lineage QA); else, or for a line that no longer reads, the row as staged."""
    bad = duck.sql(f"select r.*, reasons.reason from (select rowid as row_no, * from nz_raw) as r "
                   f"join {reasons_table} as reasons using (row_no) order by row_no").to_arrow_table().to_pylist()
    lines = landed_lines(items_path, {row["row_no"] for row in bad}) if items_path and bad else {}
    landed = {row_no: _json_object(line) for row_no, (_, line) in lines.items()}
    rejects = []
    for row in bad:
        item = landed.get(row.pop("row_no"))
        rejects.append(Reject(row.pop("reason"), row if item is None else item))
    return rejects


def _json_object(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def landed_lines(items_path: Path, rows: set[int]) -> dict[int, tuple[int, bytes]]:
    """(line number, bytes) of those rows of a landing file: a row is a non-blank line, as DuckDB numbers them.
    Lines end at b"\n" alone, as DuckDB's do (str.splitlines() would also split inside a body at U+2028); read
    as a stream, so a large file is not held whole."""
    found: dict[int, tuple[int, bytes]] = {}
    if not rows:
        return found
    row, last = -1, max(rows)
    with items_path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            row += 1
            if row in rows:
                found[row] = (number, line[:-1] if line.endswith(b"\n") else line)
                if row >= last:
                    break
    return found


def _define_checked(duck: duckdb.DuckDBPyConnection, refused: bool) -> None:
    # Usually nothing is refused; then the view is a plain scan instead of an anti-join.
    where = "where rowid not in (select row_no from nz_reasons)" if refused else ""
    duck.execute(f"create or replace temp view nz_checked as select rowid as row_no, * from nz_raw {where}")
