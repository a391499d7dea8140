"""Google Cloud Translation v2 (API key) and v3 (bearer token, glossaries) engines."""

from __future__ import annotations

import json
from typing import Any

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
    ServiceResponseError,
    ServiceUnavailableError,
    TextTooLongError,
    UnsupportedLanguageError,
)
from tl_loop.engines import (
    Engine,
    GoogleTranslateEngine,
    GoogleTranslateV3Engine,
    RetryPolicy,
    TranslateOptions,
)
from tl_loop.testing import EngineContract

KEY = "AIzaSy-secret-google-key"
TOKEN = "ya29.secret-oauth-token"
V2 = "https://translation.googleapis.com/language/translate/v2"
V3 = "https://translation.googleapis.com/v3/projects/acme-support/locations/global:translateText"
V3_REGIONAL = (
    "https://translation.googleapis.com/v3/projects/acme-support/locations/us-central1"
    ":translateText"
)
GLOSSARY = "projects/acme-support/locations/us-central1/glossaries/acme"
NO_WAIT = RetryPolicy(attempts=3, initial_wait=0.0, max_wait=0.01)


def google(**options: Any) -> GoogleTranslateEngine:
    return GoogleTranslateEngine(api_key=KEY, retry=NO_WAIT, **options)


def google_v3(**options: Any) -> GoogleTranslateV3Engine:
    options.setdefault("project", "acme-support")
    if "token_provider" not in options:
        options.setdefault("access_token", TOKEN)
    return GoogleTranslateV3Engine(retry=NO_WAIT, **options)


def v2_answer(*texts: str) -> dict[str, Any]:
    return {"data": {"translations": [{"translatedText": text} for text in texts]}}


def v3_answer(*texts: str, glossary: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"translations": [{"translatedText": text} for text in texts]}
    if glossary is not None:
        body["glossaryTranslations"] = [
            {"translatedText": text, "glossaryConfig": {"glossary": GLOSSARY}} for text in glossary
        ]
    return body


def google_error(code: int, message: str, reason: str | None = None, status: str = "") -> Any:
    error: dict[str, Any] = {"code": code, "message": message}
    if reason:
        error["errors"] = [{"message": message, "domain": "usageLimits", "reason": reason}]
    if status:
        error["status"] = status
    return {"error": error}


def sent(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


# -- v2: request shape -------------------------------------------------------------------------


def test_v2_sends_the_documented_body_with_an_explicit_text_format(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=V2, method="POST", json=v2_answer("I'm here", "Thanks"))

    results = google().translate_batch(["Estoy aquí", "Gracias"], source="es", target="en")

    assert [r.text for r in results] == ["I'm here", "Thanks"]
    request = httpx_mock.get_requests()[0]
    assert sent(request) == {
        "q": ["Estoy aquí", "Gracias"],
        "source": "es",
        "target": "en",
        "format": "text",
    }
    assert request.headers["X-goog-api-key"] == KEY


def test_v2_keeps_the_key_out_of_the_url(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=V2, json=v2_answer("Hello"))

    google().translate_batch(["Hola"], source="es", target="en")

    assert KEY not in str(httpx_mock.get_requests()[0].url)


def test_v2_bills_the_code_points_sent(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=V2, json=v2_answer("Hello"))

    [result] = google().translate_batch(["¡Hola!"], source="es", target="en")

    assert result.billed_characters == 6


def test_v2_tokens_travel_in_no_translate_spans_and_come_back(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=V2,
        json=v2_answer(
            'Order <span translate="no">⟦0⟧</span> isn&#39;t &lt;late&gt; &amp; fine',
            "Hello",
        ),
    )

    results = google().translate_batch(
        ["El pedido ⟦0⟧ no está <tarde> & bien", "Hola"], source="es", target="en"
    )

    assert [r.text for r in results] == ["Order ⟦0⟧ isn't <late> & fine", "Hello"]
    body = sent(httpx_mock.get_requests()[0])
    assert body["format"] == "html"
    assert (
        body["q"][0] == 'El pedido <span translate="no">⟦0⟧</span> no está &lt;tarde&gt; &amp; bien'
    )


def test_v2_tokens_survive_attributes_google_adds_to_spans(httpx_mock: HTTPXMock) -> None:
    # Translating into a right-to-left language adds direction styles to tags.
    span = '<span translate="no" style="text-align:right;direction:rtl">⟦0⟧</span>'
    httpx_mock.add_response(url=V2, json=v2_answer(f"הזמנה {span}"))

    [result] = google().translate_batch(["Order ⟦0⟧"], source="en", target="he")

    assert result.text == "הזמנה ⟦0⟧"


def test_v2_an_empty_batch_sends_nothing() -> None:
    assert google().translate_batch([], source="es", target="en") == []


@pytest.mark.parametrize(
    ("tag", "code"),
    [("zh", "zh-CN"), ("zh-Hans", "zh-CN"), ("zh-Hant", "zh-TW"), ("zh-HK", "zh-TW"),
     ("he", "iw"), ("en-GB", "en"), ("pt-BR", "pt"), ("pt-PT", "pt-PT"), ("fil", "tl")],
)  # fmt: skip
def test_v2_maps_tags_to_google_codes(tag: str, code: str) -> None:
    request = google().build_request(["Hi"], source="ja", target=tag, options=TranslateOptions())
    assert sent(request)["target"] == code


def test_v2_supported_pairs() -> None:
    engine = google()
    assert engine.supports("es", "en")
    assert engine.supports("he", "zh-Hant")
    assert ("he", "zh-Hant") in engine.pairs()
    assert not engine.supports("en", "en-GB")
    assert not engine.supports("es", "xx")
    with pytest.raises(UnsupportedLanguageError):
        engine.translate_batch(["Hola"], source="es", target="xx")


def test_v2_refresh_languages_reads_the_languages_endpoint(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{V2}/languages",
        method="GET",
        json={"data": {"languages": [{"language": "es"}, {"language": "iw"}]}},
    )
    engine = google()

    engine.refresh_languages()

    assert engine.pairs() == {("es", "he"), ("he", "es")}
    assert httpx_mock.get_requests()[0].headers["X-goog-api-key"] == KEY


def test_v2_has_no_glossary_or_formality_and_caps_segments() -> None:
    capabilities = google().capabilities
    assert not capabilities.glossary
    assert not capabilities.formality
    assert not capabilities.trusted
    assert capabilities.max_items == 128


# -- v2: errors --------------------------------------------------------------------------------


def test_v2_daily_limit_is_a_quota_error_not_retried(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=V2,
        status_code=403,
        json=google_error(403, "Daily Limit Exceeded", "dailyLimitExceeded"),
    )

    with pytest.raises(QuotaExceededError):
        google().translate_batch(["Hola"], source="es", target="en")
    assert len(httpx_mock.get_requests()) == 1


def test_v2_user_rate_limit_is_retried_then_succeeds(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=V2,
        status_code=403,
        json=google_error(403, "User Rate Limit Exceeded", "userRateLimitExceeded"),
    )
    httpx_mock.add_response(url=V2, status_code=429, json=google_error(429, "Too many requests"))
    httpx_mock.add_response(url=V2, json=v2_answer("Hello"))

    assert google().translate_batch(["Hola"], source="es", target="en")[0].text == "Hello"
    assert len(httpx_mock.get_requests()) == 3


def test_v2_an_invalid_key_is_an_authentication_error_without_the_key(
    httpx_mock: HTTPXMock,
) -> None:
    body = google_error(400, "API key not valid. Please pass a valid API key.", "badRequest")
    body["error"]["details"] = [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
    ]
    httpx_mock.add_response(url=V2, status_code=400, json=body)

    with pytest.raises(AuthenticationError) as caught:
        google().translate_batch(["Hola"], source="es", target="en")
    assert KEY not in str(caught.value)


def test_v2_a_forbidden_project_says_what_to_check(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=V2, status_code=403, json=google_error(403, "Requests are blocked.", "forbidden")
    )

    with pytest.raises(AuthenticationError, match="Cloud Translation API enabled"):
        google().translate_batch(["Hola"], source="es", target="en")


def test_v2_too_many_segments_splits_the_batch(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=V2, status_code=400, json=google_error(400, "Too many text segments", "invalid")
    )
    httpx_mock.add_response(url=V2, json=v2_answer("one"))
    httpx_mock.add_response(url=V2, json=v2_answer("two"))

    results = google().translate_batch(["uno", "dos"], source="es", target="en")

    assert [r.text for r in results] == ["one", "two"]


def test_v2_other_bad_requests_do_not_fail_over(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=V2, status_code=400, json=google_error(400, "Invalid Value", "invalid")
    )

    with pytest.raises(InvalidRequestError, match="Invalid Value"):
        google().translate_batch(["Hola"], source="es", target="en")


def test_v2_outages_are_retried_then_reported(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_response(url=V2, status_code=503, json=google_error(503, "Unavailable"))

    with pytest.raises(ServiceUnavailableError):
        google().translate_batch(["Hola"], source="es", target="en")
    assert len(httpx_mock.get_requests()) == 3


def test_v2_a_short_answer_is_a_response_error(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=V2, json=v2_answer("one"))

    with pytest.raises(ServiceResponseError, match="sent 2 texts"):
        google().translate_batch(["uno", "dos"], source="es", target="en")


def test_v2_configuration() -> None:
    assert KEY not in repr(google())
    assert GoogleTranslateEngine.from_env({"GOOGLE_TRANSLATE_API_KEY": KEY}).version == "v2"
    with pytest.raises(ConfigurationError, match="GOOGLE_TRANSLATE_API_KEY"):
        GoogleTranslateEngine.from_env({})
    with pytest.raises(ConfigurationError):
        GoogleTranslateEngine(api_key="")


# -- v3 ----------------------------------------------------------------------------------------


def test_v3_sends_the_documented_body_with_a_bearer_token(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=V3, method="POST", json=v3_answer("Hello"))

    [result] = google_v3().translate_batch(["Hola"], source="es", target="zh-Hant")

    assert result.text == "Hello"
    request = httpx_mock.get_requests()[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent(request) == {
        "contents": ["Hola"],
        "sourceLanguageCode": "es",
        "targetLanguageCode": "zh-TW",
        "mimeType": "text/plain",
    }


def test_v3_tokens_go_as_html(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=V3, json=v3_answer('Order <span translate="no">⟦0⟧</span> &amp; more')
    )

    [result] = google_v3().translate_batch(["Pedido ⟦0⟧ & más"], source="es", target="en")

    assert result.text == "Order ⟦0⟧ & more"
    assert sent(httpx_mock.get_requests()[0])["mimeType"] == "text/html"


def test_v3_asks_the_token_provider_for_every_request(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=V3, json=v3_answer("Hello"), is_reusable=True)
    tokens = iter(["token-1", "token-2"])
    engine = google_v3(token_provider=lambda: next(tokens))

    engine.translate_batch(["Hola"], source="es", target="en")
    engine.translate_batch(["Hola"], source="es", target="en")

    auth = [r.headers["Authorization"] for r in httpx_mock.get_requests()]
    assert auth == ["Bearer token-1", "Bearer token-2"]


def test_v3_a_configured_glossary_is_sent_and_its_translations_preferred(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_response(
        url=V3_REGIONAL, json=v3_answer("Su ticket", glossary=["Su incidencia"])
    )
    engine = google_v3(location="us-central1", glossary="acme", glossary_ignore_case=True)
    options = TranslateOptions(
        glossary=Glossary.from_tsv("ticket\tincidencia\n", source="en", target="es")
    )

    [result] = engine.translate_batch(["Your ticket"], source="en", target="es", options=options)

    assert result.text == "Su incidencia"
    assert sent(httpx_mock.get_requests()[0])["glossaryConfig"] == {
        "glossary": GLOSSARY,
        "ignoreCase": True,
    }
    assert engine.capabilities.glossary
    assert GLOSSARY in engine.version


def test_v3_without_a_google_glossary_claims_no_native_glossary() -> None:
    assert not google_v3().capabilities.glossary
    assert google_v3().version == "v3"


def test_v3_glossaries_need_a_region_and_a_valid_name() -> None:
    with pytest.raises(ConfigurationError, match="regional location"):
        google_v3(glossary="acme")
    with pytest.raises(ConfigurationError, match="resource name"):
        google_v3(location="us-central1", glossary="glossaries/acme")
    engine = google_v3(location="us-central1", glossary=GLOSSARY)
    assert engine.capabilities.glossary


def test_v3_per_minute_exhaustion_is_retried(httpx_mock: HTTPXMock) -> None:
    message = (
        "Quota exceeded for quota metric 'v2 and v3 general model characters' and limit "
        "'v2 and v3 general model characters per minute per project'"
    )
    httpx_mock.add_response(
        url=V3, status_code=429, json=google_error(429, message, status="RESOURCE_EXHAUSTED")
    )
    httpx_mock.add_response(url=V3, json=v3_answer("Hello"))

    assert google_v3().translate_batch(["Hola"], source="es", target="en")[0].text == "Hello"


def test_v3_exhausted_quota_fails_over(httpx_mock: HTTPXMock) -> None:
    message = "Quota exceeded for quota metric 'characters' and limit 'characters per day'"
    httpx_mock.add_response(
        url=V3, status_code=429, json=google_error(429, message, status="RESOURCE_EXHAUSTED")
    )

    with pytest.raises(QuotaExceededError):
        google_v3().translate_batch(["Hola"], source="es", target="en")
    assert len(httpx_mock.get_requests()) == 1


def test_v3_persistent_rate_limits_surface(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_response(url=V3, status_code=429, json=google_error(429, "per minute"))

    with pytest.raises(RateLimitError):
        google_v3().translate_batch(["Hola"], source="es", target="en")


def test_v3_an_expired_token_is_an_authentication_error_without_the_token(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_response(
        url=V3,
        status_code=401,
        json=google_error(401, "Request had invalid authentication credentials.",
                          status="UNAUTHENTICATED"),
    )  # fmt: skip

    with pytest.raises(AuthenticationError) as caught:
        google_v3().translate_batch(["Hola"], source="es", target="en")
    assert TOKEN not in str(caught.value)


def test_v3_text_too_long_is_split(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=V3,
        status_code=400,
        json=google_error(400, "Text is too long.", status="INVALID_ARGUMENT"),
    )
    httpx_mock.add_response(url=V3, json=v3_answer("one"))
    httpx_mock.add_response(url=V3, json=v3_answer("two"))

    results = google_v3().translate_batch(["uno", "dos"], source="es", target="en")

    assert [r.text for r in results] == ["one", "two"]
    httpx_mock.add_response(
        url=V3,
        status_code=400,
        json=google_error(400, "Text is too long.", status="INVALID_ARGUMENT"),
    )
    with pytest.raises(TextTooLongError):
        google_v3().translate_batch(["uno"], source="es", target="en")


def test_v3_refresh_languages_keeps_two_way_languages(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url="https://translation.googleapis.com/v3/projects/acme-support/locations/global"
        "/supportedLanguages",
        method="GET",
        json={
            "languages": [
                {"languageCode": "es", "supportSource": True, "supportTarget": True},
                {"languageCode": "en", "supportSource": True, "supportTarget": True},
                {"languageCode": "xx", "supportSource": True, "supportTarget": False},
            ]
        },
    )
    engine = google_v3()

    engine.refresh_languages()

    assert engine.pairs() == {("es", "en"), ("en", "es")}


def test_v3_configuration() -> None:
    engine = google_v3()
    assert TOKEN not in repr(engine)
    env = {"GOOGLE_CLOUD_PROJECT": "acme-support", "GOOGLE_OAUTH_ACCESS_TOKEN": TOKEN}
    assert "locations/global" in repr(GoogleTranslateV3Engine.from_env(env))
    nowhere = {"NO_GCE_CHECK": "true", "CLOUDSDK_CONFIG": "/nonexistent"}
    regional = GoogleTranslateV3Engine.from_env(
        {**env, "GOOGLE_TRANSLATE_LOCATION": "europe-west1"}
    )
    assert "locations/europe-west1" in repr(regional)
    for missing in env:
        with pytest.raises(ConfigurationError, match=missing):
            GoogleTranslateV3Engine.from_env(
                {**nowhere, **{k: v for k, v in env.items() if k != missing}}
            )
    with pytest.raises(ConfigurationError, match="no Google credentials"):
        GoogleTranslateV3Engine(project="p")
    with pytest.raises(ConfigurationError, match="exactly one"):
        GoogleTranslateV3Engine(project="p", access_token=TOKEN, token_provider=lambda: TOKEN)


# -- the contract every engine owes the loop ----------------------------------------------------


def fake_v2(request: httpx.Request) -> httpx.Response:
    body = sent(request)
    return httpx.Response(200, json=v2_answer(*(f"[{body['target']}] {q}" for q in body["q"])))


def fake_v3(request: httpx.Request) -> httpx.Response:
    body = sent(request)
    texts = (f"[{body['targetLanguageCode']}] {text}" for text in body["contents"])
    return httpx.Response(200, json=v3_answer(*texts))


class TestGoogleV2Contract(EngineContract):
    @pytest.fixture
    def contract_engine(self, httpx_mock: HTTPXMock) -> Engine:
        httpx_mock.add_callback(fake_v2, url=V2, is_reusable=True, is_optional=True)
        return google()

    @pytest.fixture
    def contract_pair(self) -> tuple[str, str]:
        return ("es", "en")

    @pytest.fixture
    def contract_secrets(self) -> list[str]:
        return [KEY]


class TestGoogleV3Contract(EngineContract):
    @pytest.fixture
    def contract_engine(self, httpx_mock: HTTPXMock) -> Engine:
        httpx_mock.add_callback(fake_v3, url=V3, is_reusable=True, is_optional=True)
        return google_v3()

    @pytest.fixture
    def contract_pair(self) -> tuple[str, str]:
        return ("es", "en")

    @pytest.fixture
    def contract_secrets(self) -> list[str]:
        return [TOKEN]
