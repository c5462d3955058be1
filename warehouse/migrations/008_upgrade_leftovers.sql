-- What earlier versions left in a warehouse that a re-crawl does not repair, because an unchanged
-- review is a duplicate and is not written again. Each step makes the stored rows what a fresh load
-- of the same pages gives today, as far as the stored rows can tell.

-- 1. One film per title and year. Migration 005 gave a film first met as "Her (2013)" without a year
-- its year, but did not merge it into the "Her" (2013) already stored, so the film was stored twice
-- and each copy took some of its reviews. Films with the same title key and year merge into the first
-- one seen, unless their external ids disagree (two ids: two films of one name and year).
create temp table migration_film_merges as
with same_film as (
    select
        film_id,
        first_value(film_id) over (partition by title_key, year order by first_seen, film_id) as keep_id,
        count(distinct imdb_id) over (partition by title_key, year) as imdb_ids,
        count(distinct tmdb_id) over (partition by title_key, year) as tmdb_ids,
        max(imdb_id) over (partition by title_key, year) as imdb_id,
        max(tmdb_id) over (partition by title_key, year) as tmdb_id
    from films
    where year is not null
)

select film_id, keep_id, imdb_id, tmdb_id
from same_film
where imdb_ids <= 1 and tmdb_ids <= 1;

update reviews
set film_id = m.keep_id
from migration_film_merges as m
where reviews.film_id = m.film_id and m.film_id <> m.keep_id;

update films
set imdb_id = coalesce(films.imdb_id, m.imdb_id), tmdb_id = coalesce(films.tmdb_id, m.tmdb_id)
from migration_film_merges as m
where films.film_id = m.keep_id and m.film_id = m.keep_id
    and (films.imdb_id is null and m.imdb_id is not null or films.tmdb_id is null and m.tmdb_id is not null);

delete from films
where film_id in (select film_id from migration_film_merges where film_id <> keep_id);

drop table migration_film_merges;

-- 2. Identical text by the same critic for the same film is one review with every url (a syndicated
-- copy). Reviews that now share a film (merged above), or that earlier versions did not recognise as
-- copies, become one: the rated one, else the first seen, keeps the others' urls and source keys. The
-- same critic is the same name for critics (any outlet) and the same user on one site for users.
create temp table migration_copies as
with texts as (
    select
        r.review_id,
        first_value(r.review_id) over (
            partition by r.film_id, case when c.audience = 'user' then c.critic_id else c.name_key end, r.text_hash
            order by r.score is null, r.is_positive is null, r.first_seen, r.review_id
        ) as keep_id
    from reviews as r
    inner join critics as c using (critic_id)
    where r.text_hash is not null and nullif(trim(r.body), '') is not null
)

select review_id, keep_id from texts where review_id <> keep_id;

update reviews
set urls = reviews.urls || list_filter(list_distinct(copies.urls), lambda u: not list_contains(reviews.urls, u)),
    first_seen = least(reviews.first_seen, copies.first_seen),
    last_seen = greatest(reviews.last_seen, copies.last_seen)
from (
    select m.keep_id, flatten(list(r.urls)) as urls, min(r.first_seen) as first_seen, max(r.last_seen) as last_seen
    from migration_copies as m
    inner join reviews as r using (review_id)
    group by m.keep_id
) as copies
where reviews.review_id = copies.keep_id;

update review_keys
set review_id = m.keep_id
from migration_copies as m
where review_keys.review_id = m.review_id;

delete from reviews where review_id in (select review_id from migration_copies);

drop table migration_copies;

-- 3. A user's review is that user's on one site (migration 006). Before it, "john" on two sites was one
-- user, and his identical text on site B was merged into his review on site A as a syndicated copy:
-- site B's review was lost, its key and url kept by site A's review. Those keys and urls are taken off
-- again, so the next crawl that fetches site B's page loads it as the new review it is (run
-- `reviews run --full` once: an incremental crawl skips pages its sitemap says are unchanged). A
-- review's site is the host of its own key's url, as in 006 and flows/normalize/lookups.py.
create temp table migration_cross_site_keys as
with user_reviews as (
    select r.review_id, r.source, r.source_review_id, coalesce(k.url, r.urls[1]) as url
    from reviews as r
    inner join critics as c using (critic_id)
    left join review_keys as k on k.source = r.source and k.source_review_id = r.source_review_id
    where c.audience = 'user'
),

keys as (
    select
        k.source,
        k.source_review_id,
        k.review_id,
        k.url,
        u.url as own_url,
        (k.source, k.source_review_id) = (u.source, u.source_review_id) as is_own
    from review_keys as k
    inner join user_reviews as u using (review_id)
),

sited as (
    select
        *,
        nullif(regexp_replace(lower(regexp_extract(url, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)', 1)),
                              '^www\.', ''), '') as site,
        nullif(regexp_replace(lower(regexp_extract(own_url, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)', 1)),
                              '^www\.', ''), '') as own_site
    from keys
)

select source, source_review_id, review_id, url
from sited
where not is_own and site <> own_site;

update reviews
set urls = list_filter(reviews.urls, lambda u: not list_contains(gone.urls, u))
from (select review_id, list(url) as urls from migration_cross_site_keys group by review_id) as gone
where reviews.review_id = gone.review_id;

delete from review_keys
where (source, source_review_id) in (select (source, source_review_id) from migration_cross_site_keys);

drop table migration_cross_site_keys;

-- 4. Critics and films no review points at: left by copies that earlier versions let add a critic
-- (a syndicated copy's outlet), by the merges above, or by a review moved to another film or critic.
delete from critics where critic_id not in (select critic_id from reviews);
delete from films where film_id not in (select film_id from reviews);

-- 5. Names, titles and languages as the normalizer now writes them (flows/normalize/text.py, language.py):
-- a critic shown without a leading "By " (the id, made from the name without it, is unchanged) ...
update critics
set name = regexp_replace(name, '^[Bb][Yy]\s+', '')
where regexp_matches(name, '^[Bb][Yy]\s+\S');

-- ... a title without a "(1980)" that repeats the film's year (within one) ...
update films
set title = trim(regexp_replace(title, '\s*[(\[]\s*(1[89]\d{2}|20\d{2})\s*[)\]]\s*$', ''))
where year is not null
    and abs(try_cast(regexp_extract(title, '[(\[]\s*(1[89]\d{2}|20\d{2})\s*[)\]]\s*$', 1) as integer) - year) <= 1
    and trim(regexp_replace(title, '\s*[(\[]\s*(1[89]\d{2}|20\d{2})\s*[)\]]\s*$', '')) <> '';

-- ... withdrawn language codes and country codes written as languages as the current code ...
update reviews
set language = case language
    when 'iw' then 'he' when 'in' then 'id' when 'ji' then 'yi' when 'jw' then 'jv' when 'mo' then 'ro'
    when 'jp' then 'ja' when 'cn' then 'zh' when 'cz' then 'cs' when 'dk' then 'da' when 'gr' then 'el'
    when 'ua' then 'uk' when 'vn' then 'vi' end
where language in ('iw', 'in', 'ji', 'jw', 'mo', 'jp', 'cn', 'cz', 'dk', 'gr', 'ua', 'vn');

-- ... and no language of another script for a body without a letter of any script but Latin (`lang="uk"`
-- on British English; the class is flows/normalize/language.py's OTHER_SCRIPT_SQL): the normalizer
-- detects such text now; stored, it is of a language SQL cannot tell.
update reviews
set language = null
where language in ('am', 'ar', 'be', 'bg', 'bn', 'dv', 'el', 'fa', 'gu', 'he', 'hi', 'hy', 'ja', 'ka', 'kk', 'km',
                   'kn', 'ko', 'ky', 'lo', 'mk', 'ml', 'mn', 'mr', 'my', 'ne', 'pa', 'ps', 'ru', 'si', 'ta', 'te',
                   'tg', 'th', 'uk', 'ur', 'yi', 'zh')
    and body is not null and not regexp_matches(body, '[\x{0370}-\x{1dbf}\x{2c00}-\x{2dff}\x{3040}-\x{9fff}\x{a000}-\x{a4cf}\x{ac00}-\x{d7af}\x{f900}-\x{faff}\x{fb1d}-\x{fdff}\x{fe70}-\x{feff}]');
