-- Crawls drop tracking parameters (utm_*, fbclid, ...) from the URLs they fetch and land (crawlers/tracking.py), so
-- a review's url-made key no longer carries them. Stored keys and urls that do are cleaned the same way by the data
-- fix `tracking_keys` (flows/untagged_keys.py), which needs the crawler's Python rules; this migration has no schema
-- change, and is here so that an older version, which would land tagged keys again, refuses the warehouse.
select 1;
