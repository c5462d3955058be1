-- One row per ISO week and film that got reviews in that week: the film's Bayesian score as it
-- stood at the end of that week, the score at the end of the week before, and the movement.
--
-- Everything is point-in-time: cumulative_bayes_score uses the film's dated reviews up to the end
-- of the week and a prior C taken over all dated reviews up to the end of the same week (m is the
-- current bayes_m). previous_bayes_score is the same as of the end of the previous ISO week; it is
-- null in the film's first week, so movement (cumulative - previous) is null there. Between two
-- rows of a film the film itself got no reviews, so weeks without rows have nothing to report.
-- Undated reviews have no week and are left out, so the last row can differ from film_scores.
with

reviews as (
    select * from stg_reviews
    where published_on is not null
),

films as (
    select * from stg_films
),

film_weeks as (
    select
        film_id,
        published_week,
        published_week_start,
        count(*) as reviews,
        count(score) as scored_reviews,
        coalesce(sum(exact_score(score)), 0) as score_sum
    from reviews
    group by film_id, published_week, published_week_start
),

film_cumulative as (
    select
        *,
        sum(reviews) over film_history as cumulative_reviews,
        sum(scored_reviews) over film_history as cumulative_scored_reviews,
        sum(score_sum) over film_history as cumulative_score_sum,
        row_number() over film_history > 1 as had_earlier_reviews,
        published_week_start - 7 as previous_week_start
    from film_weeks
    window film_history as (partition by film_id order by published_week_start)
),

prior_by_week as (
    select
        published_week_start,
        sum(count(score)) over (order by published_week_start) as cumulative_scored,
        sum(coalesce(sum(exact_score(score)), 0)) over (order by published_week_start) as cumulative_score_sum
    from reviews
    group by published_week_start
),

prior_as_of_week as (
    select
        published_week_start,
        case when cumulative_scored > 0 then cumulative_score_sum / cumulative_scored end as prior_mean_score
    from prior_by_week
),

with_priors as (
    select
        film_cumulative.*,
        current_prior.prior_mean_score as prior_mean_score,
        previous_prior.prior_mean_score as previous_prior_mean_score,
        mart_param('bayes_m') as bayes_m
    from film_cumulative
    join prior_as_of_week as current_prior using (published_week_start)
    asof left join prior_as_of_week as previous_prior
        on film_cumulative.previous_week_start >= previous_prior.published_week_start
),

scored as (
    select
        *,
        case when cumulative_scored_reviews > 0
            then settled(cumulative_score_sum / cumulative_scored_reviews) end as cumulative_mean_score,
        bayes_score(
            cumulative_scored_reviews,
            cumulative_score_sum / nullif(cumulative_scored_reviews, 0),
            bayes_m,
            prior_mean_score
        ) as cumulative_bayes_score,
        case when had_earlier_reviews then bayes_score(
            cumulative_scored_reviews - scored_reviews,
            (cumulative_score_sum - score_sum) / nullif(cumulative_scored_reviews - scored_reviews, 0),
            bayes_m,
            previous_prior_mean_score
        ) end as previous_bayes_score
    from with_priors
),

final as (
    select
        -- week
        scored.published_week as week,
        scored.published_week_start as week_start,
        -- film
        scored.film_id,
        films.title,
        films.year,
        -- this week
        scored.reviews,
        scored.scored_reviews,
        -- as of the end of the week
        scored.cumulative_reviews::bigint as cumulative_reviews,
        scored.cumulative_scored_reviews::bigint as cumulative_scored_reviews,
        scored.cumulative_mean_score,
        scored.cumulative_bayes_score,
        -- against the previous week
        scored.previous_bayes_score,
        scored.cumulative_bayes_score - scored.previous_bayes_score as movement
    from scored
    left join films using (film_id)
)

select * from final
