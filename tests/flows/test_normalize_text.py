import pytest

from flows.normalize.language import detect_language, detect_languages
from flows.normalize.text import clean_text, normalize_person, normalize_title


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("cafÃ© culture", "café culture"),
        ("I donâ€™t know", "I don’t know"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),
        ("Tom &amp;amp;amp; Jerry", "Tom & Jerry"),
        ("caf&eacute; &#8211; &#x2014;", "café – —"),
        ("<p>A <em>bold</em> film.</p>", "A bold film."),
        ("<p>First  para.</p><p>Second para.</p>", "First para.\n\nSecond para."),
        ("one<br>two", "one two"),
        ("one<br><br>two", "one\n\ntwo"),
        ("  lots \t of\xa0 space\r\n here  ", "lots of space here"),
        ("line one\n\n\n   line two", "line one\n\nline two"),
        ("5 < 6 and 7 > 3", "5 < 6 and 7 > 3"),
        ("Curly “quotes” stay", "Curly “quotes” stay"),
        ("nul\x00byte", "nulbyte"),
        ("zero\u200bwidth", "zerowidth"),
    ],
)
def test_clean_text_repairs_markup_entities_mojibake_and_whitespace(raw, expected):
    assert clean_text(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "\n\n", "<p> </p>", "<script>x()</script>"])
def test_clean_text_returns_none_when_nothing_visible(raw):
    assert clean_text(raw) is None


def test_sql_injection_text_survives_verbatim():
    assert clean_text("'); DROP TABLE reviews; --") == "'); DROP TABLE reviews; --"


def test_escaped_markup_was_visible_text_and_survives_as_text():
    assert clean_text("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;") == '"><img src=x onerror=alert(1)>'
    assert (
        clean_text("Try &lt;script&gt;alert(1)&lt;/script&gt; here") == "Try <script>alert(1)</script> here"
    )


def test_double_escaped_markup_is_decoded_to_text_not_reparsed():
    assert clean_text("&amp;lt;b&amp;gt;bold?&amp;lt;/b&amp;gt;") == "<b>bold?</b>"


def test_real_markup_keeps_what_a_reader_saw():
    # The <img> is an element a browser renders as an image, so only the visible '">' remains.
    assert clean_text('"><img src=x onerror=alert(1)>') == '">'
    assert clean_text("<script>alert(1)</script>Loved it") == "Loved it"
    assert clean_text("<style>p{color:red}</style><p>Loved it</p>") == "Loved it"
    assert clean_text("<p onclick='evil()'>Loved <b>it</b></p>") == "Loved it"


def test_broken_markup_does_not_raise():
    for raw in ["<", "<p", "</div></div>text", "<![CDATA[x]]>", "<<<>>>", "&", "&#xZZ;", "<p>" * 1000]:
        clean_text(raw)


def test_detect_language_of_english_french_and_german():
    assert detect_language("This is one of the most original and romantic films in a long time.") == "en"
    assert detect_language("C'est un film magnifique, touchant et drôle, je le recommande vivement.") == "fr"
    assert detect_language("Ein wunderbarer Film über Liebe, Einsamkeit und die Zukunft der Technik.") == "de"


@pytest.mark.parametrize(
    ("declared", "expected"), [("en-US", "en"), ("fr_FR", "fr"), ("DE", "de"), ("eng", "en")]
)
def test_detect_language_trusts_declared_language(declared, expected):
    assert detect_language("Texte sans importance pour ce cas de test.", declared) == expected


def test_detect_language_ignores_unusable_declaration():
    assert detect_language("C'est un film magnifique, touchant et drôle.", "und") == "fr"


def test_detect_language_refuses_short_text():
    assert detect_language("Great film!") is None
    assert detect_language(None) is None


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Her", "her"),
        ("Her (2013)", "her"),
        ("The Godfather", "godfather"),
        ("Amélie", "amelie"),
        ("L'Avventura", "avventura"),
        ("Tom & Jerry", "tom and jerry"),
        ("  Spider-Man:  No Way Home ", "spider man no way home"),
        ("", ""),
    ],
)
def test_normalize_title_builds_a_match_key(title, expected):
    assert normalize_title(title) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Roger Ebert", "roger ebert"),
        ("By Roger Ebert", "roger ebert"),
        ("Ebert, Roger", "roger ebert"),
        ("Pedro  Almodóvar", "pedro almodovar"),
        ("Stephanie Zacharek", "stephanie zacharek"),
        ("Mark Kermode ", "mark kermode"),
        ("Smith, Jr.", "smith jr"),
        (None, ""),
    ],
)
def test_normalize_person_builds_a_match_key(name, expected):
    assert normalize_person(name) == expected


def test_library_style_trailing_article_matches_the_plain_title():
    assert normalize_title("Godfather, The") == normalize_title("The Godfather")


def test_structured_data_text_keeps_hostile_markup_as_written():
    raw = 'Bad.<br>Very bad. "><img src=x onerror=alert(1)> <script>alert(1)</script>'
    expected = 'Bad. Very bad. "><img src=x onerror=alert(1)> <script>alert(1)</script>'
    assert clean_text(raw, html_markup=False) == expected


def test_structured_data_text_and_feed_html_of_one_review_read_the_same():
    page_text = "<p>Tom &amp; Jerry</p><p>\"><img src=x onerror=alert(1)></p>"
    feed_html = "<p>Tom &amp;amp; Jerry</p><p>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</p>"
    assert clean_text(page_text, html_markup=False) == clean_text(feed_html)


FTFY_OPTIONS = {"unescape_html": False, "uncurl_quotes": False, "fix_character_width": False}


@pytest.mark.parametrize(
    "raw",
    [
        "A long plain English sentence with one broken word: cafÃ© and nothing else wrong.",
        "Ã©tÃ© Ã  Paris, a summer film, then more plain words follow here.",
        "voilÃ  the byte A0 case at the end of a word",
        "â€œQuotedâ€\x9d and donâ€™t, then plain words, then Ã¼ber at the end",
        "Mixed: naïve and café are already fine, but rÃ©sumÃ© is not",
        "Le film est très émouvant et la musique est superbe du début à la fin.",
        "Emoji stay 🎬🍿 and so do CJK 映画 words between ASCII ones",
        "ligature ﬁlm and a line\u2028separator",
    ],
)
def test_repairing_only_non_ascii_word_runs_matches_ftfy_on_the_whole_text(raw):
    import ftfy

    from flows.normalize.text import _fix_encoding

    assert _fix_encoding(raw) == ftfy.fix_text(raw, **FTFY_OPTIONS)


def test_detect_languages_in_bulk_matches_one_by_one():
    texts = ["This is one of the most original and romantic films in a long time.",
             "C'est un film magnifique, touchant et drôle, je le recommande vivement.", "Too short", None]
    assert detect_languages(texts) == [detect_language(t) for t in texts] == ["en", "fr", None, None]


@pytest.mark.parametrize("raw", ["Ã\nfoo", "Ã", "fooÃ \n", "Ã\tÃ\tÃ", "x Ã  ", "Ã" * 50 + " " * 3])
def test_broken_lead_bytes_at_line_ends_and_text_ends_do_not_hang(raw):
    from flows.normalize.text import _fix_encoding

    assert isinstance(_fix_encoding(raw), str)


def test_text_with_many_non_ascii_words_goes_to_ftfy_in_one_call(monkeypatch):
    import ftfy

    from flows.normalize import text as text_module

    calls = []
    real = ftfy.fix_text
    monkeypatch.setattr(text_module.ftfy, "fix_text", lambda t, **kw: calls.append(len(t)) or real(t, **kw))
    text = "Москва — столица России, и фильм о ней очень хорош. " * 2000
    assert text_module._fix_encoding(text) == text
    assert calls == [len(text)]


def test_language_batch_call_and_per_line_fallback_give_the_same_labels():
    from flows.normalize.language import _language_model, _predict_all

    class PublicOnly:  # a fastText wrapper without the batch call falls back to predict() per line
        def predict(self, line, k, threshold):
            return _language_model().predict(line, k=k, threshold=threshold)

    lines = ["This is one of the most original films in a long time.", "zz qq 12 ## kk xx vv", "Un film magnifique."]
    assert _predict_all(_language_model(), lines) == _predict_all(PublicOnly(), lines)
    assert _predict_all(PublicOnly(), lines)[0] == ["__label__en"]
