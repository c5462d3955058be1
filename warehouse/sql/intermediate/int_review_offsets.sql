-- Each explicitly scored review whose film has at least one other explicit score, with its distance
-- from the mean of those other scores (int_review_consensus, leave-one-out; the marts read the same
-- offsets per critic and film from int_critic_film_consensus). A negative offset means
-- the reviewer scored the film below the other reviewers' mean for it. A review that is its film's
-- only explicit score has nothing to be compared with and is not here.
with

consensus as (
    select * from int_review_consensus
),

final as (
    select
        -- ids
        review_id,
        film_id,
        critic_id,
        audience,
        -- scores
        score,
        consensus_score,
        score_offset
    from consensus
    where score_offset is not null
)

select * from final
