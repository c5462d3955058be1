-- Before this, a film first met as "Her (2013)" with no year field was stored with that title and
-- no year, and a film without a year matched mentions of every year. The resolver now reads such a
-- year from the title; this gives the films it already made their year, and drops it from their
-- title, so they stop collecting reviews of other films called the same. (Reviews such a film
-- already took from another year's film stay with it: nothing stored tells them apart.)
update films
set
    year = cast(regexp_extract(title, '[(\[]\s*(1[89]\d{2}|20\d{2})\s*[)\]]\s*$', 1) as integer),
    title = trim(regexp_replace(title, '\s*[(\[]\s*(1[89]\d{2}|20\d{2})\s*[)\]]\s*$', ''))
where year is null
    and regexp_matches(title, '[(\[]\s*(1[89]\d{2}|20\d{2})\s*[)\]]\s*$')
    and trim(regexp_replace(title, '\s*[(\[]\s*(1[89]\d{2}|20\d{2})\s*[)\]]\s*$', '')) <> '';
