-- Before this, a user was known by name alone (users have no outlet), so "john" on two sites was
-- one user whose reviews and harshness mixed two people. A user is now a name on one site, the host
-- of the review's url (flows/normalize/lookups.py: site_sql, _critic_id). This splits the users
-- already stored: each (user, site) of their reviews gets the id the normalizer now gives it,
-- 'c' + the first 12 hex digits of sha1(old id || '@' || site). A review's site is that of the url
-- of its own source key (its other urls are syndicated copies). Reviews whose url has no host keep
-- the old id. Critics with an outlet are unchanged.
create temp table migration_user_sites as
with user_reviews as (
    select
        r.review_id,
        r.critic_id,
        r.first_seen,
        coalesce(k.url, r.urls[1]) as url
    from reviews as r
    inner join critics as c using (critic_id)
    left join review_keys as k on k.source = r.source and k.source_review_id = r.source_review_id
    where c.audience = 'user'
),

sited as (
    select
        *,
        nullif(regexp_replace(lower(regexp_extract(url, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)', 1)),
                              '^www\.', ''), '') as site
    from user_reviews
)

select review_id, critic_id, first_seen, 'c' || substr(sha1(critic_id || '@' || site), 1, 12) as new_id
from sited
where site is not null;

insert into critics
select m.new_id, c.name, c.name_key, c.outlet, c.audience, c.profile_url, min(m.first_seen) as first_seen
from migration_user_sites as m
inner join critics as c using (critic_id)
where m.new_id not in (select critic_id from critics)
group by all;

update reviews
set critic_id = m.new_id
from migration_user_sites as m
where reviews.review_id = m.review_id;

-- The old ids that no review uses any more.
delete from critics
where critic_id in (select critic_id from migration_user_sites)
    and critic_id not in (select critic_id from reviews);

drop table migration_user_sites;
