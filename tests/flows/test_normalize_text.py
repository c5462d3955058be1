import html

import pytest

from flows.normalize.keys import normalize_person, normalize_title
from flows.normalize.language import detect_language, detect_languages
from flows.normalize.text import clean_review_text, clean_text, display_person


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



@pytest.mark.parametrize(("raw", "expected"), [("line one\x0bline two", "line one line two"),
                                               ("Jane\x0cDoe", "Jane Doe"), ("a\x00b\x1bc", "abc")])
def test_a_vertical_tab_or_form_feed_parts_words_as_a_line_break_does(raw, expected):
    # Sizes QA: both were deleted with the other controls, gluing "oneline" and "JaneDoe".
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


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        # withdrawn ISO 639 codes still in use, and their current ones
        ("iw", "he"), ("iw-IL", "he"), ("in", "id"), ("ji", "yi"), ("jw", "jv"), ("mo", "ro"),
        # country codes written where a language code belongs; none of them is a language code
        ("jp", "ja"), ("JP", "ja"), ("ja-JP", "ja"), ("cz", "cs"), ("dk", "da"), ("gr", "el"), ("ua", "uk"),
        ("cn", "zh"), ("vn", "vi"),
        # codes that are languages stay as they are, even where they are also a country's code
        ("he", "he"), ("id", "id"), ("se", "se"), ("kr", "kr"), ("uk", "uk"),
    ],
)
def test_declared_language_codes_are_the_current_ones(declared, expected):
    assert detect_language(None, declared) == expected


@pytest.mark.parametrize(("declared", "text", "expected"), [
    ("uk", "This is one of the most original and romantic films in a long time.", "en"),
    ("ru", "C'est un film magnifique, touchant et drole, je le recommande vivement.", "fr"),
    ("uk", "Чудовий фільм, дуже зворушливий, найкраще цього року.", "uk"),
    ("ja", "This is one of the most original and romantic films in a long time.", "en"),
    ("uk", "It’s a fine film and the cast is wonderful throughout — a proper British drama.", "en"),
    ("ru", "Un film magnifique, touchant et drôle, je le recommande vivement à tous.", "fr"),
])
def test_language_of_another_script_declared_for_ascii_text_is_detected_instead(declared, text, expected):
    assert detect_language(text, declared) == expected


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


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("By Roger Ebert", "Roger Ebert"),
        ("by  Roger Ebert", "Roger Ebert"),
        ("BY ROGER EBERT", "ROGER EBERT"),
        ("<b>By</b> Roger&nbsp;Ebert ", "Roger Ebert"),
        ("Roger Ebert", "Roger Ebert"),
        ("Byron Smith", "Byron Smith"),
        ("By", "By"),
        # a comma may turn a name round or add an outlet or a suffix: shown as written
        ("Ebert, Roger", "Ebert, Roger"),
        ("Roger Ebert, Chicago Sun-Times", "Roger Ebert, Chicago Sun-Times"),
        ("Smith, Jr.", "Smith, Jr."),
        (None, None),
        ("  ", None),
    ],
)
def test_display_name_drops_a_byline(name, shown):
    assert display_person(name) == shown
    # the critic's key is the same whether made from the shown name or the cleaned one
    assert normalize_person(display_person(name)) == normalize_person(clean_text(name, html_markup=False))


def test_library_style_trailing_article_matches_the_plain_title():
    assert normalize_title("Godfather, The") == normalize_title("The Godfather")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('Great <a href="https://x.test/f">film</a>.', "Great film."),
        ("Bad.<br>Very bad.<hr>The end.", "Bad. Very bad.\n\nThe end."),
        ('Look: <img src="still.jpg" alt="a still"> a still.', "Look: a still."),
        ("As <cite>Variety</cite> put it, <q>superb</q>.", "As Variety put it, superb."),
        ("<figure><img src=x.jpg><figcaption>The poster</figcaption></figure>Fine.", "The poster\n\nFine."),
        ("<p>One</p><ul><li>two</li><li>three</li></ul>", "One\n\ntwo\n\nthree"),
        ("<h2>Verdict</h2><p><strong>Go</strong> <time datetime=2024>now</time>.</p>", "Verdict\n\nGo now."),
        ("H<sub>2</sub>O and E=mc<sup>2</sup>, <abbr title=x>CGI</abbr>, <mark>wow</mark>", "H2O and E=mc2, CGI, wow"),
        ("<span class='x'><em>Fine</em></span><div>done</div>", "Fine\n\ndone"),
        # a script in a review's text was typed (an XSS probe): kept as text, as its feed copy shows it
        ("Loved it<script>track()</script><style>p{}</style>!", "Loved it<script>track()</script><style>p{}</style>!"),
        ("TAGS <B>in</B> <A HREF=x>capitals</A>", "TAGS in capitals"),
        # what is not a tag of an HTML element is what the author wrote
        ("I <3 this film", "I <3 this film"),
        ("a < b > c", "a < b > c"),
        ("Dear <insert name>, watch it", "Dear <insert name>, watch it"),
        ("5 < 6 and 7 > 3, <<wow>>", "5 < 6 and 7 > 3, <<wow>>"),
        ("x<y and y>z", "x<y and y>z"),
        ("an unclosed <script> stays text", "an unclosed <script> stays text"),
        ("&lt;a href=x&gt;escaped&lt;/a&gt; was visible text", "<a href=x>escaped</a> was visible text"),
        ("Tom &amp; Jerry <em>&amp;</em> friends", "Tom & Jerry & friends"),
    ],
)
def test_structured_data_text_drops_html_tags_and_keeps_other_angle_brackets(raw, expected):
    assert clean_text(raw, html_markup=False) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "<p>One</p><ul><li>two<li>three</ul><p>four",
        "a<b>c</b>d<i>e</i> and Tom &amp; Jerry <em>&lt;3</em>",
        "Line one<br>Line two<br/><br />Line three<hr>Four<wbr>five",
        "<figure><img src=x.jpg alt='a > b'><figcaption>The poster</figcaption></figure>Fine.",
        "<table><tr><td>a</td><td>b</td></tr></table>after",
        'text</p> stray closers</div> and <a title="a>b" href=x>a link</a>',
        "<P CLASS=x>Upper</P><DIV>case</DIV>",
        "<p>  spaced  </p>\r\n<p>\tout </p>",
        "<blockquote><p>quoted</p></blockquote><cite>Variety</cite> <q>short</q>",
        "<h1>T</h1><h2>U</h2><dl><dt>term</dt><dd>meaning</dd></dl>",
        "I <3 this <span>film</span>, 5 < 6 and <insert name>",
    ],
)
def test_formatting_tags_replaced_read_as_lxml_reads_them(raw):
    import html

    from flows.normalize.text import _fold_whitespace, _html_to_text, _markup_tags, _tags_as_breaks

    tags = _markup_tags(raw)
    # lxml's reading of the same text: everything but the tags escaped, so it reads back verbatim.
    pieces, done = [], 0
    for tag in tags:
        pieces += [html.escape(raw[done:tag.start()], quote=False), tag.group(0)]
        done = tag.end()
    by_lxml = _html_to_text("".join([*pieces, html.escape(raw[done:], quote=False)]))
    assert tags and _fold_whitespace(_tags_as_breaks(raw, tags)) == _fold_whitespace(by_lxml)


@pytest.mark.parametrize(
    "probe",
    ['"><img src=x onerror=alert(1)>', "<IMG SRC=x OnError = alert(1)>", "<svg onload=alert(1)>",
     '<body onload="alert(1)">'],
)
def test_structured_data_text_keeps_a_tag_no_sanitizer_lets_through_as_written(probe):
    # A site's own markup has passed its sanitizer, which removes event handlers: a tag with one in a
    # review's text is what a user typed, and the feed copy shows it escaped.
    page = f"Very bad. {probe}"
    feed = f"<p>Very bad. {html.escape(probe)}</p>"
    assert clean_text(page, html_markup=False) == clean_text(feed) == page


def test_structured_data_text_and_feed_html_of_one_review_read_the_same():
    page_text = "<p>Tom &amp; Jerry</p><p>I <3 it, 5 < 6 and <a href='/f'>Dear <insert name></a></p>"
    feed_html = "<p>Tom &amp;amp; Jerry</p><p>I &lt;3 it, 5 &lt; 6 and <a href='/f'>Dear &lt;insert name&gt;</a></p>"
    assert clean_text(page_text, html_markup=False) == clean_text(feed_html) == (
        "Tom & Jerry\n\nI <3 it, 5 < 6 and Dear <insert name>")


@pytest.mark.parametrize(
    ("syntax", "raw", "expected"),
    [
        # a feed description is HTML, and JSON-LD text carries the HTML tags sites leave in it
        ("feed", 'Great <a href="/f">film</a> &lt;3', "Great film <3"),
        ("json-ld", 'Great <a href="/f">film</a> <3', "Great film <3"),
        (None, 'Great <a href="/f">film</a> <3', "Great film <3"),
        # a microdata or RDFa value is an element's text content: its markup is gone already, so any
        # tag left in it was escaped on the page, and the reader saw it
        ("microdata", 'Great <a href="/f">film</a> <3', 'Great <a href="/f">film</a> <3'),
        ("rdfa", 'Sadly. "><img src=x onerror=alert(1)> &amp; cafÃ©', 'Sadly. "><img src=x onerror=alert(1)> & café'),
    ],
)
def test_review_text_is_read_as_its_syntax_carries_it(syntax, raw, expected):
    assert clean_review_text(raw, syntax) == expected


def test_an_rdfa_review_and_its_feed_copy_read_the_same():
    # the demo's hostile user review: the page's RDFa value and the feed's escaped description
    rdfa = 'A waste of time, sadly. "><img src=x onerror=alert(1)>'
    feed = "<p>A waste of time, sadly. &quot;&gt;&lt;img src=x onerror=alert(1)&gt;</p>"
    assert clean_review_text(rdfa, "rdfa") == clean_review_text(feed, "feed") == rdfa


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


def test_a_critic_shown_without_by_keeps_the_id_the_cleaned_name_gave():
    import hashlib

    from flows.normalize.keys import normalize_person
    from flows.normalize.lookups import critic_columns
    from flows.normalize.text import clean_text

    names = ["By Roger Ebert", "By By Jane", "Jane Doe"]
    columns = critic_columns([(name, "Paper", "critic") + (None,) for name in names])
    assert columns["clean_name"] == ["Roger Ebert", "By Jane", "Jane Doe"]
    before = ["c" + hashlib.sha1(f"{normalize_person(clean_text(n, html_markup=False))}|paper|critic".encode())
              .hexdigest()[:12] for n in names]
    assert columns["critic_id"] == before


@pytest.mark.parametrize(("name", "outlet", "shown"), [
    ("Roger Ebert, Chicago Sun-Times", "Chicago Sun-Times", "Roger Ebert"),
    ("Roger Ebert, Chicago Sun-Times", "The Chicago Sun-Times", "Roger Ebert"),
    ("Jane Doe - Variety", "Variety", "Jane Doe"),
    ("Jane Doe | The Guardian", "Guardian", "Jane Doe"),
    ("Jane Doe of the Guardian", "The Guardian", "Jane Doe"),
    ("Jane Doe (Variety)", "Variety", "Jane Doe"),
    # only the review's own outlet goes: anything else after a comma stays as written
    ("Roger Ebert, Chicago Sun-Times", "Variety", "Roger Ebert, Chicago Sun-Times"),
    ("Roger Ebert, Chicago Sun-Times", None, "Roger Ebert, Chicago Sun-Times"),
    ("Ebert, Roger", "Chicago Sun-Times", "Ebert, Roger"),
    ("Variety", "Variety", "Variety"),
])
def test_a_byline_repeating_the_reviews_outlet_names_the_critic_alone(name, outlet, shown):
    from flows.normalize.keys import without_outlet

    assert without_outlet(name, outlet) == shown


def test_a_critic_with_the_outlet_in_the_byline_is_the_same_critic_as_without():
    from flows.normalize.lookups import critic_columns

    columns = critic_columns([("Roger Ebert, Chicago Sun-Times", "Chicago Sun-Times", "critic", None),
                              ("Roger Ebert", "Chicago Sun-Times", "critic", None)])
    assert columns["clean_name"] == ["Roger Ebert", "Roger Ebert"]
    assert columns["critic_id"][0] == columns["critic_id"][1]
