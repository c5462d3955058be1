"""Pages that declare no encoding are read as a browser reads them."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse

from crawlers.encoding import UndeclaredEncodingMiddleware, browser_encoding
from flows.extract_page import load_page

URL = "https://reviews.example/r/1"
WESTERN = "Café crème, naïve — “great” film, €5 well spent. Review body 1"


def decoded(text: str, encoding: str, content_type: str = "text/html") -> str:
    body = f"<html><body><p>{text}</p></body></html>".encode(encoding)
    response = HtmlResponse(URL, body=body, headers={"Content-Type": content_type}, request=Request(URL))
    return UndeclaredEncodingMiddleware().process_response(Request(URL), response).text


def test_an_unlabelled_windows_1252_page_reads_as_a_browser_shows_it():
    # charset_normalizer alone picks windows-1250 here: "crčme, naďve"
    assert WESTERN in decoded(WESTERN, "cp1252")


@pytest.mark.parametrize(("text", "encoding"), [
    ("Zażółć gęślą jaźń, świetny film, polecam każdemu.", "cp1250"),
    ("Tento film byl opravdu skvělý, režisér překonal sám sebe. Herci hráli výborně a hudba byla úžasná.", "cp1250"),
    ("Nagyszerű film, a rendező remek munkát végzett. A színészek kiválóak, a zene gyönyörű.", "cp1250"),
    ("Não é um filme ruim, mas a direção é fraca. Três estrelas.", "cp1252"),
    ("¡Qué película! La dirección es magnífica y el guión, sorprendente.", "cp1252"),
    ("Отличный фильм, всем советую посмотреть его ещё раз.", "cp1251"),
    ("Ένα υπέροχο φιλμ, το συνιστώ ανεπιφύλακτα σε όλους.", "cp1253"),
    ("Отличный фильм, всем советую посмотреть его ещё раз.", "koi8_r"),
    ("素晴らしい映画でした。みんなに勧めます。監督の演出も見事です。", "shift_jis"),
    ("素晴らしい映画でした。みんなに勧めます。監督の演出も見事です。", "euc_jp"),
    ("정말 훌륭한 영화였습니다. 모두에게 추천합니다. 감독의 연출도 훌륭합니다.", "euc_kr"),
    ("这是一部非常精彩的电影，我推荐给大家。导演的表现也很出色。", "gb2312"),
    ("這是一部非常精彩的電影，我推薦給大家。導演的表現也很出色。", "big5"),
    (WESTERN, "utf-8"),
])
def test_an_unlabelled_page_in_another_code_page_or_utf8_reads_right(text, encoding):
    assert text in decoded(text, encoding)


@pytest.mark.parametrize(("text", "encoding"), [
    # A few accented words: charset_normalizer's readings did not even include windows-1252 (encodings QA).
    ('<h1>Léon</h1><p class="critic">Zoë Bell</p><p>Génial !</p>', "cp1252"),  # was cp775: "Zoļ Bell"
    ("<p>Noël</p><p>Très bon.</p>", "latin-1"),  # was johab
    ("<p>Jürgen</p><p>Schön.</p>", "cp1252"),
    ("<p>Přelet</p><p>Skvělé.</p>", "cp1250"),
    ("<p>黒澤明</p><p>傑作</p>", "shift_jis"),
    ("<p>～①</p><p>素晴らしい映画</p>", "cp932"),  # characters only Windows' Shift_JIS has
    ("<p>똠</p><p>정말 훌륭한 영화</p>", "cp949"),  # a syllable only Windows' EUC-KR has
])
def test_a_short_unlabelled_page_reads_as_a_browser_shows_it(text, encoding):
    assert text in decoded(text, encoding)


def test_the_sites_top_level_domain_tells_a_baltic_page_from_a_central_european_one():
    text = "Labai geras filmas, režisierius puikiai padirbėjo. Aktoriai nuostabūs."
    body = f"<html><body><p>{text}</p></body></html>".encode("cp1257")
    response = HtmlResponse("https://kinas.lt/r/1", body=body, headers={"Content-Type": "text/html"})
    assert text in UndeclaredEncodingMiddleware().process_response(Request(response.url), response).text


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "text/plain; charset=utf-8",
                                          "text/plain"])
def test_a_page_served_as_json_or_text_is_decoded_as_an_html_one_is(content_type):
    # Its reviews are read too; labelled UTF-8 but written in cp1252, every accent was U+FFFD (encodings QA).
    body = '{"reviewBody": "Un film délicieux et léger, à revoir très souvent."}'.encode("cp1252")
    response = TextResponse(URL, body=body, headers={"Content-Type": content_type})
    decoded_text = UndeclaredEncodingMiddleware().process_response(Request(URL), response).text
    assert "délicieux et léger, à revoir très" in decoded_text


def test_a_declared_charset_is_obeyed_as_before():
    assert WESTERN in decoded(WESTERN, "cp1252", "text/html; charset=windows-1252")
    assert "crème" not in decoded(WESTERN, "cp1252", "text/html; charset=iso-8859-2")


@pytest.mark.parametrize("body_encoding", ["utf-16-le", "utf-16"])  # without a byte-order mark, then with one
def test_a_page_labelled_utf16_without_a_bom_reads_as_little_endian_as_browsers_do(body_encoding):
    assert WESTERN in decoded(WESTERN, body_encoding, "text/html; charset=utf-16")
    assert WESTERN in decoded(WESTERN, "utf-16-be", "text/html; charset=utf-16be")  # an explicit order is kept


def test_browser_encoding_prefers_utf8_then_the_web_default():
    assert browser_encoding("crème".encode()) == "utf-8"
    assert browser_encoding(WESTERN.encode("cp1252")) == "cp1252"


def test_reviews_extract_reads_an_unlabelled_windows_1252_file_the_same_way(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(f"<html><body>{WESTERN}</body></html>".encode("cp1252"))
    assert WESTERN in load_page(str(page))[0]


@pytest.mark.parametrize(("meta", "text", "encoding", "content_type"), [
    ("", "Amélie, Agnès Varda", "cp1252", "text/html; charset=utf-8"),
    ("", "Amélie, Agnès Varda", "utf-16-le", "text/html; charset=utf-16"),
    ('<meta charset="shift_jis">', "黒澤明の傑作", "cp932", "text/html; charset=utf-8"),
])
def test_reviews_extract_decodes_a_fetched_page_as_the_crawl_does(meta, text, encoding, content_type):
    # Encodings QA: extract showed "Am�lie" (and nothing of a UTF-16 page) where the crawl stored "Amélie".
    from tests.crawlers.localsite import Answer, LocalSite

    body = f"<html><head>{meta}</head><body><p>{text}</p></body></html>".encode(encoding)
    with LocalSite(lambda site, path: Answer(200, body, content_type=content_type)) as site:
        assert text in load_page(site.url + "/r1")[0]


def test_the_crawl_decodes_an_unlabelled_windows_1252_page_as_a_browser_does(tmp_path):
    import json

    from flows.crawl import run_crawl
    from tests.crawlers.localsite import Answer, LocalSite

    # Scrapy's own guess for this page is cp775 ("Cafķ"); a browser shows windows-1252.
    text = "Café crème, naïve — “great” €5"
    review = {"@context": "https://schema.org", "@type": "Review", "@id": "r1", "reviewBody": text,
              "itemReviewed": {"@type": "Movie", "name": "Test Film"}, "author": {"@type": "Person", "name": "Jane"}}
    page = (f'<html><head><script type="application/ld+json">{json.dumps(review, ensure_ascii=False)}</script>'
            "</head><body></body></html>").encode("cp1252")
    with LocalSite(lambda site, path: Answer(200, page, content_type="text/html")) as site:  # no charset
        result = run_crawl("schema_org", [site.url + "/r1"], source="site", data=tmp_path,
                           settings={"AUTOTHROTTLE_START_DELAY": 0.02}, show_progress=False)
    (item,) = [json.loads(line) for line in result.items_path.read_text(encoding="utf-8").splitlines()]
    assert item["body"] == text


def test_a_page_labelled_utf8_in_latin1_reads_its_letters_not_replacement_characters():
    # Crawler QA: "Fran�oise Cr�me-Br�l�e" in critics, films and reviews, beyond repair.
    assert decoded("Françoise Crème-Brûlée", "latin-1", "text/html; charset=utf-8") == \
        "<html><body><p>Françoise Crème-Brûlée</p></body></html>"


def test_a_page_labelled_utf8_with_a_bom_and_cp1252_bytes_reads_its_letters_too():
    # Review: Scrapy lets a BOM decide the encoding over the one the middleware set.
    body = b"\xef\xbb\xbf<html><body><p>" + "Françoise".encode("cp1252") + b"</p></body></html>"
    response = HtmlResponse(URL, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(URL))
    assert "Françoise" in UndeclaredEncodingMiddleware().process_response(Request(URL), response).text


def test_a_utf8_page_with_a_line_in_the_code_page_its_meta_names_reads_both(caplog):
    from scrapy.utils.test import get_crawler

    from crawlers.encoding import NOT_UTF8
    from crawlers.spiders.schema_org import SchemaOrgSpider

    head = b'<html><head><meta charset="windows-1250"></head><body>\n'
    body = head + "<p>Dvořák překonal</p>\n".encode("cp1250") + "<p>déjà vu ✓</p></body></html>".encode()
    response = HtmlResponse(URL, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(URL))
    spider = SchemaOrgSpider.from_crawler(get_crawler(SchemaOrgSpider), url=URL, source="t", run_id="r")
    for _ in range(2):
        text = UndeclaredEncodingMiddleware().process_response(Request(URL), response, spider).text
    assert "Dvořák překonal" in text and "déjà vu ✓" in text
    assert spider.crawler.stats.get_value(NOT_UTF8) == 2
    assert caplog.text.count("is labelled UTF-8 but is not") == 1


@pytest.mark.parametrize("encoding", ["shift_jis", "gbk", "euc-kr"])
def test_a_page_labelled_utf8_in_the_multi_byte_code_page_its_meta_names_reads_in_that_code_page(encoding):
    # It was read as cp1252: every letter mojibake that no repair undoes.
    texts = {"shift_jis": "素晴らしい映画でした", "gbk": "这部电影非常精彩", "euc-kr": "정말 훌륭한 영화였습니다"}
    text = texts[encoding]
    body = f'<html><head><meta charset="{encoding}"></head><body><p>{text}</p></body></html>'.encode(encoding)
    response = HtmlResponse(URL, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(URL))
    assert text in UndeclaredEncodingMiddleware().process_response(Request(URL), response).text


def test_a_page_labelled_utf8_whose_bytes_fit_neither_utf8_nor_its_multi_byte_meta_still_reads_its_utf8_lines():
    head = b'<html><head><meta charset="shift_jis"></head><body>\n'
    body = head + "<p>déjà vu ✓</p>\n".encode() + b"<p>\xff\xfe broken</p></body></html>"
    response = HtmlResponse(URL, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(URL))
    assert "déjà vu ✓" in UndeclaredEncodingMiddleware().process_response(Request(URL), response).text


def test_a_page_labelled_utf8_with_a_stale_cjk_meta_and_a_utf8_line_reads_its_lines_as_before():
    # Review: the whole body decoded as GBK, and "réussi" became "r茅ussi".
    head = b'<html><head><meta charset="gbk"></head><body>\n'
    body = head + "<p>réussi</p>\n".encode() + "<p>Françoise</p></body></html>".encode("cp1252")
    response = HtmlResponse(URL, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(URL))
    text = UndeclaredEncodingMiddleware().process_response(Request(URL), response).text
    assert "réussi" in text and "Françoise" in text


def test_a_page_labelled_utf8_whose_meta_says_utf16_is_not_read_as_utf16():
    # Review: a cp1252 body decoded as UTF-16 (random bytes often do) and the page became CJK garbage.
    body = b'<html><head><meta charset="utf-16"></head><body><p>' + "Françoise".encode("cp1252") + b"</p></body></html>"
    response = HtmlResponse(URL, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(URL))
    assert "Françoise" in UndeclaredEncodingMiddleware().process_response(Request(URL), response).text
