-- New films: films whose first dated review was published this week.
with

final as (
    select
        weekly.film_id,
        weekly.title,
        weekly.year,
        weekly.reviews,
        weekly.scored_reviews,
        weekly.cumulative_mean_score as mean_score,
        weekly.cumulative_bayes_score
    from weekly_film_scores as weekly
    where weekly.week_start = $week_start::date
      and weekly.cumulative_reviews = weekly.reviews
)

select * from final
order by reviews desc, title, year, film_id
limit 10
