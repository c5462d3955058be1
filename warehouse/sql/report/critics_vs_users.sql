-- Where critics and users disagree most: films reviewed this week, with the critics' and the users'
-- mean explicit score over every dated review up to the end of the week (point in time), each side
-- needing at least 2 scores. gap = critics - users, so a positive gap means critics liked it more.
with

week_films as (
    select distinct film_id
    from stg_reviews
    where published_week_start = $week_start::date
),

to_date as (
    select reviews.*
    from stg_reviews as reviews
    join week_films using (film_id)
    where reviews.published_on < $week_start::date + 7
      and reviews.score is not null
),

per_film as (
    select
        film_id,
        count(*) filter (where audience = 'critic') as critic_scores,
        settled(avg(exact_score(score)) filter (where audience = 'critic')) as critic_mean_score,
        count(*) filter (where audience = 'user') as user_scores,
        settled(avg(exact_score(score)) filter (where audience = 'user')) as user_mean_score
    from to_date
    group by film_id
),

final as (
    select
        per_film.film_id,
        films.title,
        films.year,
        per_film.critic_scores,
        per_film.critic_mean_score,
        per_film.user_scores,
        per_film.user_mean_score,
        per_film.critic_mean_score - per_film.user_mean_score as gap
    from per_film
    left join stg_films as films using (film_id)
    where per_film.critic_scores >= 2
      and per_film.user_scores >= 2
)

-- Every candidate: the report orders them by the gap it prints and keeps the first 5 (flows/report/figures.py).
select * from final
order by abs(gap) desc, title, year, film_id
