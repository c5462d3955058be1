-- Hashes become 64-bit numbers, each body is hashed once a load, and case now counts:
--   text_hash    = md5_number_lower(body)   (was md5 hex of the lower-cased body)
--   content_hash = md5_number_lower(title, text_hash and rating joined by chr(31))
--                                          (was md5 hex over title, body and rating)
-- A fixed-width number writes, joins and groups several times cheaper than 32 hex characters,
-- and 64 bits are plenty where hashes are only compared for one source key or one critic and film.
--
-- Existing rows are rehashed so re-crawls still compare like with like. A source key whose stored
-- hash was its review's follows the review. A syndicated copy whose title or rating differed (a
-- feed's "Review of ..." title, no rating) cannot be rehashed, its content is not stored: its hash
-- becomes null, and its next crawl records one and counts as unchanged (see 01_classify.sql).
-- Counting it as changed would overwrite the review with the copy's title and missing rating.
create temp table rehashed as
with bodies as (
    select review_id, content_hash as old_hash, title, rating_raw, md5_number_lower(body) as text_hash
    from reviews
)
select
    review_id,
    old_hash,
    text_hash,
    md5_number_lower(coalesce(title, '') || chr(31) || coalesce(cast(text_hash as varchar), '') || chr(31)
        || coalesce(rating_raw, '')) as content_hash
from bodies;

create temp table rehashed_keys as
select k.source, k.source_review_id, r.content_hash
from review_keys as k
left join rehashed as r on r.review_id = k.review_id and r.old_hash = k.content_hash;

alter table review_keys alter content_hash drop not null;
alter table review_keys alter content_hash set data type ubigint using null;
update review_keys
set content_hash = r.content_hash
from rehashed_keys as r
where review_keys.source = r.source and review_keys.source_review_id = r.source_review_id;

alter table reviews alter text_hash set data type ubigint using null;
alter table reviews alter content_hash set data type ubigint using 0;
update reviews
set text_hash = r.text_hash, content_hash = r.content_hash
from rehashed as r
where reviews.review_id = r.review_id;

drop table rehashed;
drop table rehashed_keys;
