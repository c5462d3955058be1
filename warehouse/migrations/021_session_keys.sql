-- Crawls now drop session ids (`;jsessionid=`, `PHPSESSID`, a session-like `sid`) from the URLs they fetch and land,
-- as they drop tracking parameters (crawlers/tracking.py). The data fix `tracking_keys` applies again under the name
-- `session_keys` (flows/untagged_keys.py) to clean stored keys and urls; this migration has no schema change, and is
-- here so that an older version, which would land keys with session ids again, refuses the warehouse.
select 1;
