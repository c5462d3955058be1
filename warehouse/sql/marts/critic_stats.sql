-- One row per critic (and per user): volume, mean score, harshness, agreement with consensus.
--
-- harshness: mean offset of the critic's explicit scores from each film's consensus score, shrunk
--   toward 0 as sum(offset) / (n + harshness_k); negative = harsher than consensus. The consensus
--   is every review of the film, this critic's own included (see int_film_consensus).
-- agreement_rate: percent (0-100) of the critic's positive/negative verdicts that match the film's
--   majority verdict, over films with at least 2 verdicts and no tie; agreement_verdicts is the
--   number of verdicts compared. Null when there is nothing to compare.
-- outlets: every outlet of critics sharing this critic's name_key and audience (the same person
--   writing for several outlets), or just the critic's own outlet.
-- Only critics with at least one review: a critic whose reviews all moved to another critic (an
-- edited byline) or that an earlier version stored for a syndicated copy has nothing to measure.
with

critics as (
    select * from stg_critics
    semi join (select distinct critic_id from stg_reviews) using (critic_id)
),

reviews as (
    select * from stg_reviews
),

consensus as (
    select * from int_film_consensus
),

harshness as (
    select * from int_critic_harshness
),

per_critic as (
    select
        critic_id,
        count(*) as reviews,
        count(score) as scored_reviews,
        avg(score) as mean_score,
        min(published_on) as first_review,
        max(published_on) as last_review
    from reviews
    group by critic_id
),

agreement as (
    select
        reviews.critic_id,
        count(*) as agreement_verdicts,
        pct_true(reviews.is_positive = consensus.majority_positive) as agreement_rate
    from reviews
    join consensus using (film_id)
    where reviews.is_positive is not null
      and consensus.majority_positive is not null
    group by reviews.critic_id
),

outlets_by_person as (
    select
        name_key,
        audience,
        list_sort(list_distinct(list(outlet))) as outlets
    from critics
    group by name_key, audience
),

final as (
    select
        -- ids
        critics.critic_id,
        -- who
        critics.name,
        critics.outlet,
        critics.audience,
        -- volume
        coalesce(per_critic.reviews, 0) as reviews,
        coalesce(per_critic.scored_reviews, 0) as scored_reviews,
        -- scores
        per_critic.mean_score,
        harshness.harshness,
        -- agreement with consensus
        agreement.agreement_rate,
        coalesce(agreement.agreement_verdicts, 0) as agreement_verdicts,
        -- active period
        per_critic.first_review,
        per_critic.last_review,
        -- outlets
        coalesce(outlets_by_person.outlets, []::varchar[]) as outlets
    from critics
    inner join per_critic using (critic_id)
    left join harshness using (critic_id)
    left join agreement using (critic_id)
    left join outlets_by_person using (name_key, audience)
)

select * from final
