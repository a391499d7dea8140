"""The channel comes from the helpdesk: per-channel review policies decide relay replies, and
review items and audit rows say where each translation travelled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tl_loop import LanguageDetector, Loop, PolicyRule, ReviewPolicy, Severity
from tl_loop.relay import Relay, RelaySettings
from tl_loop.testing import FakeEngine, MemoryHelpdesk, MemoryHelpdeskServer

SPANISH = "Hola, mi pedido no ha llegado todavía."
TRANSLATIONS = {
    SPANISH: "Hello, my order has not arrived yet.",
    "¿Pueden ayudarme, por favor?": "Can you help me, please?",
}
# Not in TRANSLATIONS: the fake engine answers "[es] Your order ...", which still reads as
# English, so the reply carries wrong_language/untranslated warnings (flagged, not an error).
DOUBTFUL = "Your order ships today, and the courier will call you before noon."
EMAIL_HOLDS_WARNINGS = PolicyRule(policy=ReviewPolicy(hold_at=Severity.WARNING), channel="email")

MakeRelay = Callable[[], Relay]


@pytest.fixture
def make_relay(
    tmp_path: Path, adapter: MemoryHelpdesk, detector: LanguageDetector
) -> Iterator[MakeRelay]:
    """Relays on one queue directory (a second call is the relay after a restart)."""
    relays: list[Relay] = []

    def make() -> Relay:
        loop = Loop(
            engines=[FakeEngine(TRANSLATIONS)],
            detector=detector,
            policy_rules=[EMAIL_HOLDS_WARNINGS],
        )
        relay = Relay(
            loop=loop,
            adapters={"memory": adapter},
            settings=RelaySettings(queue_path=tmp_path / "queue.sqlite3"),
        )
        relays.append(relay)
        return relay

    yield make
    for relay in relays:
        relay.close()


def post(relay: Relay, adapter: MemoryHelpdesk, event_id: str, text: str, **kw: object) -> None:
    body = MemoryHelpdesk.event_body(
        event_id=event_id,
        conversation_id=str(kw.pop("conversation")),
        text=text,
        **kw,  # type: ignore[arg-type]
    )
    assert relay.accept("memory", body, adapter.sign(body)).status == 202


def converse(relay: Relay, adapter: MemoryHelpdesk, conversation: str, **customer: object) -> None:
    """A Spanish customer message (with the given channel), then the agent's `#tl` reply."""
    post(relay, adapter, f"{conversation}-1", SPANISH, conversation=conversation, **customer)
    post(
        relay,
        adapter,
        f"{conversation}-2",
        f"#tl {DOUBTFUL}",
        conversation=conversation,
        kind="agent_note",
    )
    relay.drain()


def channels_of(relay: Relay, conversation: str) -> list[tuple[str, str | None]]:
    assert relay.audit is not None
    rows = [row for row in relay.audit.rows() if row.conversation_id == conversation]
    return [(row.direction, row.channel) for row in rows]


def test_the_same_flagged_reply_is_sent_on_chat_and_held_on_email(
    make_relay: MakeRelay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    relay = make_relay()
    converse(relay, adapter, "chat-1", channel="chat")
    converse(relay, adapter, "mail-1", channel="email")

    [reply] = server.replies("chat-1")
    assert DOUBTFUL in reply.body
    assert server.replies("mail-1") == []
    assert "NOT sent" in server.notes("mail-1")[-1].body

    items = {item.conversation_id: item for item in relay.review.list()}
    assert (items["chat-1"].held, items["chat-1"].channel) == (False, "chat")
    assert (items["mail-1"].held, items["mail-1"].channel) == (True, "email")
    assert channels_of(relay, "chat-1") == [("inbound", "chat"), ("outbound", "chat")]
    assert channels_of(relay, "mail-1") == [("inbound", "email"), ("outbound", "email")]


def test_without_a_channel_the_default_policy_applies_and_rows_say_none(
    make_relay: MakeRelay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    relay = make_relay()
    converse(relay, adapter, "c1")
    assert len(server.replies("c1")) == 1
    [item] = relay.review.list()
    assert (item.held, item.channel) == (False, None)
    assert channels_of(relay, "c1") == [("inbound", None), ("outbound", None)]


def test_the_conversation_channel_survives_a_restart_and_a_customer_event_without_one(
    make_relay: MakeRelay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    first = make_relay()
    post(first, adapter, "e1", SPANISH, conversation="c1", channel="email")
    post(first, adapter, "e2", "¿Pueden ayudarme, por favor?", conversation="c1")
    first.drain()
    first.close()
    relay = make_relay()
    post(relay, adapter, "e3", f"#tl {DOUBTFUL}", conversation="c1", kind="agent_note")
    relay.drain()
    assert server.replies("c1") == []
    [item] = relay.review.list()
    assert (item.held, item.channel) == (True, "email")
    assert channels_of(relay, "c1")[1:] == [("inbound", "email"), ("outbound", "email")]


def test_an_agent_note_that_names_its_channel_overrides_the_stored_one(
    make_relay: MakeRelay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    relay = make_relay()
    post(relay, adapter, "e1", SPANISH, conversation="c1", channel="chat")
    note = f"#tl {DOUBTFUL}"
    post(relay, adapter, "e2", note, conversation="c1", kind="agent_note", channel="email")
    relay.drain()
    assert server.replies("c1") == []
    [item] = relay.review.list()
    assert (item.held, item.channel) == (True, "email")
