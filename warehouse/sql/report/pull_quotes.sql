-- Candidate pull quotes: this week's reviews of one film ($film_id) that have a body, critics
-- first, then the highest scores; the report shortens the text and keeps a few.
with

week_reviews as (
    select
        reviews.review_id,
        reviews.body,
        reviews.title as review_title,
        reviews.rating_raw,
        staged.score,
        staged.audience,
        critics.name,
        critics.outlet
    from reviews
    join stg_reviews as staged using (review_id)
    left join stg_critics as critics on critics.critic_id = reviews.critic_id
    where staged.published_week_start = $week_start::date
      and reviews.film_id = $film_id
      and length(trim(coalesce(reviews.body, ''))) > 0
),

final as (
    select * from week_reviews
)

select * from final
order by audience = 'critic' desc, score desc nulls last, name, review_id
limit 12
