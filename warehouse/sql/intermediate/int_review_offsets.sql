-- Each explicitly scored review with its distance from the film's consensus score.
-- A negative offset means the reviewer scored the film below everyone's mean for it.
with

reviews as (
    select * from stg_reviews
    where score is not null
),

consensus as (
    select * from int_film_consensus
),

final as (
    select
        -- ids
        reviews.review_id,
        reviews.film_id,
        reviews.critic_id,
        reviews.audience,
        -- scores
        reviews.score,
        consensus.consensus_score,
        reviews.score - consensus.consensus_score as score_offset
    from reviews
    join consensus using (film_id)
)

select * from final
