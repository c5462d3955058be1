-- Whether a run resumed a stopped crawl, so it covers only the rest of the site. An incremental crawl
-- skips sitemap entries unchanged since the last complete crawl started; a resumed run started after
-- the crawl it completes began, so it must not move that point (pages changed between the stop and
-- the resume would be skipped for good). Runs stored before this say so in their health note.
alter table crawl_runs add column resumed boolean;

update crawl_runs
set resumed = coalesce(health_notes like 'not judged: the crawl resumed a stopped one%', false);
