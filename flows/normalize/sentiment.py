"""Inferred 0-100 score for reviews that carry no explicit rating, from VADER sentiment.

Why per sentence: VADER's compound score sums valences and squashes them with x/sqrt(x^2+15), so any
review longer than a paragraph saturates near +1 or -1 and the score degenerates into a coin (the
tests' seed review scores 0.9999 as a whole, indistinguishable from any other mostly-kind text).
Scoring each sentence and averaging the sentences that carry sentiment keeps the result graded and
follows the balance of the verdict; plot-summary sentences score 0 and are left out so they do not
drag every review toward 50.

This is an estimate for ranking and gap-filling only; explicit ratings always win downstream.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+|\n+")
_NEUTRAL = 0.05  # VADER's own cut-off between neutral and opinionated


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Reading the lexicon costs ~50 ms; one analyzer per process.
    return SentimentIntensityAnalyzer()


def _score(analyzer: SentimentIntensityAnalyzer, text: str | None) -> float | None:
    if not text or not text.strip():
        return None
    sentences = [s for s in _SENTENCE_SPLIT.split(text) if s.strip()]
    compounds = [analyzer.polarity_scores(s)["compound"] for s in sentences]
    opinionated = [c for c in compounds if abs(c) >= _NEUTRAL]
    compound = sum(opinionated) / len(opinionated) if opinionated else 0.0
    return round((compound + 1.0) * 50.0, 2)


def infer_score(text: str | None) -> float | None:
    """0-100 sentiment score ((compound + 1) * 50, averaged over opinionated sentences); None if empty."""
    return _score(_analyzer(), text)


def infer_scores(texts: Sequence[str | None]) -> list[float | None]:
    """``infer_score`` over a batch, sharing one analyzer."""
    analyzer = _analyzer()
    return [_score(analyzer, text) for text in texts]
