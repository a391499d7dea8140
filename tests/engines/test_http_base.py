"""The HTTP engine shell: error mapping, bounded retries, Retry-After, re-chunking, transports."""

from __future__ import annotations

import json
from collections.abc import Sequence

import anyio
import httpx
import pytest
from pytest_httpx import HTTPXMock

from tl_loop import (
    AuthenticationError,
    InvalidRequestError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
)
from tl_loop.engines import HTTPEngine, RetryPolicy, SegmentResult, TranslateOptions

URL = "https://mt.example/translate"
NO_WAIT = RetryPolicy(attempts=3, initial_wait=0.0, max_wait=0.01)


class EchoEngine(HTTPEngine):
    """A minimal JSON engine, written the way real engines are."""

    name = "echo"

    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset({("en", "es"), ("es", "en")})

    def build_request(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> httpx.Request:
        body = {"q": list(segments), "source": source, "target": target}
        return httpx.Request("POST", f"{self.base_url}/translate", json=body)

    def parse_response(
        self,
        response: httpx.Response,
        *,
        segments: Sequence[str],
        source: str,
        target: str,
        options: TranslateOptions,
    ) -> list[SegmentResult]:
        return [SegmentResult(text=text) for text in response.json()["translations"]]


def engine(**options: object) -> EchoEngine:
    return EchoEngine(base_url="https://mt.example", retry=NO_WAIT, **options)  # type: ignore[arg-type]


def ok(texts: list[str]) -> dict[str, list[str]]:
    return {"translations": texts}


def test_a_successful_call_sends_the_documented_body(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json=ok(["Hola"]))

    results = engine().translate_batch(["Hello"], source="en", target="es")

    assert [r.text for r in results] == ["Hola"]
    sent = httpx_mock.get_requests()[0]
    assert json.loads(sent.content) == {"q": ["Hello"], "source": "en", "target": "es"}


def test_rate_limits_are_retried_and_then_succeed(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=429, headers={"Retry-After": "0"})
    httpx_mock.add_response(url=URL, status_code=503)
    httpx_mock.add_response(url=URL, json=ok(["Hola"]))

    assert engine().translate_batch(["Hello"], source="en", target="es")[0].text == "Hola"
    assert len(httpx_mock.get_requests()) == 3


def test_retries_are_bounded(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_response(url=URL, status_code=503, json={"error": "overloaded"})

    with pytest.raises(ServiceUnavailableError, match="overloaded"):
        engine().translate_batch(["Hello"], source="en", target="es")
    assert len(httpx_mock.get_requests()) == 3


def test_a_long_retry_after_gives_up_at_once_so_the_chain_can_fail_over(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_response(url=URL, status_code=429, headers={"Retry-After": "3600"})

    with pytest.raises(RateLimitError) as caught:
        engine().translate_batch(["Hello"], source="en", target="es")
    assert caught.value.retry_after == 3600
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthenticationError), (403, AuthenticationError), (456, QuotaExceededError),
     (400, InvalidRequestError)],
)  # fmt: skip
def test_non_retryable_errors_are_not_retried(
    httpx_mock: HTTPXMock, status: int, error: type[Exception]
) -> None:
    httpx_mock.add_response(url=URL, status_code=status, json={"message": "no"})

    with pytest.raises(error):
        engine().translate_batch(["Hello"], source="en", target="es")
    assert len(httpx_mock.get_requests()) == 1


def test_bad_input_does_not_fail_over() -> None:
    assert InvalidRequestError("x", service="s").failover is False
    assert QuotaExceededError("x", service="s").failover is True


def test_a_too_large_batch_is_split_and_retried(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=413)
    httpx_mock.add_response(url=URL, json=ok(["uno"]))
    httpx_mock.add_response(url=URL, json=ok(["dos"]))

    results = engine().translate_batch(["one", "two"], source="en", target="es")

    assert [r.text for r in results] == ["uno", "dos"]


def test_timeouts_become_retryable_service_errors(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=URL)

    with pytest.raises(ServiceUnavailableError, match="timed out") as caught:
        engine().translate_batch(["Hello"], source="en", target="es")
    assert caught.value.retryable


def test_async_calls_follow_the_same_rules(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=429, headers={"Retry-After": "0"})
    httpx_mock.add_response(url=URL, json=ok(["Hola"]))

    async def run() -> list[SegmentResult]:
        return await engine().atranslate_batch(["Hello"], source="en", target="es")

    assert [r.text for r in anyio.run(run)] == ["Hola"]


def test_an_injected_client_is_used_and_not_closed() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=ok(["Hola"])))
    client = httpx.Client(transport=transport)
    echo = engine(http_client=client)

    assert echo.translate_batch(["Hello"], source="en", target="es")[0].text == "Hola"
    echo.close()
    assert not client.is_closed
    client.close()
