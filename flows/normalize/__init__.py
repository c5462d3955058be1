"""Pure normalization functions used by the normalize flows.

Everything here is side-effect free and deterministic so Prefect tasks can call it on the distinct
values of a batch and join the results back in DuckDB.
"""

from flows.normalize.dates import ParsedDate, parse_distinct, parse_published
from flows.normalize.keys import normalize_person, normalize_title
from flows.normalize.language import detect_language, detect_languages
from flows.normalize.ratings import Rating, parse_rating, rate_distinct
from flows.normalize.sentiment import infer_score, infer_scores
from flows.normalize.text import clean_text

__all__ = [
    "ParsedDate",
    "Rating",
    "clean_text",
    "detect_language",
    "detect_languages",
    "infer_score",
    "infer_scores",
    "normalize_person",
    "normalize_title",
    "parse_distinct",
    "parse_published",
    "parse_rating",
    "rate_distinct",
]
