"""Lookups from distinct values: ratings, dates, film mentions and critic names.

A batch repeats these values across many rows, so Python parses each distinct one once: the keys
are fetched from DuckDB, turned into columns in Python, and registered as small `nz_*_map` tables
that the final query joins back on.
"""

from __future__ import annotations

import hashlib
from typing import Any

import duckdb
import pyarrow as pa

from flows.normalize.dates import parse_distinct
from flows.normalize.films import Film, FilmResolver, Mention
from flows.normalize.keys import normalize_person, without_byline, without_outlet, without_review_label
from flows.normalize.ratings import rate_distinct
from flows.normalize.staging import blank, external_id, fetched_minute, register
from flows.normalize.text import clean_text


def outlet_key(outlet: str | None, audience: str = "critic") -> str:
    """A critic's outlet as part of who the critic is: keyed as a name is, less a leading "The" ("The Guardian",
    "Guardian" and "Guardian, The" are one outlet). A user's outlet is keyed as it was: users' ids were never
    split by it (flows/upgrades.py moves stored critics only)."""
    key = normalize_person(outlet)
    return key.removeprefix("the ") if audience == "critic" else key


def _critic_id(name_key: str, outlet: str | None, audience: str, site: str | None = None) -> str:
    basis = f"{name_key}|{outlet_key(outlet, audience)}|{audience}"
    critic_id = "c" + hashlib.sha1(basis.encode()).hexdigest()[:12]
    if audience != "user" or not site:
        return critic_id
    # A user is an account on one site: "john" on two sites is two people. Derived from the id the
    # name alone gave, so migration 006 can split users stored before this in SQL alone.
    return "c" + hashlib.sha1(f"{critic_id}@{site}".encode()).hexdigest()[:12]


def rating_map(duck: duckdb.DuckDBPyConnection, positive_threshold: float) -> None:
    keys = duck.execute("select distinct rating_raw, rating_value, rating_best, rating_worst "
                        "from nz_checked").fetchall()
    rated = rate_distinct(keys, positive_threshold)
    register(duck, "nz_rating_map", {
        "rating_raw": [k[0] for k in keys], "rating_value": [k[1] for k in keys],
        "rating_best": [k[2] for k in keys], "rating_worst": [k[3] for k in keys],
        "score": [rated[k].score for k in keys], "is_positive": [rated[k].is_positive for k in keys],
        "rating_problem": [rated[k].problem for k in keys]}, {"score": pa.float64(), "is_positive": pa.bool_()})


def date_keys(duck: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return duck.execute(f"select distinct published_raw, {fetched_minute()} from nz_checked").fetchall()


def date_columns(keys: list[tuple[Any, ...]], order: str | None = None) -> dict[str, list[Any]]:
    parsed = parse_distinct(keys, order)
    return {"published_raw": [k[0] for k in keys], "fetched_minute": [k[1] for k in keys],
            "published_on": [parsed[k].date for k in keys], "date_problem": [parsed[k].problem for k in keys]}


def film_keys(duck: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return duck.execute(f"""
        select distinct film_title, film_year, {external_id("imdb")} as imdb_id, {external_id("tmdb")} as tmdb_id
        from nz_checked""").fetchall()


def film_columns(mentions_rows: list[tuple[Any, ...]], known: list[Film]) -> dict[str, list[Any]]:
    """One row per distinct mention: its film, and its title as shown (without a "(2013)" that repeats
    the film's year, so a report never prints "Tide of Marseille (1980) (1980)")."""
    mentions = [Mention(without_review_label(clean_text(t, html_markup=False)), y, i, m)
                for t, y, i, m in mentions_rows]
    resolved = FilmResolver(list(known)).resolve_all(mentions)
    shown = [m.shown_title(f.year) for m, (f, _) in zip(mentions, resolved, strict=True)]
    # A page may name its film by external id alone. Known films and films a titled mention creates have a
    # title; a new film that no mention names has none, and films.title cannot be empty.
    known_ids = {film.film_id for film in known}
    titled = {f.film_id for (f, _), title in zip(resolved, shown, strict=True) if title and title.strip()}
    return {"film_title": [r[0] for r in mentions_rows], "film_year": [r[1] for r in mentions_rows],
            "imdb_id": [r[2] for r in mentions_rows], "tmdb_id": [r[3] for r in mentions_rows],
            "film_id": [f.film_id for f, _ in resolved], "title_key": [k for _, k in resolved],
            "clean_title": shown, "year": [f.year for f, _ in resolved],
            "untitled": [f.film_id not in known_ids and f.film_id not in titled for f, _ in resolved]}


def film_match(mention: str, row: str) -> str:
    """SQL: the film map's row `mention` is the one for landed row `row`."""
    return (f"{mention}.film_title is not distinct from {row}.film_title "
            f"and {mention}.film_year is not distinct from {row}.film_year "
            f"and {mention}.imdb_id is not distinct from {external_id('imdb', row + '.')} "
            f"and {mention}.tmdb_id is not distinct from {external_id('tmdb', row + '.')}")


UNTITLED_FILMS = f"""
    select c.row_no, 'no film title: the film is named only by ' || concat_ws(' and ',
        'imdb ' || f.imdb_id, 'tmdb ' || f.tmdb_id) || ', and no film with that id is known yet' as reason
    from nz_checked as c join nz_film_map as f on {film_match("f", "c")}
    where f.untitled"""


def critic_match(critic: str, row: str) -> str:
    """SQL: the critic map's row `critic` is the one for landed row `row`."""
    return (f"{critic}.critic_name is not distinct from {row}.critic_name "
            f"and {critic}.outlet is not distinct from {row}.outlet and {critic}.audience = {audience_sql(row + '.')} "
            f"and {critic}.site is not distinct from {user_site_sql(row + '.')}")


def blank_after_cleaning() -> str:
    """Rows whose critic name or body is blank only once cleaned (validation reads them as published): a body of
    `<p>&nbsp;</p>` and no rating loaded as an empty review counted in every mart, and critics named only by
    invisible characters (U+00A0, U+200B, controls) became one critic with no name, who topped "Most active
    critics" (sizes QA). Refused as validation refuses blank ones."""
    no_rating = f"{blank('c.rating_raw')} and {blank('c.rating_value')}"
    return f"""
    select row_no, reason from (
        select c.row_no, concat_ws('; ',
            case when k.blank_name then 'no author: the name is only invisible characters or markup' end,
            case when cl.body_py and nullif(cl.body, '') is null and {no_rating}
                 then 'no content: the body is only markup or invisible characters, and there is no rating' end
        ) as reason
        from nz_checked as c
        left join nz_cleaned as cl using (row_no)
        left join nz_critic_map as k on {critic_match("k", "c")}
    )
    where reason <> ''"""


def audience_sql(alias: str = "") -> str:
    # A review without a declared audience is a critic's when it names an outlet, else a user's.
    return (f"coalesce({alias}audience, case when nullif(trim({alias}outlet), '') is null "
            f"then 'user' else 'critic' end)")


def site_sql(alias: str = "") -> str:
    """SQL: the site a review was published on, the host of its url without "www." (lower case); for a url
    without a host (an imported dump's rows without urls, `file:///…#key`), `source:<its source>`, so "john"
    in dumps imported as two sources is two users. Migrations 006 and 014 write the same values (their regex is the
    one below for a url with "@")."""
    # A url without "@" has no user part, and the regex without that optional group gives the same host at a
    # third of the cost (RE2 runs the group's backtracking on every url: ~0.5 CPU-s a million, paid in critic_keys
    # and again in the critic join of assemble).
    url = f"{alias}url"
    host = (f"lower(case when contains({url}, '@') "
            f"then regexp_extract({url}, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)', 1) "
            f"else regexp_extract({url}, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1) end)")
    return f"coalesce(nullif(regexp_replace({host}, '^www\\.', ''), ''), 'source:' || {alias}source)"


def user_site_sql(alias: str = "") -> str:
    """SQL: a user's site, part of who the user is; null for critics (a critic is a name and an outlet)."""
    return f"case when {audience_sql(alias)} = 'user' then {site_sql(alias)} end"


def critic_keys(duck: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return duck.execute(f"select distinct critic_name, outlet, {audience_sql()}, {user_site_sql()} "
                        "from nz_checked").fetchall()


def critic_columns(rows: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    outlets = [clean_text(r[1], html_markup=False) if r[1] else None for r in rows]
    # A byline that repeats the review's outlet ("Roger Ebert, Chicago Sun-Times") names the critic alone.
    cleaned = [(c and without_outlet(c, o)) for c, o
               in zip((clean_text(r[0], html_markup=False) for r in rows), outlets, strict=True)]
    # Shown as display_person shows them, from the one cleaning; keyed on the cleaned name, as before names
    # were shown without "By ": normalize_person drops a byline itself, and keying the shown name would
    # drop two ("By By Jane"), a new id for a known critic.
    names = [(c and without_byline(c)) or r[0] for c, r in zip(cleaned, rows, strict=True)]
    keys = [normalize_person(c or r[0]) for c, r in zip(cleaned, rows, strict=True)]
    return {"critic_name": [r[0] for r in rows], "outlet": [r[1] for r in rows], "audience": [r[2] for r in rows],
            "clean_name": names, "clean_outlet": outlets, "name_key": keys, "blank_name": [not c for c in cleaned],
            "site": [r[3] for r in rows],
            "critic_id": [_critic_id(k, o, r[2], r[3]) for k, o, r in zip(keys, outlets, rows, strict=True)]}
