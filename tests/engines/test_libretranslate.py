"""LibreTranslate engine against a faked server that answers as `libretranslate/app.py` does."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

import anyio
import httpx
import pytest
from pytest_httpx import HTTPXMock

from tl_loop import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    QuotaExceededError,
    RateLimitError,
    ServiceError,
    ServiceResponseError,
    ServiceUnavailableError,
    TextTooLongError,
)
from tl_loop.engines import RetryPolicy, SegmentResult
from tl_loop.engines._libretranslate import (
    LibreTranslateEngine,
    bcp47_to_libretranslate,
    libretranslate_to_bcp47,
    parse_languages,
)
from tl_loop.testing import EngineContract

BASE = "http://lt.test:5000"
URL = f"{BASE}/translate"
KEY = "lt-secret-0123456789"
NO_WAIT = RetryPolicy(attempts=3, initial_wait=0.0, max_wait=0.5)


def engine(**options: object) -> LibreTranslateEngine:
    return LibreTranslateEngine(base_url=BASE, retry=NO_WAIT, **options)  # type: ignore[arg-type]


def sent(httpx_mock: HTTPXMock, index: int = 0) -> dict[str, object]:
    body: dict[str, object] = json.loads(httpx_mock.get_requests()[index].content)
    return body


def fake_server(request: httpx.Request) -> httpx.Response:
    """Behaves like LibreTranslate: text is "translated", HTML keeps its tags, output unescaped."""
    if request.url.path == "/languages":
        codes = ["en", "es", "zt"]
        return httpx.Response(
            200,
            json=[{"code": c, "name": c, "targets": [t for t in codes if t != c]} for c in codes],
        )
    body = json.loads(request.content)
    texts = [f"<{body['target']}> {text}" for text in body["q"]]
    if body["format"] == "html":  # translate-html keeps tags; the app unescapes the result
        texts = [html.unescape(text) for text in texts]
    return httpx.Response(200, json={"translatedText": texts})


# -- request shape, formats, tokens -------------------------------------------------------------


def test_a_batch_is_one_json_request_with_q_as_a_list(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, method="POST", json={"translatedText": ["Hola", "Adiós"]})

    results = engine(api_key=KEY).translate_batch(["Hello", "Goodbye"], source="en", target="es")

    assert [r.text for r in results] == ["Hola", "Adiós"]
    assert sent(httpx_mock) == {
        "q": ["Hello", "Goodbye"],
        "source": "en",
        "target": "es",
        "format": "text",
        "api_key": KEY,
    }


def test_no_api_key_field_when_none_is_configured(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json={"translatedText": ["Hola"]})

    engine().translate_batch(["Hello"], source="en", target="es")

    assert "api_key" not in sent(httpx_mock)


def test_plain_text_keeps_its_outer_whitespace_and_counts_characters(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_response(url=URL, json={"translatedText": ["Hola"]})

    [result] = engine().translate_batch(["  Hello\n"], source="en", target="es")

    assert sent(httpx_mock)["q"] == ["Hello"]
    assert result.text == "  Hola\n"
    assert result.billed_characters == len("Hello")


def test_tokens_travel_in_translate_no_spans_and_come_back_plain(httpx_mock: HTTPXMock) -> None:
    # The app returns html.unescape(str(soup)): our span tags, the customer's text unescaped.
    httpx_mock.add_response(
        url=URL,
        json={"translatedText": ['Pedido <span translate="no">⟦0⟧</span> para <b> & co']},
    )

    [result] = engine().translate_batch(["Order ⟦0⟧ for <b> & co"], source="en", target="es")

    body = sent(httpx_mock)
    assert body["format"] == "html"
    assert body["q"] == ['Order <span translate="no">⟦0⟧</span> for &lt;b&gt; &amp; co']
    assert result.text == "Pedido ⟦0⟧ para <b> & co"


def test_line_breaks_survive_html_mode(httpx_mock: HTTPXMock) -> None:
    # HTML mode squeezes whitespace, so breaks travel as numbered <br> and are put back.
    httpx_mock.add_response(
        url=URL,
        json={
            "translatedText": ['Hola <span translate="no">⟦0⟧</span>. <br data-ws="0"/> Gracias.']
        },
    )

    [result] = engine().translate_batch(["Hi ⟦0⟧.\n\nThanks."], source="en", target="es")

    assert sent(httpx_mock)["q"] == ['Hi <span translate="no">⟦0⟧</span>.<br data-ws="0">Thanks.']
    assert result.text == "Hola ⟦0⟧.\n\nGracias."


def test_several_line_breaks_are_numbered_in_order_across_tokens(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_callback(fake_server, url=URL)

    [result] = engine().translate_batch(["A ⟦0⟧\nB\n\n⟦1⟧ C\n  D"], source="en", target="es")

    assert sent(httpx_mock)["q"] == [
        'A <span translate="no">⟦0⟧</span><br data-ws="0">B<br data-ws="1">'
        '<span translate="no">⟦1⟧</span> C<br data-ws="2">D'
    ]
    assert result.text == "<es> A ⟦0⟧\nB\n\n⟦1⟧ C\n  D"


def test_a_customers_own_span_markup_is_kept_as_text(httpx_mock: HTTPXMock) -> None:
    # The server unescapes its answer, so only spans around our tokens may be removed.
    httpx_mock.add_callback(fake_server, url=URL)

    [result] = engine().translate_batch(
        ['Type <span translate="no">x</span> before ⟦0⟧'], source="en", target="es"
    )

    assert result.text == '<es> Type <span translate="no">x</span> before ⟦0⟧'


def test_text_and_html_segments_go_in_separate_requests_and_keep_their_order(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_callback(fake_server, url=URL, is_reusable=True)

    results = engine().translate_batch(["One", "Two ⟦0⟧", "", "Three"], source="en", target="es")

    assert [r.text for r in results] == ["<es> One", "<es> Two ⟦0⟧", "", "<es> Three"]
    formats = [sent(httpx_mock, i)["format"] for i in range(2)]
    assert formats == ["text", "html"]


def test_batches_are_cut_to_max_items_and_sent_one_after_another(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_callback(fake_server, url=URL, is_reusable=True)
    segments = [f"line {n}" for n in range(5)]

    results = engine(max_items=2).translate_batch(segments, source="en", target="es")

    assert [r.text for r in results] == [f"<es> line {n}" for n in range(5)]
    assert [len(sent(httpx_mock, i)["q"]) for i in range(3)] == [2, 2, 1]  # type: ignore[arg-type]


def test_auto_detection_never_batches_mixed_languages(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_callback(fake_server, url=URL, is_reusable=True)

    engine().translate_batch(["Hola", "Bonjour"], source="auto", target="en")

    assert [sent(httpx_mock, i)["q"] for i in range(2)] == [["Hola"], ["Bonjour"]]
    assert sent(httpx_mock)["source"] == "auto"


def test_an_empty_batch_sends_nothing() -> None:
    assert engine().translate_batch([], source="en", target="es") == []


def test_async_translation(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_callback(fake_server, url=URL, is_reusable=True)

    async def run() -> list[SegmentResult]:
        return await engine().atranslate_batch(["Hi ⟦0⟧", "Bye"], source="en", target="es")

    assert [r.text for r in anyio.run(run)] == ["<es> Hi ⟦0⟧", "<es> Bye"]


# -- language codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "code"),
    [("zh", "zh"), ("zh-Hans", "zh"), ("zh-CN", "zh"), ("zh-TW", "zt"), ("zh-Hant", "zt"),
     ("pt-BR", "pb"), ("pt", "pt"), ("es-MX", "es"), ("en", "en")],
)  # fmt: skip
def test_bcp47_maps_to_model_codes(tag: str, code: str) -> None:
    assert bcp47_to_libretranslate(tag) == code


def test_model_codes_map_to_bcp47() -> None:
    assert [libretranslate_to_bcp47(c) for c in ("zt", "zh", "pb", "de")] == [
        "zh-Hant",
        "zh-Hans",
        "pt-BR",
        "de",
    ]


def test_traditional_chinese_is_sent_as_zt(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json={"translatedText": ["您好"]})

    engine().translate_batch(["Hello"], source="en", target="zh-TW")

    assert sent(httpx_mock)["target"] == "zt"


def test_brazilian_portuguese_falls_back_to_pt_on_a_server_without_pb(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_response(url=URL, json={"translatedText": ["Olá"]})
    lt = engine(languages=["en", "pt"])

    assert lt.supports("en", "pt-BR")
    assert not lt.supports("en", "de")
    lt.translate_batch(["Hello"], source="en", target="pt-BR")
    assert sent(httpx_mock)["target"] == "pt"


def test_parse_languages_honours_each_languages_targets() -> None:
    payload = [
        {"code": "en", "name": "English", "targets": ["es", "zt"]},
        {"code": "es", "name": "Spanish", "targets": ["en"]},
        {"code": "zt", "name": "Chinese (traditional)", "targets": ["en"]},
    ]

    assert parse_languages(payload) == {
        ("en", "es"),
        ("en", "zh-Hant"),
        ("es", "en"),
        ("zh-Hant", "en"),
    }


def test_parse_languages_rejects_another_shape() -> None:
    with pytest.raises(ServiceResponseError, match="languages"):
        parse_languages({"error": "nope"})


def test_refresh_languages_replaces_the_documented_table(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_callback(fake_server, url=f"{BASE}/languages", method="GET")
    lt = engine()
    assert lt.supports("en", "de")  # documented list

    pairs = lt.refresh_languages()

    assert ("en", "zh-Hant") in pairs
    assert lt.supports("zh-TW", "es")
    assert not lt.supports("en", "de")


# -- errors -------------------------------------------------------------------------------------


def test_a_429_is_retried_after_the_spacing_the_limit_implies(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=429, json={"error": "Slowdown: 600 per 1 minute"})
    httpx_mock.add_response(url=URL, json={"translatedText": ["Hola"]})

    assert engine().translate_batch(["Hello"], source="en", target="es")[0].text == "Hola"
    assert len(httpx_mock.get_requests()) == 2


def test_a_429_under_a_slow_limit_is_not_hammered(httpx_mock: HTTPXMock) -> None:
    # 20 per minute: the next slot is 3 s away, longer than this policy waits, so give up.
    httpx_mock.add_response(url=URL, status_code=429, json={"error": "Slowdown: 20 per 1 minute"})

    with pytest.raises(RateLimitError) as caught:
        engine().translate_batch(["Hello"], source="en", target="es")
    assert caught.value.retry_after == 3.0
    assert caught.value.retryable
    assert len(httpx_mock.get_requests()) == 1


def test_a_flood_ban_fails_over_without_retrying(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL, status_code=403, json={"error": "Too many request limits violations"}
    )

    with pytest.raises(QuotaExceededError, match="banned") as caught:
        engine().translate_batch(["Hello"], source="en", target="es")
    assert caught.value.failover
    assert not caught.value.retryable
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [(403, "Invalid API key"), (400, "Visit https://portal.libretranslate.com to get an API key"),
     (400, "Please contact the server operator to get an API key")],
)  # fmt: skip
def test_key_problems_are_authentication_errors_without_the_key(
    httpx_mock: HTTPXMock, status: int, message: str
) -> None:
    httpx_mock.add_response(url=URL, status_code=status, json={"error": message})

    with pytest.raises(AuthenticationError) as caught:
        engine(api_key=KEY).translate_batch(["Hello"], source="en", target="es")
    assert KEY not in str(caught.value)
    assert "LIBRETRANSLATE_API_KEY" in str(caught.value)


def test_a_batch_over_the_text_limit_is_split(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL,
        status_code=400,
        json={"error": "Invalid request: request (30) exceeds text limit (20)"},
    )
    httpx_mock.add_response(url=URL, json={"translatedText": ["uno"]})
    httpx_mock.add_response(url=URL, json={"translatedText": ["dos"]})

    results = engine().translate_batch(["one", "two"], source="en", target="es")

    assert [r.text for r in results] == ["uno", "dos"]


def test_one_segment_over_the_text_limit_raises(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL,
        status_code=400,
        json={"error": "Invalid request: request (30) exceeds text limit (20)"},
    )

    with pytest.raises(TextTooLongError):
        engine().translate_batch(["x" * 30], source="en", target="es")


def test_a_pair_the_server_lacks_fails_over_to_another_engine(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL,
        status_code=400,
        json={"error": "German (de) is not available as a target language from Basque (eu)"},
    )

    with pytest.raises(ServiceError, match="refresh_languages") as caught:
        engine().translate_batch(["Kaixo"], source="eu", target="de")
    assert not isinstance(caught.value, InvalidRequestError)
    assert caught.value.failover
    assert not caught.value.retryable


def test_a_bad_format_is_bad_input(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=400, json={"error": "xml format is not supported"})

    with pytest.raises(InvalidRequestError):
        engine().translate_batch(["Hello"], source="en", target="es")


def test_server_errors_are_retried_then_reported(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_response(
            url=URL, status_code=500, json={"error": "Cannot translate text: boom"}
        )

    with pytest.raises(ServiceUnavailableError, match="boom"):
        engine().translate_batch(["Hello"], source="en", target="es")


def test_a_malformed_answer_is_a_response_error(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json={"translatedText": ["only one"]})

    with pytest.raises(ServiceResponseError, match="2 strings"):
        engine().translate_batch(["one", "two"], source="en", target="es")


# -- configuration ------------------------------------------------------------------------------


def test_from_env_reads_url_and_key() -> None:
    lt = LibreTranslateEngine.from_env(
        {"LIBRETRANSLATE_URL": "http://lt:5000/", "LIBRETRANSLATE_API_KEY": KEY}
    )
    assert lt.base_url == "http://lt:5000"
    assert lt.capabilities.trusted
    assert KEY not in repr(lt)


def test_from_env_names_the_missing_variable() -> None:
    with pytest.raises(ConfigurationError, match="LIBRETRANSLATE_URL"):
        LibreTranslateEngine.from_env({})


def test_the_hosted_service_needs_a_key_and_is_not_trusted() -> None:
    with pytest.raises(ConfigurationError, match="LIBRETRANSLATE_API_KEY"):
        LibreTranslateEngine(base_url="https://libretranslate.com")
    hosted = LibreTranslateEngine(base_url="https://libretranslate.com", api_key=KEY)
    assert not hosted.capabilities.trusted
    assert hosted.capabilities.max_items == 25


# -- the contract every engine owes the loop ----------------------------------------------------


class TestLibreTranslateContract(EngineContract):
    @pytest.fixture
    def contract_engine(self, httpx_mock: HTTPXMock) -> LibreTranslateEngine:
        httpx_mock.add_callback(fake_server, is_reusable=True, is_optional=True)
        return engine(api_key=KEY)

    @pytest.fixture
    def contract_pair(self) -> tuple[str, str]:
        return ("en", "es")

    @pytest.fixture
    def contract_secrets(self) -> Sequence[str]:
        return (KEY,)
