"""``DemoSite``: a compact, seeded review index plus lazy resolution of full review entries."""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from . import text
from .catalogue import N_CRITICS, Film, Person, build_films, build_people
from .ratings import Rating, make_rating

# 12 ISO weeks ending Sunday 2026-11-22: Monday 2026-08-31 .. Sunday 2026-11-22.
ANCHOR_END = dt.date(2026, 11, 22)
N_DAYS = 84
FIRST_DAY = ANCHOR_END - dt.timedelta(days=N_DAYS - 1)
LAST_MODIFIED = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
PER_PAGE = 20
FEED_SIZE = 50
LANGS = ("en", "fr", "es", "de", "pt")
USER_DATE_STYLES = ("iso", "dmy", "mdy", "relative")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
VARIANTS = ("standard", "redesigned")  # redesigned: no schema.org markup (see routes._variant)


@dataclass(frozen=True)
class Review:
    """One published review entry, fully resolved (texts generated on demand)."""

    index: int
    identifier: str
    film: Film
    person: Person
    position: int  # position within the film's review list
    outlet: str | None
    rating: Rating | None
    title: str  # clean
    title_published: str  # exactly as put in the page
    body: str  # clean
    body_published: str
    published_on: dt.date
    date_displayed: str
    language: str
    has_language: bool  # whether inLanguage is published
    film_name_shown: str  # itemReviewed name on person pages / feed (may be a title variant)
    syndication_group: str | None
    special: str | None

    @property
    def audience(self) -> str:
        return self.person.audience

    @property
    def path(self) -> str:
        return f"/review/{self.identifier}/"


class DemoSite:
    """A deterministic demo review site.  Cheap to build: one small int record per review."""

    def __init__(
        self,
        films: int = 40,
        reviews_per_film: int = 75,
        seed: int = 7,
        variant: str = "standard",
        now: dt.datetime | None = None,
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; choose {' or '.join(VARIANTS)}")
        if films < 4 or reviews_per_film < 10:
            raise ValueError("need at least 4 films and 10 reviews per film: the site always publishes its special "
                             "cases (the seed review of Her, a syndicated copy, hostile and mojibake texts)")
        self.n_films = films
        self.reviews_per_film = reviews_per_film
        self.seed = seed
        self.variant = variant
        self.now = now or dt.datetime.now(dt.UTC)
        self.films: list[Film] = build_films(seed, films)
        total = films * reviews_per_film
        if total >= 10**6:  # identifiers are r + 6 digits
            raise ValueError("at most 999,999 reviews")
        self.n_users = max(100, total // 25)
        self.people: list[Person] = build_people(seed, self.n_users)
        self.critics = self.people[:N_CRITICS]
        self.users = self.people[N_CRITICS:]
        self._film_by_slug = {f.slug: f for f in self.films}
        self._person_by_path = {p.path: p for p in self.people}
        self._build_index(total)
        self._cache_review = lru_cache(maxsize=4096)(self._resolve)
        self._aggregates: dict[int, tuple[float | None, int, int]] = {}

    # -- index ---------------------------------------------------------------------------------
    def _build_index(self, total: int) -> None:
        rpf, seed = self.reviews_per_film, self.seed
        self._person = array("I", bytes(4 * total))
        self._day = array("B", bytes(total))
        self._latent = array("B", bytes(total))
        self._flags = array("B", bytes(total))  # bit0 rated, 1-3 lang, 4 no inLanguage, 5-7 misc
        n_crit = min(round(rpf * 0.3), N_CRITICS - 1)
        n_usr = rpf - n_crit
        self.syndicated_critic = 4
        self.syndicated_film = 0
        for f in range(self.n_films):
            rng = random.Random(f"{seed}:index:{f}")
            crit_pool = [c for c in range(N_CRITICS) if f != self.syndicated_film or c != 4]
            crit = rng.sample(crit_pool, n_crit)
            if n_usr <= self.n_users:
                usr = rng.sample(range(self.n_users), n_usr)
            else:  # only for absurd reviews_per_film; users then review a film more than once
                usr = rng.choices(range(self.n_users), k=n_usr)
            persons = crit + [N_CRITICS + u for u in usr]
            rng.shuffle(persons)
            if f == self.syndicated_film:
                persons[0] = persons[1] = self.syndicated_critic
            quality = rng.gauss(62, 16)
            base = f * rpf
            for pos, person in enumerate(persons):
                i = base + pos
                self._person[i] = person
                self._latent[i] = max(0, min(100, int(rng.gauss(quality, 15))))
                self._day[i] = rng.randrange(N_DAYS)
                r = rng.random()
                lang = 0 if r >= 0.04 else 1 + int(r / 0.01)
                self._flags[i] = (
                    (rng.random() < 0.7)
                    | lang << 1
                    | (rng.random() < 0.05) << 4
                    | rng.randrange(4) << 5  # user date style
                    | (rng.random() < 0.3) << 7  # show a title variant on person pages
                )
        s0 = self.syndicated_film * rpf
        self._latent[s0 + 1] = self._latent[s0]
        self._day[s0 + 1] = min(N_DAYS - 1, self._day[s0] + 2)
        self._place_specials()
        by_person: list[list[int]] = [[] for _ in self.people]
        for i, p in enumerate(self._person):
            by_person[p].append(i)
        self._by_person = [array("I", lst) for lst in by_person]

    def _place_specials(self) -> None:
        rpf, n = self.reviews_per_film, self.n_films
        s0 = self.syndicated_film * rpf
        self.special: dict[int, str] = {s0: "syndicated", s0 + 1: "syndicated_copy"}
        her = 2 % n
        seed_entry = her * rpf + 2
        if self._person[seed_entry] < N_CRITICS:  # the seed review must be a user's
            j = next(her * rpf + p for p in range(rpf) if self._person[her * rpf + p] >= N_CRITICS)
            self._person[seed_entry], self._person[j] = self._person[j], self._person[seed_entry]
        self.special[seed_entry] = "seed"

        def pick(kind: str, audience: str, film: int) -> None:
            for k in range(n):
                base = ((film + k) % n) * rpf
                for pos in range(rpf):
                    i = base + pos
                    is_critic = self._person[i] < N_CRITICS
                    if i not in self.special and is_critic == (audience == "critic"):
                        self.special[i] = kind
                        return

        for kind, audience, film in (
            ("hostile_title", "critic", 4), ("hostile_img", "user", 5), ("hostile_all", "critic", 6),
            ("mojibake", "user", 7), ("mojibake", "user", 8), ("mojibake", "critic", 9),
            ("entity", "critic", 10), ("entity", "user", 11), ("long", "critic", 12),
            ("long", "critic", 13), ("cutoff", "user", 14),
        ):
            pick(kind, audience, film)
        # The user whose name is an SQL injection must publish at least one review.
        sql_user = N_CRITICS + 2
        if sql_user not in self._person:
            film = 3 % n
            slot = next(film * rpf + p for p in range(rpf) if self._person[film * rpf + p] >= N_CRITICS
                        and film * rpf + p not in self.special)
            self._person[slot] = sql_user

    # -- public iteration ----------------------------------------------------------------------
    @property
    def n_reviews(self) -> int:
        return len(self._person)

    def iter_reviews(self) -> Iterator[Review]:
        for i in range(self.n_reviews):
            yield self._resolve(i)

    def review(self, index: int) -> Review:
        return self._cache_review(index)

    def film_reviews(self, film: Film, start: int = 0, stop: int | None = None) -> list[Review]:
        base = film.index * self.reviews_per_film
        stop = self.reviews_per_film if stop is None else min(stop, self.reviews_per_film)
        return [self.review(base + p) for p in range(start, stop)]

    def person_review_indices(self, person: Person) -> array:
        return self._by_person[person.index]

    def film_by_slug(self, slug: str) -> Film | None:
        return self._film_by_slug.get(slug)

    def person_by_path(self, path: str) -> Person | None:
        return self._person_by_path.get(path)

    def review_by_identifier(self, identifier: str) -> Review | None:
        if len(identifier) != 7 or identifier[0] != "r" or not identifier[1:].isdigit():
            return None
        i = int(identifier[1:])
        return self.review(i) if i < self.n_reviews else None

    def pages_of(self, index: int) -> list[str]:
        """Paths where the entry appears as structured data (film page, person page, feed)."""
        film = self.films[index // self.reviews_per_film]
        fp = index % self.reviews_per_film // PER_PAGE + 1
        paths = [f"/film/{film.slug}/" if fp == 1 else f"/film/{film.slug}/reviews/page/{fp}/"]
        person = self.people[self._person[index]]
        pp = bisect.bisect_left(self._by_person[person.index], index) // PER_PAGE + 1
        paths.append(person.path if pp == 1 else f"{person.path}?page={pp}")
        if index in self.feed_indices():
            paths.append("/feed.xml")
        return paths

    @lru_cache(maxsize=1)  # noqa: B019 - one site per process in practice; caching the sort
    def feed_indices(self) -> tuple[int, ...]:
        return tuple(heapq.nlargest(FEED_SIZE, range(self.n_reviews), key=lambda i: (self._day[i], i)))

    def film_aggregate(self, film: Film) -> tuple[float | None, int, int]:
        """(mean score on 0-5, ratingCount, reviewCount) from scored reviews of the film."""
        if film.index not in self._aggregates:
            self._aggregates[film.index] = self._aggregate(film)
        return self._aggregates[film.index]

    def _aggregate(self, film: Film) -> tuple[float | None, int, int]:
        base = film.index * self.reviews_per_film
        # Ratings come from the compact index alone, so no review text is generated here.
        ratings = (self._rating(i) for i in range(base, base + self.reviews_per_film))
        scores = [r.score for r in ratings if r and r.score is not None]
        mean = round(sum(scores) / len(scores) / 20, 2) if scores else None
        return mean, len(scores), self.reviews_per_film

    # -- resolution ----------------------------------------------------------------------------
    def _rating(self, i: int) -> Rating | None:
        person = self.people[self._person[i]]
        if person.scale is None or self.special.get(i) == "seed":
            return None
        if person.audience == "user" and not self._flags[i] & 1:
            return None
        return make_rating(person.scale, self._latent[i])

    def _resolve(self, i: int) -> Review:
        rpf, seed = self.reviews_per_film, self.seed
        film = self.films[i // rpf]
        person = self.people[self._person[i]]
        special = self.special.get(i)
        flags = self._flags[i]
        latent = self._latent[i]
        content = i - 1 if special == "syndicated_copy" else i
        lang = LANGS[(flags >> 1) & 7]
        if special:
            lang = "en"
        rating = self._rating(i)
        outlet = None
        if person.audience == "critic":
            outlet = person.outlets[1] if special == "syndicated_copy" else person.outlets[0]
        title = text.make_title(seed, content, latent, person.audience, film.title)
        if special == "seed":
            title, body = "", text.seed_review_text()
        else:
            paragraphs = 12 if special == "long" else None
            body = text.make_body(seed, content, latent, lang, film.title, film.director, film.genre,
                                  paragraphs)
        title_pub, body_pub = title, body
        if special == "hostile_title":
            title = title_pub = text.HOSTILE_SCRIPT
        elif special == "hostile_img":
            body = body_pub = f"{body} {text.HOSTILE_IMG}"
        elif special == "hostile_all":
            title = title_pub = f"{film.title} {text.HOSTILE_IMG}"
            body = body_pub = f"{text.HOSTILE_SCRIPT} {body}\n\n{text.HOSTILE_SQL}"
        elif special == "mojibake":
            body = f"{text.MOJIBAKE_SENTENCES[i % 3]} {body}"
            body_pub = text.mojibake(body)
        elif special == "entity":
            body_pub = f"{body} {text.ENTITY_SENTENCES[i % 2]}"
            body = body_pub.replace("&amp;", "&")
            if person.audience == "critic":
                title_pub = f"{film.title}: Tom &amp; Jerry for grown-ups"
                title = title_pub.replace("&amp;", "&")
        elif special == "cutoff":
            body = body_pub = text.cut_off(body)
        day = FIRST_DAY + dt.timedelta(days=self._day[i])
        style = person.date_style if person.audience == "critic" else USER_DATE_STYLES[(flags >> 5) & 3]
        if special == "seed":
            style = "iso"
        shown = film.title
        if (flags >> 7) & 1:  # person pages sometimes name the film by a variant of its title
            shown = film.title.lower() if i % 2 else f"{film.title} ({film.year})"
        group = None
        if special in ("syndicated", "syndicated_copy"):
            group = f"synd-{self._ident(i - (special == 'syndicated_copy'))}"
        return Review(
            index=i, identifier=self._ident(i), film=film, person=person, position=i % rpf,
            outlet=outlet, rating=rating, title=title, title_published=title_pub, body=body,
            body_published=body_pub, published_on=day, date_displayed=self.display_date(day, style),
            language=lang, has_language=not (flags >> 4) & 1, film_name_shown=shown,
            syndication_group=group, special=special,
        )

    @staticmethod
    def _ident(i: int) -> str:
        return f"r{i:06d}"

    def display_date(self, day: dt.date, style: str) -> str:
        if style == "dmy":
            return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
        if style == "mdy":
            return f"{MONTHS[day.month - 1][:3]} {day.day}, {day.year}"
        if style == "relative":
            days = (self.now.date() - day).days
            if days >= 0:  # a "now" before the date cannot be shown relatively; fall back to ISO
                return "today" if days == 0 else "1 day ago" if days == 1 else f"{days} days ago"
        return day.isoformat()
