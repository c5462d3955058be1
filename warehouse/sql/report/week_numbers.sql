-- The week in numbers: exactly one row, also for a week without reviews (then the counts are 0).
--
-- Reviews, films and reviewers come from the weekly marts. Crawl health covers the crawl runs of the
-- week as int_run_weeks has them: those that loaded this week's reviews and those started this week. The
-- counts are the runs' whole counts (a run that loaded reviews of several weeks counts in each).
with

week as (
    select $week_start::date as week_start
),

arrivals as (
    select * from weekly_reviews
    where week_start = $week_start::date
),

-- 0 after a week without reviews; null only when no week before this one has any (nothing to compare).
previous_arrivals as (
    select coalesce(max(reviews) filter (where week_start = $week_start::date - 7), 0) as previous_reviews
    from weekly_reviews
    where week_start < $week_start::date
    having count(*) > 0
),

films as (
    select count(*) as films
    from weekly_film_scores
    where week_start = $week_start::date
),

reviewers as (
    select
        -- A row that names nobody is many people: no reviewer (its reviews are weekly_reviews.anonymous_reviews).
        count(*) filter (where audience = 'critic' and not anonymous) as critics,
        count(*) filter (where audience = 'user' and not anonymous) as users,
        count(*) filter (where audience = 'critic' and anonymous) as anonymous_critic_rows
    from weekly_critic_activity
    where week_start = $week_start::date
),

week_runs as (
    select run_id
    from int_run_weeks
    where week_start = $week_start::date
),

runs as (
    select
        count(*) as crawl_runs,
        coalesce(sum(runs.scraped), 0) as scraped,
        coalesce(sum(runs.loaded), 0) as loaded,
        coalesce(sum(runs.duplicates), 0) as duplicates,
        coalesce(sum(runs.rejected), 0) as rejected,
        count(*) filter (where runs.healthy) as healthy_runs,
        count(*) filter (where not runs.healthy) as unhealthy_runs
    from crawl_runs as runs
    join week_runs using (run_id)
),

final as (
    select
        -- week
        week.week_start,
        -- arrivals
        coalesce(arrivals.reviews, 0) as reviews,
        coalesce(arrivals.scored_reviews, 0) as scored_reviews,
        arrivals.mean_score,
        previous_arrivals.previous_reviews,
        films.films,
        coalesce(arrivals.new_films, 0) as new_films,
        -- who and where
        reviewers.critics,
        reviewers.users,
        coalesce(arrivals.anonymous_reviews, 0) as anonymous_reviews,
        reviewers.anonymous_critic_rows,
        coalesce(arrivals.sources, 0) as sources,
        -- crawl health
        runs.crawl_runs,
        runs.scraped,
        runs.loaded,
        runs.duplicates,
        runs.rejected,
        runs.healthy_runs,
        runs.unhealthy_runs
    from week
    left join arrivals on true
    left join previous_arrivals on true
    cross join films
    cross join reviewers
    cross join runs
)

select * from final
