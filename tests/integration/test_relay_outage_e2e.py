"""An outage for real: the helpdesk goes down while customers and agents keep writing, the relay
(a subprocess) is killed with -9 during the outage and started again; once the helpdesk is back
every note and reply is posted exactly once, in each conversation's order.

The scale is shortened through the settings (backoff 0.2 s doubling up to 1 s); the default
waits up to 24 h (`outage_limit_seconds = 86400`) with tries at most 5 min apart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from relay_processes import ENV, SECRET, SPANISH, RelayProcess, write_config

from tl_loop.testing import MemoryHelpdesk, MemoryHelpdeskServer

QUICK = 'queue_path = "queue.sqlite3"\nretry_backoff_seconds = 0.2\noutage_backoff_max_seconds = 1'
CONVERSATIONS = 4


@pytest.fixture
def helpdesk() -> Iterator[MemoryHelpdeskServer]:
    with MemoryHelpdeskServer() as server:
        yield server


@pytest.fixture
def relay(tmp_path: Path, helpdesk: MemoryHelpdeskServer) -> Iterator[RelayProcess]:
    process = RelayProcess(write_config(tmp_path, helpdesk.url, QUICK), env=ENV)
    try:
        process.start()
        yield process
    finally:
        process.stop()
        process.kill()


def body(event_id: str, conversation: str, text: str, kind: str = "customer_message") -> bytes:
    return MemoryHelpdesk.event_body(
        event_id=event_id, conversation_id=conversation, text=text, kind=kind
    )


def test_an_outage_with_a_kill_9_in_it_loses_and_doubles_nothing(
    relay: RelayProcess, helpdesk: MemoryHelpdeskServer
) -> None:
    adapter = MemoryHelpdesk(base_url=helpdesk.url, webhook_secret=SECRET)
    conversations = [f"o{n}" for n in range(CONVERSATIONS)]
    for conversation in conversations:  # the customers' language is known before the outage
        relay.post(adapter, body(f"{conversation}-hello", conversation, SPANISH))
    helpdesk.wait_for(lambda: all(helpdesk.notes(c) for c in conversations))

    helpdesk.go_down()
    for conversation in conversations:
        for step, (kind, text) in enumerate([
            ("agent_note", "#tl Your order ships today."),
            ("customer_message", SPANISH),
            ("agent_note", "#tl Thank you for your patience."),
        ]):  # fmt: skip
            answer = relay.post(adapter, body(f"{conversation}-{step}", conversation, text, kind))
            assert answer.status_code == 202  # acknowledged while the helpdesk is down
    time.sleep(2.0)  # the jobs try, fail to connect, and wait
    waiting = relay.metric('tl_loop_queue_jobs{status="waiting"}')
    assert waiting >= 1
    assert relay.metric('tl_loop_queue_jobs{status="failed"}') == 0

    relay.kill()  # kill -9 during the outage
    relay.start()
    time.sleep(1.0)
    helpdesk.come_back()

    def delivered() -> bool:
        return all(
            len(helpdesk.replies(c)) >= 2 and len(helpdesk.notes(c)) >= 2 for c in conversations
        )

    try:
        helpdesk.wait_for(delivered, timeout=60)
    except TimeoutError:
        log = [line for line in relay.log.read_text().splitlines() if "HTTP Request" not in line]
        posted = [(p.conversation_id, p.kind, p.body[:40]) for p in helpdesk.posted()]
        raise AssertionError("\n".join(log[-40:]) + f"\n{posted}") from None
    time.sleep(1.5)  # time for a double to show up
    for conversation in conversations:
        replies = [reply.body for reply in helpdesk.replies(conversation)]
        assert replies == ["Su pedido se envía hoy.", "Gracias por su paciencia."], conversation
        assert len(helpdesk.notes(conversation)) == 2, conversation
    status = httpx.get(f"{relay.url}/metrics", timeout=5).text
    assert 'tl_loop_queue_jobs{status="dead"} 0.0' in status
