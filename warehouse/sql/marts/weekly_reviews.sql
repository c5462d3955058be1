-- One row per ISO week that has reviews: what arrived that week.
-- Weeks run Monday to Sunday and are labelled like '2026-W53' (ISO year, so 2027-01-01 belongs to
-- 2026-W53). Reviews without a publication date have no week and are left out of the weekly marts.
-- A critic row that names nobody ("Anonymous", "Guest": names_nobody in macros.sql) is many people, so
-- it is no active critic; its reviews are counted apart, as anonymous_reviews.
with

critics as (
    select critic_id, names_nobody(name_key) as anonymous from stg_critics
),

reviews as (
    select stg_reviews.*, coalesce(critics.anonymous, false) as anonymous
    from stg_reviews
    left join critics using (critic_id)
    where published_on is not null
),

film_debuts as (
    select
        film_id,
        iso_week_start(min(published_on)) as debut_week_start
    from reviews
    group by film_id
),

new_films as (
    select
        debut_week_start as published_week_start,
        count(*) as new_films
    from film_debuts
    group by debut_week_start
),

per_week as (
    select
        published_week,
        published_week_start,
        count(*) as reviews,
        count(distinct critic_id) filter (where not anonymous) as active_critics,
        count(*) filter (where anonymous) as anonymous_reviews,
        count(distinct source) as sources,
        count(score) as scored_reviews,
        settled(avg(exact_score(score))) as mean_score
    from reviews
    group by published_week, published_week_start
),

final as (
    select
        -- week
        per_week.published_week as week,
        per_week.published_week_start as week_start,
        -- arrivals
        per_week.reviews,
        coalesce(new_films.new_films, 0) as new_films,
        -- who and where
        per_week.active_critics,
        per_week.anonymous_reviews,
        per_week.sources,
        -- scores
        per_week.scored_reviews,
        per_week.mean_score
    from per_week
    left join new_films using (published_week_start)
)

select * from final
