-- New films and critics first, so every review row points at an existing one: the films and critics
-- of the rows that write a review's film and critic, a new review or an edit through the review's own
-- key (03_reviews.sql). A copy elsewhere (another outlet, another site's user) adds no critic or film
-- that no review would point at.
create or replace temp view batch_kept as
select b.*
from batch_rows as b
semi join (
    select row_no from batch_classified where is_own_key and outcome in ('new', 'changed')
) as k using (row_no);

-- A new film's title is the best-cased of its batch's variants: one with a capital letter over one
-- some page lower-cased ("beatriz's river"), then the most frequent, then the first met. (The
-- normalizer already dropped a "(1980)" that repeats the film's year.) Only the values decide, so
-- loading the same batch again picks the same title. One pass over the batch, grouped by variant: every
-- mention of a film that a kept row points at, as the resolver met them all (a film named by a repeat of a
-- review that a later copy superseded, and by kept rows that give no title, was inserted without one and the
-- load failed on films.title, every run after: fuzz QA).
insert into films
-- The films kept rows point at, found first: given as a subquery of the filter below, DuckDB built its semi-join's
-- hash table on the million batch rows instead of on the few thousand films.
with kept_films as materialized (
    select distinct film_id from batch_kept
),

variants as (
    select
        film_id,
        film_title,
        count(*) as mentions,
        min(row_no) as first_row,
        min(imdb_id) as imdb_id,
        min(tmdb_id) as tmdb_id,
        arg_min(film_year, row_no) as film_year,
        arg_min(title_key, row_no) as title_key,
        min(fetched_at) as first_seen
    from batch_rows
    where film_id not in (select film_id from films) and film_id in (select film_id from kept_films)
    group by film_id, film_title
)

select
    film_id,
    -- ids by value, as the film resolver takes them (a batch giving one film two ids): any_value stored the
    -- first row's, so the same dump in another line order stored another id (determinism QA)
    min(imdb_id) as imdb_id,
    -- A TMDB id another film holds, or two new films were given (one page gave Haggis's Crash Cronenberg's id), is
    -- stored for none of them: which film it names is not known (identity QA).
    case
        when count(*) over (partition by min(tmdb_id)) = 1
            and min(tmdb_id) not in (select tmdb_id from films where tmdb_id is not null)
            then min(tmdb_id)
    end as tmdb_id,
    arg_min(film_title, (film_title is null, film_title = lower(film_title), -mentions, first_row)) as title,
    arg_min(film_year, first_row) as year,
    -- the key of the variant that gives the title
    arg_min(title_key, (film_title is null, film_title = lower(film_title), -mentions, first_row)) as title_key,
    min(first_seen) as first_seen
from variants
group by film_id;

-- The other titles a film was met under with its external id (flows/normalize/films.py asks them for a dated
-- mention no film's own title takes, within a year of the film's): a later mention of one without the id finds
-- the film. The batch's resolver already did, within the batch.
insert into film_titles
select met.film_id, met.title_key, met.first_seen
from (
    select b.film_id, b.title_key, min(b.fetched_at) as first_seen
    from batch_rows as b
    semi join batch_classified using (row_no)
    inner join films as f on f.film_id = b.film_id
    where (b.imdb_id is not null or b.tmdb_id is not null) and nullif(b.title_key, '') is not null
        and b.title_key <> f.title_key
    group by b.film_id, b.title_key
) as met
anti join film_titles using (film_id, title_key);

-- A known film met again, in any row of the batch but a repeat a later copy superseded (an unchanged
-- re-crawl too, so that a film stored by an earlier version with a worse title is repaired by the next crawl
-- of its reviews; a superseded repeat's mention made a film the first load never stored, whose year and id
-- an identical re-import then gave a known film: fuzz QA):
-- * without an IMDb or a TMDB id, it gains the one another source publishes;
-- * without a year, it takes the year its mentions now carry (the resolver lets a yearless film
--   take one year, never a second);
-- * stored with a lower-cased title, it takes this batch's best-cased variant if there is one;
-- * stored as "Tide of Marseille (1980)", it loses the "(1980)" that repeats its year (within one),
--   as the normalizer drops it from new titles;
-- * met in a batch crawled before it was first seen (loaded late), it was first seen then, as its reviews
--   were (idempotency QA: a review's first_seen moved back, its film's and critic's did not).
update films
set imdb_id = fixed.imdb_id, tmdb_id = fixed.tmdb_id, year = fixed.year, title = fixed.title,
    first_seen = least(films.first_seen, fixed.first_seen)
from (
    with variants as (
        select film_id, film_title, count(*) as mentions, min(row_no) as first_row, any_value(title_key) as title_key,
            min(imdb_id) as imdb_id, min(tmdb_id) as tmdb_id, min(film_year) as film_year,
            min(k.first_fetch) as first_seen
        from batch_rows
        inner join (select row_no, first_fetch from batch_classified) as k using (row_no)
        where film_id is not null
        group by film_id, film_title
    ),

    found as (
        select
            film_id,
            min(imdb_id) as imdb_id,
            min(tmdb_id) as tmdb_id,
            -- a TMDB id the batch gives to two films goes to neither (the pages disagree on which it is)
            count(*) over (partition by min(tmdb_id)) as films_given_tmdb,
            min(film_year) as film_year,
            min(first_seen) as first_seen,
            arg_min(film_title, (-mentions, first_row)) filter (where film_title <> lower(film_title)) as cased_title,
            arg_min(title_key, (-mentions, first_row)) filter (where film_title <> lower(film_title)) as cased_key
        from variants
        group by film_id
    ),

    merged as (
        select
            f.film_id,
            coalesce(f.imdb_id, found.imdb_id) as imdb_id,
            -- not a TMDB id another film has (a page whose IMDb and TMDB ids name two films)
            coalesce(f.tmdb_id, case when found.films_given_tmdb = 1 and found.tmdb_id not in (
                select tmdb_id from films where tmdb_id is not null) then found.tmdb_id end) as tmdb_id,
            coalesce(f.year, found.film_year) as year,
            found.first_seen,
            -- the same title better cased: "9" is no lower-cased "Nine" (a variant of another key, found by id)
            case when f.title = lower(f.title) and found.cased_title is not null and found.cased_key = f.title_key
                then found.cased_title else f.title end as title
        from films as f
        inner join found using (film_id)
    ),

    years as (
        select
            *,
            trim(regexp_replace(title, '\s*[(\[]\s*(1[89]\d{2}|20\d{2})\s*[)\]]\s*$', '')) as undated,
            try_cast(regexp_extract(title, '[(\[]\s*(1[89]\d{2}|20\d{2})\s*[)\]]\s*$', 1) as integer) as title_year
        from merged
    )

    select
        film_id,
        imdb_id,
        tmdb_id,
        year,
        case when abs(title_year - year) <= 1 and undated <> '' then undated else title end as title,
        first_seen
    from years
) as fixed
where films.film_id = fixed.film_id
    and ((films.imdb_id, films.tmdb_id, films.year, films.title)
        is distinct from (fixed.imdb_id, fixed.tmdb_id, fixed.year, fixed.title)
        or fixed.first_seen < films.first_seen);

insert into critics
select
    critic_id,
    arg_min(critic_name, row_no) as name,
    arg_min(name_key, row_no) as name_key,
    arg_min(outlet, row_no) as outlet,
    arg_min(audience, row_no) as audience,
    arg_min(critic_url, row_no) as profile_url,
    min(fetched_at) as first_seen
from batch_kept
where critic_id not in (select critic_id from critics)
group by critic_id;

-- A known critic met in a batch crawled before it was first seen (loaded late) was first seen then.
update critics
set first_seen = earliest.first_seen
from (
    select critic_id, min(k.first_fetch) as first_seen
    from batch_rows
    inner join (select row_no, first_fetch from batch_classified) as k using (row_no)
    where critic_id is not null
    group by critic_id
) as earliest
where critics.critic_id = earliest.critic_id and earliest.first_seen < critics.first_seen;
