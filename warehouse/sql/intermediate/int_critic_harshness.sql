-- Per critic, how far their explicit scores sit from the films' consensus, shrunk toward 0.
--
-- harshness = sum(score - consensus) / (n + harshness_k), n = the critic's scored reviews: a critic
-- with few reviews is pulled toward 0 (neutral) because a couple of reviews say little. Negative
-- means harsher than consensus. Critics without explicit scores do not appear here.
with

offsets as (
    select * from int_review_offsets
),

per_critic as (
    select
        critic_id,
        count(*) as offset_reviews,
        sum(score_offset) as offset_sum
    from offsets
    group by critic_id
),

final as (
    select
        -- ids
        critic_id,
        -- evidence
        offset_reviews,
        offset_sum,
        -- shrunk mean offset
        case
            when offset_reviews + mart_param('harshness_k') > 0
                then offset_sum / (offset_reviews + mart_param('harshness_k'))
        end as harshness
    from per_critic
)

select * from final
