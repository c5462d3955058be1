"""Scraped text that cannot move the figures printed beside it.

Unicode's bidirectional algorithm lets text reorder what follows it: an unclosed RIGHT-TO-LEFT
OVERRIDE (U+202E) in a critic's name reverses the rest of the line, so "(+8.6)" reads "(6.8+)",
and even plain Hebrew or Arabic pulls an adjacent number into its right-to-left run. So every
scraped string the report prints loses its embedding, override and isolate controls (U+202A-U+202E,
U+2066-U+2069; legitimate text needs none of them), and what is left is isolated: in the HTML in
<bdi> (render.py), in the Markdown between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE when it
holds right-to-left characters. An isolate is a neutral to the text around it and reorders only
inside itself, so a Hebrew name reads right to left and the score after it stays where it is. The
marks U+200E, U+200F and U+061C are kept: they open nothing, and inside an isolate they stay there.
Control characters (C0 and C1 but tab and newlines, and DEL) go too: invalid in HTML, and an ESC in a
rating recoloured the terminal of whoever printed the report.
"""

from __future__ import annotations

import re
import unicodedata

CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
FSI, PDI = "\u2068", "\u2069"
# Bidi classes that make a run right to left or join one: Hebrew and the like (R), Arabic letters
# (AL), Arabic-Indic digits (AN). RLM (U+200F) is R and ALM (U+061C) is AL, so text with them is isolated.
_RIGHT_TO_LEFT = frozenset({"R", "AL", "AN"})


def strip_controls(text: str) -> str:
    """text without embedding, override and isolate controls, nor control characters."""
    return CONTROLS.sub("", text)


def has_right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in _RIGHT_TO_LEFT for char in text)


def isolate(text: str) -> str:
    """Plain-text isolation for text already stripped of controls: FSI...PDI around text with
    right-to-left characters; left-to-right text is returned as it is (no invisible characters)."""
    return f"{FSI}{text}{PDI}" if has_right_to_left(text) else text
