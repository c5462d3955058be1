-- Whether a crawl skipped nothing (--full, or a source's first crawl): an incremental source is crawled in full
-- again when its last full crawl is `full_every_days` old (flows/incremental.py full_crawl_due). Runs stored
-- before this are NULL, not known, and count as full: the first full crawl after the upgrade comes when the last
-- of them is that old.
alter table crawl_runs add column full_crawl boolean;
