-- text_hash becomes md5 of the body exactly as stored (it was md5 of its lower-case form) and
-- content_hash becomes md5 over title, text_hash and rating, so a load reads each body once to
-- hash it. Existing rows are rehashed here so re-crawls still compare like with like. A source key
-- whose stored hash was its review's follows the review; a syndicated copy whose title or rating
-- differed keeps its old hash and counts as changed once, on its next crawl.
create temp table rehashed as
select
    review_id,
    content_hash as old_hash,
    md5(body) as text_hash,
    md5(coalesce(title, '') || chr(31) || coalesce(md5(body), '') || chr(31) || coalesce(rating_raw, ''))
        as content_hash
from reviews;

update review_keys
set content_hash = r.content_hash
from rehashed as r
where review_keys.review_id = r.review_id and review_keys.content_hash = r.old_hash;

update reviews
set text_hash = r.text_hash, content_hash = r.content_hash
from rehashed as r
where reviews.review_id = r.review_id;

drop table rehashed;
