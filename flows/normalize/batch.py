"""Normalize one landing batch into warehouse rows, set-based.

The heavy lifting is DuckDB over the whole batch; Python functions run only on the distinct
values of a column (ratings, dates, names, film mentions: few per batch) or on the subset of
rows that need them (bodies with markup or mojibake, reviews without a declared language).
No per-row Python loop over the batch.

The landed items are read once into a scratch table; every step after that writes a narrow
table keyed by row number (a map of distinct values, or the few rows Python had to fix), and one
final query joins them onto the landed rows. Review bodies are therefore copied once, into the
result, whose rows go to the warehouse without another copy when both share a connection.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from flows.normalize.dates import parse_distinct
from flows.normalize.films import Film, FilmResolver, Mention
from flows.normalize.ratings import rate_distinct
from flows.normalize.sentiment import infer_scores_in
from flows.normalize.text import clean_text, detect_language, detect_languages, normalize_person
from warehouse.load import BATCH_COLUMNS, TEXT_COLUMNS, Reject

RAW_COLUMNS = ("source", "url", "source_review_id", "film_title", "film_year", "critic_name", "critic_url",
               "outlet", "audience", "rating_raw", "rating_value", "rating_best", "rating_worst", "review_title",
               "body", "published_raw", "language_declared", "fetched_at", "run_id", "page_url", "syntax")
# Text that plain whitespace folding in SQL would get wrong goes through clean_text in Python.
NEEDS_CLEANING = r"[<&\x00-\x1f\x7f-\x9f\xa0\xad\x{200b}\x{feff}\x{2000}-\x{200a}\x{3000}]|Ã|Â|â€|Å|Ð"
SCRATCH = "nz_"  # prefix of this module's temp tables, dropped when it is done


@dataclass
class NormalizedBatch:
    # The name of a temp view in the connection that normalized it, an Arrow table, or a Parquet file.
    rows: str | pa.Table | Path
    narrow: str | None = None  # with a view: a table of the same rows without title and body
    rejects: list[Reject] = field(default_factory=list)
    scraped: int = 0


def _critic_id(name_key: str, outlet: str | None, audience: str) -> str:
    basis = f"{name_key}|{normalize_person(outlet)}|{audience}"
    return "c" + hashlib.sha1(basis.encode()).hexdigest()[:12]


def _register(duck: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list[Any]],
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


def _read_items(duck: duckdb.DuckDBPyConnection, items_path: Path) -> tuple[list[Reject], list[int]]:
    """Stage the landing file; lines that are not JSON (a crawl killed mid-write) become rejects.

    A row's number is its rowid, its line in the file (DuckDB keeps insertion order).
    """
    columns = {name: "VARCHAR" for name in RAW_COLUMNS} | {"external_ids": "JSON"}
    duck.execute("create or replace temp table nz_raw as "
                 "select * from read_json(?, format='newline_delimited', columns=?, ignore_errors=true)",
                 [str(items_path), columns])
    empty = [r[0] for r in duck.execute("select rowid from nz_raw where source is null and url is null").fetchall()]
    if not empty:
        return [], []
    lines = items_path.read_text(encoding="utf-8", errors="replace").splitlines()
    rejects, broken = [], []
    for row_no in empty:
        text = lines[row_no] if row_no < len(lines) else ""
        try:
            json.loads(text)
            continue  # a real item with neither source nor url: validation rejects it with a reason
        except ValueError:
            rejects.append(Reject(f"unreadable JSON line {row_no + 1}", {"line": text}))
            broken.append(row_no)
    return rejects, broken


def blank(column: str) -> str:
    """SQL: the column is missing or whitespace only (a regex finds the first letter at once; trim copies)."""
    return f"not regexp_matches(coalesce({column}, ''), '\\S')"


def _validate(duck: duckdb.DuckDBPyConnection, broken: list[int]) -> list[Reject]:
    """Reasons for refusing rows, kept narrow; view nz_checked holds the rows that pass."""
    duck.execute(f"""
        create or replace temp table nz_reasons as
        with reasons as (
            select rowid as row_no, concat_ws('; ',
                case when {blank("url")} then 'missing url' end,
                case when {blank("critic_name")} then 'no author' end,
                case when {blank("film_title")}
                      and coalesce(json_extract_string(external_ids, '$.imdb'),
                                   json_extract_string(external_ids, '$.tmdb')) is null then 'no film' end,
                case when {blank("body")} and {blank("rating_raw")} then 'no content: neither body nor rating' end,
                case when audience is not null and audience not in ('critic', 'user')
                     then 'unknown audience ' || audience end,
                case when try_cast(fetched_at as timestamptz) is null then 'bad fetched_at' end
            ) as reason
            from nz_raw
        )
        select * from reasons where reason <> '' and not list_contains(?::bigint[], row_no)""", [broken])
    bad = duck.sql("select r.* exclude (row_no), reasons.reason "
                   "from (select rowid as row_no, * from nz_raw) as r join nz_reasons as reasons using (row_no) "
                   "order by row_no").to_arrow_table()
    rejects = [Reject(row.pop("reason"), row) for row in bad.to_pylist()]
    if broken:
        duck.execute("insert into nz_reasons select unnest(?::bigint[]), 'unreadable'", [broken])
    # Usually nothing is refused; then the view is a plain scan instead of an anti-join.
    refused = "where rowid not in (select row_no from nz_reasons)" if rejects or broken else ""
    duck.execute(f"create or replace temp view nz_checked as select rowid as row_no, * from nz_raw {refused}")
    return rejects


def _rating_map(duck: duckdb.DuckDBPyConnection, positive_threshold: float) -> None:
    keys = duck.execute("select distinct rating_raw, rating_value, rating_best, rating_worst "
                        "from nz_checked").fetchall()
    rated = rate_distinct(keys, positive_threshold)
    _register(duck, "nz_rating_map", {
        "rating_raw": [k[0] for k in keys], "rating_value": [k[1] for k in keys],
        "rating_best": [k[2] for k in keys], "rating_worst": [k[3] for k in keys],
        "score": [rated[k].score for k in keys], "is_positive": [rated[k].is_positive for k in keys],
        "rating_problem": [rated[k].problem for k in keys]}, {"score": pa.float64(), "is_positive": pa.bool_()})


def _date_keys(duck: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return duck.execute("select distinct published_raw, date_trunc('hour', cast(fetched_at as timestamptz) "
                        "at time zone 'UTC') from nz_checked").fetchall()


def _date_columns(keys: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    parsed = parse_distinct(keys)
    return {"published_raw": [k[0] for k in keys], "fetched_hour": [k[1] for k in keys],
            "published_on": [parsed[k].date for k in keys], "date_problem": [parsed[k].problem for k in keys]}


def _needs_python(column: str) -> str:
    # Markup, entities, controls or mojibake need clean_text; so does non-NFC text, but only text that
    # is not plain ASCII (more characters than bytes) can be non-NFC, and that test is cheap.
    return (f"coalesce(regexp_matches({column}, '{NEEDS_CLEANING}') "
            f"or (strlen({column}) <> length({column}) and nfc_normalize({column}) <> {column}), false)")


def _fold_spaces(column: str) -> str:
    # Plain text only needs runs of spaces folded and ends trimmed; most has neither, and testing is
    # several times cheaper than trimming every body.
    return (f"nullif(case when contains({column}, '  ') or starts_with({column}, ' ') or ends_with({column}, ' ') "
            f"then trim(regexp_replace({column}, ' {{2,}}', ' ', 'g')) else {column} end, '')")


BODY = f"case when cl.body_py then cl.body else {_fold_spaces('c.body')} end"
TITLE = f"case when cl.title_py then cl.title else {_fold_spaces('c.review_title')} end"


def _flagged_texts(duck: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """Rows whose body or title SQL cannot fold safely (table nz_flagged), with those texts."""
    duck.execute(f"""
        create or replace temp table nz_flagged as
        with flags as (
            select row_no, {_needs_python("body")} as body_py, {_needs_python("review_title")} as title_py
            from nz_checked
        )
        select * from flags where body_py or title_py""")
    return duck.execute("""
        select f.row_no, c.syntax, f.body_py, f.title_py,
            case when f.body_py then c.body end, case when f.title_py then c.review_title end
        from nz_flagged as f
        inner join nz_checked as c using (row_no)""").fetchall()


def _undeclared_texts(duck: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """Table nz_declared maps declared languages to codes; returns the rows that declare none."""
    declared = [r[0] for r in duck.execute("select distinct language_declared from nz_checked "
                                           "where language_declared is not null").fetchall()]
    _register(duck, "nz_declared", {"language_declared": declared,
                                    "code": [detect_language(None, d) for d in declared]})
    # The detector reads the first ~80 characters; fetching more would only cost memory.
    return duck.execute("""
        select c.row_no, left(c.body, 200)
        from nz_checked as c
        left join nz_declared as d using (language_declared)
        where d.code is null""").fetchall()


def _fix_in_python(flagged: list[tuple[Any, ...]], undeclared: list[tuple[Any, ...]]) -> tuple[dict, dict]:
    """clean_text on the flagged texts, then language detection: the batch's per-row Python work.

    Pure Python on fetched values, so it can run in a thread while DuckDB works on the rest.
    """
    # Feed descriptions are HTML; structured-data values are text (see clean_text).
    cleaned = {
        "row_no": [r[0] for r in flagged], "body_py": [r[2] for r in flagged], "title_py": [r[3] for r in flagged],
        "body": [clean_text(r[4], html_markup=r[1] == "feed") if r[2] else None for r in flagged],
        "title": [clean_text(r[5], html_markup=r[1] == "feed") if r[3] else None for r in flagged]}
    clean_bodies = {row_no: body for row_no, py, body in zip(cleaned["row_no"], cleaned["body_py"], cleaned["body"],
                                                             strict=True) if py}
    texts = [clean_bodies.get(row_no, text) for row_no, text in undeclared]
    detected = {"row_no": [r[0] for r in undeclared], "code": detect_languages(texts)}
    return cleaned, detected


def _film_keys(duck: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return duck.execute("""
        select distinct film_title, film_year,
            json_extract_string(external_ids, '$.imdb') as imdb_id,
            json_extract_string(external_ids, '$.tmdb') as tmdb_id
        from nz_checked""").fetchall()


def _film_columns(mentions_rows: list[tuple[Any, ...]], known: list[Film]) -> dict[str, list[Any]]:
    mentions = [Mention(clean_text(t, html_markup=False), y, i, m) for t, y, i, m in mentions_rows]
    resolved = FilmResolver(list(known)).resolve_all(mentions)
    return {"film_title": [r[0] for r in mentions_rows], "film_year": [r[1] for r in mentions_rows],
            "imdb_id": [r[2] for r in mentions_rows], "tmdb_id": [r[3] for r in mentions_rows],
            "film_id": [f.film_id for f, _ in resolved], "title_key": [k for _, k in resolved],
            "clean_title": [m.title for m in mentions], "year": [f.year for f, _ in resolved]}


def _audience(alias: str = "") -> str:
    # A review without a declared audience is a critic's when it names an outlet, else a user's.
    return (f"coalesce({alias}audience, case when nullif(trim({alias}outlet), '') is null "
            f"then 'user' else 'critic' end)")


def _critic_keys(duck: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return duck.execute(f"select distinct critic_name, outlet, {_audience()} from nz_checked").fetchall()


def _critic_columns(rows: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    names = [clean_text(r[0], html_markup=False) or r[0] for r in rows]
    outlets = [clean_text(r[1], html_markup=False) if r[1] else None for r in rows]
    keys = [normalize_person(n) for n in names]
    return {"critic_name": [r[0] for r in rows], "outlet": [r[1] for r in rows], "audience": [r[2] for r in rows],
            "clean_name": names, "clean_outlet": outlets, "name_key": keys,
            "critic_id": [_critic_id(k, o, r[2]) for k, o, r in zip(keys, outlets, rows, strict=True)]}


# Python's share of the batch: fetched inputs in, columns of these tables out. All-null columns need a type.
PYTHON_TABLES: dict[str, dict[str, pa.DataType]] = {
    "nz_date_map": {"published_on": pa.date32()},
    "nz_film_map": {"year": pa.int32()},
    "nz_critic_map": {},
    "nz_cleaned": {"row_no": pa.int64(), "body_py": pa.bool_(), "title_py": pa.bool_()},
    "nz_detected": {"row_no": pa.int64()},
}


def _python_work(inputs: dict[str, list[tuple[Any, ...]]], known: list[Film]) -> dict[str, dict[str, list[Any]]]:
    """Every per-value and per-row Python step, on values fetched beforehand.

    Pure Python, so it runs in a thread while DuckDB (which releases the GIL) works on the rest.
    """
    cleaned, detected = _fix_in_python(inputs["flagged"], inputs["undeclared"])
    return {"nz_date_map": _date_columns(inputs["dates"]), "nz_film_map": _film_columns(inputs["films"], known),
            "nz_critic_map": _critic_columns(inputs["critics"]), "nz_cleaned": cleaned, "nz_detected": detected}


RATED = """
    left join nz_rating_map as r
        on r.rating_raw is not distinct from c.rating_raw and r.rating_value is not distinct from c.rating_value
        and r.rating_best is not distinct from c.rating_best and r.rating_worst is not distinct from c.rating_worst
"""


def _infer_plain(duck: duckdb.DuckDBPyConnection) -> None:
    """Inferred scores of the unrated reviews whose body SQL folds (most): table nz_inferred_plain.

    A rating that could not be read (11/10) is not a missing one: its score stays empty with the
    problem recorded, and no inferred score hides it.
    """
    duck.execute(f"""
        create or replace temp table nz_infer_plain_input as
        select c.row_no, {_fold_spaces("c.body")} as text
        from nz_checked as c
        {RATED}
        anti join (select row_no from nz_flagged where body_py) as f using (row_no)
        where r.score is null and r.is_positive is null and r.rating_problem is null and c.body is not null""")
    infer_scores_in(duck, "nz_infer_plain_input", "nz_inferred_plain")


def _infer_cleaned(duck: duckdb.DuckDBPyConnection) -> None:
    """The same for bodies clean_text fixed, then both together: table nz_inferred."""
    duck.execute(f"""
        create or replace temp table nz_infer_cleaned_input as
        select c.row_no, cl.body as text
        from nz_cleaned as cl
        inner join nz_checked as c using (row_no)
        {RATED}
        where cl.body_py and r.score is null and r.is_positive is null and r.rating_problem is null
            and c.body is not null""")
    infer_scores_in(duck, "nz_infer_cleaned_input", "nz_inferred_cleaned")
    duck.execute("create or replace temp table nz_inferred as "
                 "select * from nz_inferred_plain union all select * from nz_inferred_cleaned")


def _assemble(duck: duckdb.DuckDBPyConnection, name: str) -> None:
    """The normalized rows: table nz_rows holds every column but the texts (and the texts' hashes),
    and view `name` adds title and body. Keys are matched on the narrow table, so bodies are copied
    only once, when the view feeds the warehouse insert."""
    narrow = {column: kind for column, kind in BATCH_COLUMNS.items() if column not in TEXT_COLUMNS}
    casts = ",\n    ".join(f"cast({column} as {kind}) as {column}" for column, kind in narrow.items())
    duck.execute(f"""
create or replace temp table nz_rows as
with joined as (
    select
        c.row_no, c.run_id, c.source, coalesce(c.source_review_id, c.url) as source_review_id, c.url,
        cast(cast(c.fetched_at as timestamptz) at time zone 'UTC' as timestamp) as fetched_at,
        f.film_id, coalesce(f.clean_title, c.film_title) as film_title, f.year as film_year, f.imdb_id,
        f.tmdb_id, f.title_key,
        k.critic_id, k.clean_name as critic_name, k.name_key, k.clean_outlet as outlet, k.audience, c.critic_url,
        c.rating_raw, coalesce(r.score, i.score) as score, r.is_positive,
        case when r.score is not null or r.is_positive is not null then 'explicit'
             when i.score is not null then 'inferred' end as score_source,
        r.rating_problem, {TITLE} as title, {BODY} as body, coalesce(d.code, x.code) as language,
        d_.published_on, d_.date_problem
    from nz_checked as c
    left join nz_cleaned as cl using (row_no)
    {RATED}
    left join nz_inferred as i using (row_no)
    left join nz_declared as d using (language_declared)
    left join nz_detected as x using (row_no)
    left join nz_date_map as d_
        on d_.published_raw is not distinct from c.published_raw
        and d_.fetched_hour = date_trunc('hour', cast(c.fetched_at as timestamptz) at time zone 'UTC')
    left join nz_film_map as f
        on f.film_title is not distinct from c.film_title and f.film_year is not distinct from c.film_year
        and f.imdb_id is not distinct from json_extract_string(c.external_ids, '$.imdb')
        and f.tmdb_id is not distinct from json_extract_string(c.external_ids, '$.tmdb')
    left join nz_critic_map as k
        on k.critic_name is not distinct from c.critic_name and k.outlet is not distinct from c.outlet
        and k.audience = {_audience("c.")}
),

hashed as (
    select *,
        md5(coalesce(title, '') || chr(31) || coalesce(body, '') || chr(31) || coalesce(rating_raw, ''))
            as content_hash,
        -- Bodies are already whitespace-folded, so case is the only difference left to ignore.
        md5(lower(body)) as text_hash
    from joined
)

select
    {casts}
from hashed""")
    duck.execute(f"""
create or replace temp view {name} as
select n.*, {TITLE} as title, {BODY} as body
from nz_rows as n
inner join nz_checked as c using (row_no)
left join nz_cleaned as cl using (row_no)""")


def crawl_rejects(rejects_path: Path | None) -> list[Reject]:
    """Items the crawler's validation already refused, carried into the warehouse's rejects."""
    if rejects_path is None or not rejects_path.exists():
        return []
    found = []
    for number, line in enumerate(rejects_path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        try:
            record = json.loads(line)
            found.append(Reject(record.get("reason", "rejected by crawler"), record.get("item", record), "crawl"))
        except ValueError:
            found.append(Reject(f"unreadable crawl reject line {number}", {"line": line}, "crawl"))
    return found


def drop_normalized(duck: duckdb.DuckDBPyConnection, name: str = "normalized_batch") -> None:
    """Drop view `name` and the scratch tables behind it, once the batch is loaded."""
    duck.execute(f"drop view if exists {name}")
    found = duck.execute("select table_name, table_type from information_schema.tables "
                         "where table_catalog = 'temp' and starts_with(table_name, ?)", [SCRATCH]).fetchall()
    for table, kind in sorted(found, key=lambda found: found[1] != "VIEW"):  # views before their tables
        duck.execute(f"drop {'view' if kind == 'VIEW' else 'table'} if exists {table}")


def normalize_landing(items_path: Path, known_films: list[Film], rejects_path: Path | None = None,
                      positive_threshold: float = 60.0, duck: duckdb.DuckDBPyConnection | None = None,
                      name: str = "normalized_batch") -> NormalizedBatch:
    """Normalize a landing file into rows for `warehouse.load.load_batch`.

    Given a connection (the warehouse's), the rows are its temp view `name` and `rows` is that
    name: a million-review batch then stays inside DuckDB, within its memory limit, never copied
    through Python, and its bodies are first copied when loaded. Call `drop_normalized` after the
    load. Without a connection, the rows come back as an Arrow table.
    """
    own = duck is None
    work = duckdb.connect() if own else duck
    try:
        rejects = crawl_rejects(rejects_path)
        read_rejects, broken = _read_items(work, items_path)
        rejects += read_rejects
        scraped = work.execute("select count(*) from nz_raw").fetchall()[0][0] + len(rejects) - len(broken)
        rejects += _validate(work, broken)
        inputs = {"flagged": _flagged_texts(work), "undeclared": _undeclared_texts(work),
                  "dates": _date_keys(work), "films": _film_keys(work), "critics": _critic_keys(work)}
        _rating_map(work, positive_threshold)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="normalize") as pool:
            python_work = pool.submit(_python_work, inputs, known_films)
            _infer_plain(work)  # all SQL, so it runs while the thread holds the GIL
            tables = python_work.result()
        for table, columns in tables.items():
            _register(work, table, columns, PYTHON_TABLES[table])
        _infer_cleaned(work)
        _assemble(work, name)
        rows: str | pa.Table = work.sql(f"select * from {name} order by row_no").to_arrow_table() if own else name
    except BaseException:
        if not own:
            drop_normalized(work, name)
        raise
    finally:
        if own:
            work.close()
    return NormalizedBatch(rows=rows, rejects=rejects, scraped=scraped, narrow=None if own else "nz_rows")
