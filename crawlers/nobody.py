"""Bylines that name nobody ("Anonymous", "Guest", "[deleted]"): many people's reviews under one label.

Such a review has no author to tell it apart from another, so where it also has no id of its own it is
known by its text (crawlers/extraction.py keeps one copy per page, crawlers/pipelines.py InRunDuplicatesPipeline
one per run, flows/normalize/assemble.py SOURCE_KEY keys it).
The warehouse's SQL macro `names_nobody` (warehouse/sql/macros.sql) holds the same names, as name keys
(flows.normalize.text.normalize_person); a test keeps the two lists equal.
"""

from __future__ import annotations

import re
import unicodedata

NOBODY_NAMES = frozenset({
    "anonymous", "anon", "anonymous user", "anonymous reviewer", "anonyme", "anonym", "anonimo", "anonima",
    "anoniem", "guest", "guest user", "gast", "invite", "invitado", "ospite", "convidado", "unknown",
    "unknown user", "inconnu", "unbekannt", "desconocido", "sconosciuto", "deleted", "deleted user", "user",
    "a user", "reader", "a reader", "visitor", "nobody", "someone", "none", "null", "na", "n a",
    "utilisateur anonyme", "utilisateur supprime", "utilisateur inconnu", "usuario anonimo", "usuario eliminado",
    "usuario desconocido", "anonymer nutzer", "anonymer benutzer", "geloschter nutzer", "geloschter benutzer",
    "unbekannter nutzer", "unbekannter benutzer", "utente anonimo", "utente eliminato", "utente sconosciuto",
    "anonieme gebruiker", "verwijderde gebruiker", "onbekende gebruiker", "utilizador anonimo", "removed",
    "deleted account",
})

_NON_WORD = re.compile(r"[\W_]+")
_APOSTROPHES = re.compile(r"['’`´]")
_BYLINE = re.compile(r"^\s*by\s+", re.IGNORECASE)
# Where a byline may add an outlet: "Anonymous, Letterboxd", "Guest - The Daily", "Anonymous (Variety)".
_OUTLET_AFTER = re.compile(r"\s*(?:,|\s[-–—|/•·]\s|\s(?:of|for|at)\s|\()")


def _name_key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", _APOSTROPHES.sub("", folded)).strip()


def names_nobody(name: str | None, outlet: str | None = None) -> bool:
    """Whether a byline is missing or names nobody, compared as a name key (accents, case and punctuation
    folded: "[Deleted]", "Invité", "N/A"), with or without a leading "By ", and without the review's own
    outlet after it ("Anonymous, Letterboxd" for a review from Letterboxd), as the warehouse reads bylines
    ("Guest, Christopher" is Christopher Guest)."""
    if not name or not name.strip():
        return True
    alone = _BYLINE.sub("", name)
    candidates = [name, alone]
    found = _OUTLET_AFTER.search(alone)
    if found and outlet and _name_key(alone[found.end():].removesuffix(")")) == _name_key(outlet):
        candidates.append(alone[:found.start()])
    # A name of no letter or digit ("???", "—") names nobody either, as the warehouse's names_nobody reads it.
    return any(not (key := _name_key(candidate)) or key in NOBODY_NAMES for candidate in candidates)
