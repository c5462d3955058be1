-- Most divisive films: the widest spread (sample standard deviation) of this week's explicit scores,
-- among films with at least min_reviews_top of them, since a spread of two scores says little.
with

week_reviews as (
    select * from stg_reviews
    where published_week_start = $week_start::date
      and score is not null
),

per_film as (
    select
        film_id,
        count(*) as scored_reviews,
        score_stddev(score) as score_spread,
        min(score) as lowest_score,
        max(score) as highest_score,
        settled(avg(exact_score(score))) as mean_score
    from week_reviews
    group by film_id
    -- A spread needs two scores, whatever min_reviews_top says.
    having count(*) >= greatest(mart_param('min_reviews_top'), 2)
),

final as (
    select
        per_film.film_id,
        films.title,
        films.year,
        per_film.scored_reviews,
        per_film.score_spread,
        per_film.lowest_score,
        per_film.highest_score,
        per_film.mean_score
    from per_film
    left join stg_films as films using (film_id)
    where per_film.score_spread > 0  -- unanimous scores divide no one
)

select * from final
order by score_spread desc, title, year, film_id
limit 5
