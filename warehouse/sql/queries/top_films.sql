-- The best-scored films with enough explicit scores to trust (min_reviews_top).
select
    title,
    year,
    reviews,
    scored_reviews,
    round(bayes_score, 1) as bayes_score,
    round(mean_score, 1) as mean_score,
    round(pct_positive, 1) as pct_positive
from film_scores
where top_eligible
order by bayes_score desc, scored_reviews desc, title, year, film_id
limit 10
