"""The relay for real: `python -m tl_loop.relay` under uvicorn in a subprocess on loopback,
signed webhooks over HTTP, and a helpdesk that is a real local HTTP server recording the notes
and replies it receives. Includes a kill -9 in the middle of a write and a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from relay_processes import ENV, SECRET, SPANISH, RelayProcess, write_config

from tl_loop import OWN_NOTE_MARKER
from tl_loop.testing import MemoryHelpdesk, MemoryHelpdeskServer


@pytest.fixture
def helpdesk() -> Iterator[MemoryHelpdeskServer]:
    with MemoryHelpdeskServer() as server:
        yield server


@pytest.fixture
def adapter(helpdesk: MemoryHelpdeskServer) -> MemoryHelpdesk:
    return MemoryHelpdesk(base_url=helpdesk.url, webhook_secret=SECRET)


@pytest.fixture
def relay(tmp_path: Path, helpdesk: MemoryHelpdeskServer) -> Iterator[RelayProcess]:
    process = RelayProcess(write_config(tmp_path, helpdesk.url), env=ENV)
    try:
        process.start()
        yield process
    finally:
        process.stop()
        process.kill()


def customer(event_id: str, conversation: str, text: str = SPANISH) -> bytes:
    return MemoryHelpdesk.event_body(event_id=event_id, conversation_id=conversation, text=text)


def agent(event_id: str, conversation: str, text: str) -> bytes:
    return MemoryHelpdesk.event_body(
        event_id=event_id, conversation_id=conversation, text=text, kind="agent_note"
    )


def test_a_spanish_message_becomes_one_internal_note(
    relay: RelayProcess, adapter: MemoryHelpdesk, helpdesk: MemoryHelpdeskServer
) -> None:
    response = relay.post(adapter, customer("e1", "c1"))
    assert response.status_code == 202
    [note] = helpdesk.wait_for(lambda: helpdesk.notes("c1"))
    assert "Hello, my order has not arrived yet." in note.body
    assert SPANISH in note.body
    assert note.body.endswith(OWN_NOTE_MARKER)
    helpdesk.wait_for(lambda: helpdesk.language("c1") == "es")
    assert helpdesk.replies() == []


def test_agent_triggers_reply_once_and_preview_as_a_note(
    relay: RelayProcess, adapter: MemoryHelpdesk, helpdesk: MemoryHelpdeskServer
) -> None:
    relay.post(adapter, customer("e1", "c1"))
    helpdesk.wait_for(lambda: helpdesk.notes("c1"))
    assert relay.post(adapter, agent("e2", "c1", "#tl? Your order ships today.")).status_code == 202
    preview = helpdesk.wait_for(lambda: helpdesk.notes("c1")[1:])[0]
    assert "preview (not sent)" in preview.body
    assert "Su pedido se envía hoy." in preview.body
    assert helpdesk.replies() == []

    assert relay.post(adapter, agent("e3", "c1", "#tl Your order ships today.")).status_code == 202
    [reply] = helpdesk.wait_for(lambda: helpdesk.replies("c1"))
    assert reply.body == "Su pedido se envía hoy."
    time.sleep(0.5)
    assert len(helpdesk.replies("c1")) == 1


def test_a_webhook_delivered_twice_is_handled_once(
    relay: RelayProcess, adapter: MemoryHelpdesk, helpdesk: MemoryHelpdeskServer
) -> None:
    body = customer("dup-1", "c2")
    assert relay.post(adapter, body).status_code == 202
    again = relay.post(adapter, body)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    helpdesk.wait_for(lambda: helpdesk.notes("c2"))
    time.sleep(0.5)
    assert len(helpdesk.notes("c2")) == 1


def test_a_forged_webhook_gets_401_and_nothing_happens(
    relay: RelayProcess, helpdesk: MemoryHelpdeskServer
) -> None:
    forger = MemoryHelpdesk(base_url=helpdesk.url, webhook_secret="guessed")
    assert relay.post(forger, customer("forged", "c3")).status_code == 401
    time.sleep(0.5)
    assert helpdesk.posted() == []
    assert relay.metric('tl_loop_webhooks_total{adapter="memory",outcome="unauthorized"}') == 1


def test_kill_9_mid_write_then_restart_loses_and_doubles_nothing(
    relay: RelayProcess, adapter: MemoryHelpdesk, helpdesk: MemoryHelpdeskServer
) -> None:
    relay.post(adapter, customer("warm", "k0"))  # so k0's customer language is known (es)
    helpdesk.wait_for(lambda: helpdesk.language("k0"), timeout=30)

    def texts() -> int:  # notes and replies: the writes that are never simply sent again
        return len(helpdesk.notes()) + len(helpdesk.replies())

    # Counted before the burst: a worker may store a write before the last webhook is posted.
    before, writes_before = texts(), len(helpdesk.posted())
    helpdesk.set_write_delay(2.0)  # writes are stored at once, answered 2 s later (< timeout 3 s)
    conversations = [f"k{n}" for n in range(1, 7)]
    for n, conversation in enumerate(conversations):
        assert relay.post(adapter, customer(f"msg-{n}", conversation)).status_code == 202
    assert (
        relay.post(adapter, agent("reply-k0", "k0", "#tl Your order ships today.")).status_code
        == 202
    )
    # Kill while a note or reply is stored but unanswered. Not on any write: a language write
    # is idempotent, so one cut short is simply sent again and never counts as uncertain; under
    # load the kill could land on one while the other worker was still translating.
    helpdesk.wait_for(lambda: texts() > before, timeout=30)
    relay.kill()
    in_flight_at_kill = len(helpdesk.posted()) - writes_before
    assert in_flight_at_kill < 2 * len(conversations) + 1  # work was left to do

    helpdesk.set_write_delay(0)
    relay.start()  # same queue file

    def all_delivered() -> bool:
        return all(helpdesk.notes(c) for c in conversations) and bool(helpdesk.replies("k0"))

    helpdesk.wait_for(all_delivered, timeout=60)  # generous: a loaded machine is slow, not wrong
    time.sleep(1.0)  # time for any duplicate to show up
    for conversation in conversations:
        assert len(helpdesk.notes(conversation)) == 1, conversation
    assert len(helpdesk.replies("k0")) == 1
    # The writes cut off by the kill were not sent again; the relay says so.
    uncertain = relay.metric(
        'tl_loop_writes_total{kind="note",outcome="uncertain"}'
    ) + relay.metric('tl_loop_writes_total{kind="reply",outcome="uncertain"}')
    assert uncertain >= 1
