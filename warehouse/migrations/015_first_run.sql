-- The run that first loaded each review. reviews.run_id is the last run that changed it, so a weekly report
-- listed, for a week whose reviews a later run edited, only that later run: the run that loaded them dropped out
-- of the week's crawl health after the fact. Reviews stored before this keep their last run as their first: the
-- run that loaded an edited one is not known any more.
alter table reviews add column first_run_id varchar;
update reviews set first_run_id = run_id;
