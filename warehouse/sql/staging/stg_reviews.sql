-- One row per review, with explicit and inferred ratings kept apart.
--
-- `score` holds explicit scores only, so an inferred score never enters the explicit marts by
-- accident; the design guarantees inferred scores are flagged score_source = 'inferred', so a score
-- with no flag counts as explicit. `is_positive` is the explicit verdict: from the score with the
-- positive_threshold parameter when there is one (so changing the parameter changes the marts),
-- otherwise the binary verdict as loaded (fresh/rotten, thumbs). Reviews whose rating was inferred
-- carry their score and verdict in `inferred_score` and `inferred_is_positive` instead.
--
-- `published_on` is the publication date only when it has no date_problem: the one problem that
-- keeps a date is a date after the fetch (a site's typo, a wrong clock). The reviews table keeps
-- it with its flag; the marts leave it out, as an undated review, so it makes no future week, no
-- film's last review, and never picks the report's week.
with

source as (
    select * from reviews
),

rating_kind as (
    select
        *,
        coalesce(score_source, 'explicit') = 'inferred' as is_inferred,
        case when date_problem is null then published_on end as trusted_published_on
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
        trusted_published_on as published_on,
        iso_week_label(trusted_published_on) as published_week,
        iso_week_start(trusted_published_on) as published_week_start,
        first_seen,
        last_seen,
        -- lineage: the run that first loaded the review, and the last run that changed it
        first_run_id,
        run_id
    from rating_kind
)

select * from final
