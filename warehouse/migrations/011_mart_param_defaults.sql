-- Each mart parameter's default, so a key taken out of reviews.toml's [marts] returns to it (before, the
-- last configured value stayed for good); the values are those 001_core.sql inserted.
alter table mart_params add column default_value double;

update mart_params
set default_value = case name
    when 'bayes_m' then 10
    when 'positive_threshold' then 60
    when 'harshness_k' then 5
    when 'min_reviews_top' then 3
end;
