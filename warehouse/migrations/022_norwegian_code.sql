-- Norwegian declared as Bokmål (`nb`, `nb-NO`) is now stored as `no`, the code language detection gives Norwegian
-- (flows/normalize/language.py): the warehouse held both codes for one language, and a filter on one missed the
-- other's reviews.
update reviews set language = 'no' where language = 'nb';
