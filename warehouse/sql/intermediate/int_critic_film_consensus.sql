-- One row per critic and film they reviewed: what they gave it, what the OTHER reviewers gave it
-- (leave-one-out: the film's totals minus this critic's), and how far apart the two are.
--
-- Sums rather than means, so the critic is taken out by a subtraction (no self-join), and no mean or
-- majority over every reviewer at all: a consensus that holds the critic pulls every offset toward 0
-- and every verdict toward agreement.
--
-- Every review of one critic for one film has the same consensus (all of the critic's reviews of
-- the film are left out: a second review is not "another reviewer"), so the marts measure critics
-- here, one row per pair, and never join the consensus back to a million reviews:
--   offset_sum = sum over the critic's explicit scores of (score - consensus_score)
--              = own_score_sum - own_scored_reviews * consensus_score;
--   agreeing_verdicts / compared_verdicts = the critic's verdicts that match / are compared with
--              the majority of the other reviewers' explicit verdicts (none on a tie or with no
--              other verdict).
-- consensus_score is null when no one else gave the film an explicit score: no offset then
-- (offset_reviews 0), a film only this critic scored says nothing either way.
-- int_review_consensus gives the same consensus per rated review (and as of each publication week).
with

-- only explicit ratings count here (an unrated review's inferred score is apart in stg_reviews)
rated_reviews as (
    select * from stg_reviews
    where score is not null or is_positive is not null
),

own_totals as (
    select
        film_id,
        critic_id,
        count(score) as own_scored_reviews,
        coalesce(sum(exact_score(score)), 0) as own_score_sum,
        count(*) filter (where is_positive) as own_positive_verdicts,
        count(*) filter (where not is_positive) as own_negative_verdicts
    from rated_reviews
    group by film_id, critic_id
),

-- the film's totals over every reviewer, summed from the pairs (no second pass over the reviews)
film_totals as (
    select
        film_id,
        sum(own_scored_reviews) as scored_reviews,
        sum(own_score_sum) as score_sum,
        sum(own_positive_verdicts) as positive_verdicts,
        sum(own_negative_verdicts) as negative_verdicts
    from own_totals
    group by film_id
),

others as (
    select
        own_totals.*,
        film_totals.scored_reviews - own_totals.own_scored_reviews as other_scored_reviews,
        film_totals.score_sum - own_totals.own_score_sum as other_score_sum,
        film_totals.positive_verdicts - own_totals.own_positive_verdicts as other_positive_verdicts,
        film_totals.negative_verdicts - own_totals.own_negative_verdicts as other_negative_verdicts
    from own_totals
    join film_totals using (film_id)
),

consensus as (
    select
        *,
        case when other_scored_reviews > 0
            then other_score_sum / other_scored_reviews end as consensus_score,
        case
            when other_positive_verdicts > other_negative_verdicts then true
            when other_negative_verdicts > other_positive_verdicts then false
        end as consensus_positive
    from others
),

final as (
    select
        -- ids
        film_id,
        critic_id,
        -- what the critic gave the film
        own_scored_reviews,
        own_score_sum::double as own_score_sum,  -- summed exactly above; a DOUBLE, as before
        own_positive_verdicts,
        own_negative_verdicts,
        -- what the other reviewers gave it
        other_scored_reviews::bigint as other_scored_reviews,
        other_positive_verdicts::bigint as other_positive_verdicts,
        other_negative_verdicts::bigint as other_negative_verdicts,
        consensus_score,
        consensus_positive,
        -- the critic against them
        case when consensus_score is not null then own_scored_reviews else 0 end as offset_reviews,
        case when consensus_score is not null and own_scored_reviews > 0
            then own_score_sum - own_scored_reviews * consensus_score end as offset_sum,
        case when consensus_positive is not null
            then own_positive_verdicts + own_negative_verdicts else 0 end as compared_verdicts,
        case
            when consensus_positive then own_positive_verdicts
            when not consensus_positive then own_negative_verdicts
            else 0
        end as agreeing_verdicts
    from consensus
)

select * from final
