-- Run after the upsert steps only for a run that covered its whole site (warehouse.load.RunInfo.covers_site:
-- finished, not resumed, nothing skipped or failed, healthy): it saw every review the site still publishes,
-- so a key of its source it did not see is gone since the run started. Temp table gone_run holds the run's
-- source and start.
insert into review_keys_gone
select keys.source, keys.source_review_id, run.started
from review_keys as keys
inner join gone_run as run on keys.source = run.source and keys.last_seen < run.started
anti join review_keys_gone as known on known.source = keys.source and known.source_review_id = keys.source_review_id;

-- A review is removed when every key it has is gone (a copy on another site keeps it), as of the last of them.
delete from reviews_removed
where review_id in (select review_id from review_keys where source = (select source from gone_run));

insert into reviews_removed
select keys.review_id, max(gone.gone_since) as removed_at
from review_keys as keys
left join review_keys_gone as gone using (source, source_review_id)
where keys.review_id in (select review_id from review_keys where source = (select source from gone_run))
group by keys.review_id
having bool_and(gone.gone_since is not null);

drop table gone_run;
