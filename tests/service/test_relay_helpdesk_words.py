"""The relay speaks the helpdesk's language to agents: how to set an unknown customer language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from relay_hooks import Webhooks

from tl_loop import OWN_NOTE_MARKER, LanguageDetector, Loop
from tl_loop.relay import Relay, RelaySettings
from tl_loop.testing import FakeEngine, MemoryHelpdesk, MemoryHelpdeskServer

MakeWebhooks = Callable[..., Webhooks]


class TaggedHelpdesk(MemoryHelpdesk):
    """A helpdesk whose agents set the language with a tag, and no field tl_loop writes."""

    def language_help(self) -> str:
        return "add the tag lang-xx to the ticket (e.g. lang-es)"

    def build_set_language(self, conversation_id: str, language: str) -> None:  # type: ignore[override]
        return None


@pytest.fixture
def adapter(server: MemoryHelpdeskServer) -> MemoryHelpdesk:
    return TaggedHelpdesk(base_url=server.url, webhook_secret="words-secret")


def test_an_unknown_customer_language_is_explained_in_helpdesk_words(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    assert hooks.agent("n1", "#tl Your order ships today.", conversation="c9").status_code == 202
    hooks.relay.drain()
    [note] = server.notes("c9")
    assert "NOT sent" in note.body
    assert "add the tag lang-xx to the ticket (e.g. lang-es)" in note.body
    assert "send your note again" in note.body
    assert "override_customer_language" not in note.body  # library words, not the agent's
    assert server.replies() == []


SPANISH = "Hola, mi pedido no ha llegado todavía."


def test_a_refused_note_is_final_and_the_agent_is_told(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    server.fail_next_writes(422)
    assert hooks.customer("e1", SPANISH, conversation="c3").status_code == 202
    hooks.relay.drain()
    [(_, _, _, reason)] = hooks.relay.queue.failed_jobs()
    assert "422" in reason
    [note] = server.notes("c3")  # the failure note, posted after the refused translation
    assert "message was not posted" in note.body
    assert "422" in note.body
    metrics = hooks.relay.metrics.render()[0].decode()
    assert 'tl_loop_writes_total{kind="note",outcome="refused"} 1.0' in metrics
    assert 'outcome="uncertain"' not in metrics


def test_only_writes_really_sent_count_as_sent(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    assert hooks.customer("e1", SPANISH, conversation="c4").status_code == 202
    hooks.relay.drain()
    assert len(server.notes("c4")) == 1
    metrics = hooks.relay.metrics.render()[0].decode()
    assert 'tl_loop_writes_total{kind="note",outcome="sent"} 1.0' in metrics
    assert 'tl_loop_writes_total{kind="language",outcome="not_needed"} 1.0' in metrics
    assert 'kind="language",outcome="sent"' not in metrics


class SmallNotesHelpdesk(MemoryHelpdesk):
    max_note_chars = 700


def test_a_preview_longer_than_the_helpdesk_allows_is_shortened_and_says_so(
    server: MemoryHelpdeskServer, tmp_path: Path
) -> None:
    adapter = SmallNotesHelpdesk(base_url=server.url, webhook_secret="small")
    relay = Relay(
        loop=Loop(engines=[FakeEngine()], detector=LanguageDetector(["en", "es"])),
        adapters={"memory": adapter},
        settings=RelaySettings(queue_path=tmp_path / "queue.sqlite3"),
    )
    hooks = Webhooks(relay, adapter)
    server.add_message("c5", "Hola, mi pedido no ha llegado.", author="customer")
    long_reply = " ".join(f"<p>Sentence number {n} of a long answer.</p>" for n in range(80))
    assert hooks.agent("n1", f"#tl? {long_reply}", conversation="c5").status_code == 202
    hooks.relay.drain()
    [note] = server.notes("c5")
    assert len(note.body) <= 700
    assert note.body.endswith(OWN_NOTE_MARKER)  # still recognised as ours when it echoes back
    assert "shortened: this helpdesk takes at most 700 characters in a note" in note.body
    assert note.body.count("<p>") == note.body.count("</p>")  # no tag left open by the cut
    relay.close()
