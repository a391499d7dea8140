"""DeepL engine: request shape, codes, tokens, glossaries, formality, errors, billing, config."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
from pytest_httpx import HTTPXMock

from tl_loop import (
    AuthenticationError,
    ConfigurationError,
    Glossary,
    InvalidRequestError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
    TextTooLongError,
    UnsupportedLanguageError,
)
from tl_loop.engines import Engine, RetryPolicy, SegmentResult, TranslateOptions
from tl_loop.engines._deepl import DeepLEngine, render_tokens, restore_tokens
from tl_loop.testing import EngineContract

FREE_KEY = "0b1c2d3e-secret-key:fx"
PRO_KEY = "9f8e7d6c-secret-pro-key"
FREE = "https://api-free.deepl.com"
TRANSLATE = f"{FREE}/v2/translate"
GLOSSARIES = f"{FREE}/v3/glossaries"
NO_WAIT = RetryPolicy(attempts=3, initial_wait=0.0, max_wait=0.01)


def deepl(**options: Any) -> DeepLEngine:
    return DeepLEngine(api_key=options.pop("api_key", FREE_KEY), retry=NO_WAIT, **options)


def answer(*texts: str, billed: int | None = None, detected: str = "ES") -> dict[str, Any]:
    items = []
    for text in texts:
        item: dict[str, Any] = {"detected_source_language": detected, "text": text}
        if billed is not None:
            item["billed_characters"] = billed
        items.append(item)
    return {"translations": items}


def sent(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def glossary() -> Glossary:
    return Glossary.from_tsv(
        "ticket\tincidencia\nAcme Cloud\tAcme Cloud\n", source="en", target="es"
    )


# -- request shape -----------------------------------------------------------------------------


def test_a_free_key_sends_the_documented_request_to_the_free_host(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=TRANSLATE, json=answer("Hello", "Thanks", billed=4))

    results = deepl().translate_batch(["Hola", "Gracias"], source="es", target="en")

    assert [r.text for r in results] == ["Hello", "Thanks"]
    request = httpx_mock.get_requests()[0]
    assert request.headers["Authorization"] == f"DeepL-Auth-Key {FREE_KEY}"
    assert sent(request) == {
        "text": ["Hola", "Gracias"],
        "source_lang": "ES",
        "target_lang": "EN-US",
        "show_billed_characters": True,
    }


def test_a_pro_key_uses_the_pro_host(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url="https://api.deepl.com/v2/translate", json=answer("Hello"))

    assert deepl(api_key=PRO_KEY).translate_batch(["Hola"], source="es", target="en")[0].text


def test_billed_characters_come_from_the_response_else_a_local_count(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_response(url=TRANSLATE, json=answer("Hello", billed=7))
    httpx_mock.add_response(url=TRANSLATE, json=answer("Hello"))

    assert deepl().translate_batch(["Hola"], source="es", target="en")[0].billed_characters == 7
    assert deepl().translate_batch(["Hola"], source="es", target="en")[0].billed_characters == 4


def test_the_detected_source_language_is_kept(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=TRANSLATE, json=answer("Hello", detected="ES"))

    [result] = deepl().translate_batch(["Hola"], source="es", target="en")

    assert result.extra == {"detected_source_language": "ES"}


def test_context_is_sent_and_never_translated(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=TRANSLATE, json=answer("It works"))
    options = TranslateOptions(context="Mi impresora no imprime.")

    deepl().translate_batch(["Ya funciona"], source="es", target="en", options=options)

    assert sent(httpx_mock.get_requests()[0])["context"] == "Mi impresora no imprime."


def test_an_empty_batch_sends_nothing() -> None:
    assert deepl().translate_batch([], source="es", target="en") == []


# -- language codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "code"),
    [("en", "EN-US"), ("en-GB", "EN-GB"), ("en-US", "EN-US"), ("pt", "PT-BR"),
     ("pt-PT", "PT-PT"), ("zh", "ZH-HANS"), ("zh-Hant", "ZH-HANT"), ("zh-TW", "ZH-HANT"),
     ("es-419", "ES-419"), ("nb", "NB"), ("de", "DE")],
)  # fmt: skip
def test_targets_get_the_variant_deepl_requires(target: str, code: str) -> None:
    request = deepl().build_request(["Hi"], source="ja", target=target, options=TranslateOptions())
    assert sent(request)["target_lang"] == code


def test_sources_are_sent_without_variant() -> None:
    request = deepl().build_request(
        ["Olá"], source="pt-BR", target="en", options=TranslateOptions()
    )
    assert sent(request)["source_lang"] == "PT"


def test_bare_english_and_portuguese_follow_the_configured_variant() -> None:
    engine = deepl(english_variant="en-GB", portuguese_variant="pt-PT")
    assert (
        sent(engine.build_request(["x"], source="es", target="en", options=TranslateOptions()))[
            "target_lang"
        ]
        == "EN-GB"
    )
    assert (
        sent(engine.build_request(["x"], source="es", target="pt", options=TranslateOptions()))[
            "target_lang"
        ]
        == "PT-PT"
    )


def test_supported_pairs_follow_the_documented_tables() -> None:
    engine = deepl()
    assert engine.supports("es", "en")
    assert engine.supports("en-GB", "de")
    assert engine.supports("de", "pt-BR")
    assert ("es", "en-US") in engine.pairs()
    assert ("es", "en") in engine.pairs()
    assert not engine.supports("en", "en-GB")  # same language
    assert not engine.supports("es", "xx")
    assert not engine.supports("es", "en-AU")  # a variant DeepL does not offer
    assert not engine.supports("not a tag", "en")


def test_an_unsupported_pair_fails_before_any_request() -> None:
    with pytest.raises(UnsupportedLanguageError, match="DEEPL_AUTH_KEY"):
        deepl().translate_batch(["Hola"], source="es", target="xx")


def test_refresh_languages_reads_the_account_tables(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{FREE}/v2/languages?type=source",
        json=[{"language": "ES", "name": "Spanish"}, {"language": "EN", "name": "English"}],
    )
    httpx_mock.add_response(
        url=f"{FREE}/v2/languages?type=target",
        json=[
            {"language": "EN-US", "name": "English (American)", "supports_formality": False},
            {"language": "ES", "name": "Spanish", "supports_formality": True},
            {"language": "ZH", "name": "Chinese (simplified)", "supports_formality": False},
        ],
    )
    engine = deepl()

    engine.refresh_languages()

    assert engine.supports("es", "en-US")
    assert not engine.supports("es", "de")
    assert ("en", "es") in engine.pairs()
    formal = TranslateOptions(formality="formal")
    to_chinese = engine.build_request(["Hi"], source="en", target="zh", options=formal)
    assert sent(to_chinese)["target_lang"] == "ZH"
    parsed = engine.parse_response(
        httpx.Response(200, json=answer("Hola")),
        segments=["Hi"],
        source="en",
        target="es",
        options=formal,
    )
    assert parsed[0].formality_applied is True


# -- protected tokens --------------------------------------------------------------------------


def test_tokens_travel_as_ignored_xml_tags_and_come_back_exactly(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=TRANSLATE,
        json=answer("Your order <x>⟦0⟧</x> ships &amp; arrives &lt;soon&gt;", "Hello"),
    )

    results = deepl().translate_batch(
        ["Su pedido ⟦0⟧ sale & llega <pronto>", "Hola"], source="es", target="en"
    )

    assert [r.text for r in results] == ["Your order ⟦0⟧ ships & arrives <soon>", "Hello"]
    body = sent(httpx_mock.get_requests()[0])
    assert body["text"] == ["Su pedido <x>⟦0⟧</x> sale &amp; llega &lt;pronto&gt;", "Hola"]
    assert body["tag_handling"] == "xml"
    assert body["ignore_tags"] == ["x"]


def test_the_xml_token_markup_round_trips() -> None:
    segment = 'A ⟦0⟧ & <b>"q"</b> ⟦12⟧'

    rendered = render_tokens(segment)

    assert rendered == 'A <x>⟦0⟧</x> &amp; &lt;b&gt;"q"&lt;/b&gt; <x>⟦12⟧</x>'
    assert restore_tokens(rendered) == segment
    assert restore_tokens("<x> ⟦0⟧ </x>&apos;") == "⟦0⟧'"


def test_plain_text_stays_plain_text(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=TRANSLATE, json=answer("Fish & chips <3"))

    [result] = deepl().translate_batch(["Pescado & patatas <3"], source="es", target="en")

    assert result.text == "Fish & chips <3"
    assert "tag_handling" not in sent(httpx_mock.get_requests()[0])


# -- formality ---------------------------------------------------------------------------------


def test_formality_uses_prefer_values_and_reports_where_it_applies(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{FREE}/v2/translate", json=answer("Können Sie"))
    httpx_mock.add_response(url=f"{FREE}/v2/translate", json=answer("Can you"))
    formal = TranslateOptions(formality="formal")
    informal = TranslateOptions(formality="informal")

    [german] = deepl().translate_batch(["¿Puede?"], source="es", target="de", options=formal)
    [english] = deepl().translate_batch(["¿Puedes?"], source="es", target="en", options=informal)

    assert [sent(r)["formality"] for r in httpx_mock.get_requests()] == [
        "prefer_more",
        "prefer_less",
    ]
    assert german.formality_applied is True
    assert english.formality_applied is False  # DeepL has no register for English


def test_without_formality_none_is_sent_or_reported(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=TRANSLATE, json=answer("Hallo"))

    [result] = deepl().translate_batch(["Hola"], source="es", target="de")

    assert "formality" not in sent(httpx_mock.get_requests()[0])
    assert result.formality_applied is None


# -- glossaries --------------------------------------------------------------------------------


def test_a_glossary_is_created_once_and_its_id_reused(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=GLOSSARIES, json={"glossary_id": "g-1", "name": "x"})
    httpx_mock.add_response(url=TRANSLATE, json=answer("Su incidencia"), is_reusable=True)
    engine = deepl()
    options = TranslateOptions(glossary=glossary())

    engine.translate_batch(["Your ticket"], source="en", target="es", options=options)
    engine.translate_batch(["My ticket"], source="en", target="es", options=options)

    create, first, second = httpx_mock.get_requests()
    assert create.method == "POST"
    assert create.headers["Authorization"] == f"DeepL-Auth-Key {FREE_KEY}"
    body = sent(create)
    assert body["name"].startswith("tl_loop ")
    assert body["dictionaries"] == [
        {
            "source_lang": "en",
            "target_lang": "es",
            "entries": "ticket\tincidencia\n",  # DNT terms travel as tokens instead
            "entries_format": "tsv",
        }
    ]
    assert sent(first)["glossary_id"] == sent(second)["glossary_id"] == "g-1"
    assert sent(first)["source_lang"] == "EN"


def test_a_new_glossary_version_or_pair_gets_its_own_glossary(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=GLOSSARIES, json={"glossary_id": "g-1"})
    httpx_mock.add_response(url=GLOSSARIES, json={"glossary_id": "g-2"})
    httpx_mock.add_response(url=TRANSLATE, json=answer("x"), is_reusable=True)
    engine = deepl()
    newer = Glossary.from_tsv("ticket\tcaso\n", source="en", target="es")

    for terms in (glossary(), newer):
        engine.translate_batch(
            ["ticket"], source="en", target="es", options=TranslateOptions(glossary=terms)
        )

    ids = [
        sent(r).get("glossary_id") for r in httpx_mock.get_requests() if "translate" in str(r.url)
    ]
    assert ids == ["g-1", "g-2"]


def test_a_glossary_deleted_on_deepl_is_recreated_once(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=GLOSSARIES, json={"glossary_id": "g-old"})
    httpx_mock.add_response(url=TRANSLATE, json=answer("uno"))
    httpx_mock.add_response(url=TRANSLATE, status_code=404, json={"message": "Glossary not found"})
    httpx_mock.add_response(url=GLOSSARIES, json={"glossary_id": "g-new"})
    httpx_mock.add_response(url=TRANSLATE, json=answer("dos"))
    engine = deepl()
    options = TranslateOptions(glossary=glossary())

    engine.translate_batch(["one"], source="en", target="es", options=options)
    [result] = engine.translate_batch(["two"], source="en", target="es", options=options)

    assert result.text == "dos"
    ids = [
        sent(r).get("glossary_id") for r in httpx_mock.get_requests() if "translate" in str(r.url)
    ]
    assert ids == ["g-old", "g-old", "g-new"]


def test_a_glossary_deepl_refuses_is_skipped_not_retried(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=GLOSSARIES, status_code=400, json={"message": "Unsupported glossary language pair"}
    )
    httpx_mock.add_response(url=TRANSLATE, json=answer("x"), is_reusable=True)
    engine = deepl()
    options = TranslateOptions(glossary=glossary())

    engine.translate_batch(["ticket"], source="en", target="es", options=options)
    engine.translate_batch(["ticket"], source="en", target="es", options=options)

    assert [r.url.path for r in httpx_mock.get_requests()] == [
        "/v3/glossaries",
        "/v2/translate",
        "/v2/translate",
    ]
    assert all("glossary_id" not in sent(r) for r in httpx_mock.get_requests()[1:])


def test_a_glossary_with_no_forced_terms_for_the_pair_creates_nothing(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_response(url=TRANSLATE, json=answer("x"), is_reusable=True)
    options = TranslateOptions(glossary=glossary())

    deepl().translate_batch(["Hallo"], source="de", target="fr", options=options)
    dnt_only = Glossary.from_tsv("Acme Cloud\tAcme Cloud\n", source="en", target="es")
    deepl().translate_batch(
        ["Acme Cloud"], source="en", target="es", options=TranslateOptions(glossary=dnt_only)
    )

    assert [r.url.path for r in httpx_mock.get_requests()] == ["/v2/translate"] * 2
    assert all("glossary_id" not in sent(r) for r in httpx_mock.get_requests())


def test_the_async_shell_runs_the_glossary_flow(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=GLOSSARIES, json={"glossary_id": "g-1"})
    httpx_mock.add_response(url=TRANSLATE, json=answer("Su incidencia"))
    engine = deepl()

    async def run() -> list[SegmentResult]:
        return await engine.atranslate_batch(
            ["Your ticket"], source="en", target="es", options=TranslateOptions(glossary=glossary())
        )

    assert anyio.run(run)[0].text == "Su incidencia"
    assert sent(httpx_mock.get_requests()[1])["glossary_id"] == "g-1"


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, AuthenticationError), (456, QuotaExceededError), (400, InvalidRequestError)],
)
def test_refusals_map_to_errors_without_retry_or_secret(
    httpx_mock: HTTPXMock, status: int, error: type[Exception]
) -> None:
    httpx_mock.add_response(url=TRANSLATE, status_code=status, json={"message": "nope"})

    with pytest.raises(error) as caught:
        deepl().translate_batch(["Hola"], source="es", target="en")

    assert len(httpx_mock.get_requests()) == 1
    assert FREE_KEY not in str(caught.value)
    assert "nope" in str(caught.value)


def test_an_auth_error_says_how_to_fix_the_key(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=TRANSLATE, status_code=403, json={"message": "Forbidden"})

    with pytest.raises(AuthenticationError, match=r"DEEPL_AUTH_KEY.*:fx"):
        deepl().translate_batch(["Hola"], source="es", target="en")


def test_quota_exhaustion_fails_over(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=TRANSLATE, status_code=456, json={"message": "Quota exceeded"})

    with pytest.raises(QuotaExceededError) as caught:
        deepl().translate_batch(["Hola"], source="es", target="en")

    assert caught.value.failover
    assert not caught.value.retryable


@pytest.mark.parametrize("status", [429, 529])
def test_rate_limits_are_retried_then_succeed(httpx_mock: HTTPXMock, status: int) -> None:
    httpx_mock.add_response(url=TRANSLATE, status_code=status, json={"message": "Too many"})
    httpx_mock.add_response(url=TRANSLATE, json=answer("Hello"))

    assert deepl().translate_batch(["Hola"], source="es", target="en")[0].text == "Hello"
    assert len(httpx_mock.get_requests()) == 2


def test_persistent_rate_limits_surface_as_rate_limit_errors(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_response(url=TRANSLATE, status_code=429, json={"message": "Too many"})

    with pytest.raises(RateLimitError):
        deepl().translate_batch(["Hola"], source="es", target="en")


def test_outages_are_retried_then_reported(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_response(url=TRANSLATE, status_code=500, json={"message": "boom"})

    with pytest.raises(ServiceUnavailableError):
        deepl().translate_batch(["Hola"], source="es", target="en")
    assert len(httpx_mock.get_requests()) == 3


def test_a_too_large_request_is_split(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=TRANSLATE, status_code=413, json={"message": "Payload too large"})
    httpx_mock.add_response(url=TRANSLATE, json=answer("one"))
    httpx_mock.add_response(url=TRANSLATE, json=answer("two"))

    results = deepl().translate_batch(["uno", "dos"], source="es", target="en")

    assert [r.text for r in results] == ["one", "two"]


def test_a_single_too_large_text_raises(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=TRANSLATE, status_code=413, json={"message": "Payload too large"})

    with pytest.raises(TextTooLongError):
        deepl().translate_batch(["uno"], source="es", target="en")


def test_a_malformed_answer_is_a_service_response_error(httpx_mock: HTTPXMock) -> None:
    from tl_loop import ServiceResponseError

    httpx_mock.add_response(url=TRANSLATE, json=answer("one"))

    with pytest.raises(ServiceResponseError, match="sent 2 texts"):
        deepl().translate_batch(["uno", "dos"], source="es", target="en")


# -- configuration and secrets -----------------------------------------------------------------


def test_the_key_never_shows_in_repr() -> None:
    engine = deepl()
    assert FREE_KEY not in repr(engine)
    assert "secret" not in repr(engine)


def test_from_env_reads_the_documented_variables() -> None:
    engine = DeepLEngine.from_env({"DEEPL_AUTH_KEY": PRO_KEY})
    assert engine.base_url == "https://api.deepl.com"
    custom = DeepLEngine.from_env(
        {"DEEPL_AUTH_KEY": FREE_KEY, "DEEPL_SERVER_URL": "http://localhost:3000/"}
    )
    assert custom.base_url == "http://localhost:3000"


def test_from_env_names_the_missing_variable() -> None:
    with pytest.raises(ConfigurationError, match="DEEPL_AUTH_KEY"):
        DeepLEngine.from_env({})


def test_bad_options_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError):
        DeepLEngine(api_key=" ")
    with pytest.raises(ConfigurationError, match="english_variant"):
        DeepLEngine(api_key=FREE_KEY, english_variant="en-AU")  # type: ignore[arg-type]


def test_capabilities_describe_a_cloud_engine_with_native_glossary_and_formality() -> None:
    capabilities = deepl().capabilities
    assert capabilities.glossary
    assert capabilities.formality
    assert not capabilities.trusted
    assert capabilities.max_items == 50


# -- the contract every engine owes the loop ----------------------------------------------------


def fake_deepl(request: httpx.Request) -> httpx.Response:
    """Behaves like DeepL for the contract: prefixes each text, keeps ignored tags."""
    body = sent(request)
    texts = [f"[{body['target_lang']}] {text}" for text in body["text"]]
    return httpx.Response(200, json=answer(*texts, billed=1))


class TestDeepLContract(EngineContract):
    @pytest.fixture
    def contract_engine(self, httpx_mock: HTTPXMock) -> Engine:
        httpx_mock.add_callback(fake_deepl, url=TRANSLATE, is_reusable=True, is_optional=True)
        return deepl()

    @pytest.fixture
    def contract_pair(self) -> tuple[str, str]:
        return ("es", "en")

    @pytest.fixture
    def contract_secrets(self) -> list[str]:
        return [FREE_KEY]
