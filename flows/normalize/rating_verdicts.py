"""Binary verdicts: Fresh/Rotten, thumbs, "recommended". They set ``is_positive`` only; inventing a number
for them would bias averages. A negated positive ("Not fresh", "not recommended") is negative; a negated
negative ("not rotten") is no verdict we can trust, so it is a problem, not a guess."""

from __future__ import annotations

import re

# Negations first: "not fresh" contains "fresh".  Up to two words may sit between the negation and
# the verdict ("not so fresh", "not highly recommended", "not a thumbs up").
_NEGATED_RE = re.compile(
    r"(?:\b(?:not|no|non|never)|n['’]t)(?:\s+\w+){0,2}?[\s-]+"
    r"(certified\s+fresh|fresh|rotten|thumbs?[\s-]*(?:up|down)|recommended)\b",
    re.I,
)
_NEGATIVE_RE = re.compile(
    r"\b(?:rotten|thumbs?[\s-]*down|(?:do\s+not|don['’]t|doesn['’]t)\s+recommend"
    r"|(?:recommended|fresh)\s*[:?]\s*no)\b|👎",
    re.I,
)
_POSITIVE_RE = re.compile(r"\b(?:certified\s+fresh|fresh|thumbs?[\s-]*up|recommended)\b|👍", re.I)


def verdict(text: str, quoted: str) -> tuple[bool | None, str | None] | None:
    """(is_positive, problem) of a verdict in `text`, or None when it holds none; `quoted` names it in a problem."""
    negated = _NEGATED_RE.search(text)
    if negated:
        if _NEGATIVE_RE.search(negated.group(1)):
            return None, f"ambiguous verdict: {quoted}"
        return False, None
    if _NEGATIVE_RE.search(text):
        return False, None
    if _POSITIVE_RE.search(text):
        return True, None
    return None
