"""Azure AI Translator v3.0: request shape, markup, glossary, billing and errors (reference §5)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpx import HTTPXMock

from tl_loop import (
    AuthenticationError,
    ConfigurationError,
    Glossary,
    InvalidRequestError,
    QuotaExceededError,
    RateLimitError,
    ServiceResponseError,
    ServiceUnavailableError,
    UnsupportedLanguageError,
)
from tl_loop.engines import TOKEN_PATTERN, RetryPolicy, TranslateOptions
from tl_loop.engines._azure import AzureEngine, parse_languages
from tl_loop.engines._vendor import apportion
from tl_loop.testing import EngineContract
from tl_loop.text._token_markup import (
    has_tokens,
    html_to_segment,
    no_translate,
    render_batch,
    segment_to_html,
    unwrap_token_spans,
)

KEY = "azure-secret-key-1234"
NO_WAIT = RetryPolicy(attempts=3, initial_wait=0.0, max_wait=0.01)


def engine(**options: object) -> AzureEngine:
    settings: dict[str, object] = {"api_key": KEY, "region": "westeurope", "retry": NO_WAIT}
    return AzureEngine(**{**settings, **options})  # type: ignore[arg-type]


def translated(*texts: str, to: str = "es") -> list[dict[str, object]]:
    return [{"translations": [{"text": text, "to": to}]} for text in texts]


def error(code: int, message: str = "nope") -> dict[str, object]:
    return {"error": {"code": code, "message": message}}


def sent_texts(httpx_mock: HTTPXMock, index: int = -1) -> list[str]:
    return [item["Text"] for item in json.loads(httpx_mock.get_requests()[index].content)]


def test_the_request_follows_the_v3_translate_shape(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=translated("Hola", "Adiós"), headers={"X-Metered-Usage": "11"})

    results = engine().translate_batch(["Hello", "Goodbye"], source="en", target="es")

    assert [r.text for r in results] == ["Hola", "Adiós"]
    request = httpx_mock.get_requests()[0]
    assert request.method == "POST"
    assert request.url.path == "/translate"
    assert dict(request.url.params) == {
        "api-version": "3.0", "from": "en", "to": "es", "textType": "plain",
    }  # fmt: skip
    assert request.headers["Ocp-Apim-Subscription-Key"] == KEY
    assert request.headers["Ocp-Apim-Subscription-Region"] == "westeurope"
    assert uuid.UUID(request.headers["X-ClientTraceId"])
    assert json.loads(request.content) == [{"Text": "Hello"}, {"Text": "Goodbye"}]


def test_region_and_category_are_sent_only_when_given(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=translated("Hola"))

    custom = engine(region=None, category="abc-123")
    custom.translate_batch(["Hello"], source="en", target="es")

    request = httpx_mock.get_requests()[0]
    assert "Ocp-Apim-Subscription-Region" not in request.headers
    assert request.url.params["category"] == "abc-123"
    assert custom.version == "3.0/abc-123"
    assert engine().version == "3.0"


@pytest.mark.parametrize(
    ("tag", "code"),
    [("zh", "zh-Hans"), ("zh-CN", "zh-Hans"), ("zh-TW", "zh-Hant"), ("zh-Hant", "zh-Hant"),
     ("pt-BR", "pt"), ("pt", "pt"), ("pt-PT", "pt-PT"), ("fr-CA", "fr-CA"), ("en-GB", "en"),
     ("sr-Latn-RS", "sr-Latn"), ("no", "nb"), ("tl", "fil")],
)  # fmt: skip
def test_bcp47_tags_map_to_azure_codes(httpx_mock: HTTPXMock, tag: str, code: str) -> None:
    httpx_mock.add_response(json=translated("x"))

    engine().translate_batch(["Hello"], source="en", target=tag)

    assert httpx_mock.get_requests()[0].url.params["to"] == code


def test_pairs_and_supports_cover_the_language_table() -> None:
    azure = engine()

    assert ("en", "zh-Hans") in azure.pairs()
    assert ("pt-PT", "de") in azure.pairs()
    assert azure.supports("es", "zh-TW")
    assert not azure.supports("en", "en-GB")  # same language once mapped
    assert not azure.supports("en", "xx")
    with pytest.raises(UnsupportedLanguageError):
        azure.translate_batch(["Hello"], source="en", target="xx")


def test_tokens_travel_in_no_translate_spans_and_come_back(httpx_mock: HTTPXMock) -> None:
    reply = 'Pedido <span translate="no">⟦0⟧</span> &amp; <span translate="no">⟦1⟧</span> listo'
    httpx_mock.add_response(json=translated(reply, "Tom &amp; Jerry"))

    results = engine().translate_batch(
        ["Order ⟦0⟧ & ⟦1⟧ ready", "Tom & Jerry"], source="en", target="es"
    )

    assert [r.text for r in results] == ["Pedido ⟦0⟧ & ⟦1⟧ listo", "Tom & Jerry"]
    request = httpx_mock.get_requests()[0]
    assert request.url.params["textType"] == "html"
    assert sent_texts(httpx_mock) == [
        'Order <span translate="no">⟦0⟧</span> &amp; <span translate="no">⟦1⟧</span> ready',
        "Tom &amp; Jerry",
    ]


def test_plain_text_stays_plain(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=translated("a < b & c"))

    result = engine().translate_batch(["a < b & c"], source="en", target="es")

    assert result[0].text == "a < b & c"
    assert sent_texts(httpx_mock) == ["a < b & c"]


def test_html_helpers_round_trip() -> None:
    segment = '<b> ⟦0⟧ & ⟦12⟧ "q"'
    assert html_to_segment(segment_to_html(segment)) == segment
    assert html_to_segment("x <span translate='no'>⟦3⟧</span> y") == "x ⟦3⟧ y"


@given(st.lists(st.one_of(st.text("ab <>&;\"'\n#lt"), st.integers(0, 20).map("⟦{}⟧".format))))
def test_any_segment_survives_the_html_round_trip(pieces: list[str]) -> None:
    segment = "".join(pieces)
    rendered = segment_to_html(segment)

    assert html_to_segment(rendered) == segment
    assert TOKEN_PATTERN.findall(rendered) == TOKEN_PATTERN.findall(segment)
    bare = TOKEN_PATTERN.sub("", rendered).replace(no_translate(""), "")
    assert "<" not in bare  # the customer's text is all escaped: the only tags are ours
    assert ">" not in bare


@pytest.mark.parametrize(
    "span",
    ['<span translate="no">⟦0⟧</span>', "<span translate='no'>⟦0⟧</span>",
     "<span translate=no>⟦0⟧</span>", '<span translate="no" dir="rtl"> ⟦0⟧ </span >',
     '<span class="x" translate = "no">⟦0⟧</span>'],
)  # fmt: skip
def test_the_spans_services_send_back_are_all_unwrapped(span: str) -> None:
    assert html_to_segment(f"a {span} b") == "a ⟦0⟧ b"
    assert unwrap_token_spans(f"a {span} b") == "a ⟦0⟧ b"


def test_only_translate_no_spans_are_unwrapped() -> None:
    kept = '<span translate="nope">⟦0⟧</span> <span>⟦1⟧</span>'
    assert html_to_segment(kept) == kept
    assert html_to_segment('<span translate="no">Nube &amp; Acme</span>') == "Nube & Acme"
    # For answers that come back unescaped, a span around anything but a token is text.
    assert unwrap_token_spans('<span translate="no">x</span> &amp;') == (
        '<span translate="no">x</span> &amp;'
    )


def test_a_batch_goes_as_markup_only_when_a_segment_holds_a_token() -> None:
    assert has_tokens(["plain", "with ⟦0⟧"])
    assert not has_tokens(["plain", "⟦⟧ [0] ⟦x⟧"])
    assert not has_tokens([])
    assert render_batch(["a < b", "c"]) == (["a < b", "c"], False)
    assert render_batch(["a < b", "⟦0⟧"]) == (["a &lt; b", no_translate("⟦0⟧")], True)
    assert render_batch(["⟦0⟧"], render=lambda s: f"<x>{s}</x>") == (["<x>⟦0⟧</x>"], True)


GLOSSARY = Glossary.from_tsv("Acme Cloud\tNube Acme\nticket\ttique\n", source="en", target="es")
GLOSSARY_ES_FR = Glossary.from_tsv("Nube Acme\tNuage Acme\n", source="es", target="fr")


def test_glossary_is_not_native_by_default() -> None:
    assert engine().capabilities.glossary is False
    assert engine(dynamic_dictionary=True).capabilities.glossary is True


def test_dynamic_dictionary_applies_forced_terms_on_english_pairs(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=translated("Abra un tique en Nube Acme"))

    azure = engine(dynamic_dictionary=True)
    options = TranslateOptions(glossary=GLOSSARY)
    result = azure.translate_batch(["Open a Ticket in Acme Cloud"], source="en", target="es",
                                   options=options)  # fmt: skip

    assert result[0].text == "Abra un tique en Nube Acme"
    assert httpx_mock.get_requests()[0].url.params["textType"] == "html"
    assert sent_texts(httpx_mock) == [
        'Open a <mstrans:dictionary translation="tique">Ticket</mstrans:dictionary> in '
        '<mstrans:dictionary translation="Nube Acme">Acme Cloud</mstrans:dictionary>'
    ]


def test_without_english_forced_terms_go_verbatim_in_spans(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=translated('Ouvrez <span translate="no">Nuage Acme</span>'))

    options = TranslateOptions(glossary=GLOSSARY_ES_FR)
    result = engine(dynamic_dictionary=True).translate_batch(
        ["Abra Nube Acme"], source="es", target="fr", options=options
    )

    assert result[0].text == "Ouvrez Nuage Acme"
    assert sent_texts(httpx_mock) == ['Abra <span translate="no">Nuage Acme</span>']


def test_terms_are_never_matched_inside_tokens(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=translated('<span translate="no">⟦1⟧</span> uno'))
    numbers = Glossary.from_tsv("1\tuno\n", source="en", target="es")

    engine(dynamic_dictionary=True).translate_batch(
        ["⟦1⟧ 1"], source="en", target="es", options=TranslateOptions(glossary=numbers)
    )

    assert sent_texts(httpx_mock)[0].startswith('<span translate="no">⟦1⟧</span> <mstrans')


def test_billed_characters_come_from_x_metered_usage(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=translated("a", "b"), headers={"X-Metered-Usage": "100"})

    results = engine().translate_batch(["x" * 30, "y" * 10], source="en", target="es")

    assert [r.billed_characters for r in results] == [75, 25]


def test_without_the_header_billing_counts_the_code_points_sent(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=translated("¡Hola!"))

    assert engine().translate_batch(["¡Hi!"], source="es", target="en")[0].billed_characters == 4


def test_apportion_always_sums_to_the_total() -> None:
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(apportion(7, [5, 0, 2])) == 7
    assert apportion(3, [0, 0]) == [2, 1]
    assert apportion(5, []) == []


def test_capabilities_follow_the_service_limits() -> None:
    limits = engine().capabilities
    assert (limits.max_items, limits.max_chars) == (1000, 50_000)
    assert limits.trusted is False
    assert limits.formality is False


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [(401, 401000, AuthenticationError), (403, 403001, QuotaExceededError),
     (403, 403000, AuthenticationError), (400, 400000, InvalidRequestError)],
)  # fmt: skip
def test_errors_map_by_azure_code_without_retries(
    httpx_mock: HTTPXMock, status: int, code: int, kind: type[Exception]
) -> None:
    httpx_mock.add_response(status_code=status, json=error(code))

    with pytest.raises(kind) as caught:
        engine().translate_batch(["Hello"], source="en", target="es")
    assert len(httpx_mock.get_requests()) == 1
    assert str(code) in str(caught.value)


def test_a_missing_key_gives_401_with_an_empty_body(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=401)

    with pytest.raises(AuthenticationError):
        engine().translate_batch(["Hello"], source="en", target="es")


def test_bad_input_does_not_fail_over_but_an_unknown_language_does(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=400, json=error(400000))
    httpx_mock.add_response(status_code=400, json=error(400036))

    with pytest.raises(InvalidRequestError) as bad:
        engine().translate_batch(["Hello"], source="en", target="es")
    with pytest.raises(InvalidRequestError) as language:
        engine().translate_batch(["Hello"], source="en", target="es")
    assert bad.value.failover is False
    assert language.value.failover is True


def test_rate_limits_are_retried_then_succeed(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=429, json=error(429001), headers={"Retry-After": "0"})
    httpx_mock.add_response(status_code=408, json=error(408001))
    httpx_mock.add_response(json=translated("Hola"))

    assert engine().translate_batch(["Hello"], source="en", target="es")[0].text == "Hola"
    assert len(httpx_mock.get_requests()) == 3


def test_persistent_rate_limits_raise_with_retry_after(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=429, json=error(429000), headers={"Retry-After": "600"})

    with pytest.raises(RateLimitError) as caught:
        engine().translate_batch(["Hello"], source="en", target="es")
    assert caught.value.retry_after == 600


def test_outages_are_retryable(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_response(status_code=503, json=error(503000, "busy"))

    with pytest.raises(ServiceUnavailableError) as caught:
        engine().translate_batch(["Hello"], source="en", target="es")
    assert caught.value.retryable


def test_too_long_requests_are_split(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=400, json=error(400050))
    httpx_mock.add_response(json=translated("uno"))
    httpx_mock.add_response(json=translated("dos"))

    results = engine().translate_batch(["one", "two"], source="en", target="es")

    assert [r.text for r in results] == ["uno", "dos"]
    assert [sent_texts(httpx_mock, i) for i in (1, 2)] == [["one"], ["two"]]


@pytest.mark.parametrize(
    "body", [{"translations": []}, [{"translations": []}], [{"oops": 1}], translated("a", "b")]
)
def test_malformed_responses_are_service_response_errors(
    httpx_mock: HTTPXMock, body: object
) -> None:
    httpx_mock.add_response(json=body)

    with pytest.raises(ServiceResponseError):
        engine().translate_batch(["Hello"], source="en", target="es")


def test_the_key_never_leaks(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=401, json=error(401000, f"bad key {KEY}"))
    azure = engine()

    with pytest.raises(AuthenticationError) as caught:
        azure.translate_batch(["Hello"], source="en", target="es")
    assert KEY not in str(caught.value)
    assert KEY not in repr(azure)


def test_from_env_reads_the_documented_variables() -> None:
    azure = AzureEngine.from_env(
        {"AZURE_TRANSLATOR_KEY": KEY, "AZURE_TRANSLATOR_REGION": "eastus",
         "AZURE_TRANSLATOR_ENDPOINT": "https://api-eur.cognitive.microsofttranslator.com/"}
    )  # fmt: skip

    assert azure.region == "eastus"
    assert azure.base_url == "https://api-eur.cognitive.microsofttranslator.com"
    with pytest.raises(ConfigurationError, match="AZURE_TRANSLATOR_KEY"):
        AzureEngine.from_env({})


def test_refresh_languages_replaces_the_table(httpx_mock: HTTPXMock) -> None:
    body = {"translation": {code: {"name": code, "nativeName": code, "dir": "ltr"}
                            for code in ("en", "es", "tlh-Latn")}}  # fmt: skip
    httpx_mock.add_response(json=body)
    azure = engine()

    pairs = azure.refresh_languages()

    request = httpx_mock.get_requests()[0]
    assert (request.method, request.url.path) == ("GET", "/languages")
    assert dict(request.url.params) == {"api-version": "3.0", "scope": "translation"}
    assert len(pairs) == 6
    assert azure.supports("es", "tlh-Latn")
    assert not azure.supports("en", "de")


def test_parse_languages_rejects_other_bodies() -> None:
    with pytest.raises(ServiceResponseError):
        parse_languages(httpx.Response(200, json={"dictionary": {}}))


def test_an_empty_batch_sends_nothing(httpx_mock: HTTPXMock) -> None:
    assert engine().translate_batch([], source="en", target="es") == []
    assert httpx_mock.get_requests() == []


# -- the contract every engine owes the loop ----------------------------------------------------


def fake_azure(request: httpx.Request) -> httpx.Response:
    """Behaves like Azure's `/translate`: checks the key, "translates" each `Text` by prefixing
    the target (HTML markup kept as it is), and bills the characters sent in X-Metered-Usage."""
    if request.headers.get("Ocp-Apim-Subscription-Key") != KEY:
        return httpx.Response(401, json=error(401000, "The request is not authorized"))
    texts = [item["Text"] for item in json.loads(request.content)]
    to = request.url.params["to"]
    return httpx.Response(
        200,
        json=translated(*(f"[{to}] {text}" for text in texts), to=to),
        headers={"X-Metered-Usage": str(sum(map(len, texts)))},
    )


class TestAzureContract(EngineContract):
    @pytest.fixture
    def contract_engine(self, httpx_mock: HTTPXMock) -> AzureEngine:
        httpx_mock.add_callback(fake_azure, is_reusable=True, is_optional=True)
        return engine()

    @pytest.fixture
    def contract_pair(self) -> tuple[str, str]:
        return ("en", "es")

    @pytest.fixture
    def contract_secrets(self) -> Sequence[str]:
        return (KEY,)
