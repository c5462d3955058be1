-- Macros shared by the mart models: every rule that more than one model needs is written once, here.
-- build_marts() runs this file before any model, so the views and tables below may call these.

-- parameters ------------------------------------------------------------------------------------
-- One value of the mart_params table (bayes_m, positive_threshold, harshness_k, min_reviews_top).
-- build_marts() checks that each name is present exactly once before the models run.
create or replace macro mart_param(param_name) as (
    select value from mart_params where name = param_name
);

-- people --------------------------------------------------------------------------------------
-- Whether a critic's name_key names nobody ("Anonymous", "Guest", "[deleted]", in the languages the
-- sites use): such a row holds many people's reviews. The load never merges their identical texts as one
-- review's copies (upsert/01_classify.sql), and critic_stats marks them `anonymous`.
create or replace macro names_nobody(name_key) as
    -- '' : a name of no letter or digit ("???", "—") names nobody either, as the load's keys read it
    -- (flows/normalize/assemble.py), or every such row would be one critic (sizes QA).
    name_key = '' or name_key in ('anonymous', 'anon', 'anonymous user', 'anonymous reviewer', 'anonyme', 'anonym',
                 'anonimo', 'anonima', 'anoniem', 'guest', 'guest user', 'gast', 'invite', 'invitado',
                 'ospite', 'convidado', 'unknown', 'unknown user', 'inconnu', 'unbekannt',
                 'desconocido', 'sconosciuto', 'deleted', 'deleted user', 'user', 'a user', 'reader',
                 'a reader', 'visitor', 'nobody', 'someone', 'none', 'null', 'na', 'n a',
                 'utilisateur anonyme', 'utilisateur supprime', 'utilisateur inconnu', 'usuario anonimo',
                 'usuario eliminado', 'usuario desconocido', 'anonymer nutzer', 'anonymer benutzer',
                 'geloschter nutzer', 'geloschter benutzer', 'unbekannter nutzer', 'unbekannter benutzer',
                 'utente anonimo', 'utente eliminato', 'utente sconosciuto', 'anonieme gebruiker',
                 'verwijderde gebruiker', 'onbekende gebruiker', 'utilizador anonimo', 'removed',
                 'deleted account');

-- positivity ------------------------------------------------------------------------------------
-- A 0-100 score is positive at or above the positive_threshold parameter (null stays null).
create or replace macro is_positive_score(score_0_100) as
    score_0_100 >= mart_param('positive_threshold');

-- ISO weeks -------------------------------------------------------------------------------------
-- Label of the ISO week holding a date, e.g. 2026-12-31 and 2027-01-01 -> '2026-W53'.
create or replace macro iso_week_label(day) as strftime(day, '%G-W%V');

-- Monday that starts the ISO week holding a date.
create or replace macro iso_week_start(day) as date_trunc('week', day)::date;

-- When a crawl run started: a run killed before it wrote its stats has no start time, and the time its run_id
-- begins with (new_run_id: 20261118T093000123456Z, UTC like started) stands in.
create or replace macro run_started(started, run_id) as
    coalesce(started, try_strptime(left(run_id, 15), '%Y%m%dT%H%M%S'));

-- intervals and weighted scores ---------------------------------------------------------------
-- Wilson score interval, 95% (z = 1.96), lower bound as a 0-100 percentage; null when n = 0. With no
-- positive it is 0 exactly (the formula's two terms cancel, and in floating point left ~5e-15).
create or replace macro wilson_low_pct(positives, n) as
    case when n > 0 and positives = 0 then 0.0 when n > 0 then 100 * (
        (positives / n + 1.96 * 1.96 / (2 * n))
        - 1.96 * sqrt((positives / n) * (1 - positives / n) / n + 1.96 * 1.96 / (4 * n * n))
    ) / (1 + 1.96 * 1.96 / n) end;

-- Share of true values among non-null booleans as a 0-100 percentage; null when there are none.
-- Counted, then divided once: 100 * avg() gave 57.49999999999999 for 23 of 40, which rounds to 57, not 58.
create or replace macro pct_true(flag) as 100.0 * count_if(flag) / nullif(count(flag), 0);

-- Scores hold 2 decimals (flows/normalize/ratings.py), so summed as DECIMAL they add up exactly and a mean is the
-- same whatever order the rows come in; a DOUBLE sum is not (one film's ten scores loaded in two orders gave
-- 61.749999999999986 and 61.750000000000014, which the report rounds to 61.7 and 61.8: determinism QA).
create or replace macro exact_score(score) as cast(score as decimal(18, 2));
-- The same for derived values (offsets from a consensus), to a billionth.
create or replace macro exact(value) as cast(value as decimal(38, 9));
-- A mean or ratio of exact sums as the double nearest its value to a billionth: DuckDB divides a DECIMAL in
-- floating point, a step below the true value at times (151.35 / 3 is 50.449999999999996, so a mean of 50.45
-- printed 50.4 beside the report's own 50.5, and a harshness of 0.45 printed 0.4: marts QA).
create or replace macro settled(value) as round(cast(value as double), 9);
-- Sample standard deviation of scores, (n * sum(x^2) - sum(x)^2) / (n * (n - 1)) in exact sums, divided once
-- (stddev_samp's running update depends on row order too).
create or replace macro score_stddev(score) as
    sqrt((sum(exact_score(score) * exact_score(score)) * count(score)
          - sum(exact_score(score)) * sum(exact_score(score))) / nullif(count(score) * (count(score) - 1), 0));

-- IMDb-style weighted score v/(v+m)*R + m/(v+m)*C: v scored reviews with mean R, pulled toward the
-- prior C with the weight of m reviews. With v = 0 it is C; null when v + m = 0 or nothing is known.
create or replace macro bayes_score(v, r, m, c) as
    case when v + m > 0 then settled((v * coalesce(r, 0) + m * c) / (v + m)) end;

-- A critic's harshness: the mean offset of n scores from the other reviewers' consensus, shrunk toward 0 by
-- the harshness_k parameter, sum / (n + harshness_k), so a few scores say little (critic_stats, weekly report).
create or replace macro shrunk_offset(offset_sum, offsets) as
    settled(offset_sum / (offsets + mart_param('harshness_k')));
