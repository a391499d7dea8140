"""Outages: writes wait for a helpdesk that is down, give up after the limit and tell the agent;
a note that may have arrived is looked for before it is sent again."""

from __future__ import annotations

import time
from collections.abc import Callable

from relay_hooks import Webhooks

from tl_loop.testing import MemoryHelpdeskServer

SPANISH = "Hola, mi pedido no ha llegado todavía."
HELP = "¿Pueden ayudarme, por favor?"

MakeWebhooks = Callable[..., Webhooks]
QUICK = {"retry_backoff_seconds": 0.05, "outage_backoff_max_seconds": 0.1}


def run_until(hooks: Webhooks, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, hooks.relay.queue.overview()
        hooks.relay.run_pending()
        time.sleep(0.02)


def test_writes_wait_out_an_outage_in_conversation_order_and_are_posted_once(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks(**QUICK)
    hooks.customer("e1", SPANISH)
    hooks.relay.drain()
    server.go_down()
    hooks.agent("e2", "#tl Your order ships today.")
    hooks.customer("e3", HELP)
    hooks.agent("e4", "#tl Thank you for your patience.")
    for _ in range(5):
        hooks.relay.run_pending()
        time.sleep(0.05)
    overview = hooks.relay.queue.overview()
    assert overview["waiting"] >= 1
    assert overview["failed"] == overview["dead"] == 0
    metrics = hooks.request("GET", "/metrics").text
    assert 'tl_loop_queue_jobs{status="waiting"}' in metrics
    server.come_back()
    run_until(hooks, lambda: hooks.relay.queue.counts()["done"] == 4)
    replies = [reply.body for reply in server.replies("c1")]
    assert replies == ["Su pedido se envía hoy.", "Gracias por su paciencia."]
    notes = server.notes("c1")
    assert len(notes) == 2
    assert "Can you help me, please?" in notes[1].body


def test_after_the_outage_limit_the_job_is_dead_and_the_agent_is_told_once(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks(outage_limit_seconds=0.3, **QUICK)
    hooks.customer("e1", SPANISH)
    hooks.relay.drain()
    server.go_down()
    hooks.agent("e2", "#tl Your order ships today.")
    run_until(hooks, lambda: hooks.relay.queue.overview()["dead"] == 1)
    [dead] = hooks.relay.queue.jobs_in("dead")
    assert dead.key == "e2"
    assert "cannot connect" in dead.reason
    assert 'tl_loop_queue_jobs{status="dead"} 1.0' in hooks.request("GET", "/metrics").text
    time.sleep(0.5)  # the notice waits for the helpdesk as long as it takes
    hooks.relay.run_pending()
    assert hooks.relay.queue.overview()["waiting"] == 1
    server.come_back()
    run_until(hooks, lambda: hooks.relay.queue.overview()["waiting"] == 0)
    hooks.relay.run_pending()
    [_, notice] = server.notes("c1")
    assert "gave up on your note or reply (event e2)" in notice.body
    assert "NOT posted" in notice.body
    assert server.replies("c1") == []


def test_a_note_answered_502_but_stored_is_found_and_not_posted_again(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks(**QUICK)
    server.fail_next_writes(502)  # stored, but answered with an error
    hooks.customer("e1", SPANISH)
    run_until(hooks, lambda: hooks.relay.queue.counts()["done"] == 1)
    assert len(server.notes("c1")) == 1
    metrics = hooks.request("GET", "/metrics").text
    assert 'tl_loop_writes_total{kind="note",outcome="confirmed"} 1.0' in metrics


def test_a_note_whose_502_never_reached_the_helpdesk_is_posted_after_reading_back(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks(**QUICK)
    server.fail_next_writes(502, stored=False)  # a load balancer's 502
    hooks.customer("e1", SPANISH)
    run_until(hooks, lambda: hooks.relay.queue.counts()["done"] == 1)
    [note] = server.notes("c1")
    assert "Hello, my order has not arrived yet." in note.body
    assert hooks.relay.queue.failed_jobs() == []
