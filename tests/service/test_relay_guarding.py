"""What the relay refuses or reports at its door: readiness that does not lie, allow-lists,
hostile shapes, and a broken queue file answered 503 instead of 500."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from relay_hooks import Webhooks

from tl_loop import LanguageDetector, Loop, RateLimitError, ServiceUnavailableError
from tl_loop.relay import Relay, RelaySettings
from tl_loop.testing import FakeEngine, MemoryHelpdesk

SPANISH = "Hola, mi pedido no ha llegado todavía."


def test_a_queue_file_with_a_page_of_garbage_is_not_ready(
    tmp_path: Path, adapter: MemoryHelpdesk, make_relay: Callable[..., Relay]
) -> None:
    path = tmp_path / "queue.sqlite3"
    relay = make_relay(queue_path=path)
    hooks = Webhooks(relay, adapter)
    for number in range(60):  # enough jobs for the file to have pages past the first few
        hooks.customer(f"e{number}", SPANISH + " " + "x" * 400, conversation=f"c{number}")
    assert hooks.request("GET", "/readyz").status_code == 200
    relay.close()  # checkpoints the WAL into the file
    with path.open("r+b") as file:
        file.seek(4096)
        file.write(os.urandom(4096))

    damaged = make_relay(queue_path=path, readiness_probe_seconds=0)
    response = Webhooks(damaged, adapter).request("GET", "/readyz")

    assert response.status_code == 503
    assert "damaged" in response.json()["problems"]["queue"]


def test_a_webhook_the_queue_cannot_store_gets_503_and_readiness_says_why(
    tmp_path: Path, adapter: MemoryHelpdesk, make_relay: Callable[..., Relay]
) -> None:
    relay = make_relay()
    hooks = Webhooks(relay, adapter)
    relay.queue.close()  # as good as a broken file: every statement fails

    response = hooks.customer("e1", SPANISH)

    assert response.status_code == 503
    assert "retry" in response.json()["error"]
    assert hooks.request("GET", "/readyz").status_code == 503


def test_a_dead_only_engine_is_not_ready_and_a_live_one_is(
    tmp_path: Path, adapter: MemoryHelpdesk, detector: LanguageDetector
) -> None:
    dead = FakeEngine(name="apy", fail_with=ServiceUnavailableError("refused", service="apy"))
    settings = RelaySettings(queue_path=tmp_path / "q.sqlite3", readiness_probe_seconds=0)
    with Relay(loop=Loop(engines=[dead], detector=detector), adapters={"memory": adapter},
               settings=settings) as relay:  # fmt: skip
        response = Webhooks(relay, adapter).request("GET", "/readyz")
        assert response.status_code == 503
        assert "apy: apy: refused" in response.json()["problems"]["engines"]

    live = FakeEngine(name="backup")
    settings = RelaySettings(queue_path=tmp_path / "q2.sqlite3", readiness_probe_seconds=0)
    with Relay(loop=Loop(engines=[dead, live], detector=detector), adapters={"memory": adapter},
               settings=settings) as relay:  # fmt: skip
        assert Webhooks(relay, adapter).request("GET", "/readyz").status_code == 200


def test_an_engine_that_asked_us_to_wait_is_not_probed_and_readiness_says_so(
    tmp_path: Path, adapter: MemoryHelpdesk, detector: LanguageDetector
) -> None:
    limited = FakeEngine(name="deepl")
    settings = RelaySettings(queue_path=tmp_path / "q.sqlite3", readiness_probe_seconds=0)
    loop = Loop(engines=[limited], detector=detector)
    loop.chain.guard(limited).record(RateLimitError("HTTP 429", service="deepl", retry_after=120))
    with Relay(loop=loop, adapters={"memory": adapter}, settings=settings) as relay:
        response = Webhooks(relay, adapter).request("GET", "/readyz")

    assert response.status_code == 503
    assert "asked us to wait (HTTP 429): paused 1" in response.json()["problems"]["engines"]
    assert limited.calls == []  # a readiness probe must not add to the engine's 429s


def test_allow_from_refuses_other_addresses_with_403(
    adapter: MemoryHelpdesk, make_relay: Callable[..., Relay]
) -> None:
    body = MemoryHelpdesk.event_body(event_id="e1", conversation_id="c1", text=SPANISH)
    # httpx's ASGI transport presents the client as 127.0.0.1.
    refused = make_relay(adapters={"memory": {"allow_from": ["203.0.113.0/24"]}})
    assert refused.accept("memory", body, adapter.sign(body), client="127.0.0.1").status == 403
    assert Webhooks(refused, adapter).post(body).status_code == 403
    assert refused.accept("memory", body, adapter.sign(body), client="203.0.113.9").status == 202
    refused.close()


def test_invalid_utf8_in_a_signed_body_is_repaired_not_refused(
    adapter: MemoryHelpdesk, make_relay: Callable[..., Relay]
) -> None:
    relay = make_relay()
    body = MemoryHelpdesk.event_body(event_id="e1", conversation_id="c1", text="Hola MARK")
    body = body.replace(b"MARK", b"\xff\xfe caf\xc3")  # bytes that are not UTF-8
    accepted = relay.accept("memory", body, adapter.sign(body))
    assert accepted.status == 202, accepted.body
    job = relay.queue.claim()
    assert job is not None
    assert job.event.text is not None
    assert "\ufffd" in job.event.text


def test_a_healthy_engine_is_probed_once_not_billed_for_every_readiness_check(
    tmp_path: Path, adapter: MemoryHelpdesk, detector: LanguageDetector
) -> None:
    engine = FakeEngine(name="deepl")
    settings = RelaySettings(queue_path=tmp_path / "q.sqlite3", readiness_probe_seconds=0)
    with Relay(loop=Loop(engines=[engine], detector=detector), adapters={"memory": adapter},
               settings=settings) as relay:  # fmt: skip
        for _ in range(5):
            assert relay.readiness() == {}
        assert len(engine.calls) == 1  # one probe; nothing failed since

        relay.loop.chain.guard(engine).record(ServiceUnavailableError("503", service="deepl"))
        assert relay.readiness() == {}
        assert len(engine.calls) == 2  # a failure since the last probe: probed again
