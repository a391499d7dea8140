"""Injected outages against an HTTP engine: nothing lost, traffic moves, retries stay bounded."""

from __future__ import annotations

import httpx
import pytest
from pytest_httpx import HTTPXMock
from test_http_base import NO_WAIT, EchoEngine

from tl_loop import Conversation, Loop
from tl_loop.engines import BreakerPolicy, BreakerState, EngineChain
from tl_loop.testing import FakeEngine

URL = "https://mt.example/translate"


def loop_with_backup(threshold: int = 2) -> tuple[Loop, EngineChain, EchoEngine]:
    primary = EchoEngine(base_url="https://mt.example", retry=NO_WAIT)
    chain = EngineChain(
        [primary, FakeEngine(name="backup")],
        breaker=BreakerPolicy(failure_threshold=threshold, cooldown=60),
    )
    return Loop(engines=chain), chain, primary


@pytest.mark.parametrize(
    ("outage", "requests_per_failure"),
    [
        ({"exception": httpx.ReadTimeout("slow")}, 3),
        ({"exception": httpx.ConnectError("refused")}, 3),
        ({"status_code": 503}, 3),
        ({"status_code": 429}, 3),
        ({"status_code": 456}, 1),  # quota: never retried
    ],
    ids=["timeouts", "connection-refused", "5xx", "429-storm", "quota"],
)
def test_an_outage_sends_every_message_to_the_healthy_engine(
    httpx_mock: HTTPXMock, outage: dict[str, object], requests_per_failure: int
) -> None:
    if "exception" in outage:
        httpx_mock.add_exception(outage["exception"], url=URL, is_reusable=True)  # type: ignore[arg-type]
    else:
        httpx_mock.add_response(url=URL, status_code=outage["status_code"], is_reusable=True)  # type: ignore[arg-type]
    loop, chain, primary = loop_with_backup(threshold=2)
    conversation = Conversation(customer_language="es")

    replies = [loop.outbound(f"Message {i} for the customer.", conversation) for i in range(10)]

    assert [reply.engine for reply in replies] == ["backup"] * 10
    # The first two fail over (and say so); then the open breaker puts the backup first.
    assert ["engine_fallback" in reply.flag_codes for reply in replies] == [True] * 2 + [False] * 8
    # Retries are bounded per call, and the open breaker stops calls after the threshold.
    assert len(httpx_mock.get_requests()) == 2 * requests_per_failure
    assert chain.guard(primary).state is BreakerState.OPEN


def test_when_both_engines_are_down_nothing_is_lost(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=503, is_reusable=True)
    primary = EchoEngine(base_url="https://mt.example", retry=NO_WAIT)
    loop = Loop(engines=[primary])
    conversation = Conversation(customer_language="es")

    note = loop.inbound("Hola, necesito ayuda con mi factura.", conversation)
    reply = loop.outbound("We are looking into it.", conversation)

    assert note.translated == "Hola, necesito ayuda con mi factura."
    assert "engine_failed" in note.flag_codes
    assert reply.decision == "hold"
    assert reply.original == "We are looking into it."
