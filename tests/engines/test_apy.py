"""Apertium APy engine against a faked server that answers as `apertium_apy/handlers` do."""

from __future__ import annotations

from urllib.parse import parse_qs

import anyio
import httpx
import pytest
from pytest_httpx import HTTPXMock

from tl_loop import (
    ConfigurationError,
    InvalidRequestError,
    ServiceError,
    ServiceResponseError,
    ServiceUnavailableError,
)
from tl_loop.engines import RetryPolicy, SegmentResult
from tl_loop.engines._apy import APyEngine, parse_pairs, strip_unknown_marks
from tl_loop.testing import EngineContract

BASE = "http://apy.test:2737"
URL = f"{BASE}/translate"
PAIRS_URL = f"{BASE}/listPairs"
NO_WAIT = RetryPolicy(attempts=3, initial_wait=0.0, max_wait=0.01)
LIST_PAIRS = {
    "responseData": [
        {"sourceLanguage": "eng", "targetLanguage": "spa"},
        {"sourceLanguage": "spa", "targetLanguage": "eng"},
        {"sourceLanguage": "spa", "targetLanguage": "por_BR"},
        {"sourceLanguage": "eng", "targetLanguage": "cat_iec2017"},
    ],
    "responseDetails": None,
    "responseStatus": 200,
}
NOT_INSTALLED = {
    "status": "error",
    "code": 400,
    "message": "Bad Request",
    "explanation": "That pair is not installed",
}


def engine(**options: object) -> APyEngine:
    options.setdefault("pairs", [("en", "es"), ("es", "en")])
    return APyEngine(base_url=BASE, retry=NO_WAIT, **options)  # type: ignore[arg-type]


def answer(text: str) -> dict[str, object]:
    return {
        "responseData": {"translatedText": text},
        "responseDetails": None,
        "responseStatus": 200,
    }


def form(httpx_mock: HTTPXMock, index: int = 0) -> dict[str, str]:
    fields = parse_qs(httpx_mock.get_requests()[index].content.decode(), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def fake_server(request: httpx.Request) -> httpx.Response:
    """Behaves like APy: pairs list, one text per request, `[eng|spa] text` as translation."""
    if request.url.path == "/listPairs":
        return httpx.Response(200, json=LIST_PAIRS)
    fields = parse_qs(request.content.decode())
    pair = fields["langpair"][0]
    if pair not in ("eng|spa", "spa|eng"):
        return httpx.Response(400, json=NOT_INSTALLED)
    return httpx.Response(200, json=answer(f"[{pair}] {fields['q'][0]}"))


# -- request shape and results ------------------------------------------------------------------


def test_each_segment_is_one_form_post_in_order(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, method="POST", json=answer("Hola."))
    httpx_mock.add_response(url=URL, method="POST", json=answer("Adiós."))

    results = engine().translate_batch(["Hello.", "Goodbye."], source="en", target="es")

    assert [r.text for r in results] == ["Hola.", "Adiós."]
    assert form(httpx_mock) == {
        "langpair": "eng|spa",
        "q": "Hello.",
        "markUnknown": "yes",
        "format": "txt",
    }
    assert form(httpx_mock, 1)["q"] == "Goodbye."


def test_unknown_words_are_stripped_and_reported(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL, json=answer("El *flurbo está roto. Quiero un @zorp y #ir *flurbo.")
    )

    [result] = engine().translate_batch(["The flurbo is broken."], source="en", target="es")

    assert result.text == "El flurbo está roto. Quiero un zorp y ir flurbo."
    assert result.unknown_words == ("flurbo", "zorp", "ir")


def test_literal_marks_in_the_text_are_not_taken_for_unknown_words(httpx_mock: HTTPXMock) -> None:
    # APy returns our stand-ins untouched (measured), so @team and #123 come back as written.
    httpx_mock.add_response(url=URL, json=answer("Hola ⟦-2⟧equipo, pedido ⟦-3⟧123, 5 ⟦-1⟧ 3"))

    [result] = engine().translate_batch(["Hi @team, order #123, 5 * 3"], source="en", target="es")

    assert form(httpx_mock)["q"] == "Hi ⟦-2⟧team, order ⟦-3⟧123, 5 ⟦-1⟧ 3"
    assert result.text == "Hola @equipo, pedido #123, 5 * 3"
    assert result.unknown_words == ()


def test_tokens_are_sent_as_they_are_and_come_back(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json=answer("Vuestro orden ⟦0⟧ ha embarcado a ⟦1⟧."))

    [result] = engine().translate_batch(
        ["Your order ⟦0⟧ shipped to ⟦1⟧."], source="en", target="es"
    )

    assert form(httpx_mock)["q"] == "Your order ⟦0⟧ shipped to ⟦1⟧."
    assert result.text == "Vuestro orden ⟦0⟧ ha embarcado a ⟦1⟧."


def test_spaces_left_by_dropped_words_are_removed(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json=answer(" Está roto.  Quiero.\n\n Gracias."))

    [result] = engine().translate_batch(
        ["  It is broken. I want.\n\nThanks.\n"], source="en", target="es"
    )

    assert result.text == "  Está roto. Quiero.\n\nGracias.\n"
    assert result.billed_characters == len("It is broken. I want.\n\nThanks.")


def test_a_long_segment_is_sent_in_pieces_at_sentence_ends(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_callback(fake_server, url=URL, is_reusable=True)
    sentence = "This is one sentence of a long message. "
    segment = (sentence * 10).strip()

    [result] = engine(request_chars=100).translate_batch([segment], source="en", target="es")

    pieces = [form(httpx_mock, i)["q"] for i in range(len(httpx_mock.get_requests()))]
    assert len(pieces) > 1
    assert all(len(piece) <= 100 for piece in pieces)
    assert " ".join(pieces) == segment
    assert result.text.count("[eng|spa]") == len(pieces)


def test_blank_segments_cost_no_request() -> None:
    assert [r.text for r in engine().translate_batch(["", "  "], source="en", target="es")] == [
        "",
        "  ",
    ]


def test_async_translation(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_callback(fake_server, url=URL, is_reusable=True)

    async def run() -> list[SegmentResult]:
        return await engine().atranslate_batch(["One.", "Two."], source="en", target="es")

    assert [r.text for r in anyio.run(run)] == ["[eng|spa] One.", "[eng|spa] Two."]


# -- pairs and codes ----------------------------------------------------------------------------


def test_parse_pairs_maps_three_letter_codes_and_skips_spelling_variants() -> None:
    assert parse_pairs(LIST_PAIRS) == {
        ("en", "es"): "eng|spa",
        ("es", "en"): "spa|eng",
        ("es", "pt-BR"): "spa|por_BR",
    }


def test_parse_pairs_rejects_another_shape() -> None:
    with pytest.raises(ServiceResponseError, match="listPairs"):
        parse_pairs({"status": "error"})


def test_pairs_are_asked_of_the_server_once(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=PAIRS_URL, method="GET", json=LIST_PAIRS)
    apy = APyEngine(base_url=BASE)

    assert apy.supports("en", "es")
    assert apy.supports("en-GB", "es")  # region falls back to the language
    assert not apy.supports("en", "de")
    assert ("es", "pt-BR") in apy.pairs()
    assert len(httpx_mock.get_requests()) == 1


def test_a_discovered_variant_is_sent_with_its_own_code(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=PAIRS_URL, json=LIST_PAIRS)
    httpx_mock.add_response(url=URL, json=answer("Olá."))
    apy = APyEngine(base_url=BASE)
    apy.refresh_languages()

    apy.translate_batch(["Hola."], source="es", target="pt-BR")

    assert form(httpx_mock, 1)["langpair"] == "spa|por_BR"


def test_an_unreachable_server_has_no_pairs_and_is_not_asked_every_call(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=PAIRS_URL)
    apy = APyEngine(base_url=BASE)

    assert not apy.is_available()
    assert not apy.supports("en", "es")
    assert len(httpx_mock.get_requests()) == 1


# -- errors -------------------------------------------------------------------------------------


def test_a_pair_the_server_lacks_fails_over_without_retrying(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=400, json=NOT_INSTALLED)

    with pytest.raises(ServiceError, match="not installed") as caught:
        engine().translate_batch(["Hallo"], source="de", target="es")
    assert not isinstance(caught.value, InvalidRequestError)
    assert caught.value.failover
    assert not caught.value.retryable
    assert form(httpx_mock)["langpair"] == "deu|spa"
    assert len(httpx_mock.get_requests()) == 1


def test_a_pipeline_timeout_is_retried_then_unavailable(httpx_mock: HTTPXMock) -> None:
    body = {"status": "error", "code": 503, "message": "Service Unavailable"}
    for _ in range(3):
        httpx_mock.add_response(
            url=URL, status_code=503, json={**body, "explanation": "internal error"}
        )

    with pytest.raises(ServiceUnavailableError, match="internal error") as caught:
        engine().translate_batch(["Hello"], source="en", target="es")
    assert caught.value.retryable
    assert len(httpx_mock.get_requests()) == 3


def test_a_pipeline_timeout_then_success(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=503, json={"explanation": "internal error"})
    httpx_mock.add_response(url=URL, json=answer("Hola"))

    assert engine().translate_batch(["Hello"], source="en", target="es")[0].text == "Hola"


def test_a_malformed_answer_is_a_response_error(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json={"responseStatus": 200})

    with pytest.raises(ServiceResponseError, match="translatedText"):
        engine().translate_batch(["Hello"], source="en", target="es")


# -- pure helpers and configuration --------------------------------------------------------------


def test_strip_unknown_marks_keeps_words_with_apostrophes_and_hyphens() -> None:
    assert strip_unknown_marks("la cosa-un-*ma-*bob y *o'neil *o'neil") == (
        "la cosa-un-ma-bob y o'neil o'neil",
        ("ma", "bob", "o'neil"),
    )


def test_from_env_reads_the_url() -> None:
    apy = APyEngine.from_env({"APERTIUM_APY_URL": "http://apy:2737/"}, pairs=[("en", "es")])
    assert apy.base_url == "http://apy:2737"
    assert apy.capabilities.trusted
    assert apy.capabilities.marks_unknown


def test_from_env_names_the_missing_variable() -> None:
    with pytest.raises(ConfigurationError, match="APERTIUM_APY_URL"):
        APyEngine.from_env({})


def test_build_request_takes_one_text() -> None:
    with pytest.raises(ValueError, match="one text per request"):
        engine().build_request(["a", "b"], source="en", target="es")


# -- the contract every engine owes the loop ----------------------------------------------------


class TestAPyContract(EngineContract):
    @pytest.fixture
    def contract_engine(self, httpx_mock: HTTPXMock) -> APyEngine:
        httpx_mock.add_callback(fake_server, is_reusable=True, is_optional=True)
        return APyEngine(base_url=BASE, retry=NO_WAIT)

    @pytest.fixture
    def contract_pair(self) -> tuple[str, str]:
        return ("en", "es")
