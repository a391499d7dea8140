"""Platforms that want their own answer to a webhook: a challenge, an acknowledgement."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from relay_hooks import Webhooks

from tl_loop import LanguageDetector, Loop
from tl_loop.helpdesk import WebhookReply
from tl_loop.relay import Relay, RelaySettings
from tl_loop.testing import FakeEngine, MemoryHelpdesk, MemoryHelpdeskServer

SPANISH = "Hola, mi pedido no ha llegado todavía."
ACK = b'<?xml version="1.0"?><soapenv:Envelope><Ack>true</Ack></soapenv:Envelope>'


class ChallengingHelpdesk(MemoryHelpdesk):
    """Echoes `X-Challenge` (nothing queued) and acknowledges every delivery in XML."""

    def webhook_reply(self, body: bytes, headers: Mapping[str, str]) -> WebhookReply | None:
        lowered = {name.lower(): value for name, value in headers.items()}
        if "x-challenge" in lowered:
            return WebhookReply(body=lowered["x-challenge"].encode())
        return WebhookReply(body=ACK, content_type="text/xml", process=True)


def hooks_for(server: MemoryHelpdeskServer, tmp_path: Path) -> Webhooks:
    adapter = ChallengingHelpdesk(base_url=server.url, webhook_secret="s")
    relay = Relay(
        loop=Loop(engines=[FakeEngine()], detector=LanguageDetector(["en", "es"])),
        adapters={"memory": adapter},
        settings=RelaySettings(queue_path=tmp_path / "queue.sqlite3"),
    )
    return Webhooks(relay, adapter)


def test_a_verification_request_is_answered_and_not_queued(
    server: MemoryHelpdeskServer, tmp_path: Path
) -> None:
    hooks = hooks_for(server, tmp_path)
    body = MemoryHelpdesk.event_body(event_id="e1", conversation_id="c1", text=SPANISH)
    answer = hooks.post(body, headers={**hooks.adapter.sign(body), "X-Challenge": "abc123"})
    assert (answer.status_code, answer.text) == (200, "abc123")
    assert answer.headers["content-type"].startswith("text/plain")
    assert hooks.relay.queue.counts()["queued"] == 0
    hooks.relay.close()


def test_a_forged_verification_request_is_refused(
    server: MemoryHelpdeskServer, tmp_path: Path
) -> None:
    hooks = hooks_for(server, tmp_path)
    body = b'{"type": "sync"}'
    answer = hooks.post(body, headers={"X-Challenge": "abc123"})
    assert answer.status_code == 401
    assert "abc123" not in answer.text
    hooks.relay.close()


def test_an_acknowledgement_answers_a_queued_webhook_which_is_still_handled(
    server: MemoryHelpdeskServer, tmp_path: Path
) -> None:
    hooks = hooks_for(server, tmp_path)
    answer = hooks.customer("e1", SPANISH)
    assert (answer.status_code, answer.content) == (200, ACK)
    assert answer.headers["content-type"].startswith("text/xml")
    hooks.relay.drain()
    assert len(server.notes("c1")) == 1
    bad = hooks.post(b"not json")
    assert bad.status_code == 400  # a refusal keeps the relay's own error answer
    hooks.relay.close()
