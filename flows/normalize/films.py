"""One film_id per film across sources.

Matching order, most to least certain: an external id (IMDb tt, TMDB), then the normalized
title with a year within one (release years differ between countries and sites), then a fuzzy
title match above a threshold with a year within one. Two different external ids always mean
two different films, so a remake is never merged into the original. Numbers in titles are compared
as numbers: "Part One", "Part 1" and "Part I" are one title, and titles whose numbers differ
("Vol. 1", "Vol. 2") never match fuzzily, so a sequel a year later is never merged into its original.
The fuzzy ratio is the better of the plain titles' and the titles' with numbers in digits: digits
shorten "thirteen lives", and one typo must weigh no more than it did before numbers were read.
Films that share a title key and a year (older code stored "Saw II" and "Saw 2" apart) are one film
to a mention, with or without a year: it takes the same one of them, and no third is made.
A mention without a year field takes the year written at the end of its title ("Her (2013)",
"Her [2013]"), the same suffix `normalize_title` drops from the key.
A known film without a year matches a dated mention only when no dated film of that title agrees
and it is the only yearless one; it then takes that year, so it never collects a second one.
Only distinct film mentions go through here (a batch has far fewer films than reviews).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from crawlers.title_years import YEAR_SUFFIX, parse_year, title_year
from flows.normalize.keys import normalize_title

FUZZY_THRESHOLD = 90.0
# A sequel's title is its original's plus a number ("kill bill vol 1"/"vol 2" score 93), and sequels
# often come a year apart: titles whose numbers differ never match fuzzily. Numbers are read as
# digits, number words and roman numerals II-XX; "Part One", "Part 1" and "Part I" read alike.
_NUMBER_WORDS = {word: n for n, word in enumerate(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split(), start=1)}
# Words that join a number word into a compound text2num reads ("twenty one" is 21, "Twenty-One Grams" is "21 Grams"):
# read one by one, "twenty one" was 20 and 1, and the two titles never matched (style audit).
_TENS = frozenset("twenty thirty forty fifty sixty seventy eighty ninety hundred".split())
# Roman numerals that are also words: "v" in "Batman v Superman" is versus, "x" in "X-Men" a letter,
# "i" in "I, Robot" a pronoun. They count only after a word that announces a number, and "v"/"x" also
# at the end of the title ("Saw V", "Malcolm X").
_AMBIGUOUS_ROMAN = {"i": 1, "v": 5, "x": 10}
_ROMAN = {numeral: n for n, numeral in enumerate(
    "ii iii iv v vi vii viii ix x xi xii xiii xiv xv xvi xvii xviii xix xx".split(), start=2)
    if numeral not in _AMBIGUOUS_ROMAN}
_NUMBER_MARKERS = frozenset("part pt episode chapter vol volume book".split())
_NUMBER_CANDIDATES = frozenset([*_NUMBER_WORDS, *_TENS, *_ROMAN, *_AMBIGUOUS_ROMAN])
_DIGIT = re.compile(r"\d")
_MAX_NUMBER_WORDS = 6
_MAX_DIGITS = 18  # a longer run of digits is no sequel's number, and int() refuses past 4300 digits


@dataclass
class Film:
    film_id: str
    title_key: str
    year: int | None
    imdb_id: str | None = None
    tmdb_id: str | None = None
    # Other title keys it was met under with its external id (the warehouse's film_titles): it is found by them too.
    aliases: list[str] = field(default_factory=list)


@dataclass
class Mention:
    title: str | None
    year_raw: str | None
    imdb_id: str | None = None
    tmdb_id: str | None = None

    def shown_title(self, film_year: int | None) -> str | None:
        """This mention's title as its film's title: see `display_title`."""
        return display_title(self.title, film_year)


def mention_year(mention: Mention) -> int | None:
    """The mention's year field, else the year at the end of its title."""
    return parse_year(mention.year_raw) or title_year(mention.title)


def display_title(title: str | None, year: int | None) -> str | None:
    """The title to show: without a trailing "(2013)" that repeats the film's year (within one)."""
    match = YEAR_SUFFIX.search(title) if title and year is not None else None
    if match and abs(int(match.group(1)) - year) <= 1 and title[:match.start()].strip():
        return title[:match.start()].strip()
    return title


def _number_at(words: list[str], index: int) -> int | None:
    word = words[index]
    if word.isdecimal():  # not isdigit(): "²" and "፪" are digits that int() cannot read
        return int(word) if len(word) <= _MAX_DIGITS else None
    value = _NUMBER_WORDS.get(word) or _ROMAN.get(word)
    if value is None and word in _AMBIGUOUS_ROMAN:
        after_marker = index > 0 and words[index - 1] in _NUMBER_MARKERS
        at_end = index == len(words) - 1 and word != "i"
        value = _AMBIGUOUS_ROMAN[word] if after_marker or at_end else None
    return value


def _read_numbers(key: str) -> tuple[str, tuple[int, ...]]:
    # Most titles hold no number: a set and a regex test settle those cheaply (the resolver reads every
    # known film's key for every batch).
    words = key.split()
    if _NUMBER_CANDIDATES.isdisjoint(words) and not _DIGIT.search(key):
        return key, ()
    if len(words) == 1 and (words[0] in _NUMBER_WORDS or words[0] in _TENS):
        # A title that is a number word alone is its own title: "Nine" (2009) is not "9" (2009).
        return key, (_NUMBER_WORDS.get(words[0]) or _tens_value(words[0]),)
    numbers = [_number_at(words, i) for i in range(len(words))]
    words, numbers = _compounds(words, numbers)
    return (" ".join(word if n is None else str(n) for word, n in zip(words, numbers, strict=True)),
            tuple(n for n in numbers if n is not None))


def _compounds(words: list[str], numbers: list[int | None]) -> tuple[list[str], list[int | None]]:
    """Runs of number words as the numbers text2num reads in them, longest first: "twenty one" is 21, "seventy seven
    seventy seven" 77 77, "one two three" 1 2 3 (each word its own number)."""
    if _TENS.isdisjoint(words):
        return words, numbers
    from text_to_num import text2num

    joined_words: list[str] = []
    joined: list[int | None] = []
    index = 0
    while index < len(words):
        run_end = index
        while run_end < len(words) and (words[run_end] in _NUMBER_WORDS or words[run_end] in _TENS):
            run_end += 1
        # The longest run from here that reads as one number; a number takes a few words ("nine hundred ninety nine"):
        # a title of a thousand number words must not cost a million tries.
        for end in range(min(run_end, index + _MAX_NUMBER_WORDS), index, -1):
            try:
                value = text2num(" ".join(words[index:end]), "en")
            except ValueError:
                continue
            joined_words.append(" ".join(words[index:end]))
            joined.append(value)
            index = end
            break
        else:  # no number word here (or one text2num does not read): the word as _number_at read it
            joined_words.append(words[index])
            joined.append(numbers[index])
            index += 1
    return joined_words, joined


def _tens_value(word: str) -> int:
    from text_to_num import text2num

    return text2num(word, "en")


def new_film_id(title_key: str, year: int | None, imdb_id: str | None, tmdb_id: str | None, attempt: int = 1) -> str:
    """A new film's id, from what the mention that made it says; `attempt` 2, 3… when that id is taken (a film
    made from a yearless mention keeps its id after it takes a year)."""
    basis = f"imdb:{imdb_id}" if imdb_id else f"tmdb:{tmdb_id}" if tmdb_id else f"title:{title_key}|{year}"
    return "f" + hashlib.sha1((basis if attempt == 1 else f"{basis}#{attempt}").encode()).hexdigest()[:12]


def _letters_differ(key: str, other: str) -> bool:
    """Whether both titles carry a letter standing alone and not the same ones: "Plan A" and "Plan B" score 83,
    "Solo Film A" and "Solo Film B" 91, yet are two films (marts QA); "Batman v Superman" and "Batman vs Superman"
    are one."""
    letters, others = _lone_letters(key), _lone_letters(other)
    return bool(letters and others and letters != others)


def _plural_apart(key: str, other: str) -> bool:
    """Whether the titles differ only by a plural: "Barbarian" and "Barbarians" score 95, "Troll" and "Trolls" 91,
    yet are other films (identity QA); a typo rarely adds an s at a word's end."""
    words, others = key.split(), other.split()
    # Short titles ending in the word only: within a longer title "schindlers" is a possessive whose apostrophe
    # normalize_title dropped ("Schindler List" is a typo of the same film).
    if len(words) != len(others) or len(words) > 2 or words[:-1] != others[:-1]:
        return False
    return _plural_of(words[-1], others[-1]) or _plural_of(others[-1], words[-1])


def _plural_of(word: str, other: str) -> bool:
    # Not "v"/"vs" (versus), nor "spotles"/"spotless" (a typo's dropped s).
    if len(word) >= 3 and not word.endswith("s") and other == word + "s":
        return True
    return word.endswith(("s", "x", "z", "ch", "sh")) and other == word + "es"


def _may_be_one_title(key: str, other: str) -> bool:
    """Whether two titles may name one film: not when their numbers differ ("Kill Bill Vol. 2" is never another title
    of Vol. 1, whatever id a page gave it) or their lone letters do."""
    numbers, others = _read_numbers(key)[1], _read_numbers(other)[1]
    # Only numbers on both sides tell: "Shichinin no samurai" is "Seven Samurai" (review).
    return not (numbers and others and numbers != others) and not _letters_differ(key, other)


def _lone_letters(key: str) -> list[str]:
    return sorted(word for word in key.split() if len(word) == 1 and word.isalpha())


def _ids_conflict(film: Film, imdb_id: str | None, tmdb_id: str | None) -> bool:
    return bool((imdb_id and film.imdb_id and imdb_id != film.imdb_id)
                or (tmdb_id and film.tmdb_id and tmdb_id != film.tmdb_id))


def _preference(film: Film) -> tuple[bool, str]:
    """Among films equally fit for a mention: one with an external id, then the least film_id."""
    return not (film.imdb_id or film.tmdb_id), film.film_id


@dataclass
class FilmResolver:
    """Resolves mentions against known films, remembering the films it creates."""

    known: list[Film] = field(default_factory=list)
    threshold: float = FUZZY_THRESHOLD

    def __post_init__(self) -> None:
        self.by_id: dict[str, Film] = {}
        self.by_imdb: dict[str, Film] = {}
        self.by_tmdb: dict[str, Film] = {}
        # Films by title key with numbers in digits (_read_numbers: "saw ii" and "saw 2" are one title), and those
        # keys by their numbers: a fuzzy match only looks among titles with the same numbers.
        self.by_key: dict[str, list[Film]] = {}
        self.keys_by_numbers: dict[tuple[int, ...], list[str]] = {}
        # The same for the plain title keys, which the fuzzy ratio also scores (see _fuzzy).
        self.by_plain_key: dict[str, list[Film]] = {}
        self.plain_keys_by_numbers: dict[tuple[int, ...], list[str]] = {}
        # Films by the other titles they were met under with their ids (numbers in digits): asked only for a dated
        # mention no film's own title takes, so one page's wrong id never takes another film's mentions.
        self.by_alias: dict[str, list[Film]] = {}
        for film in self.known:
            self._index(film)

    def _index(self, film: Film) -> None:
        self.by_id[film.film_id] = film
        if film.imdb_id:
            self.by_imdb.setdefault(film.imdb_id, film)
        if film.tmdb_id:
            self.by_tmdb.setdefault(film.tmdb_id, film)
        key, numbers = _read_numbers(film.title_key)
        if key not in self.by_key:
            self.keys_by_numbers.setdefault(numbers, []).append(key)
        self.by_key.setdefault(key, []).append(film)
        if film.title_key not in self.by_plain_key:
            self.plain_keys_by_numbers.setdefault(numbers, []).append(film.title_key)
        self.by_plain_key.setdefault(film.title_key, []).append(film)
        for alias in film.aliases:
            if _may_be_one_title(alias, film.title_key):  # not one an earlier version recorded from a wrong id
                self._index_alias(film, alias)

    def _index_alias(self, film: Film, title_key: str) -> None:
        films = self.by_alias.setdefault(_read_numbers(title_key)[0], [])
        if film not in films:
            films.append(film)

    def _by_title(self, title_key: str, year: int | None, imdb_id: str | None, tmdb_id: str | None) -> Film | None:
        key, numbers = _read_numbers(title_key)
        candidates = [f for f in self.by_key.get(key, []) if not _ids_conflict(f, imdb_id, tmdb_id)]
        if year is None:
            # "Her" with no year is ambiguous between two films called Her, but not between two films of one
            # title and one year ("Saw II" and "Saw 2" stored apart): those take the one a dated mention takes
            if len({f.year for f in candidates}) == 1 and not any(
                    _ids_conflict(f, g.imdb_id, g.tmdb_id) for f in candidates for g in candidates):
                return min(candidates, key=_preference)
            # Ambiguous: the film of the title's earlier ambiguous mentions, if it has one, else a new one.
            yearless = [f for f in candidates if f.year is None]
            return yearless[0] if len(yearless) == 1 else None
        dated = [f for f in candidates if f.year is not None and abs(f.year - year) <= 1]
        if dated:
            return min(dated, key=lambda f: (abs(f.year - year), *_preference(f)))
        aliased = [f for f in self.by_alias.get(key, []) if f.year is not None and abs(f.year - year) <= 1
                   and not _ids_conflict(f, imdb_id, tmdb_id)]
        if aliased:
            return min(aliased, key=lambda f: (abs(f.year - year), *_preference(f)))
        yearless = [f for f in candidates if f.year is None]
        if len(yearless) == 1:
            return yearless[0]  # resolve() gives it this year
        if not key:
            return None
        return self._fuzzy(title_key, key, numbers, year, imdb_id, tmdb_id)

    def _fuzzy(self, plain_key: str, key: str, numbers: tuple[int, ...], year: int,
               imdb_id: str | None, tmdb_id: str | None) -> Film | None:
        """The best fuzzy match among titles with the same numbers and a year within one.

        A film scores the better of the ratio on plain keys (as before numbers were read) and on keys
        with numbers in digits (so "Part One" and "Part 1" still match with a typo).
        """
        scores: dict[str, tuple[float, Film]] = {}
        for query, keys, films_by_key in ((plain_key, self.plain_keys_by_numbers.get(numbers, []), self.by_plain_key),
                                          (key, self.keys_by_numbers.get(numbers, []), self.by_key)):
            for other_key, score, _ in process.extract(query, keys, scorer=fuzz.ratio,
                                                       score_cutoff=self.threshold, limit=5):
                if _letters_differ(query, other_key) or _plural_apart(query, other_key):
                    continue
                for film in films_by_key[other_key]:
                    if film.year is not None and abs(film.year - year) <= 1 and not _ids_conflict(
                            film, imdb_id, tmdb_id) and score > scores.get(film.film_id, (-1.0, film))[0]:
                        scores[film.film_id] = (score, film)
        if not scores:
            return None
        return min(scores.values(), key=lambda s: (-s[0], abs(s[1].year - year), *_preference(s[1])))[1]

    def resolve(self, mention: Mention) -> tuple[Film, str]:
        """(the film, its normalized title key) for one mention; creates the film if unknown."""
        key = normalize_title(mention.title)
        year = mention_year(mention)
        by_tmdb = mention.tmdb_id and self.by_tmdb.get(mention.tmdb_id)
        # The IMDb id decides: a TMDb id copied onto the wrong film (Haggis's Crash with Cronenberg's) must not take
        # a mention whose IMDb id is another film's (identity QA).
        by_external_id = (mention.imdb_id and self.by_imdb.get(mention.imdb_id)) or (
            by_tmdb if by_tmdb and not _ids_conflict(by_tmdb, mention.imdb_id, None) else None)
        film = by_external_id or self._by_title(key, year, mention.imdb_id, mention.tmdb_id)
        # A TMDB id another film holds, refused above, is not given to this one: two films under one id.
        tmdb_id = None if by_tmdb and by_tmdb is not film else mention.tmdb_id
        if by_external_id and key and key != film.title_key and key not in film.aliases \
                and _may_be_one_title(key, film.title_key):
            # Another title of the film, said by its id ("La Cosa", tt0084787): a dated mention of it without the id,
            # within a year of the film's, finds the film too (the load keeps it in film_titles).
            film.aliases.append(key)
            self._index_alias(film, key)
        if film:
            if mention.imdb_id and not film.imdb_id:
                film.imdb_id = mention.imdb_id
                self.by_imdb[mention.imdb_id] = film
            if mention.tmdb_id and not film.tmdb_id and mention.tmdb_id not in self.by_tmdb:
                film.tmdb_id = mention.tmdb_id  # as an IMDb id: a later mention by this id alone finds it
                self.by_tmdb[mention.tmdb_id] = film
            if film.year is None and year is not None:
                film.year = year  # a yearless film takes the first year met, so no other year joins it
            return film, key
        attempt = 1
        while (film_id := new_film_id(key, year, mention.imdb_id, tmdb_id, attempt)) in self.by_id:
            attempt += 1  # taken by another film, which would silently gain this mention's reviews
        film = Film(film_id, key, year, mention.imdb_id, tmdb_id)
        self._index(film)
        return film, key

    def resolve_all(self, mentions: list[Mention]) -> list[tuple[Film, str]]:
        """Resolve in an order that lets id-bearing mentions anchor the title-only ones.

        The rest of the order is fixed by the mentions' values, not by the order they come in, so the
        same batch always resolves the same way (e.g. which year a yearless known film takes).
        """
        def order_key(i: int) -> tuple[bool, bool, int, str, str, str, str]:
            m = mentions[i]
            year = mention_year(m)
            return (not m.imdb_id and not m.tmdb_id, year is None, year or 0, m.title or "", str(m.year_raw or ""),
                    m.imdb_id or "", m.tmdb_id or "")

        order = sorted(range(len(mentions)), key=order_key)
        resolved: dict[int, tuple[Film, str]] = {}
        for index in order:
            resolved[index] = self.resolve(mentions[index])
        return [resolved[i] for i in range(len(mentions))]
