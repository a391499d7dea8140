"""One HTTP layer: a service's odd `Retry-After` means the same to an engine and a helpdesk.

The same values that once crashed a relay job (`-1`, `nan`) or were ignored by the helpdesk
copy (HTTP dates) go through an engine and a helpdesk client side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from tl_loop import RateLimitError, ServiceUnavailableError
from tl_loop.engines import HTTPEngine, RetryPolicy, SegmentResult, TranslateOptions
from tl_loop.helpdesk import HelpdeskClient
from tl_loop.http import MAX_RETRY_AFTER, parse_retry_after
from tl_loop.testing import MemoryHelpdesk

POLICY = RetryPolicy(attempts=2, initial_wait=0.0, max_wait=5.0)
PAST = "Wed, 21 Oct 2015 07:28:00 GMT"

# value sent → the wait both sides must read from it
CASES = [
    ("-1", 0.0),
    ("nan", None),
    ("inf", None),
    ("-inf", None),
    ("soon", None),
    ("", None),
    ("2.5", 2.5),
    (PAST, 0.0),
    ("1e12", MAX_RETRY_AFTER),
]


class Echo(HTTPEngine):
    name = "echo"

    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset({("en", "es")})

    def build_request(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> httpx.Request:
        return httpx.Request("POST", f"{self.base_url}/t", json={"q": list(segments)})

    def parse_response(
        self,
        response: httpx.Response,
        *,
        segments: Sequence[str],
        source: str,
        target: str,
        options: TranslateOptions,
    ) -> list[SegmentResult]:
        return [SegmentResult(text=t) for t in response.json()["t"]]


def limited(value: str) -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": value}, json={"message": "slow down"})


def engine_error(value: str) -> RateLimitError:
    transport = httpx.MockTransport(lambda request: limited(value))
    engine = Echo(
        base_url="https://mt.example",
        retry=RetryPolicy(attempts=1),
        http_client=httpx.Client(transport=transport),
    )
    with pytest.raises(RateLimitError) as caught:
        engine.translate_batch(["hi"], source="en", target="es")
    return caught.value


def helpdesk_client(handler: httpx.MockTransport, sleeps: list[float]) -> HelpdeskClient:
    adapter = MemoryHelpdesk(base_url="https://desk.example", webhook_secret="s")
    return HelpdeskClient(
        adapter, http_client=httpx.Client(transport=handler), retry=POLICY, sleep=sleeps.append
    )


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_engines_and_helpdesks_read_the_same_wait(value: str, expected: float | None) -> None:
    sleeps: list[float] = []
    client = helpdesk_client(httpx.MockTransport(lambda request: limited(value)), sleeps)
    with pytest.raises(RateLimitError) as helpdesk:
        client.get_messages("7")
    assert engine_error(value).retry_after == helpdesk.value.retry_after
    if expected is None:
        assert helpdesk.value.retry_after is None
    else:
        assert helpdesk.value.retry_after == pytest.approx(expected)


def test_an_http_date_in_the_future_is_a_wait_until_then() -> None:
    now = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    assert parse_retry_after("Sun, 06 Dec 2026 08:00:30 GMT", now=now) == 30.0
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(soon) == pytest.approx(30.0, abs=2.0)


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_a_write_answered_429_with_any_wait_is_sent_again_not_crashed(
    value: str, expected: float | None
) -> None:
    answers = iter([limited(value), httpx.Response(201, json={"id": 1})])
    sleeps: list[float] = []
    client = helpdesk_client(httpx.MockTransport(lambda request: next(answers)), sleeps)
    if expected is not None and expected > POLICY.max_wait:
        # Too long to hold a worker: the caller gets a retryable error to park the job with.
        with pytest.raises(RateLimitError) as caught:
            client.post_note("7", "<p>note</p>")
        assert caught.value.retryable
        assert caught.value.retry_after == expected
        assert sleeps == []
        return
    response = client.post_note("7", "<p>note</p>")
    assert response.status_code == 201
    assert len(sleeps) == 1
    assert 0.0 <= sleeps[0] <= POLICY.max_wait


def test_a_write_answered_5xx_is_not_repeated() -> None:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(502, headers={"Retry-After": "-1"})

    client = helpdesk_client(httpx.MockTransport(answer), [])
    with pytest.raises(ServiceUnavailableError) as caught:
        client.post_note("7", "<p>note</p>")
    assert len(calls) == 1
    assert not caught.value.retryable
    assert "may have been stored" in str(caught.value)
