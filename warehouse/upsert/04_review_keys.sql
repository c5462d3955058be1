-- Remember every source key and the review it became.
insert into review_keys
select source, source_review_id, review_id, url, content_hash, first_fetch as first_seen, fetched_at as last_seen
from batch_classified
where outcome in ('new', 'syndicated');

-- A key seen again records its content's hash and its url (a review that moved to another page), unless
-- this batch was crawled before the key was last seen (loaded late: its content is older than the hash
-- on record). An edit that gave way to another key's in this batch (01_classify.sql) records its hash too:
-- left unrecorded, the same file loaded again, or next week's identical crawl, applied the edit that lost.
-- Not when the edit chosen wrote nothing (batch_kept_edits): the one that gave way may be the only real one.
update review_keys
set
    content_hash = case when c.keeps_hash then review_keys.content_hash else c.content_hash end,
    url = case when c.is_stale then review_keys.url else c.url end,
    first_seen = least(review_keys.first_seen, c.first_fetch),
    last_seen = greatest(review_keys.last_seen, c.fetched_at)
from (
    select
        *,
        is_stale or (is_superseded and review_id in (
            select review_id from batch_classified semi join batch_kept_edits using (row_no))) as keeps_hash
    from batch_classified
    where outcome in ('changed', 'unchanged')
) as c
where review_keys.source = c.source and review_keys.source_review_id = c.source_review_id
    and ((not c.keeps_hash and review_keys.content_hash is distinct from c.content_hash)
         or (not c.is_stale and review_keys.url is distinct from c.url)
         or c.fetched_at > review_keys.last_seen or c.first_fetch < review_keys.first_seen);
