"""The options of an import: which dump columns feed which item fields, and the rating scale a dump leaves
unsaid (flows/importer.py lands the rows)."""

from __future__ import annotations

import difflib
import re

from flows.errors import ReviewsError

FIELDS = ("url", "source_review_id", "film_title", "film_year", "imdb_id", "tmdb_id", "critic_name", "critic_url",
          "outlet", "audience", "rating_raw", "rating_value", "rating_best", "rating_worst", "review_title", "body",
          "published_raw", "language_declared")
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "url": ("url", "review_url", "review_link", "link", "permalink"),
    # Not a bare "id": in many dumps it numbers the rows of one export, or is the film's.
    "source_review_id": ("review_id",),
    "film_title": ("film_title", "film", "movie_title", "movie", "film_name", "movie_name"),
    "film_year": ("film_year", "movie_year", "release_year", "year"),
    "imdb_id": ("imdb_id", "imdb", "tconst", "imdb_url"),
    "tmdb_id": ("tmdb_id", "tmdb"),
    "critic_name": ("critic_name", "critic", "author", "reviewer", "user_name", "username", "user"),
    "critic_url": ("critic_url", "author_url", "reviewer_url"),
    "outlet": ("outlet", "publication", "publication_name", "publisher", "publisher_name"),
    "audience": ("audience",),
    "rating_raw": ("rating", "review_score", "score", "grade", "stars", "review_type", "verdict"),
    "rating_value": ("rating_value",),
    "rating_best": ("rating_best", "best_rating", "out_of", "scale"),
    "rating_worst": ("rating_worst", "worst_rating"),
    "review_title": ("review_title", "headline"),
    "body": ("body", "review_text", "review_content", "review", "text", "content", "quote"),
    "published_raw": ("published", "review_date", "date_published", "published_at", "date", "created_at"),
    "language_declared": ("language", "lang"),
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def parse_mappings(pairs: list[str]) -> dict[str, list[str]]:
    """`field=column[,column...]` pairs, checked against FIELDS."""
    mapping: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, columns = pair.partition("=")
        name = name.strip()
        if not sep or not columns.strip():
            raise ReviewsError(f"--map {pair!r}: expected FIELD=COLUMN, e.g. --map film_title=movie")
        if name not in FIELDS:
            raise ReviewsError(f"--map {pair!r}: unknown field {name!r}; fields: {', '.join(FIELDS)}")
        mapping[name] = [c.strip() for c in columns.split(",") if c.strip()]
    return mapping


def column_map(columns: list[str], given: dict[str, list[str]], where: str,
               critic_given: bool = False) -> dict[str, list[str]]:
    """Which dump columns feed each item field: the given mappings, else the usual names found. A dump needs
    a critic column unless `critic_given` (--critic names the one author of a single account's export)."""
    by_key = {}
    for column in columns:
        by_key.setdefault(_key(column), column)
    chosen: dict[str, list[str]] = {}
    for name, wanted in given.items():
        missing = [c for c in wanted if c not in columns]
        if missing:
            raise ReviewsError(f"{where}: no column {missing[0]!r} (for {name}); columns: {', '.join(columns)}")
        chosen[name] = wanted
    used = {c for wanted in chosen.values() for c in wanted}
    for name, aliases in DEFAULT_COLUMNS.items():
        if name not in chosen:
            # The field's own name first: a dump of this project's landing items maps itself.
            names = dict.fromkeys((name, *aliases))
            # One column once: two usual names ("user_name", "username") may find the same one.
            found = list(dict.fromkeys(by_key[_key(a)] for a in names if _key(a) in by_key
                                       and by_key[_key(a)] not in used))
            if found:
                chosen[name] = found
                used.update(found)
    for needed, hint in (("critic_name", "critic"), ("film_title", "film")):
        if needed not in chosen and not (needed == "film_title" and "imdb_id" in chosen) \
                and not (needed == "critic_name" and critic_given):
            raise ReviewsError(f"{where}: no {hint} column (looked for {', '.join(DEFAULT_COLUMNS[needed])}); "
                               f"name it with --map {needed}=COLUMN"
                               f"{' (or give its one author with --critic NAME)' if needed == 'critic_name' else ''}"
                               f"; columns: {', '.join(columns)}")
    if "body" not in chosen and "rating_raw" not in chosen and "rating_value" not in chosen:
        raise ReviewsError(f"{where}: neither a review text nor a rating column; name one with --map body=COLUMN "
                           f"or --map rating_raw=COLUMN; columns: {', '.join(columns)}")
    return chosen


def unused_columns(columns: list[str], chosen: dict[str, list[str]]) -> list[str]:
    """Notes on the dump's columns no field uses that look like a misspelt usual name ("reveiw_score"): the
    ratings in them would be lost and the reviews given inferred scores, without a word."""
    used = {c for wanted in chosen.values() for c in wanted}
    aliases = {_key(alias): name for name, names in DEFAULT_COLUMNS.items() if name not in chosen
               for alias in (name, *names)}
    notes = []
    for column in columns:
        close = difflib.get_close_matches(_key(column), list(aliases), n=1, cutoff=0.8) if column not in used else []
        if close:
            field_name = aliases[close[0]]
            notes.append(f"column {column!r} is not used; if it holds {field_name}, add --map {field_name}={column}")
    return notes


_SCALE = re.compile(r"^\s*(?:(-?\d+(?:\.\d+)?)\s*(?:-|to|\.\.)\s*)?(\d+(?:\.\d+)?)\s*$")


def parse_scale(text: str | None) -> tuple[str, str] | None:
    """`--scale BEST` or `WORST-BEST` as (best, worst) strings for rows whose dump gives no scale: `5` is out of 5
    from 0 (Letterboxd's 0.5-5 stars, half a star scoring 10, as the Letterboxd feed reader reads them), `10`
    IMDb's 1-10 as x/10, `1-5` five stars from 1. None when not given."""
    if text is None:
        return None
    found = _SCALE.match(text)
    if not found:
        raise ReviewsError(f"--scale {text!r}: expected BEST or WORST-BEST, e.g. --scale 5 or --scale 1-10")
    worst, best = found.group(1) or "0", found.group(2)
    if float(best) <= float(worst):
        raise ReviewsError(f"--scale {text!r}: the best rating must be above the worst")
    return best, worst
