"""Amazon Translate TranslateText: signing, request shape, formality, terminology, errors (§6)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

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
    ServiceResponseError,
    ServiceUnavailableError,
    TextTooLongError,
)
from tl_loop.engines import AmazonEngine, RetryPolicy, SegmentResult, TranslateOptions
from tl_loop.testing import EngineContract

URL = "https://translate.eu-west-1.amazonaws.com/"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "session-token-abc"
NO_WAIT = RetryPolicy(attempts=3, initial_wait=0.0, max_wait=0.01)
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def engine(**options: object) -> AmazonEngine:
    settings: dict[str, object] = {
        "access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET, "region": "eu-west-1",
        "retry": NO_WAIT, "clock": lambda: WHEN,
    }  # fmt: skip
    return AmazonEngine(**{**settings, **options})  # type: ignore[arg-type]


def ok(text: str, **extra: object) -> dict[str, object]:
    return {"TranslatedText": text, "SourceLanguageCode": "en", "TargetLanguageCode": "es",
            **extra}  # fmt: skip


def fault(kind: str, message: str = "nope") -> dict[str, str]:
    return {"__type": kind, "message": message}


def body(httpx_mock: HTTPXMock, index: int = 0) -> dict[str, object]:
    result: dict[str, object] = json.loads(httpx_mock.get_requests()[index].content)
    return result


def test_the_request_is_a_signed_translate_text_call(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json=ok("Hola"))

    results = engine().translate_batch(["Hello"], source="en", target="es")

    assert results[0].text == "Hola"
    request = httpx_mock.get_requests()[0]
    assert request.method == "POST"
    assert request.headers["X-Amz-Target"] == "AWSShineFrontendService_20170701.TranslateText"
    assert request.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert request.headers["X-Amz-Date"] == "20240102T030405Z"
    authorization = request.headers["Authorization"]
    assert authorization.startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/eu-west-1/translate/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
    )
    assert body(httpx_mock) == {
        "Text": "Hello", "SourceLanguageCode": "en", "TargetLanguageCode": "es",
    }  # fmt: skip


def test_the_signature_changes_with_the_body_and_the_time(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_response(url=URL, json=ok("x"))

    engine().translate_batch(["Hello"], source="en", target="es")
    engine().translate_batch(["Hello!"], source="en", target="es")
    engine(clock=lambda: datetime(2024, 1, 2, 3, 4, 6, tzinfo=UTC)).translate_batch(
        ["Hello"], source="en", target="es"
    )

    signatures = {r.headers["Authorization"] for r in httpx_mock.get_requests()}
    assert len(signatures) == 3


def test_a_session_token_is_sent_and_signed(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json=ok("Hola"))

    engine(session_token=TOKEN).translate_batch(["Hello"], source="en", target="es")

    request = httpx_mock.get_requests()[0]
    assert request.headers["X-Amz-Security-Token"] == TOKEN
    assert "x-amz-security-token" in request.headers["Authorization"]


def test_a_batch_is_one_request_per_segment_in_order(httpx_mock: HTTPXMock) -> None:
    for text in ("uno", "dos", "tres"):
        httpx_mock.add_response(url=URL, json=ok(text))

    results = engine().translate_batch(["one", "two", "three"], source="en", target="es")

    assert [r.text for r in results] == ["uno", "dos", "tres"]
    assert [body(httpx_mock, i)["Text"] for i in range(3)] == ["one", "two", "three"]


def test_a_retry_repeats_only_the_failed_segment(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json=ok("uno"))
    httpx_mock.add_response(url=URL, status_code=400, json=fault("ThrottlingException"))
    httpx_mock.add_response(url=URL, json=ok("dos"))

    results = engine().translate_batch(["one", "two"], source="en", target="es")

    assert [r.text for r in results] == ["uno", "dos"]
    assert [body(httpx_mock, i)["Text"] for i in range(3)] == ["one", "two", "two"]


def test_async_batches_run_concurrently_and_keep_order(httpx_mock: HTTPXMock) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=ok(json.loads(request.content)["Text"].upper()))

    httpx_mock.add_callback(echo, url=URL, is_reusable=True)

    async def run() -> list[SegmentResult]:
        return await engine(max_concurrency=3).atranslate_batch(
            [f"s{i}" for i in range(7)], source="en", target="es"
        )

    assert [r.text for r in anyio.run(run)] == [f"S{i}" for i in range(7)]


@pytest.mark.parametrize(
    ("tag", "code"),
    [("zh-Hans", "zh"), ("zh-CN", "zh"), ("zh-Hant", "zh-TW"), ("pt-BR", "pt"),
     ("pt-PT", "pt-PT"), ("es-MX", "es-MX"), ("es-AR", "es"), ("fil", "tl"), ("nb", "no")],
)  # fmt: skip
def test_bcp47_tags_map_to_amazon_codes(httpx_mock: HTTPXMock, tag: str, code: str) -> None:
    httpx_mock.add_response(url=URL, json=ok("x"))

    engine().translate_batch(["Hello"], source="en", target=tag)

    assert body(httpx_mock)["TargetLanguageCode"] == code


def test_pairs_use_the_documented_language_table() -> None:
    amazon = engine()
    assert ("en", "fa-AF") in amazon.pairs()
    assert ("en", "en") not in amazon.pairs()
    assert amazon.supports("zh-Hant", "pt-BR")
    assert not amazon.supports("en", "tlh")


def test_tokens_travel_in_no_translate_spans(httpx_mock: HTTPXMock) -> None:
    reply = 'Su pedido <span translate="no">⟦0⟧</span> &amp; más'
    httpx_mock.add_response(url=URL, json=ok(reply))

    result = engine().translate_batch(["Your order ⟦0⟧ & more"], source="en", target="es")

    assert result[0].text == "Su pedido ⟦0⟧ & más"
    assert body(httpx_mock)["Text"] == 'Your order <span translate="no">⟦0⟧</span> &amp; more'


def test_plain_text_is_sent_unescaped(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json=ok("a < b & c"))

    assert engine().translate_batch(["a < b & c"], source="en", target="es")[0].text == (
        "a < b & c"
    )
    assert body(httpx_mock)["Text"] == "a < b & c"


def test_formality_is_sent_and_its_application_reported(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL, json=ok("¿Cómo está?", AppliedSettings={"Formality": "FORMAL"})
    )
    httpx_mock.add_response(url=URL, json=ok("How are you?"))  # target without formality

    formal = TranslateOptions(formality="formal")
    applied = engine().translate_batch(["How are you?"], source="en", target="es", options=formal)
    ignored = engine().translate_batch(["¿Cómo estás?"], source="es", target="en", options=formal)

    assert body(httpx_mock)["Settings"] == {"Formality": "FORMAL"}
    assert applied[0].formality_applied is True
    assert ignored[0].formality_applied is False
    assert engine().capabilities.formality is True


def test_without_formality_no_settings_are_sent(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json=ok("Hola"))

    result = engine().translate_batch(["Hi"], source="en", target="es")

    assert "Settings" not in body(httpx_mock)
    assert result[0].formality_applied is None


def test_a_named_terminology_is_native_and_reported(httpx_mock: HTTPXMock) -> None:
    applied = [{"Name": "acme", "Terms": [{"SourceText": "Acme Cloud", "TargetText": "Nube"}]}]
    httpx_mock.add_response(url=URL, json=ok("Nube", AppliedTerminologies=applied))

    amazon = engine(terminology_names=["acme"])
    result = amazon.translate_batch(["Acme Cloud"], source="en", target="es")

    assert body(httpx_mock)["TerminologyNames"] == ["acme"]
    assert result[0].extra == {"applied_terminologies": "acme", "applied_terms": "1"}
    assert amazon.capabilities.glossary is True
    assert engine().capabilities.glossary is False
    assert amazon.version != engine().version
    with pytest.raises(ConfigurationError, match="one"):
        engine(terminology_names=["a", "b"])


def test_billed_characters_count_what_was_sent(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json=ok("¡Hola!"))

    assert engine().translate_batch(["¡Hi!"], source="es", target="en")[0].billed_characters == 4


def test_a_text_over_10000_bytes_is_refused_before_sending() -> None:
    with pytest.raises(TextTooLongError, match="10000"):
        engine().translate_batch(["é" * 5001], source="fr", target="en")


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [("UnrecognizedClientException", 400, AuthenticationError),
     ("AccessDeniedException", 400, AuthenticationError),
     ("LimitExceededException", 400, QuotaExceededError),
     ("TextSizeLimitExceededException", 400, TextTooLongError),
     ("InvalidRequestException", 400, InvalidRequestError),
     ("com.amazonaws.translate#UnsupportedLanguagePairException", 400, InvalidRequestError)],
)  # fmt: skip
def test_errors_map_by_type_without_retries(
    httpx_mock: HTTPXMock, kind: str, status: int, error: type[Exception]
) -> None:
    httpx_mock.add_response(url=URL, status_code=status, json=fault(kind))

    with pytest.raises(error):
        engine().translate_batch(["Hello"], source="en", target="es")
    assert len(httpx_mock.get_requests()) == 1


def test_an_unsupported_pair_fails_over_but_bad_input_does_not(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL, status_code=400, json=fault("UnsupportedLanguagePairException")
    )
    httpx_mock.add_response(url=URL, status_code=400, json=fault("InvalidRequestException"))

    with pytest.raises(InvalidRequestError) as pair:
        engine().translate_batch(["Hello"], source="en", target="es")
    with pytest.raises(InvalidRequestError) as bad:
        engine().translate_batch(["Hello"], source="en", target="es")
    assert pair.value.failover is True
    assert bad.value.failover is False


def test_throttling_and_outages_are_retried_then_succeed(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=400, json=fault("TooManyRequestsException"))
    httpx_mock.add_response(url=URL, status_code=503, json=fault("ServiceUnavailableException"))
    httpx_mock.add_response(url=URL, json=ok("Hola"))

    assert engine().translate_batch(["Hello"], source="en", target="es")[0].text == "Hola"
    assert len(httpx_mock.get_requests()) == 3


def test_persistent_throttling_raises_a_rate_limit(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_response(
            url=URL, status_code=400, headers={"x-amzn-ErrorType": "ThrottlingException"}
        )

    with pytest.raises(RateLimitError):
        engine().translate_batch(["Hello"], source="en", target="es")


def test_internal_errors_are_retryable(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_response(url=URL, status_code=500, json=fault("InternalServerException"))

    with pytest.raises(ServiceUnavailableError):
        engine().translate_batch(["Hello"], source="en", target="es")


def test_a_body_without_translated_text_is_a_response_error(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json={"Translated": "Hola"})

    with pytest.raises(ServiceResponseError):
        engine().translate_batch(["Hello"], source="en", target="es")


def test_secrets_never_leak(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL, status_code=400, json=fault("InvalidSignatureException", f"bad {SECRET}")
    )
    amazon = engine(session_token=TOKEN)

    with pytest.raises(AuthenticationError) as caught:
        amazon.translate_batch(["Hello"], source="en", target="es")
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(amazon)
    assert TOKEN not in repr(amazon)
    assert SECRET not in repr(amazon._credentials)


def test_from_env_reads_the_aws_variables() -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": SECRET,
           "AWS_SESSION_TOKEN": TOKEN, "AWS_DEFAULT_REGION": "us-west-2",
           # the rest of the chain finds nothing: no files, no instance metadata
           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
           "AWS_CONFIG_FILE": "/nonexistent/config",
           "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip

    amazon = AmazonEngine.from_env(env)

    assert amazon.region == "us-west-2"
    assert amazon.base_url == "https://translate.us-west-2.amazonaws.com"
    assert AmazonEngine.from_env({**env, "AWS_REGION": "eu-central-1"}).region == "eu-central-1"
    for missing in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        partial = {k: v for k, v in env.items() if k != missing}
        with pytest.raises(ConfigurationError, match=missing.replace("_DEFAULT", "")):
            AmazonEngine.from_env(partial)


# -- the contract every engine owes the loop ----------------------------------------------------


def fake_amazon(request: httpx.Request) -> httpx.Response:
    """Behaves like `TranslateText`: wants a SigV4-signed JSON 1.1 call, "translates" the one
    `Text` by prefixing the target (HTML markup kept as it is)."""
    authorization = request.headers.get("Authorization", "")
    if not authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"):
        return httpx.Response(
            400, json=fault("MissingAuthenticationTokenException", "Missing Authentication Token")
        )
    if request.headers.get("X-Amz-Target") != "AWSShineFrontendService_20170701.TranslateText":
        return httpx.Response(400, json=fault("UnknownOperationException"))
    call = json.loads(request.content)
    source, target = call["SourceLanguageCode"], call["TargetLanguageCode"]
    return httpx.Response(
        200,
        json={"TranslatedText": f"[{target}] {call['Text']}", "SourceLanguageCode": source,
              "TargetLanguageCode": target},
        headers={"x-amzn-RequestId": "00000000-0000-0000-0000-000000000000"},
    )  # fmt: skip


class TestAmazonContract(EngineContract):
    @pytest.fixture
    def contract_engine(self, httpx_mock: HTTPXMock) -> AmazonEngine:
        httpx_mock.add_callback(fake_amazon, url=URL, is_reusable=True, is_optional=True)
        return engine(session_token=TOKEN)

    @pytest.fixture
    def contract_pair(self) -> tuple[str, str]:
        return ("en", "es")

    @pytest.fixture
    def contract_secrets(self) -> Sequence[str]:
        return (SECRET, TOKEN)
