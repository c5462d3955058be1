"""A language declared by its name instead of a code (IMDb's JSON-LD says "inLanguage": "English")."""

from __future__ import annotations

import pytest

from flows.normalize.language import detect_language


@pytest.mark.parametrize(("declared", "expected"), [
    ("English", "en"), ("French", "fr"), ("Deutsch", "de"), ("Français", "fr"), ("日本語", "ja"),
    ("Brazilian Portuguese", "pt"), ("Hebrew", "he"),
])
def test_a_language_declared_by_its_name_is_its_code(declared, expected):
    # IMDb's JSON-LD says "inLanguage": "English".
    assert detect_language(None, declared) == expected


def test_a_declaration_that_is_no_language_name_is_ignored():
    assert detect_language(None, "Her") is None
    assert detect_language("C'est un film magnifique, touchant et drôle.", "Original version") == "fr"


@pytest.mark.parametrize("declared", ["Undetermined", "Multiple languages"])
def test_a_name_that_names_no_language_is_ignored(declared):
    assert detect_language(None, declared) is None
