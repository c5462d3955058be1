-- Top films of the week: films with at least min_reviews_top explicit scores this week, ranked by
-- the mean of this week's scores; the film's Bayesian score as of the end of the week is shown too.
with

week_reviews as (
    select * from stg_reviews
    where published_week_start = $week_start::date
),

per_film as (
    select
        film_id,
        count(score) as week_scored_reviews,
        settled(avg(exact_score(score))) as week_mean_score,
        pct_true(is_positive) as week_pct_positive
    from week_reviews
    group by film_id
),

final as (
    select
        weekly.film_id,
        weekly.title,
        weekly.year,
        weekly.reviews,
        per_film.week_scored_reviews,
        per_film.week_mean_score,
        per_film.week_pct_positive,
        weekly.cumulative_bayes_score,
        weekly.cumulative_reviews
    from weekly_film_scores as weekly
    join per_film using (film_id)
    where weekly.week_start = $week_start::date
      and per_film.week_scored_reviews >= mart_param('min_reviews_top')
)

select * from final
order by week_mean_score desc, week_scored_reviews desc, title, year, film_id
limit 10
