"""Repairs of stored rows that need the normalizer's own Python rules, which SQL migrations cannot
repeat. Each runs once per warehouse, in one transaction, recorded in `data_fixes` (migration 010);
`reviews run` applies the pending ones before it loads anything (flows/pipeline.py, find_pending).

A new data fix ships with a new migration (an empty one if nothing else changes the schema): versions older
than the fix know no such migration and so refuse the warehouse (warehouse/db.py migrate) instead of writing
rows the fix's rules would read otherwise. Migration 014 marks `anonymous_keys` and `anonymous_copies_2`,
migration 016 `outlet_keys`, migration 018 `dotless_i_keys`, migrations 020 `tracking_keys` and 021 `session_keys`
(flows/untagged_keys.py).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from flows.normalize.keys import normalize_person, without_outlet
from flows.normalize.lookups import _critic_id, outlet_key, site_sql
from warehouse.db import rollback
from warehouse.hashing import define_hash_macros
from warehouse.marts import define_macros, mark_marts_stale

OUTLET_BYLINES = "outlet_bylines"
OUTLET_KEYS = "outlet_keys"
DOTLESS_I = "dotless_i_keys"
# Each name stands for the list of names that name nobody it was applied with (crawlers/nobody.py): a longer
# list applies the fix again, for the names it added.
ANONYMOUS_COPIES = ("anonymous_copies", "anonymous_copies_2")
ANONYMOUS_KEYS = "anonymous_keys"


def apply_data_fixes(conn: duckdb.DuckDBPyConnection) -> None:
    """Every data fix this warehouse has not had yet."""
    repair_outlet_bylines(conn)
    merge_outlet_spellings(conn)
    forget_anonymous_copies(conn)
    rekey_anonymous_reviews(conn)
    fold_dotless_i(conn)
    from flows.untagged_keys import clean_tracking_keys

    clean_tracking_keys(conn)


def _pending(conn: duckdb.DuckDBPyConnection, *names: str) -> list[str]:
    """Those of a fix's names `data_fixes` does not record yet."""
    applied = {row[0] for row in conn.execute("select name from data_fixes where list_contains(?, name)",
                                              [list(names)]).fetchall()}
    return [name for name in names if name not in applied]


def _apply(conn: duckdb.DuckDBPyConnection, names: list[str], work: Callable[[], int]) -> int:
    """`work` and the record of the fix under `names`, in one transaction: an error leaves neither."""
    conn.execute("begin transaction")
    try:
        done = work()
        for name in names:
            conn.execute("insert into data_fixes values (?, now())", [name])
        conn.execute("commit")
    except BaseException:
        rollback(conn)
        raise
    return done


def repair_outlet_bylines(conn: duckdb.DuckDBPyConnection) -> int:
    """Critics stored under a byline that repeats their outlet ("Jane Doe, Variety" writing for Variety)
    become the critic alone, as the normalizer now keys them: otherwise their stored reviews (an
    unchanged re-crawl never moves a review) and their new ones would be two critics. Returns how many
    critics moved; 0 once applied."""
    pending = _pending(conn, OUTLET_BYLINES)
    if not pending:
        return 0
    stored = conn.execute("select critic_id, name, outlet, audience, profile_url, first_seen from critics "
                          "where outlet is not null and audience = 'critic'").fetchall()
    moves = []
    for critic_id, name, outlet, audience, profile_url, first_seen in stored:
        alone = without_outlet(name, outlet)
        if alone != name:
            key = normalize_person(alone)
            moves.append((critic_id, _critic_id(key, outlet, audience), alone, key, outlet, audience, profile_url,
                          first_seen))
    return _apply(conn, pending, lambda: _move_critics(conn, moves))


def merge_outlet_spellings(conn: duckdb.DuckDBPyConnection) -> int:
    """Critics stored under an outlet with a leading "The" move to the id the normalizer now gives them
    (lookups.outlet_key), where the same critic under the outlet without it already is, or will be: "Jane Doe,
    The Guardian" and "Jane Doe, Guardian" were two critics. Returns how many critics moved; 0 once applied."""
    pending = _pending(conn, OUTLET_KEYS)
    if not pending:
        return 0
    stored = conn.execute("select critic_id, name, name_key, outlet, audience, profile_url, first_seen from critics "
                          "where outlet is not null and audience = 'critic'").fetchall()
    moves = [(critic_id, new_id, name, key, outlet, audience, profile_url, first_seen)
             for critic_id, name, key, outlet, audience, profile_url, first_seen in stored
             if (new_id := _critic_id(key or "", outlet, audience)) != critic_id
             and outlet_key(outlet) != normalize_person(outlet)]
    return _apply(conn, pending, lambda: _move_critics(conn, moves))


def _move_critics(conn: duckdb.DuckDBPyConnection, moves: list[tuple]) -> int:
    """Each (old id, new id, name, name key, outlet, audience, profile url, first seen): the critic's reviews
    to the new id, made if it is new (else it keeps its own row, first seen at the earlier), the old row gone."""
    for old_id, new_id, name, key, outlet, audience, profile_url, first_seen in moves:
        conn.execute("insert into critics select ?, ?, ?, ?, ?, ?, ? "
                     "where ? not in (select critic_id from critics)",
                     [new_id, name, key, outlet, audience, profile_url, first_seen, new_id])
        conn.execute("update critics set first_seen = least(first_seen, ?) where critic_id = ?",
                     [first_seen, new_id])
        conn.execute("update reviews set critic_id = ? where critic_id = ?", [new_id, old_id])
        conn.execute("delete from critics where critic_id = ?", [old_id])
    mark_marts_stale(conn)
    return len(moves)


# Source keys that earlier versions took for syndicated copies of an anonymous review: two people's
# reviews, kept as one. Forgotten, the next crawl that reads their pages loads them as the reviews they are.
_ANONYMOUS_COPY_KEYS = """
    create or replace temp table fix_anonymous_copy_keys as
    select k.source, k.source_review_id, k.review_id, k.url
    from review_keys as k
    inner join reviews as r using (review_id)
    inner join critics as c using (critic_id)
    where names_nobody(c.name_key) and (k.source, k.source_review_id) <> (r.source, r.source_review_id)
"""
_FORGET_KEYS = """
    delete from review_keys as k
    using fix_anonymous_copy_keys as f
    where k.source = f.source and k.source_review_id = f.source_review_id
"""
# A url stays while a remaining key of the review names it (its own page can also hold a forgotten copy).
_DROP_URLS = """
    update reviews as r
    set urls = list_filter(r.urls, lambda u: not list_contains(f.gone, u) or list_contains(coalesce(kept.urls, []), u))
    from (select review_id, list(url) as gone from fix_anonymous_copy_keys group by review_id) as f
    left join (select review_id, list(url) as urls from review_keys group by review_id) as kept using (review_id)
    where r.review_id = f.review_id
"""


def forget_anonymous_copies(conn: duckdb.DuckDBPyConnection) -> int:
    """Reviews by a name that names nobody (Anonymous, Guest…) that versions before 20c8e94 merged as one
    review's syndicated copies: their source keys and urls are forgotten, so the next crawl of their pages
    (`--full` for pages an incremental run skips) loads each as a review of its own. Returns how many keys
    were forgotten; 0 once applied."""
    pending = _pending(conn, *ANONYMOUS_COPIES)
    if not pending:
        return 0
    define_macros(conn)

    def forget() -> int:
        conn.execute(_ANONYMOUS_COPY_KEYS)
        forgotten = conn.execute("select count(*) from fix_anonymous_copy_keys").fetchone()[0]
        if forgotten:
            conn.execute(_FORGET_KEYS)
            conn.execute(_DROP_URLS)
            mark_marts_stale(conn)
        conn.execute("drop table fix_anonymous_copy_keys")
        return forgotten

    return _apply(conn, pending, forget)


# Anonymous reviews without an id that earlier versions keyed by page (`<url>#<critic>|<film>`), as the
# normalizer now keys them: by site, critic, film, year and text (flows/normalize/assemble.py SOURCE_KEY), or
# for a review without text by page and rating. A review that pagination had moved was stored again under
# each page: those with one new key are one review again, the first seen, with every url. The year is the
# stored film's; a page may give none (an empty year), or one a year off (films match within one year), so
# those keys are added too where no other review would share them. (A numbered key, `…#2`, is a shared id's,
# given by the crawler: kept.)
_ANONYMOUS_PAGE_KEYS = r"""
    create or replace temp table fix_anonymous_keys as
    with own_page_keys as (
        select r.review_id, r.source, r.source_review_id as old_key, r.first_seen, r.last_seen,
            substr(r.source_review_id, length(k.url) + 1) as key_tail, k.url, f.year, r.body, r.rating_raw
        from reviews as r
        inner join critics as c using (critic_id)
        inner join films as f using (film_id)
        inner join review_keys as k using (review_id, source, source_review_id)
        where (coalesce(c.name_key, '') = '' or names_nobody(c.name_key))
            and starts_with(r.source_review_id, k.url || '#')
            and contains(substr(r.source_review_id, length(k.url) + 2), '|')
            and not regexp_matches(r.source_review_id, '#[0-9]+$')
    ),
    rekeyed as (
        select *, nameless_key_of(url, key_tail, year, body, rating_raw) as new_key,
            case when year is not null and text_fingerprint_of(body) is not null
                then [nameless_key_of(url, key_tail, null, body, rating_raw),
                      nameless_key_of(url, key_tail, year - 1, body, rating_raw),
                      nameless_key_of(url, key_tail, year + 1, body, rating_raw)] end as other_year_keys
        from own_page_keys
    )
    select *, first_value(review_id) over (partition by source, new_key order by first_seen, review_id)
        as kept_id
    from rekeyed
"""
_MERGE_REVIEWS = """
    update reviews as r
    set urls = m.urls, first_seen = m.first_seen, last_seen = m.last_seen
    from (
        select f.kept_id, list_sort(list_distinct(flatten(list(r2.urls)))) as urls, min(r2.first_seen) as first_seen,
            max(r2.last_seen) as last_seen
        from fix_anonymous_keys as f
        inner join reviews as r2 using (review_id)
        where f.kept_id in (select kept_id from fix_anonymous_keys where review_id <> kept_id)
        group by f.kept_id
    ) as m
    where r.review_id = m.kept_id
"""
_REKEY = """
    update review_keys as k set review_id = f.kept_id
    from fix_anonymous_keys as f
    where k.review_id = f.review_id and f.review_id <> f.kept_id;
    delete from reviews where review_id in (select review_id from fix_anonymous_keys where review_id <> kept_id);
    insert into review_keys
    select f.source, f.new_key, f.kept_id, any_value(k.url order by f.review_id <> f.kept_id),
        any_value(k.content_hash order by f.review_id <> f.kept_id), min(k.first_seen), max(k.last_seen)
    from fix_anonymous_keys as f
    inner join review_keys as k on k.source = f.source and k.source_review_id = f.old_key
    where (f.source, f.new_key) not in (select (source, source_review_id) from review_keys)
    group by f.source, f.new_key, f.kept_id;
    update reviews as r set source_review_id = f.new_key
    from fix_anonymous_keys as f
    where r.review_id = f.review_id and f.review_id = f.kept_id;
    insert into review_keys
    select k.source, f.other_key, f.kept_id, k.url, k.content_hash, k.first_seen, k.last_seen
    from (select source, other_key, any_value(kept_id) as kept_id, any_value(new_key) as new_key
          from (select source, kept_id, new_key, unnest(other_year_keys) as other_key from fix_anonymous_keys)
          group by source, other_key having count(distinct kept_id) = 1) as f
    inner join review_keys as k on k.source = f.source and k.source_review_id = f.new_key
    where (f.source, f.other_key) not in (select (source, source_review_id) from review_keys);
"""


def rekey_anonymous_reviews(conn: duckdb.DuckDBPyConnection) -> int:
    """Anonymous reviews without an id, keyed by page before: keyed by site, critic, film, year and text, as
    the normalizer now keys them, their page keys kept too (a site that gives several reviews the page's url
    as their id still sends them). Reviews stored again after pagination moved them are merged. Returns how
    many reviews were merged away; 0 once applied."""
    pending = _pending(conn, ANONYMOUS_KEYS)
    if not pending:
        return 0
    define_macros(conn)
    define_hash_macros(conn)

    def rekey() -> int:
        conn.execute(_ANONYMOUS_PAGE_KEYS)
        rekeyed, merged = conn.execute("select count(*), count(*) filter (where review_id <> kept_id) "
                                       "from fix_anonymous_keys").fetchone()
        if rekeyed:
            conn.execute(_MERGE_REVIEWS)
            conn.execute(_REKEY)
            mark_marts_stale(conn)
        conn.execute("drop table fix_anonymous_keys")
        return merged

    return _apply(conn, pending, rekey)


# Films whose new title key and year they now share with another, where their ids do not disagree: one film,
# the first seen, which gains the ids the others had.
_FOLDED_FILMS = """
    create or replace temp table fix_folded_films as
    with folded as (
        select film_id, replace(title_key, 'ı', 'i') as title_key, year, imdb_id, tmdb_id, first_seen,
            contains(title_key, 'ı') as had_dotless
        from films
    ),
    groups as (
        select title_key, year from folded
        group by title_key, year
        having bool_or(had_dotless) and count(*) > 1 and count(distinct imdb_id) <= 1 and count(distinct tmdb_id) <= 1
    )
    select f.film_id, first_value(f.film_id) over (partition by f.title_key, f.year order by f.first_seen, f.film_id)
        as kept_id, f.imdb_id, f.tmdb_id
    from folded as f
    semi join groups as g on g.title_key = f.title_key and g.year is not distinct from f.year
"""
_MERGE_FILMS = """
    update reviews set film_id = f.kept_id from fix_folded_films as f
    where reviews.film_id = f.film_id and f.film_id <> f.kept_id;
    update films set imdb_id = coalesce(films.imdb_id, g.imdb_id), tmdb_id = coalesce(films.tmdb_id, g.tmdb_id)
    from (select kept_id, min(imdb_id) as imdb_id, min(tmdb_id) as tmdb_id from fix_folded_films group by kept_id) as g
    where films.film_id = g.kept_id;
    delete from films where film_id in (select film_id from fix_folded_films where film_id <> kept_id);
    update films set title_key = replace(title_key, 'ı', 'i') where contains(title_key, 'ı');
    drop table fix_folded_films;
"""


def fold_dotless_i(conn: duckdb.DuckDBPyConnection) -> int:
    """Critics and films that earlier versions keyed with a Turkish dotless ı ("ışıl ince" beside "isil ince" for
    "IŞIL İNCE"; keys._folded) are keyed as the normalizer now keys them: critics move to their new ids, those
    that become one merged; films take the new title key, and films that then share key and year, their ids not
    disagreeing, become the first seen. Returns how many critics and films moved; 0 once applied."""
    pending = _pending(conn, DOTLESS_I)
    if not pending:
        return 0
    # A user's id names the site (lookups._critic_id): the site of any of the user's reviews, all on that site.
    stored = conn.execute(f"""
        select c.critic_id, c.name, c.name_key, c.outlet, c.audience, c.profile_url, c.first_seen,
            (select any_value({site_sql("u.")}) from (select r.source, r.urls[1] as url from reviews as r
                                                      where r.critic_id = c.critic_id) as u) as site
        from critics as c
        where contains(c.name_key, 'ı') or contains(lower(coalesce(c.outlet, '')), 'ı')""").fetchall()
    moves = []
    for critic_id, name, stored_key, outlet, audience, profile_url, first_seen, site in stored:
        key = (stored_key or "").replace("ı", "i")
        new_id = _critic_id(key, outlet, audience, site if audience == "user" else None)
        if new_id != critic_id:
            moves.append((critic_id, new_id, name, key, outlet, audience, profile_url, first_seen))

    def fold() -> int:
        moved = _move_critics(conn, moves) if moves else 0
        conn.execute(_FOLDED_FILMS)
        films = conn.execute("select count(*) from fix_folded_films where film_id <> kept_id").fetchone()[0]
        conn.execute(_MERGE_FILMS)
        if films:
            mark_marts_stale(conn)
        return moved + films

    return _apply(conn, pending, fold)
