-- The crawl runs that loaded this week's reviews (see week_numbers.sql), with their health.
--
-- A review counts in the week of its trusted publication date (stg_reviews.published_week_start), as
-- in the weekly marts: a date after the fetch (reviews.date_problem) makes it undated, so its run is
-- not one of this week's.
--
-- A run killed before it wrote its stats has no start time (started, finished, pages and errors are
-- null); it is ordered by the time its run_id begins with (new_run_id: 20261118T093000123456Z, UTC
-- like started), then by run_id, so it takes its place among its source's runs instead of coming last.
with

week_runs as (
    select reviews.run_id, count(*) as week_reviews
    from reviews
    join stg_reviews as staged using (review_id)
    where staged.published_week_start = $week_start::date
    group by reviews.run_id
),

final as (
    select
        runs.source,
        runs.spider,
        runs.run_id,
        runs.started,
        week_runs.week_reviews,
        runs.scraped,
        runs.loaded,
        runs.duplicates,
        runs.rejected,
        runs.healthy,
        runs.health_notes,
        coalesce(runs.started, try_strptime(left(runs.run_id, 15), '%Y%m%dT%H%M%S')) as run_started
    from crawl_runs as runs
    join week_runs using (run_id)
)

select * exclude (run_started) from final
order by source, run_started nulls last, run_id
