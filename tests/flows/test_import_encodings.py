"""The text encoding of a dump: UTF-8 when it decodes, else the code page detected (flows/dumps.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.dumps import detect_encoding
from flows.importer import import_file
from tests.flows.test_import import landed


@pytest.mark.parametrize(("text", "encoding", "expected"), [
    ("critic,film,review\nJosé,Amélie,Très belle comédie, à voir.\n", "utf-8", "utf-8"),
    ("critic,film,review\nJosé,Amélie,Très belle comédie, à voir.\n", "utf-8-sig", "utf-8-sig"),
    ("critic,film,review\nJosé,Amélie,Très belle comédie, à voir. Crème brûlée.\n", "cp1252", "cp1252"),
    ("critic,film,review\nJosé,Amélie,Très belle\n", "utf-16", "utf-16"),
])
def test_the_encoding_is_utf8_when_it_decodes_else_detected_preferring_windows_1252(
        tmp_path: Path, text: str, encoding: str, expected: str) -> None:
    path = tmp_path / "dump.csv"
    path.write_text(text, encoding=encoding)
    assert detect_encoding(path) == expected


@pytest.mark.parametrize(("text", "encoding"), [
    ("critic,movie_title,publication,review_score,review_content\n"
     "Ann Bee,Amélie,Le Monde,4/5,Une comédie très réussie - café crème.\n"
     "Carl Dee,Amélie,Libération,B,Joli et sucré.\n", "latin-1"),
    ("critic,movie_title,publication,review_score,review_content\n"
     "Γιώργος Παπάς,Ζορμπάς,Καθημερινή,5/5,Μια υπέροχη ταινία.\n", "cp1253"),
    # One row (encodings QA): French latin-1 was read as Big5 ("L廩n"), Japanese Shift_JIS as cp1250.
    ('"Léon","1994","Noël","","4/5","Très bon.","2026-11-18"\n', "latin-1"),
    ("critic,film,review\n黒澤明,羅生門,傑作\n", "shift_jis"),
    ("critic,film,review\nペ・ドゥナ,～①,傑作\n", "cp932"),
])
def test_a_short_dump_is_read_in_its_code_page_not_another_as_clean(tmp_path: Path, text: str,
                                                                     encoding: str) -> None:
    # French latin-1 was read as Baltic cp775 ("Amķlie", a second film), Greek cp1253 as mac_greek.
    path = tmp_path / "dump.csv"
    path.write_bytes(text.encode(encoding))
    assert path.read_bytes().decode(detect_encoding(path)) == text

def test_a_shift_jis_dump_is_read_as_japanese(tmp_path: Path) -> None:
    path = tmp_path / "dump.csv"
    path.write_text("critic,film,review\n山田太郎,千と千尋の神隠し,素晴らしい映画でした。もう一度見たいです。\n",
                    encoding="shift_jis")
    result = import_file(path, "jp", tmp_path / "data")
    assert landed(result)[0]["critic_name"] == "山田太郎"
