"""Read-only queries: the named ones shipped as .sql files, and a user's own SQL.

A user's SQL (`reviews sql`) meets two locks, so neither has to be perfect: DuckDB's own parser must find exactly
one reading statement in it, and the connection it runs on (see lock_down) reaches no file but the warehouse,
which is open read-only, and cannot change its settings back.
"""

from __future__ import annotations

import json
import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any, Literal, TypeVar

import duckdb

from warehouse.db import WarehouseDamaged, WarehouseError, first_line, interrupted, is_damage

# DuckDB parses DESCRIBE, SHOW, SUMMARIZE, FROM-first, VALUES, PIVOT with its values listed and WITH ... SELECT
# as SELECT too. EXPLAIN is let through only for what it explains (see explained): DuckDB gives every EXPLAIN one
# type whatever it explains, and EXPLAIN ANALYZE runs the statement.
READING_TYPES = frozenset({duckdb.StatementType.SELECT})
READ_ONLY = ("the warehouse is read-only here; give one SELECT (or WITH ... SELECT, FROM, VALUES, DESCRIBE, "
             "SHOW, SUMMARIZE, or EXPLAIN [ANALYZE] of one of them)")
Rendering = Literal["text", "json"]
# Each value rendered by DuckDB itself, so nothing is lost on the way through Python (a DECIMAL stays exact, a
# list keeps DuckDB's own text form): "text" for CSV and tables, "json" one JSON value per column.
_RENDER = {"text": "cast({} as varchar)", "json": "to_json({})"}
# to_json writes NaN and ±Infinity bare, which is not JSON; they become null. Strings are matched first so that
# a "NaN" inside one is left alone.
_JSON_STRING_OR_NON_FINITE = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)')
_JSON_STRING_OR_LONG_INTEGER = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])(-?\d{16,})(?![\d.eE])')
_WORD = re.compile(r"[A-Za-z_]+")
_T = TypeVar("_T")


def query_text(name: str) -> str:
    """A named query from warehouse/sql/queries/ (the run summaries'; the report reads warehouse/sql/report/)."""
    path = resources.files("warehouse").joinpath("sql", "queries", f"{name}.sql")
    if not path.is_file():
        raise WarehouseError(f"no query named {name!r}")
    return path.read_text(encoding="utf-8")


def lock_down(conn: duckdb.DuckDBPyConnection, show_progress: bool = False) -> None:
    """Make `conn` safe for SQL a user typed, whatever it is: no file but the open database (no ATTACH of a file,
    COPY, EXPORT, read_csv, read_text, URLs), no installing or loading extensions (json, parquet and icu are
    built in and keep working), and the settings locked so the query cannot undo any of this.

    DuckDB prints its progress bar on stdout, where it would end up inside piped CSV or JSON: show_progress only
    for a terminal. DuckDB still spills to its temporary folder when a query outgrows memory.
    """
    for setting in ("set enable_external_access = false",
                    "set autoinstall_known_extensions = false",
                    "set autoload_known_extensions = false",
                    "set allow_community_extensions = false",
                    f"set enable_progress_bar_print = {'true' if show_progress else 'false'}",
                    "set lock_configuration = true"):  # last: it locks the ones above
        conn.execute(setting)


def reading_statement(conn: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The text of the one reading statement in `sql`, or a WarehouseError saying why there is none."""
    with _duckdb_errors():
        statements = conn.extract_statements(sql)
    if not statements:
        raise WarehouseError("no SQL statement given")
    if len(statements) > 1:
        raise WarehouseError(f"refused {len(statements)} statements separated by ';': give one statement at a "
                             "time (none of them ran)")
    statement = statements[0]
    if statement.type == duckdb.StatementType.EXPLAIN:
        inner = _reading(conn, explained(statement.query))
        if inner.type not in READING_TYPES:
            raise WarehouseError(f"refused EXPLAIN of {_statement_name(inner)}: {READ_ONLY}")
    elif statement.type not in READING_TYPES:
        raise WarehouseError(f"refused {_statement_name(statement)}: {READ_ONLY}")
    return statement.query


def explained(statement: str) -> str:
    """What an `EXPLAIN [ANALYZE] [(options)] …` statement explains: the text after its keywords and options."""
    tokens = iter(_tokens(statement)[1:])  # after EXPLAIN
    end = (len(statement), None)
    position, kind = next(tokens, end)
    word = _WORD.match(statement, position)
    if word and word.group(0).lower() in {"analyze", "analyse"}:
        position, kind = next(tokens, end)
    if kind == duckdb.token_type.operator and statement[position] == "(":
        depth = 1
        while depth:
            position, kind = next(tokens, end)
            if kind is None:
                break
            if kind == duckdb.token_type.operator and statement[position] in "()":
                depth += 1 if statement[position] == "(" else -1
        position, kind = next(tokens, end)
    return statement[position:]


def _reading(conn: duckdb.DuckDBPyConnection, sql: str) -> duckdb.Statement:
    """The one statement in `sql` (what an EXPLAIN explains), or a WarehouseError."""
    with _duckdb_errors():
        statements = conn.extract_statements(sql)
    if len(statements) != 1:
        raise WarehouseError(f"refused EXPLAIN: {READ_ONLY}")
    return statements[0]


def run_sql(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
            ) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows) of one reading statement; a SQL mistake becomes a WarehouseError with DuckDB's
    one-line reason, and Ctrl-C a KeyboardInterrupt."""
    reading_statement(conn, sql)
    with _duckdb_errors(conn):
        cursor = conn.execute(sql, params) if params is not None else conn.execute(sql)
        columns = [d[0] for d in cursor.description]
        return columns, cursor.fetchall()


Rows = Iterator[list[tuple[str | None, ...]]]
BATCH_ROWS = 10_000  # rows fetched at a time: a result of any size is written as it comes, in little memory
# Integers past 2^53 - 1 are JSON strings: JavaScript and jq read a bare one rounded. A UBIGINT column (the
# 64-bit hashes) is strings throughout, so that one hash in 2,048, small enough for a number, is no number among
# strings; the other wide types (counts, sums) are strings only where they must be.
_SAFE_INTEGER = 2**53 - 1
_WIDE_INTEGERS = frozenset({"BIGINT", "HUGEINT", "UHUGEINT", "BIGNUM"})
# A decimal of more than 15 significant digits is a string too (a sum() of DECIMALs is DECIMAL(38, s)): jq reads a
# number as a double, exact to 15 digits.
_DOUBLE_DIGITS = 15
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def run_read_only(conn: duckdb.DuckDBPyConnection, sql: str, rendering: Rendering) -> tuple[list[str], Rows]:
    """(column names, rows) of a user's one reading statement, every value rendered by DuckDB as `rendering`
    (None for NULL); run it on a connection passed through lock_down. The rows come in batches of BATCH_ROWS as
    they are read from DuckDB's streaming result: run nothing else on `conn` before they are all read.

    Columns that share a name are named the way DuckDB names them in a subquery (a, a_1; case-insensitively,
    so a and A become a and A_1), the same names in every format.
    """
    statement = reading_statement(conn, sql)
    if conn.extract_statements(statement)[0].type == duckdb.StatementType.EXPLAIN:
        return _explain(conn, statement, rendering)
    body = _without_terminator(statement)
    # The newline ends a trailing "-- comment" before the closing parenthesis.
    source = f"(\n{body}\n) as user_result"
    with _duckdb_errors(conn):
        relation = conn.sql(f"select * from {source}")
        columns = relation.columns
        rendered = ", ".join(_rendered(column, str(kind), rendering)
                             for column, kind in zip(columns, relation.types, strict=True))
        query = f"select {rendered} from {source}"
        reading_statement(conn, query)  # wrapping left one reading statement, nothing more
        cursor = _interruptible(conn, lambda: conn.execute(query))
    return columns, _batches(conn, cursor, rendering)


def _rendered(column: str, kind: str, rendering: Rendering) -> str:
    quoted = _quoted(column)
    if rendering == "json" and kind == "UBIGINT":
        return f"to_json(cast({quoted} as varchar))"
    if rendering == "json" and kind in _WIDE_INTEGERS:
        # try_cast: a BIGNUM past the double range does not convert (review).
        return (f"case when abs(try_cast({quoted} as double)) <= {_SAFE_INTEGER} then to_json({quoted}) "
                f"else to_json(cast({quoted} as varchar)) end")
    if rendering == "json" and (decimal := _DECIMAL.fullmatch(kind)) and int(decimal[1]) > _DOUBLE_DIGITS:
        return (f"case when abs({quoted}) < 1e{_DOUBLE_DIGITS - int(decimal[2])} then to_json({quoted}) "
                f"else to_json(cast({quoted} as varchar)) end")
    if rendering == "json" and kind == "FLOAT":
        # to_json widens a FLOAT to its double (0.1 -> 0.10000000149011612); its text is the shortest that reads back
        # as the same FLOAT, as the table and csv show it.
        return f"to_json(cast(cast({quoted} as varchar) as double))"
    return _RENDER[rendering].format(quoted)


def _batches(conn: duckdb.DuckDBPyConnection, cursor: duckdb.DuckDBPyConnection, rendering: Rendering) -> Rows:
    while True:
        with _duckdb_errors(conn):
            rows = _interruptible(conn, lambda: cursor.fetchmany(BATCH_ROWS))
        if not rows:
            return
        if rendering == "json":
            rows = [tuple(None if value is None else _finite_json(value) for value in row) for row in rows]
        yield rows


def _explain(conn: duckdb.DuckDBPyConnection, statement: str, rendering: Rendering) -> tuple[list[str], Rows]:
    """An EXPLAIN's rows: it cannot be a subquery for DuckDB to render, and its values are text already."""
    def run() -> tuple[list[str], list[tuple[str | None, ...]]]:
        cursor = conn.execute(statement)
        return [d[0] for d in cursor.description], cursor.fetchall()

    with _duckdb_errors():
        columns, rows = _interruptible(conn, run)
    if rendering == "json":
        rows = [tuple(None if value is None else json.dumps(value, ensure_ascii=False) for value in row)
                for row in rows]
    return columns, iter([rows])


def run_query(conn: duckdb.DuckDBPyConnection, name: str, params: list[Any] | dict[str, Any] | None = None
              ) -> tuple[list[str], list[tuple[Any, ...]]]:
    return run_sql(conn, query_text(name), params)


@contextmanager
def _duckdb_errors(conn: duckdb.DuckDBPyConnection | None = None) -> Iterator[None]:
    """DuckDB's errors as one-line WarehouseErrors; with `conn`, a query that names what the marts do not have
    says when the marts are out of date (another version's SQL, or a stopped run's)."""
    try:
        yield
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except duckdb.Error as exc:
        if is_damage(exc):  # no mistake in the query: the file (diagnosis QA: "SQL error: Corrupt database file")
            raise WarehouseDamaged(f"the warehouse is damaged ({first_line(exc)}): restore it from a backup, or "
                                   "rebuild it from the landing zone (see Backups in the README)") from None
        message = first_line(exc)
        # Raised by lock_down's settings: a file other than the warehouse, or an extension to load.
        hint = "; only the warehouse can be read here" if isinstance(exc, duckdb.PermissionException) else ""
        if isinstance(exc, duckdb.CatalogException) and _missing_mart(message):
            hint = "; the marts are built at the end of `reviews run`, and no run has built them yet"
        elif isinstance(exc, duckdb.BinderException | duckdb.CatalogException) and conn is not None \
                and _marts_stale(conn):
            # Stale marts cannot tell an upgrade from a stopped run: both are named, neither is claimed.
            hint = ("; the marts are out of date (built by another version of reviews, or a run stopped before "
                    "rebuilding them) and may lack what the query names: the next `reviews run` or `reviews report` "
                    "rebuilds them")
        raise WarehouseError(f"SQL error: {message}{hint}") from None
    except RuntimeError as exc:
        # Ctrl-C during a query reaches Python as RuntimeError("Query interrupted"), not as KeyboardInterrupt.
        if interrupted(exc):
            raise KeyboardInterrupt from None
        raise


def _interruptible(conn: duckdb.DuckDBPyConnection, work: Callable[[], _T]) -> _T:
    """work() run in a thread while this one waits, so Ctrl-C always stops the query: DuckDB looks for Ctrl-C
    only between the tasks the calling thread runs itself, and while its worker threads hold the query it can
    miss it for as long as the query takes.

    While it waits, SIGINT and SIGTERM only raise a flag: a KeyboardInterrupt thrown into the wait (two Ctrl-Cs
    at once, as `timeout -s INT` sends to a process and its group) can land inside threading's own lock
    handling and end in a RuntimeError traceback. The query is interrupted until it ends, then
    KeyboardInterrupt is raised here, once.
    """
    outcome: dict[str, Any] = {}
    done = threading.Event()  # not Thread.join: a join that Ctrl-C breaks can leave is_alive() False too soon
    # A list, not a threading.Event: Event.set takes a lock, and a SIGTERM handled while a SIGINT's handler held it
    # (both at the same instant) deadlocked the command (stop-timing QA).
    stop = [False]

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the waiting thread, which raises it
            outcome["error"] = exc
        finally:
            done.set()

    previous: dict[int, Any] = {}
    try:
        # SIGTERM too: raised as KeyboardInterrupt here, it left DuckDB's thread holding the connection, whose close
        # then failed with a traceback (stop-timing QA). An ignored signal (`reviews sql … &` in a script,
        # `trap '' INT`) stays ignored.
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, lambda signum, frame: stop.__setitem__(0, True))
    except ValueError:  # not the main thread: signals are not ours to take
        pass
    try:
        threading.Thread(target=run, name="reviews-sql", daemon=True).start()
        while not done.wait(0.05):
            if stop[0]:
                # Again until it ends: an interrupt that comes before DuckDB started the query is not kept.
                conn.interrupt()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stop[0]:
        raise KeyboardInterrupt
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def stale_marts_note(conn: duckdb.DuckDBPyConnection, sql: str) -> str | None:
    """A note for a query that reads marts which are out of date (a run stopped before rebuilding them, or
    another version built them): its numbers would silently disagree with the reviews."""
    from warehouse.marts import MART_TABLES, STALE_MARTS, references

    if not references(sql, set(MART_TABLES)) or not _marts_stale(conn):
        return None
    return f"the marts are {STALE_MARTS}"


def _marts_stale(conn: duckdb.DuckDBPyConnection) -> bool:
    """Marts exist but are not current (warehouse.marts.marts_current)."""
    from warehouse.marts import marts_current

    try:
        built = conn.execute("select count(*) from duckdb_tables() where table_name = 'film_scores'").fetchone()
        return bool(built and built[0]) and not marts_current(conn)
    except duckdb.Error:
        return False


def _missing_mart(message: str) -> bool:
    """Whether a catalog error is about a mart that does not exist (a warehouse whose first run stopped
    before building them), rather than a typo in the query."""
    from warehouse.marts import MART_TABLES

    return "does not exist" in message and any(f"name {table} " in message for table in MART_TABLES)


def _statement_name(statement: duckdb.Statement) -> str:
    """'COPY', or 'INSTALL (a LOAD statement)' where DuckDB files a command under another type."""
    kind = statement.type.name.replace("_", " ")
    start = next((position for position, _ in _tokens(statement.query)), None)
    first = _WORD.match(statement.query, start) if start is not None else None
    if first is None or first.group(0).upper() == kind:
        return kind
    article = "an" if kind[0] in "AEIOU" else "a"
    return f"{first.group(0).upper()} ({article} {kind} statement)"


def _tokens(statement: str) -> list[tuple[int, duckdb.token_type]]:
    """The statement's tokens but comments, each at its character offset: DuckDB gives UTF-8 byte offsets, which
    indexed the text wrongly after any non-ASCII character (`select 'é';` ended in an IndexError)."""
    encoded = statement.encode("utf-8", errors="surrogatepass")
    tokens, byte_at, char_at = [], 0, 0
    for position, kind in duckdb.tokenize(statement):  # in order: each stretch between tokens is decoded once
        char_at += len(encoded[byte_at:position].decode("utf-8", errors="surrogatepass"))
        byte_at = position
        if kind != duckdb.token_type.comment:
            tokens.append((char_at, kind))
    return tokens


def _without_terminator(statement: str) -> str:
    """The statement without its closing semicolons (and any comment after them), so it can be a subquery."""
    tokens = _tokens(statement)
    end = len(statement)
    while tokens and tokens[-1][1] == duckdb.token_type.operator and statement[tokens[-1][0]] == ";":
        end = tokens.pop()[0]
    return statement[:end]


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _finite_json(text: str) -> str:
    """A value's JSON with NaN and ±Infinity as null and, inside a list or struct, an integer past ±(2^53 - 1) as
    a string, as it is in a column of its own (a hash in a list was a bare number jq rounded: docs QA)."""
    # The substring tests spare the regexes on nearly every value: one tripled the time of a large JSON export.
    if text[:1] in "[{" and _LONG_DIGITS.search(text):
        text = _JSON_STRING_OR_LONG_INTEGER.sub(_long_integer_as_string, text)
    if "Infinity" not in text and "NaN" not in text:
        return text
    return _JSON_STRING_OR_NON_FINITE.sub(lambda m: "null" if m.group(1) else m.group(0), text)


_LONG_DIGITS = re.compile(r"\d{16}")


def _long_integer_as_string(found: re.Match[str]) -> str:
    number = found.group(1)
    return f'"{number}"' if number is not None and abs(int(number)) > _SAFE_INTEGER else found.group(0)
