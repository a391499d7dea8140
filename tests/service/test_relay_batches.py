"""Webhooks that carry several events (Salesforce batches up to 100), secrets in the URL path,
and the sender's address as the relay saw it (never as the sender claims it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from relay_hooks import Webhooks

from tl_loop import LanguageDetector, Loop
from tl_loop.helpdesk import PATH_SECRET_HEADER, PEER_HEADER, HelpdeskEvent, header
from tl_loop.relay import Relay, RelaySettings
from tl_loop.testing import FakeEngine, MemoryHelpdesk, MemoryHelpdeskServer


class BatchingHelpdesk(MemoryHelpdesk):
    """A body is a JSON list of `[event_id, kind]`; it remembers the headers it was given."""

    seen: list[Mapping[str, str]]

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        self.seen = [*getattr(self, "seen", []), dict(headers)]

    def parse_events(self, body: bytes, headers: Mapping[str, str]) -> list[HelpdeskEvent]:
        return [
            HelpdeskEvent(
                kind=kind, event_id=event_id, conversation_id="c1", text="Hola", complete=True
            )
            for event_id, kind in json.loads(body)
        ]


def hooks_for(server: MemoryHelpdeskServer, tmp_path: Path) -> Webhooks:
    adapter = BatchingHelpdesk(base_url=server.url, webhook_secret="s")
    relay = Relay(
        loop=Loop(engines=[FakeEngine()], detector=LanguageDetector(["en", "es"])),
        adapters={"memory": adapter},
        settings=RelaySettings(queue_path=tmp_path / "queue.sqlite3"),
    )
    return Webhooks(relay, adapter)


def test_each_event_of_a_batch_is_queued_or_deduplicated_on_its_own(
    server: MemoryHelpdeskServer, tmp_path: Path
) -> None:
    hooks = hooks_for(server, tmp_path)
    batch = json.dumps([["n1", "customer_message"], ["n2", "ignored"], ["n3", "agent_note"]])
    first = hooks.post(batch.encode(), headers={})
    assert first.status_code == 202
    assert len(first.json()["jobs"]) == 2
    again = json.dumps([["n1", "customer_message"], ["n4", "customer_message"]])
    second = hooks.post(again.encode(), headers={})
    assert second.status_code == 202
    assert len(second.json()["jobs"]) == 1  # n1 was a redelivery
    assert hooks.post(again.encode(), headers={}).json() == {"status": "duplicate"}
    assert hooks.relay.queue.counts()["queued"] == 3
    hooks.relay.close()


def test_the_path_secret_and_the_peer_address_come_from_the_relay(
    server: MemoryHelpdeskServer, tmp_path: Path
) -> None:
    hooks = hooks_for(server, tmp_path)
    body = json.dumps([["n1", "ignored"]]).encode()
    spoofed = {PEER_HEADER: "13.108.0.1", PATH_SECRET_HEADER: "forged"}
    path = "/webhooks/memory/the-secret-in-the-url"
    assert hooks.request("POST", path, content=body, headers=spoofed).status_code == 200
    assert (
        hooks.request("POST", "/webhooks/memory", content=body, headers=spoofed).status_code == 200
    )
    with_path, without = hooks.adapter.seen
    assert header(with_path, PATH_SECRET_HEADER) == "the-secret-in-the-url"
    assert header(with_path, PEER_HEADER) == "127.0.0.1"  # the ASGI client, not the claim
    assert header(without, PATH_SECRET_HEADER) is None
    assert header(without, PEER_HEADER) == "127.0.0.1"
    hooks.relay.close()
