-- Since this version an inferred score is given only to text in English (or in no language that could
-- be told) with at least one opinionated sentence (flows/normalize/sentiment.py). Reviews loaded
-- before it keep what the old rule gave them until their text changes (the content hash leaves
-- inferred scores out), so this clears those the new rule would not give: text in another language,
-- where the English lexicon measured nothing, and exactly 50, the score the old rule gave text with
-- no opinionated sentence (the mean of opinionated sentences' compounds, each at least 0.05 from 0,
-- is 50 only by an exact cancellation). Every other inferred score is what the new rule computes.
update reviews
set score = null, score_source = null, is_positive = null
where score_source = 'inferred'
    and (score = 50 or coalesce(language, 'en') <> 'en');
