"""Lazy, seeded review titles and bodies.

Texts are never stored: each is rebuilt from ``(seed, content index)`` when a page needs it, so a
100k-review site costs only its compact index.  Word choice follows the latent 0-100 opinion so a
plain lexicon sentiment model correlates with the published score.
"""

from __future__ import annotations

import random
from importlib import resources

POS = (
    "brilliant", "wonderful", "superb", "moving", "beautiful", "masterful", "delightful", "gripping",
    "excellent", "luminous", "remarkable", "charming", "powerful", "joyful", "stunning", "great",
)
NEG = (
    "tedious", "dull", "boring", "clumsy", "lifeless", "awful", "disappointing", "shallow",
    "forgettable", "tiresome", "hollow", "terrible", "weak", "muddled", "bland", "bad",
)
NOUNS = (
    "script", "cinematography", "score", "pacing", "third act", "ending", "dialogue", "editing",
    "production design", "lead performance", "supporting cast", "sound design", "premise",
)
POS_CLOSERS = (
    "I loved every minute of it.", "Highly recommended.", "A triumph, plain and simple.",
    "One of the best films of the year.", "I would happily watch it again.",
)
NEG_CLOSERS = (
    "A waste of time, sadly.", "Not recommended.", "I hated most of it.", "What a mess.",
    "Hard to sit through, and harder to recommend.",
)
MID_CLOSERS = ("Worth a look, with reservations.", "A mixed bag.", "Fine, but forgettable in places.")

EN_TEMPLATES = (
    "The {noun} is {adj}.",
    "{director}'s direction feels {adj}, and the {noun} is {adj2}.",
    "I found the {noun} {adj}.",
    "{title} is a {adj} {genre}.",
    "Few {genres} this year are as {adj} as this one.",
    "Honestly, the {noun} is {adj} and the {noun2} is {adj2}.",
    "By the halfway point the film becomes {adj}.",
    "What stays with you is how {adj} the {noun} is.",
)

FOREIGN: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "fr": (
        ("magnifique", "bouleversant", "brillant", "superbe"),
        ("ennuyeux", "raté", "plat", "décevant"),
        ("Le scénario est {adj}.", "Le rythme est {adj}.", "{title} est un film {adj}.",
         "La mise en scène de {director} est d'un style {adj}."),
    ),
    "es": (
        ("magnífico", "brillante", "conmovedor", "excelente"),
        ("aburrido", "torpe", "decepcionante", "vacío"),
        ("El guion es {adj}.", "El ritmo es {adj}.", "{title} es un filme {adj}.",
         "El trabajo de {director} resulta {adj}."),
    ),
    "de": (
        ("großartig", "bewegend", "brillant", "wunderbar"),
        ("langweilig", "misslungen", "flach", "enttäuschend"),
        ("Das Drehbuch ist {adj}.", "Der Rhythmus ist {adj}.", "{title} ist {adj}.",
         "Die Regie von {director} ist {adj}."),
    ),
    "pt": (
        ("magnífico", "brilhante", "comovente", "excelente"),
        ("aborrecido", "fraco", "decepcionante", "vazio"),
        ("O roteiro é {adj}.", "O ritmo é {adj}.", "{title} é um filme {adj}.",
         "O trabalho de {director} é {adj}."),
    ),
}

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = '"><img src=x onerror=alert(1)>'
HOSTILE_SQL = "'); DROP TABLE reviews; --"


def seed_review_text() -> str:
    """The verbatim Her (2013) user review shipped with the package (outer whitespace trimmed)."""
    ref = resources.files("flows.demosite").joinpath("data/her-2013-user-review.txt")
    return ref.read_text(encoding="utf-8").strip()


def _pick(rng: random.Random, seq: tuple[str, ...]) -> str:
    # random() is a single C call; Random.choice costs several Python frames per word.
    return seq[int(rng.random() * len(seq))]


def _p_pos(latent: int) -> float:
    # Steep around the middle so word choice tracks the score closely (lexicon models correlate).
    return min(0.95, max(0.05, 0.5 + (latent - 55) * 0.025))


def _plural(genre: str) -> str:
    return genre[:-1] + "ies" if genre.endswith("y") else genre + "s"


def _sentence(rng: random.Random, p_pos: float, film_title: str, director: str, genre: str) -> str:
    def adj() -> str:
        return _pick(rng, POS if rng.random() < p_pos else NEG)

    t = _pick(rng, EN_TEMPLATES)
    s = t.format(
        noun=_pick(rng, NOUNS), noun2=_pick(rng, NOUNS), adj=adj(), adj2=adj(), title=film_title,
        director=director, genre=genre, genres=_plural(genre),
    )
    return s[0].upper() + s[1:]


def _closer(rng: random.Random, latent: int) -> str:
    if latent >= 65:
        return _pick(rng, POS_CLOSERS)
    if latent <= 45:
        return _pick(rng, NEG_CLOSERS)
    return _pick(rng, MID_CLOSERS)


def make_body(
    seed: int, content: int, latent: int, language: str, film_title: str, director: str, genre: str,
    paragraphs: int | None = None,
) -> str:
    """A clean review body: paragraphs separated by a blank line, no outer whitespace."""
    rng = random.Random(f"{seed}:body:{content}")
    n_par = paragraphs or (1, 1, 2, 2, 3)[int(rng.random() * 5)]
    if language != "en":
        pos, neg, templates = FOREIGN[language]
        sents = [
            _pick(rng, templates).format(
                adj=_pick(rng, pos if rng.random() < _p_pos(latent) else neg),
                title=film_title, director=director,
            )
            for _ in range(rng.randint(2, 4) * n_par)
        ]
        return " ".join(sents)
    paras = []
    p_pos = _p_pos(latent)
    for _ in range(n_par):
        count = rng.randint(2, 5) if paragraphs is None else 7
        paras.append(" ".join(_sentence(rng, p_pos, film_title, director, genre) for _ in range(count)))
    paras[-1] += " " + _closer(rng, latent)
    return "\n\n".join(paras)


def cut_off(body: str) -> str:
    """Truncate mid-sentence, as a broken CMS export would."""
    words = body.split(" ")
    cut = max(3, int(len(words) * 0.6))
    while cut < len(words) and words[cut - 1].endswith((".", "!", "?")):
        cut += 1
    return " ".join(words[:cut]).rstrip(".,!?")


def make_title(seed: int, content: int, latent: int, audience: str, film_title: str) -> str:
    rng = random.Random(f"{seed}:title:{content}")
    word = _pick(rng, POS if rng.random() < _p_pos(latent) else NEG)
    if audience == "user":
        if rng.random() < 0.5:
            return ""  # many user reviews are untitled
        return _pick(rng, (f"{word.capitalize()}!", f"Just {word}", f"{film_title}? {word.capitalize()}."))
    return _pick(rng,
        (
            f"{film_title}: {'an' if word[0] in 'aeiou' else 'a'} {word} {_pick(rng, NOUNS)}",
            f"Review: {film_title}",
            f"‘{film_title}’ is {word}",
            f"{film_title} review – {word} and {_pick(rng, POS + NEG)}",
        )
    )


def mojibake(clean: str) -> str:
    """What a UTF-8 text looks like after being mis-decoded as windows-1252 by a CMS."""
    # Bytes undefined in cp1252 (0x81, 0x8D, ...) pass through as C1 controls, the way browsers
    # and ftfy's "sloppy-windows-1252" treat them, so every text has a mojibake form.
    out = []
    for b in clean.encode("utf-8"):
        try:
            out.append(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(b))
    return "".join(out)


MOJIBAKE_SENTENCES = (
    "We met at a small café before the screening, and I don’t regret it.",
    "It’s a naïve film in the best sense, a real crowd-pleaser.",
    "The rôle suits her, and the finale is the best part.",
)
ENTITY_SENTENCES = (
    "It plays like Tom &amp; Jerry with a bigger budget.",
    "Think Tom &amp; Jerry, but with heartbreak &amp; longing.",
)
