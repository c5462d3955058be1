"""Normalize one landing batch into warehouse rows, set-based.

The heavy lifting is DuckDB over the whole batch; Python functions run only on the distinct
values of a column (ratings, dates, names, film mentions: few per batch) or on the subset of
rows that need them (bodies with markup or mojibake, reviews without a rating or declared
language). No per-row Python loop over the batch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from flows.normalize.dates import parse_distinct
from flows.normalize.films import Film, FilmResolver, Mention
from flows.normalize.ratings import rate_distinct
from flows.normalize.sentiment import infer_scores_in
from flows.normalize.text import clean_text, detect_language, normalize_person
from warehouse.load import BATCH_COLUMNS, Reject

RAW_COLUMNS = ("source", "url", "source_review_id", "film_title", "film_year", "critic_name", "critic_url",
               "outlet", "audience", "rating_raw", "rating_value", "rating_best", "rating_worst", "review_title",
               "body", "published_raw", "language_declared", "fetched_at", "run_id", "page_url", "syntax")
# Text that plain whitespace folding in SQL would get wrong goes through clean_text in Python.
NEEDS_CLEANING = r"[<&\x00-\x1f\x7f-\x9f\xa0\xad\x{200b}\x{feff}\x{2000}-\x{200a}\x{3000}]|Ã|Â|â€|Å|Ð"


@dataclass
class NormalizedBatch:
    rows: pa.Table | Path  # an Arrow table, or a Parquet file of the same columns
    rejects: list[Reject] = field(default_factory=list)
    scraped: int = 0


def _critic_id(name_key: str, outlet: str | None, audience: str) -> str:
    basis = f"{name_key}|{normalize_person(outlet)}|{audience}"
    return "c" + hashlib.sha1(basis.encode()).hexdigest()[:12]


def _register(duck: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list[Any]]) -> None:
    arrays = {}
    for column, values in columns.items():
        array = pa.array(values)
        # An all-None column infers Arrow's null type, which DuckDB cannot cast into a typed column.
        arrays[column] = pa.array(values, type=pa.string()) if array.type == pa.null() else array
    duck.register(name, pa.table(arrays))


def _read_items(duck: duckdb.DuckDBPyConnection, items_path: Path) -> list[Reject]:
    """Stage the landing file; lines that are not JSON (a crawl killed mid-write) become rejects."""
    columns = {name: "VARCHAR" for name in RAW_COLUMNS} | {"external_ids": "JSON"}
    duck.execute(
        "create table raw as select row_number() over () - 1 as row_no, * "
        "from read_json(?, format='newline_delimited', columns=?, ignore_errors=true)",
        [str(items_path), columns])
    broken = [r[0] for r in duck.execute("select row_no from raw where source is null and url is null").fetchall()]
    if not broken:
        return []
    lines = items_path.read_text(encoding="utf-8", errors="replace").splitlines()
    rejects = []
    for row_no in broken:
        text = lines[row_no] if row_no < len(lines) else ""
        try:
            json.loads(text)
            continue  # a real item with neither source nor url: validation rejects it with a reason
        except ValueError:
            rejects.append(Reject(f"unreadable JSON line {row_no + 1}", {"line": text}))
    if rejects:
        bad = [int(r.reason.rsplit(" ", 1)[1]) - 1 for r in rejects]
        duck.execute("delete from raw where list_contains(?, row_no)", [bad])
    return rejects


def _validate(duck: duckdb.DuckDBPyConnection) -> list[Reject]:
    # Only the reasons are materialized: copying every body into a second table costs seconds per 100k rows.
    duck.execute(r"""
        create table reasons as
        select row_no, concat_ws('; ',
            case when nullif(trim(url), '') is null then 'missing url' end,
            case when nullif(trim(critic_name), '') is null then 'no author' end,
            case when nullif(trim(film_title), '') is null
                  and coalesce(json_extract_string(external_ids, '$.imdb'),
                               json_extract_string(external_ids, '$.tmdb')) is null then 'no film' end,
            case when nullif(trim(body), '') is null and nullif(trim(rating_raw), '') is null
                 then 'no content: neither body nor rating' end,
            case when audience is not null and audience not in ('critic', 'user')
                 then 'unknown audience ' || audience end,
            case when try_cast(fetched_at as timestamptz) is null then 'bad fetched_at' end
        ) as reason
        from raw""")
    duck.execute("delete from reasons where reason = ''")
    bad = duck.sql("select r.* exclude (row_no), reasons.reason from raw r join reasons using (row_no) "
                   "order by row_no").to_arrow_table()
    rejects = [Reject(row.pop("reason"), row) for row in bad.to_pylist()]
    duck.execute("delete from raw where row_no in (select row_no from reasons)")
    duck.execute("alter table raw rename to checked")
    return rejects


def _rating_map(duck: duckdb.DuckDBPyConnection, positive_threshold: float) -> None:
    keys = duck.execute("select distinct rating_raw, rating_value, rating_best, rating_worst from checked").fetchall()
    rated = rate_distinct(keys, positive_threshold)
    _register(duck, "rating_map", {
        "rating_raw": [k[0] for k in keys], "rating_value": [k[1] for k in keys],
        "rating_best": [k[2] for k in keys], "rating_worst": [k[3] for k in keys],
        "score": [rated[k].score for k in keys], "is_positive": [rated[k].is_positive for k in keys],
        "rating_problem": [rated[k].problem for k in keys]})


def _date_map(duck: duckdb.DuckDBPyConnection) -> None:
    keys = duck.execute("select distinct published_raw, date_trunc('hour', cast(fetched_at as timestamptz) "
                        "at time zone 'UTC') from checked").fetchall()
    parsed = parse_distinct(keys)
    _register(duck, "date_map", {
        "published_raw": [k[0] for k in keys], "fetched_hour": [k[1] for k in keys],
        "published_on": [parsed[k].date for k in keys], "date_problem": [parsed[k].problem for k in keys]})


def _clean_texts(duck: duckdb.DuckDBPyConnection) -> None:
    """Clean bodies and titles: SQL folds plain text, clean_text handles markup and mojibake."""
    duck.execute(f"""
        create table texts as
        with flagged as (
            select row_no, body, review_title,
                {_needs_python("body")} as body_py,
                {_needs_python("review_title")} as title_py
            from checked
        )
        select row_no, body_py as body_needs_python, title_py as title_needs_python,
            case when not body_py then {_fold_spaces("body")} end as body,
            case when not title_py then {_fold_spaces("review_title")} end as title
        from flagged""")
    for column, flag in (("body", "body_needs_python"), ("review_title", "title_needs_python")):
        target = "body" if column == "body" else "title"
        rows = duck.execute(f"select t.row_no, c.{column}, c.syntax from texts t join checked c using (row_no) "
                            f"where t.{flag}").fetchall()
        if rows:
            # Feed descriptions are HTML; structured-data values are text (see clean_text).
            cleaned = [clean_text(text, html_markup=syntax == "feed") for _, text, syntax in rows]
            _register(duck, "cleaned", {"row_no": [r[0] for r in rows], "text": cleaned})
            duck.execute(f"update texts set {target} = cleaned.text from cleaned where texts.row_no = cleaned.row_no")
            duck.unregister("cleaned")


def _needs_python(column: str) -> str:
    # Markup, entities, controls or mojibake need clean_text; so does non-NFC text, but only text that
    # is not plain ASCII can be non-NFC, and that test is far cheaper than normalizing every body.
    return (f"case when regexp_matches(coalesce({column}, ''), '{NEEDS_CLEANING}') then true "
            f"when {column} is null or regexp_matches({column}, '^[\\x00-\\x7f]*$') then false "
            f"else nfc_normalize({column}) <> {column} end")


def _fold_spaces(column: str) -> str:
    # Plain text only needs runs of spaces folded; skipping the regex where there are none is much faster.
    return (f"nullif(trim(case when contains({column}, '  ') then regexp_replace({column}, ' {{2,}}', ' ', 'g') "
            f"else {column} end), '')")


def _languages(duck: duckdb.DuckDBPyConnection) -> None:
    declared = [r[0] for r in duck.execute("select distinct language_declared from checked "
                                           "where language_declared is not null").fetchall()]
    _register(duck, "declared_map", {"language_declared": declared,
                                     "code": [detect_language(None, d) for d in declared]})
    duck.execute("""
        create table languages as
        select c.row_no, d.code as language
        from checked c left join declared_map d using (language_declared)""")
    undeclared = duck.execute("select l.row_no, t.body from languages l join texts t using (row_no) "
                              "where l.language is null and length(t.body) >= 20").fetchall()
    if undeclared:
        _register(duck, "detected", {"row_no": [r[0] for r in undeclared],
                                     "code": [detect_language(r[1]) for r in undeclared]})
        duck.execute("update languages set language = detected.code from detected "
                     "where languages.row_no = detected.row_no")


def _films(duck: duckdb.DuckDBPyConnection, known: list[Film]) -> None:
    mentions_rows = duck.execute("""
        select distinct film_title, film_year,
            json_extract_string(external_ids, '$.imdb') as imdb_id,
            json_extract_string(external_ids, '$.tmdb') as tmdb_id
        from checked""").fetchall()
    mentions = [Mention(clean_text(t, html_markup=False), y, i, m) for t, y, i, m in mentions_rows]
    resolved = FilmResolver(list(known)).resolve_all(mentions)
    _register(duck, "film_map", {
        "film_title": [r[0] for r in mentions_rows], "film_year": [r[1] for r in mentions_rows],
        "imdb_id": [r[2] for r in mentions_rows], "tmdb_id": [r[3] for r in mentions_rows],
        "film_id": [f.film_id for f, _ in resolved], "title_key": [k for _, k in resolved],
        "clean_title": [m.title for m in mentions], "year": [f.year for f, _ in resolved]})


def _critics(duck: duckdb.DuckDBPyConnection) -> None:
    rows = duck.execute("""
        select distinct critic_name, outlet,
            coalesce(audience, case when nullif(trim(outlet), '') is null then 'user' else 'critic' end)
        from checked""").fetchall()
    names = [clean_text(r[0], html_markup=False) or r[0] for r in rows]
    outlets = [clean_text(r[1], html_markup=False) if r[1] else None for r in rows]
    keys = [normalize_person(n) for n in names]
    _register(duck, "critic_map", {
        "critic_name": [r[0] for r in rows], "outlet": [r[1] for r in rows], "audience": [r[2] for r in rows],
        "clean_name": names, "clean_outlet": outlets, "name_key": keys,
        "critic_id": [_critic_id(k, o, r[2]) for k, o, r in zip(keys, outlets, rows, strict=True)]})


def _inferred_scores(duck: duckdb.DuckDBPyConnection) -> None:
    duck.execute("create or replace temp view inference_input as select row_no, body as text from assembled "
                 "where score is null and is_positive is null and body is not null")
    infer_scores_in(duck)
    duck.execute("update assembled set score = i.score, score_source = 'inferred' from inferred_scores as i "
                 "where assembled.row_no = i.row_no")


ASSEMBLE = """
create table assembled as
select
    c.row_no, c.run_id, c.source, coalesce(c.source_review_id, c.url) as source_review_id, c.url,
    cast(cast(c.fetched_at as timestamptz) at time zone 'UTC' as timestamp) as fetched_at,
    f.film_id, coalesce(f.clean_title, c.film_title) as film_title, f.year as film_year, f.imdb_id, f.tmdb_id,
    f.title_key,
    k.critic_id, k.clean_name as critic_name, k.name_key, k.clean_outlet as outlet, k.audience, c.critic_url,
    c.rating_raw, r.score, r.is_positive,
    case when r.score is not null or r.is_positive is not null then 'explicit' end as score_source,
    r.rating_problem, t.title, t.body, l.language,
    md5(coalesce(t.title, '') || chr(31) || coalesce(t.body, '') || chr(31) || coalesce(c.rating_raw, ''))
        as content_hash,
    -- Bodies are already whitespace-folded, so case is the only difference left to ignore.
    md5(lower(t.body)) as text_hash,
    d.published_on, d.date_problem
from checked c
join texts t using (row_no)
join languages l using (row_no)
left join rating_map r
    on r.rating_raw is not distinct from c.rating_raw and r.rating_value is not distinct from c.rating_value
    and r.rating_best is not distinct from c.rating_best and r.rating_worst is not distinct from c.rating_worst
left join date_map d
    on d.published_raw is not distinct from c.published_raw
    and d.fetched_hour = date_trunc('hour', cast(c.fetched_at as timestamptz) at time zone 'UTC')
left join film_map f
    on f.film_title is not distinct from c.film_title and f.film_year is not distinct from c.film_year
    and f.imdb_id is not distinct from json_extract_string(c.external_ids, '$.imdb')
    and f.tmdb_id is not distinct from json_extract_string(c.external_ids, '$.tmdb')
left join critic_map k
    on k.critic_name is not distinct from c.critic_name and k.outlet is not distinct from c.outlet
    and k.audience = coalesce(c.audience, case when nullif(trim(c.outlet), '') is null then 'user' else 'critic' end)
"""


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


def normalize_landing(items_path: Path, known_films: list[Film], rejects_path: Path | None = None,
                      positive_threshold: float = 60.0, out_path: Path | None = None,
                      memory_limit: str = "1GB") -> NormalizedBatch:
    """Normalize a landing file into rows for `warehouse.load.load_batch`.

    With `out_path`, the rows are written there as Parquet by DuckDB (streamed, never held in Python),
    and `rows` is that path: a million-review batch then stays within `memory_limit` plus a little.
    """
    duck = duckdb.connect(config={"memory_limit": memory_limit,
                                  "temp_directory": str((out_path or items_path).parent / ".duckdb-tmp")})
    try:
        rejects = crawl_rejects(rejects_path)
        rejects += _read_items(duck, items_path)
        scraped = duck.execute("select count(*) from raw").fetchall()[0][0] + len(rejects)
        rejects += _validate(duck)
        _rating_map(duck, positive_threshold)
        _date_map(duck)
        _clean_texts(duck)
        _languages(duck)
        _films(duck, known_films)
        _critics(duck)
        duck.execute(ASSEMBLE)
        _inferred_scores(duck)
        select = f"select {', '.join(BATCH_COLUMNS)} from assembled order by row_no"
        if out_path is not None:
            quoted = str(out_path).replace("'", "''")  # COPY cannot take a prepared parameter
            duck.execute(f"copy ({select}) to '{quoted}' (format parquet)")
            rows: pa.Table | Path = out_path
        else:
            rows = duck.sql(select).to_arrow_table()
    finally:
        duck.close()
    return NormalizedBatch(rows=rows, rejects=rejects, scraped=scraped)
