-- How a crawl ended and how long it took: incremental runs start from the last complete crawl,
-- and health checks and `reviews status` report durations.
alter table crawl_runs add column finish_reason varchar;
alter table crawl_runs add column duration_seconds double;
