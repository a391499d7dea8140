"""HelpdeskClient: reads are retried, writes only when the request surely did not arrive."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tl_loop import ServiceError
from tl_loop.helpdesk import HelpdeskClient
from tl_loop.testing import MemoryHelpdesk

Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """A transport answering with scripted outcomes, counting what reached the 'server'."""

    def __init__(self, *outcomes: int | type[Exception]) -> None:
        self.outcomes = list(outcomes)
        self.arrived = 0
        self.attempts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, type):
            if not issubclass(outcome, httpx.ConnectError):
                self.arrived += 1  # a timeout or a dropped connection: the server got it
            raise outcome("scripted", request=request)
        self.arrived += 1
        headers = {"retry-after": "0"} if outcome == 429 else {}
        return httpx.Response(outcome, json={"messages": [], "next_page": None}, headers=headers)


def client_for(script: Handler) -> HelpdeskClient:
    adapter = MemoryHelpdesk(base_url="http://helpdesk.test", webhook_secret="s")
    transport = httpx.Client(transport=httpx.MockTransport(script))
    return HelpdeskClient(adapter, http_client=transport, sleep=lambda _: None)


def test_a_write_is_retried_when_the_connection_was_refused() -> None:
    script = Script(httpx.ConnectError, httpx.ConnectError, 201)
    client_for(script).post_note("c1", "note")
    assert script.attempts == 3
    assert script.arrived == 1


def test_a_write_is_given_up_when_connecting_keeps_failing_and_may_be_retried_later() -> None:
    script = Script(httpx.ConnectError, httpx.ConnectError, httpx.ConnectError)
    with pytest.raises(ServiceError) as caught:
        client_for(script).post_reply("c1", "reply")
    assert caught.value.retryable  # nothing arrived: a later retry is safe
    assert script.arrived == 0


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError]
)
def test_a_write_is_never_retried_after_it_may_have_arrived(failure: type[Exception]) -> None:
    script = Script(failure, 201)
    with pytest.raises(ServiceError) as caught:
        client_for(script).post_reply("c1", "reply")
    assert script.attempts == 1
    assert not caught.value.retryable
    assert "not retried" in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_write_answered_5xx_is_not_retried(status: int) -> None:
    script = Script(status, 201)
    with pytest.raises(ServiceError) as caught:
        client_for(script).post_note("c1", "note")
    assert script.attempts == 1
    assert not caught.value.retryable


def test_a_rate_limited_write_is_retried_because_it_was_refused() -> None:
    script = Script(429, 201)
    client_for(script).post_note("c1", "note")
    assert script.attempts == 2


def test_a_refused_write_is_not_retried() -> None:
    script = Script(422, 201)
    with pytest.raises(ServiceError) as caught:
        client_for(script).post_note("c1", "note")
    assert script.attempts == 1
    assert not caught.value.retryable


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, 503, 429, httpx.ConnectError])
def test_reads_are_retried(failure: int | type[Exception]) -> None:
    script = Script(failure, 200)
    assert client_for(script).get_messages("c1") == []
    assert script.attempts == 2


def test_reads_give_up_after_the_policy_attempts() -> None:
    script = Script(503, 503, 503, 200)
    with pytest.raises(ServiceError):
        client_for(script).get_messages("c1")
    assert script.attempts == 3


def test_get_messages_follows_pagination() -> None:
    pages = {
        "1": {"messages": [{"id": "m1", "text": "Hola", "author": "customer"}], "next_page": 2},
        "2": {"messages": [{"id": "m2", "text": "Hi", "author": "agent"}], "next_page": None},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params["page"]])

    messages = client_for(handler).get_messages("c1")
    assert [(m.id, m.author_role) for m in messages] == [("m1", "customer"), ("m2", "agent")]
