-- One row per review, with explicit and inferred ratings kept apart.
--
-- `score` holds explicit scores only, so an inferred score never enters the explicit marts by
-- accident; the design guarantees inferred scores are flagged score_source = 'inferred', so a score
-- with no flag counts as explicit. `is_positive` is the explicit verdict: from the score with the
-- positive_threshold parameter when there is one (so changing the parameter changes the marts),
-- otherwise the binary verdict as loaded (fresh/rotten, thumbs). Reviews whose rating was inferred
-- carry their score and verdict in `inferred_score` and `inferred_is_positive` instead.
with

source as (
    select * from reviews
),

rating_kind as (
    select
        *,
        coalesce(score_source, 'explicit') = 'inferred' as is_inferred
    from source
),

final as (
    select
        -- ids
        review_id,
        film_id,
        critic_id,
        source,
        audience,
        -- explicit rating
        case when not is_inferred then score end as score,
        case
            when is_inferred then null
            when score is not null then is_positive_score(score)
            else is_positive
        end as is_positive,
        -- inferred rating
        case when is_inferred then score end as inferred_score,
        case
            when not is_inferred then null
            when score is not null then is_positive_score(score)
            else is_positive
        end as inferred_is_positive,
        -- dates
        published_on,
        iso_week_label(published_on) as published_week,
        iso_week_start(published_on) as published_week_start,
        first_seen,
        last_seen
    from rating_kind
)

select * from final
