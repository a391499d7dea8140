"""The relay app in process: webhooks in through ASGI, writes out to a loopback helpdesk."""

from __future__ import annotations

from collections.abc import Callable

from relay_hooks import Webhooks

from tl_loop import OWN_NOTE_MARKER, LanguageDetector, Loop
from tl_loop.relay import Relay, RelaySettings, create_app
from tl_loop.testing import FakeEngine, MemoryHelpdesk, MemoryHelpdeskServer

SPANISH = "Hola, mi pedido no ha llegado todavía."

MakeWebhooks = Callable[..., Webhooks]


def test_a_customer_message_becomes_one_internal_note(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    response = hooks.customer("e1", SPANISH)
    assert response.status_code == 202
    assert server.notes() == []  # acknowledged before any translation
    hooks.relay.drain()
    [note] = server.notes("c1")
    assert "Hello, my order has not arrived yet." in note.body
    assert SPANISH in note.body
    assert note.body.endswith(OWN_NOTE_MARKER)
    assert server.language("c1") == "es"
    assert server.replies() == []


def test_a_duplicate_delivery_is_acknowledged_and_handled_once(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    assert hooks.customer("e1", SPANISH).status_code == 202
    again = hooks.customer("e1", SPANISH)
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    hooks.relay.drain()
    assert len(server.notes("c1")) == 1


def test_a_forged_webhook_is_refused_and_nothing_happens(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    body = MemoryHelpdesk.event_body(event_id="e1", conversation_id="c1", text=SPANISH)
    forged = MemoryHelpdesk(base_url=server.url, webhook_secret="wrong").sign(body)
    assert hooks.post(body, headers=forged).status_code == 401
    stale = hooks.adapter.sign(body, timestamp=1_000_000)
    assert hooks.post(body, headers=stale).status_code == 401
    assert hooks.post(body, headers={}).status_code == 401
    assert hooks.relay.drain() == 0
    assert server.posted() == []


def test_unknown_adapter_and_bad_payload(webhooks: MakeWebhooks) -> None:
    hooks = webhooks()
    assert hooks.post(b"{}", adapter="zendesk").status_code == 404
    assert hooks.post(b"not json").status_code == 400
    assert hooks.relay.queue.counts()["queued"] == 0


def test_our_own_note_echoed_back_is_ignored(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    response = hooks.agent("e1", f"<p>translation…</p>\n{OWN_NOTE_MARKER}")
    assert (response.status_code, response.json()["status"]) == (200, "ignored")
    assert hooks.relay.drain() == 0


def test_a_triggered_agent_note_becomes_exactly_one_public_reply(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    hooks.customer("e1", SPANISH)
    hooks.agent("e2", "#tl Your order ships today.")
    hooks.agent("e3", "Internal remark without a trigger")
    hooks.relay.drain()
    [reply] = server.replies("c1")
    assert reply.body == "Su pedido se envía hoy."
    assert len(server.notes("c1")) == 1  # only the inbound note


def test_the_preview_trigger_posts_a_note_and_no_reply(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    hooks.customer("e1", SPANISH)
    hooks.agent("e2", "#tl? Your order ships today.")
    hooks.relay.drain()
    assert server.replies() == []
    preview = server.notes("c1")[-1]
    assert "preview (not sent)" in preview.body
    assert "Su pedido se envía hoy." in preview.body


def test_a_reply_to_a_customer_of_unknown_language_is_held(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    hooks.agent("e1", "#tl Your order ships today.", conversation="new")
    hooks.relay.drain()
    assert server.replies() == []
    [held] = server.notes("new")
    assert "NOT sent" in held.body
    assert "customer_language_unknown" in held.body


def test_the_customer_language_is_learned_from_history_when_the_relay_starts_late(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    server.add_message("old", "Hola, necesito cambiar la dirección de envío de mi pedido.")
    hooks = webhooks()
    hooks.agent("e1", "#tl Your order ships today.", conversation="old")
    hooks.relay.drain()
    [reply] = server.replies("old")
    assert reply.body == "Su pedido se envía hoy."


def test_an_incomplete_payload_is_fetched_from_the_helpdesk(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    message_id = server.add_message("c9", SPANISH)
    hooks = webhooks()
    hooks.customer("e1", "Hola, mi ped…", conversation="c9", message_id=message_id, complete=False)
    hooks.relay.drain()
    [note] = server.notes("c9")
    assert "Hello, my order has not arrived yet." in note.body


def test_disclosure_line_and_original_for_the_customer(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks(disclosure=True)
    hooks.customer("e1", SPANISH)
    hooks.agent("e2", "#tl Your order ships today.")
    hooks.relay.drain()
    [reply] = server.replies("c1")
    assert reply.body.startswith("Su pedido se envía hoy.")
    assert "[es] This reply was machine-translated" in reply.body  # translated by the fake
    assert reply.body.endswith("Your order ships today.")


def test_a_write_that_may_have_arrived_fails_the_job_and_is_not_repeated(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    hooks.customer("e1", SPANISH)
    hooks.relay.drain()
    server.fail_next_writes(502)  # stored by the helpdesk, but answered with an error
    hooks.agent("e2", "#tl Your order ships today.")
    hooks.relay.drain()
    assert len(server.replies("c1")) == 1
    [(_, _, event_id, reason)] = hooks.relay.queue.failed_jobs()
    assert event_id == "e2"
    assert "may have been stored" in reason
    warning = server.notes("c1")[-1]
    assert "could not complete" in warning.body  # the agent is told to check
    metrics = hooks.request("GET", "/metrics").text
    assert 'tl_loop_jobs_total{outcome="failed"} 1.0' in metrics
    assert 'tl_loop_writes_total{kind="reply",outcome="uncertain"} 1.0' in metrics


def test_a_helpdesk_that_cannot_be_reached_is_retried_later(
    tmp_path: object, detector: LanguageDetector
) -> None:
    with MemoryHelpdeskServer() as server:
        dead_url = server.url  # a port nothing listens on once the server stops
    adapter = MemoryHelpdesk(base_url=dead_url, webhook_secret="s")
    relay = Relay(
        loop=Loop(engines=[FakeEngine()], detector=detector),
        adapters={"memory": adapter},
        settings=RelaySettings(queue_path=f"{tmp_path}/q.sqlite3", retry_backoff_seconds=60),
    )
    with relay:
        body = MemoryHelpdesk.event_body(event_id="e1", conversation_id="c1", text=SPANISH)
        assert relay.accept("memory", body, adapter.sign(body)).status == 202
        relay.run_pending()
        assert relay.queue.counts()["queued"] == 1  # back in the queue, due in a minute
        assert relay.queue.failed_jobs() == []


def test_health_readiness_and_metrics(webhooks: MakeWebhooks) -> None:
    hooks = webhooks()
    hooks.customer("e1", SPANISH)
    hooks.relay.drain()
    assert hooks.request("GET", "/healthz").json() == {"status": "alive"}
    assert hooks.request("GET", "/readyz").status_code == 200
    metrics = hooks.request("GET", "/metrics").text
    assert (
        'tl_loop_translations_total{direction="inbound",engine="fake",source="es",target="en"} 1.0'
        in metrics
    )
    assert 'tl_loop_review_decisions_total{decision="send",direction="inbound"} 1.0' in metrics
    assert 'tl_loop_queue_jobs{status="done"} 1.0' in metrics
    assert "tl_loop_translation_seconds_bucket" in metrics


def test_readiness_fails_without_an_available_engine(
    tmp_path: object, adapter: MemoryHelpdesk, detector: LanguageDetector
) -> None:
    class Down(FakeEngine):
        def is_available(self) -> bool:
            return False

    relay = Relay(
        loop=Loop(engines=[Down()], detector=detector),
        adapters={"memory": adapter},
        settings=RelaySettings(queue_path=f"{tmp_path}/q.sqlite3"),
    )
    with relay:
        response = Webhooks(relay, adapter).request("GET", "/readyz")
        assert response.status_code == 503
        assert "engines" in response.json()["problems"]


def test_create_app_builds_a_relay_from_parts(tmp_path: object, adapter: MemoryHelpdesk) -> None:
    app = create_app(
        loop=Loop(engines=[FakeEngine()]),
        adapters={"memory": adapter},
        settings=RelaySettings(queue_path=f"{tmp_path}/q.sqlite3"),
    )
    relay: Relay = app.state.relay
    assert sorted(relay.adapters) == ["memory"]
    relay.close()


def test_the_customer_language_is_written_to_the_ticket_once_per_change(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    hooks.customer("e1", SPANISH)
    hooks.customer("e2", "¿Pueden ayudarme, por favor?")
    hooks.relay.drain()
    assert len(server.notes("c1")) == 2
    [language] = server.posted("c1", kind="language")
    assert language.body == "es"
