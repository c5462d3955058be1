-- Each crawl run with the ISO weeks a weekly report shows it in, and how many reviews of that week it loaded:
-- the weeks of the reviews it loaded (by trusted publication date, stg_reviews.published_week_start, as in the
-- weekly marts: reviews are crawled after they are published, often in a later week, so a run's own dates say
-- little about them) and the week it started, with 0 reviews if it loaded none of that week's (a run that
-- loaded nothing, a site that broke or whose every item was rejected, has no review to bring it into any
-- week). A review counts for the run that first loaded it (reviews.first_run_id) and for the last run that
-- changed it (reviews.run_id), so a later edit adds that run to the week without taking out the first.
with

review_runs as (
    select review_id, run_id from stg_reviews
    union
    select review_id, first_run_id as run_id from stg_reviews where first_run_id is not null
),

review_weeks as (
    select review_runs.run_id, staged.published_week_start as week_start, count(*) as week_reviews
    from review_runs
    join stg_reviews as staged using (review_id)
    where staged.published_week_start is not null
    group by review_runs.run_id, staged.published_week_start
),

start_weeks as (
    select run_id, iso_week_start(started) as week_start, 0 as week_reviews
    from stg_crawl_runs
),

final as (
    select run_id, week_start, sum(week_reviews)::bigint as week_reviews
    from (
        select run_id, week_start, week_reviews from review_weeks
        union all
        select run_id, week_start, week_reviews from start_weeks
        where week_start is not null
    )
    group by run_id, week_start
)

select * from final
