-- The week's reviews first seen after $since, the time this week's first complete report was written
-- (flows/report/__init__.py keeps it beside the report): a week holds reviews by publication date, so one
-- written again later counts the reviews that arrived since, and says how many.
select count(*) as arrived_since
from stg_reviews
where published_week_start = $week_start::date
    and first_seen > $since::timestamp
