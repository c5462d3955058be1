-- Biggest movers: films whose Bayesian score changed most from the end of the previous week to the
-- end of this one (weekly_film_scores.movement; null in a film's first week, so debuts are left out).
-- Only films with explicit scores this week: without one, a film's score moves only because the
-- prior (the mean of every film's scores) moved, which says nothing about the film.
with

final as (
    select
        weekly.film_id,
        weekly.title,
        weekly.year,
        weekly.reviews,
        weekly.previous_bayes_score,
        weekly.cumulative_bayes_score,
        weekly.movement
    from weekly_film_scores as weekly
    where weekly.week_start = $week_start::date
      and weekly.movement is not null
      and weekly.scored_reviews > 0
)

-- Every candidate: the report orders them by the change it prints, leaves out those printed as no change,
-- and keeps the first 8 (flows/report/figures.py), rounding as it prints.
select * from final
order by abs(movement) desc, title, year, film_id
