-- The Monday of the latest ISO week with dated reviews (null when there are none).
select max(week_start) as week_start
from weekly_reviews
