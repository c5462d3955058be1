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
        weekly.movement,
        printed(weekly.cumulative_bayes_score) - printed(weekly.previous_bayes_score) as shown_change
    from weekly_film_scores as weekly
    where weekly.week_start = $week_start::date
      and weekly.movement is not null
      and weekly.scored_reviews > 0
      -- A film whose score reads the same, rounded as the report prints it, did not move.
      and shown_change <> 0
)

-- By the change the report prints (the difference of the two printed scores), then the exact one.
select * exclude (shown_change) from final
order by abs(shown_change) desc, abs(movement) desc, title
limit 8
