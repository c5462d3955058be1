-- Remember every source key and the review it became.
insert into review_keys
select source, source_review_id, review_id, url, content_hash, fetched_at as first_seen, fetched_at as last_seen
from batch_classified
where outcome in ('new', 'syndicated');

update review_keys
set content_hash = c.content_hash, last_seen = greatest(review_keys.last_seen, c.fetched_at)
from batch_classified as c
where review_keys.source = c.source and review_keys.source_review_id = c.source_review_id
    and c.outcome in ('changed', 'unchanged')
    and (review_keys.content_hash is distinct from c.content_hash or c.fetched_at > review_keys.last_seen);
