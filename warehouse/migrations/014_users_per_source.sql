-- Migration 006 split users by the host of their reviews' urls, and left those whose url has no host
-- (rows of an imported dump without urls, `file:///…#key`) under the id their name alone gave: "john"
-- in dumps imported as two sources was one user, mixing two people's reviews, and their identical
-- texts were taken for one review's copies. The site of such a review is now `source:<source>`
-- (flows/normalize/lookups.py: site_sql), and its user gets the id the normalizer now gives:
-- 'c' + the first 12 hex digits of sha1(old id || '@' || site), as in 006. A review's site is that of
-- the url of its own source key. (It also marks the data fixes anonymous_keys and anonymous_copies_2,
-- flows/upgrades.py: a version without them refuses a warehouse with this migration.)
-- 1. Each user of such reviews gets the id of a user of that source.
create temp table migration_user_sources as
with user_reviews as (
    select
        r.review_id,
        r.critic_id,
        r.first_seen,
        r.source,
        coalesce(k.url, r.urls[1]) as url
    from reviews as r
    inner join critics as c using (critic_id)
    left join review_keys as k on k.source = r.source and k.source_review_id = r.source_review_id
    where c.audience = 'user'
),

hostless as (
    select *, 'source:' || source as site
    from user_reviews
    where nullif(regexp_replace(lower(regexp_extract(url, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)', 1)),
                                '^www\.', ''), '') is null
)

select review_id, critic_id, first_seen, 'c' || substr(sha1(critic_id || '@' || site), 1, 12) as new_id
from hostless;

insert into critics
select m.new_id, c.name, c.name_key, c.outlet, c.audience, c.profile_url, min(m.first_seen) as first_seen
from migration_user_sources as m
inner join critics as c using (critic_id)
where m.new_id not in (select critic_id from critics)
group by all;

update reviews
set critic_id = m.new_id
from migration_user_sources as m
where reviews.review_id = m.review_id;

-- The old ids that no review uses any more.
delete from critics
where critic_id in (select critic_id from migration_user_sources)
    and critic_id not in (select critic_id from reviews);

drop table migration_user_sources;

-- 2. Before this, "john"'s identical text in the second dump was merged into his review from the first as a
-- syndicated copy: the second dump's review was lost, its key and url kept by the first's. Those keys and
-- urls are taken off again (as 008 did for users on two sites), so importing that dump again (`reviews
-- import --again`) loads it as the review it is. A key's site is its url's host, else `source:<its source>`.
create temp table migration_cross_source_keys as
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
        u.source as own_source,
        u.url as own_url,
        (k.source, k.source_review_id) = (u.source, u.source_review_id) as is_own
    from review_keys as k
    inner join user_reviews as u using (review_id)
),

sited as (
    select
        *,
        coalesce(nullif(regexp_replace(lower(regexp_extract(url, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)', 1)),
                                       '^www\.', ''), ''), 'source:' || source) as site,
        coalesce(nullif(regexp_replace(lower(regexp_extract(own_url, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)', 1)),
                                       '^www\.', ''), ''), 'source:' || own_source) as own_site
    from keys
)

select source, source_review_id, review_id, url
from sited
where not is_own and site <> own_site and (starts_with(site, 'source:') or starts_with(own_site, 'source:'));

-- A url stays while a remaining key of the review names it (one file imported as two sources gives both the
-- same urls).
update reviews
set urls = list_filter(reviews.urls, lambda u: not list_contains(gone.urls, u) or list_contains(coalesce(kept.urls, []), u))
from (select review_id, list(url) as urls from migration_cross_source_keys group by review_id) as gone
left join (
    select k.review_id, list(k.url) as urls
    from review_keys as k
    anti join migration_cross_source_keys as m using (source, source_review_id)
    group by k.review_id
) as kept using (review_id)
where reviews.review_id = gone.review_id;

delete from review_keys
where (source, source_review_id) in (select (source, source_review_id) from migration_cross_source_keys);

drop table migration_cross_source_keys;
