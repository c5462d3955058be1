-- One row per film: how many reviews it has and every score the project publishes for it.
--
-- Scores use explicit ratings only (see stg_reviews); inferred ones are reported apart.
-- bayes_score = v/(v+m)*R + m/(v+m)*C where
--   v = scored_reviews, R = mean_score,
--   m = the bayes_m parameter (mart_params), the weight of the prior in reviews,
--   C = the mean explicit score over all reviews of all films (critics and users; each review
--       counts once, so films with many reviews weigh more than in a mean of film means).
-- A film with no explicit scores gets C. debiased_score is the mean of the film's explicit scores
-- after removing each reviewer's harshness (critic_stats.harshness: their shrunk offset from
-- the other reviewers, so a harsh critic's score is raised, a kind one's lowered). A reviewer with
-- no harshness (none of their scores has another score on its film to be compared with) is taken
-- as neutral, 0, the value shrinkage pulls little evidence toward: every explicit score counts, as
-- in mean_score, and a film has a debiased_score whenever it has a mean_score. Only films with at
-- least one review: a film whose reviews all moved to another film has no numbers of its own.
with

films as (
    select * from stg_films
),

reviews as (
    select * from stg_reviews
),

prior as (
    select
        settled(avg(exact_score(score))) as prior_mean_score,
        mart_param('bayes_m') as bayes_m
    from reviews
),

debiased as (
    select
        reviews.film_id,
        settled(avg(exact(reviews.score - coalesce(harshness.harshness, 0)))) as debiased_score
    from reviews
    -- critic_stats, built just before, holds each critic's harshness: read from it, the
    -- leave-one-out consensus is computed once per build, not once per mart
    left join critic_stats as harshness using (critic_id)
    where reviews.score is not null
    group by reviews.film_id
),

per_film as (
    select
        film_id,
        -- volume
        count(*) as reviews,
        count(score) as scored_reviews,
        -- all reviewers
        settled(avg(exact_score(score))) as mean_score,
        pct_true(is_positive) as pct_positive,
        count(*) filter (where is_positive) as positive_verdicts,
        count(is_positive) as verdicts,
        score_stddev(score) as score_stddev,
        -- critics vs users
        count(*) filter (where audience = 'critic') as critic_reviews,
        settled(avg(exact_score(score)) filter (where audience = 'critic')) as critic_mean_score,
        pct_true(case when audience = 'critic' then is_positive end) as critic_pct_positive,
        count(*) filter (where audience = 'user') as user_reviews,
        settled(avg(exact_score(score)) filter (where audience = 'user')) as user_mean_score,
        pct_true(case when audience = 'user' then is_positive end) as user_pct_positive,
        -- inferred ratings
        count(inferred_score) as inferred_reviews,
        settled(avg(exact_score(inferred_score))) as inferred_mean_score,
        -- dates
        min(published_on) as first_review,
        max(published_on) as last_review
    from reviews
    group by film_id
),

final as (
    select
        -- ids
        films.film_id,
        films.title,
        films.year,
        films.imdb_id,
        -- volume
        coalesce(per_film.reviews, 0) as reviews,
        coalesce(per_film.scored_reviews, 0) as scored_reviews,
        -- headline scores
        per_film.mean_score,
        per_film.pct_positive,
        wilson_low_pct(per_film.positive_verdicts, per_film.verdicts) as pct_positive_wilson_low,
        bayes_score(
            coalesce(per_film.scored_reviews, 0), per_film.mean_score, prior.bayes_m, prior.prior_mean_score
        ) as bayes_score,
        debiased.debiased_score,
        coalesce(per_film.scored_reviews, 0) >= mart_param('min_reviews_top') as top_eligible,
        -- critics vs users
        coalesce(per_film.critic_reviews, 0) as critic_reviews,
        per_film.critic_mean_score,
        per_film.critic_pct_positive,
        coalesce(per_film.user_reviews, 0) as user_reviews,
        per_film.user_mean_score,
        per_film.user_pct_positive,
        settled(per_film.critic_mean_score - per_film.user_mean_score) as critic_user_gap,
        -- spread
        per_film.score_stddev,
        -- inferred ratings, never mixed into the scores above
        coalesce(per_film.inferred_reviews, 0) as inferred_reviews,
        per_film.inferred_mean_score,
        -- dates
        per_film.first_review,
        per_film.last_review
    from films
    cross join prior
    inner join per_film using (film_id)
    left join debiased using (film_id)
)

select * from final
