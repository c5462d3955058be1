"""Deterministic films, outlets and people for the demo site.

Everything here is derived from the seed with string-seeded ``random.Random`` instances, which
hash the seed text with SHA-512 and are therefore stable across processes and Python versions
(unlike ``hash()``-based seeding).
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

HER_IMDB = "tt1798709"

# Outlets and the date format each one habitually prints (the crawler must normalise all three).
OUTLETS: tuple[tuple[str, str], ...] = (
    ("The Evening Ledger", "dmy"),
    ("Screen & Sprocket", "mdy"),
    ("Cahiers du Néon", "iso"),
    ("Reel Quarterly", "mdy"),
    ("Northern Lights Film Review", "dmy"),
    ("The Projectionist", "iso"),
    ("Kinoblatt Daily", "dmy"),
    ("Celluloid Dispatch", "mdy"),
)

# Fixed names that exercise non-ASCII handling; the rest are combined from the lists below.
FIXED_CRITICS = ("Zoë Ångström", "Łukasz Żuławski", "José Martínez", "Søren Lindqvist")
FIXED_USERS = ("Nguyễn Thị Lan", "山田太郎", "Robert'); DROP TABLE reviews; --")
FIRST = (
    "Anna", "Marcus", "Priya", "Tomás", "Ingrid", "Kwame", "Elena", "Hiroshi", "Fatima", "Oliver",
    "Chloé", "Dmitri", "Amara", "Lars", "Beatriz", "Rahul", "Siobhan", "Mateo", "Yuki", "Grace",
    "Jonas", "Leila", "Pierre", "Hannah", "Ravi", "Camille", "Bruno", "Aisha", "Niall", "Marta",
)
LAST = (
    "Holloway", "Okafor", "Brennan", "Castellanos", "Fischer", "Nakamura", "Delacroix", "Whitaker",
    "Moreau", "Kowalski", "Ferreira", "Lindgren", "Adeyemi", "Sullivan", "Romero", "Bergström",
    "Haddad", "Novak", "Quinn", "Van der Berg", "Costa", "Mehta", "Duarte", "Ashworth", "Petrov",
)
HANDLE_A = ("popcorn", "reel", "cinema", "midnight", "velvet", "matinee", "noir", "frame", "lens")
HANDLE_B = ("oracle", "junkie", "owl", "ghost", "critic", "fan", "nerd", "dreamer", "buff")

ADJ = (
    "Silent", "Crimson", "Last", "Broken", "Golden", "Hidden", "Distant", "Electric", "Paper",
    "Hollow", "Burning", "Quiet", "Northern", "Velvet", "Iron", "Glass", "Wild", "Lonely",
)
NOUN = (
    "Harbor", "Summer", "Orchard", "Signal", "Kingdom", "Witness", "River", "Lantern", "Garden",
    "Tide", "Frontier", "Letter", "Choir", "Machine", "Horizon", "Promise", "Winter", "Bridge",
)
PLACE = ("Lisbon", "Marseille", "Osaka", "Tangier", "Reykjavík", "Montevideo", "Kraków", "Detroit")
GENRES = ("drama", "thriller", "comedy", "romance", "documentary", "horror", "western", "musical")
DIRECTORS = (
    "Agnès Marceau", "Tobias Renner", "Mei Lin Zhao", "Carlos Ibáñez", "Ruth Adebayo",
    "Henrik Dahl", "Paulina Wróbel", "Samuel Achterberg", "Noor Rahman", "Julien Ferrand",
)


@dataclass(frozen=True)
class Film:
    index: int
    key: str  # stable id of the true film, e.g. "f0003"
    slug: str
    title: str  # clean title
    year: int
    imdb_id: str | None
    director: str
    genre: str
    jsonld_wrap: str  # "plain" | "cdata" | "comment"
    extra_block: str | None  # "organization" | "breadcrumb" | None

    @property
    def title_jsonld(self) -> str:
        # Real sites double-encode "&" in JSON-LD text; the truth keeps the clean title.
        return self.title.replace("&", "&amp;")

    @property
    def imdb_url(self) -> str | None:
        return f"https://www.imdb.com/title/{self.imdb_id}/" if self.imdb_id else None


@dataclass(frozen=True)
class Person:
    index: int  # global: critics first, then users
    key: str  # "c007" / "u0042"
    slug: str
    name: str
    audience: str  # "critic" | "user"
    outlets: tuple[str, ...]  # critics only; the second one is used for syndication
    date_style: str  # habitual date format ("user" means per-review choice)
    scale: str | None  # habitual rating scale, None = never rates
    charset: str  # "utf-8" or "windows-1252" for their pages

    @property
    def path(self) -> str:
        return f"/{self.audience}/{self.slug}/"


_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Đ": "D", "đ": "d"})


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def _cp1252_ok(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def build_films(seed: int, n: int) -> list[Film]:
    rng = random.Random(f"{seed}:films")
    her_a, her_b, tom = 2 % n, (n // 2 + 1) % n, (7 % n) if n > 7 else None
    titles: set[str] = set()
    used_ids = {HER_IMDB}
    films: list[Film] = []
    for i in range(n):
        if i == her_a:
            title, year, imdb, director, genre = "Her", 2013, HER_IMDB, "Spike Jonze", "romance"
        elif i == her_b and her_b != her_a:
            # A second, unrelated "Her": same title, different year, its own id.
            title, year, imdb, director, genre = "Her", 1998, "tt0211467", "Mira Kovač", "drama"
            used_ids.add(imdb)
        else:
            if i == tom:
                title = "Tom & Jerry: Night Shift"
            else:
                title = _invent_title(rng, titles)
            year = rng.randint(1962, 2026)
            director = rng.choice(DIRECTORS)
            genre = rng.choice(GENRES)
            imdb = None
            if rng.random() < 0.9:  # most films are on IMDb, a few are not
                digits = 7 if rng.random() < 0.7 else 8
                while imdb is None or imdb in used_ids:
                    imdb = "tt" + str(rng.randrange(10 ** (digits - 1), 10**digits))
                used_ids.add(imdb)
        titles.add(title)
        wrap = ("plain", "cdata", "comment")[i % 3]
        extra = {0: "organization", 1: "breadcrumb"}.get(i % 5)
        films.append(
            Film(i, f"f{i:04d}", f"{slugify(title) or 'film'}-{year}", title, year, imdb, director, genre,
                 wrap, extra)
        )
    _dedupe_slugs(films)
    return films


def _invent_title(rng: random.Random, taken: set[str]) -> str:
    while True:
        form = rng.randrange(5)
        adj, noun, place = rng.choice(ADJ), rng.choice(NOUN), rng.choice(PLACE)
        title = (
            f"The {adj} {noun}",
            f"{noun} of {place}",
            f"{adj} {noun}s",
            f"A {noun} in {place}",
            f"{rng.choice(FIRST)}'s {noun}",
        )[form]
        if title not in taken:
            return title


def _dedupe_slugs(items: list) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        n = seen.get(item.slug, 0)
        seen[item.slug] = n + 1
        if n:
            object.__setattr__(items[i], "slug", f"{item.slug}-{n + 1}")


CRITIC_SCALES = (
    "ten", "five", "stars_half", "stars_slots", "four", "four_frac", "letter", "hundred", "fresh",
    "thumbs", "ten", "letter", "five", "stars_half", "hundred", None,
)
USER_SCALES = ("ten", "five", "stars_slots", "thumbs", "ten")
N_CRITICS = 60
N_CP1252 = 4


def build_people(seed: int, n_users: int) -> list[Person]:
    rng = random.Random(f"{seed}:people")
    names: set[str] = set()

    def handle() -> str:
        name = f"{rng.choice(HANDLE_A)}_{rng.choice(HANDLE_B)}{rng.randrange(10, 1000)}"
        while name in names:
            name += str(rng.randrange(10))
        return name

    def fresh_name() -> str:
        for attempt in range(60):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            # Middle initials widen the small name space once plain combinations run out.
            name = f"{first} {chr(65 + rng.randrange(26))}. {last}" if attempt > 20 else f"{first} {last}"
            if name not in names:
                return name
        return handle()

    people: list[Person] = []
    cp1252_left = N_CP1252
    for i in range(N_CRITICS):
        name = FIXED_CRITICS[i] if i < len(FIXED_CRITICS) else fresh_name()
        names.add(name)
        scale = CRITIC_SCALES[i % len(CRITIC_SCALES)]
        o1 = OUTLETS[i % len(OUTLETS)]
        o2 = OUTLETS[(i + 3) % len(OUTLETS)]
        # A few critics' pages are served as windows-1252; pick ones whose name and rating fit.
        charset = "utf-8"
        if cp1252_left and i % 7 == 2 and _cp1252_ok(name) and scale not in ("stars_half", "stars_slots"):
            charset, cp1252_left = "windows-1252", cp1252_left - 1
        people.append(
            Person(i, f"c{i:03d}", slugify(name), name, "critic", (o1[0], o2[0]), o1[1], scale, charset)
        )
    for j in range(n_users):
        if j < len(FIXED_USERS):
            name = FIXED_USERS[j]
        elif rng.random() < 0.45:
            name = handle()
        else:
            name = fresh_name()
        names.add(name)
        scale = USER_SCALES[j % len(USER_SCALES)] if j % 3 else None
        slug = slugify(name) or f"user-{j}"
        people.append(Person(N_CRITICS + j, f"u{j:05d}", slug, name, "user", (), "user", scale, "utf-8"))
    _dedupe_slugs(people)
    return people
