-- Recompute every stored hash with the formulas of macros.sql, after they changed or when the
-- warehouse predates the hash_scheme table. Same rules as migration 003: a source key whose
-- stored hash was its review's follows the review. A key whose content differs from what its review
-- stores cannot be rehashed (that content is not kept): a syndicated copy with another title or
-- rating, or a review's own key after an edited copy replaced the review's content. Its hash becomes
-- null, and its next crawl records one and counts as unchanged (01_classify.sql), so an edit made
-- to it just before that crawl is only seen at its next edit. Counting it as changed instead would let
-- a copy's feed title and missing rating overwrite the review.
create or replace temp table rehashed as
with bodies as (
    select review_id, content_hash as old_hash, title, rating_raw, score, score_source, text_hash_of(body) as text_hash
    from reviews
)

select review_id, old_hash, text_hash, content_hash_of(title, text_hash, rating_raw, score, score_source) as content_hash
from bodies;

update review_keys
set content_hash = r.content_hash
from (
    select k.source, k.source_review_id, r.content_hash
    from review_keys as k
    left join rehashed as r on r.review_id = k.review_id and r.old_hash = k.content_hash
) as r
where review_keys.source = r.source and review_keys.source_review_id = r.source_review_id
    and review_keys.content_hash is distinct from r.content_hash;

update reviews
set text_hash = r.text_hash, content_hash = r.content_hash
from rehashed as r
where reviews.review_id = r.review_id
    and (reviews.text_hash is distinct from r.text_hash or reviews.content_hash is distinct from r.content_hash);

drop table rehashed;
