-- The two hashes a review is deduplicated on, written once: the normalizer computes them for every
-- landed row, and rehash.sql recomputes stored rows with them. Temp macros: each connection that
-- hashes defines them (warehouse.hashing.define_hash_macros).
--
-- md5, cut to 64 bits. DuckDB's hash() is ten times cheaper but is not a hash to identify text by:
-- strings that differ in two places collide (of 19,894 200-character strings differing in two
-- characters, 177 collided under DuckDB 2.0.1; none under md5), and a collision here merges two
-- different reviews by one critic of one film, or reads an edit as unchanged. 64 bits of md5 are
-- plenty where hashes are only compared for one source key or one critic and film. The warehouse
-- keeps a fingerprint of these formulas (hash_scheme) and rehashes its rows when they change.

-- 64 bits of md5, the value of DuckDB's md5_number_lower (the upper half of md5_number): written
-- through md5_number, because DuckDB 2.0.1's md5_number_lower costs ~1.7x as much CPU for the same
-- hash (1.29 against 0.73 CPU-s over a million bodies). tests/warehouse/test_hash_scheme.py checks
-- that the two agree, so hashes stored by either compare alike.
create or replace temp macro md5_64(text) as
    cast(md5_number(text) >> 64 as ubigint);

-- The body alone: identical text by one critic for one film is one review. Null body, null hash.
create or replace temp macro text_hash_of(body) as
    md5_64(body);

-- What a re-crawl may change that the review stores from it: title, body (through its hash, so each
-- body is read once), rating as published and the explicit score read from it (a changed scale, or a
-- better parser; an inferred score is left out, it follows from the body). Not the film and critic the review resolved to: their resolution can change with
-- other reviews (a second film called Her makes a yearless mention ambiguous), which is no edit of
-- this one. Not the date: a relative date ("3 days ago") resolves differently at each fetch. A
-- missing value hashes as an empty one, so a source that sends "" one week and leaves the field out
-- the next is not read as an edit. A JSON array keeps the parts apart.
create or replace temp macro content_hash_of(title, body_hash, rating_raw, score, score_source) as
    md5_64(to_json([
        coalesce(title, ''), coalesce(cast(body_hash as varchar), ''), coalesce(rating_raw, ''),
        coalesce(cast(case when score_source = 'explicit' then score end as varchar), '')]));

-- A text as a key tells it: letters and digits only, lower-cased, as 16 hex digits of md5. An anonymous
-- review without an id is known by it (flows/normalize/assemble.py SOURCE_KEY), so markup, punctuation
-- and spacing, or a change of the cleaning rules, keep the key. Null when the text has no letter or digit.
create or replace temp macro text_fingerprint_of(body) as
    printf('%016x', md5_64(nullif(lower(regexp_replace(body, '[^\p{L}\p{N}]+', '', 'g')), '')));

-- The key of a review without an id or author (flows/normalize/assemble.py SOURCE_KEY, and the data fix
-- that rekeys stored ones, flows/upgrades.py): its site (the url's scheme and host), the `#<critic>|<film>`
-- tail, the film's year as the page gives it (two films of one title are two films) and its text's
-- fingerprint; with no text, its page and rating.
create or replace temp macro nameless_key_of(url, key_tail, film_year, body, rating_raw) as
    case when text_fingerprint_of(body) is not null
        then coalesce(nullif(regexp_extract(url, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*'), ''), url)
            || key_tail || '|' || coalesce(cast(film_year as varchar), '') || '#t' || text_fingerprint_of(body)
        else url || key_tail || '#r' || coalesce(rating_raw, '')
    end;
