-- Whether a run's stats showed it found the site unchanged (sitemap entries skipped as not modified, known
-- pages left unfollowed, pages answered 304): such incremental runs fetch few pages by design, so the health
-- rule on a run's page count (flows/health.py, fewer_pages) compares a run only with runs that did not.
-- NULL for runs loaded before this was recorded.
alter table crawl_runs add column site_unchanged boolean;
