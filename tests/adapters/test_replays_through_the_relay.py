"""Replays through the relay for real (uvicorn on loopback), for every adapter.

The issue's attack: capture one signed webhook, replay it with a new delivery header
(`X-Zammad-Delivery`, `X-Chatwoot-Delivery`, `x-zendesk-webhook-invocation-id`, ...). Before, each
replay was a new job (5 public replies on Zammad, Chatwoot and Zendesk). Now the dedupe key comes
from what the signature covers: one job, whatever the headers say. Real webhook bodies from
`../shared/realworld` where there is one, signed at test time with the platform's scheme.

Captured bodies carry their real (old) event times, and the relay refuses events older than its
replay window (72 h by default), so each relay here is given a clock a minute after the
event happened: what the relay would have seen when the webhook was fresh.
"""

from __future__ import annotations

import importlib
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from relay_servers import event_time, relay_in_thread
from tl_loop import Loop
from tl_loop.relay import Relay, RelaySettings, create_app
from tl_loop.testing import FakeEngine

REALWORLD = Path(
    os.environ.get("TL_LOOP_REALWORLD")
    or Path(__file__).resolve().parents[2].parent / "shared" / "realworld"
)
NOWHERE = "http://127.0.0.1:9"  # jobs never run here (workers=False); nothing leaves loopback
DELIVERY_HEADERS = (
    "X-Zammad-Delivery", "X-Chatwoot-Delivery", "X-Zendesk-Webhook-Invocation-Id",
    "X-Request-Id", "X-Delivery-Id",
)  # fmt: skip


def _real(case: str) -> bytes | None:
    path = REALWORLD / "helpdesk" / case / "body.json"
    return path.read_bytes() if path.is_file() else None


def _now_zendesk() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


REAL_BODIES = {
    "zammad": "zammad_default_payload_docs",
    "intercom": "intercom_admin_noted_hull",
    "chatwoot": "chatwoot_message_created_incoming_whatsapp",
    "zendesk": "zendesk_comment_added_public_requester_DERIVED",
    "helpscout": "helpscout_convo_customer_reply_sdk",
}


def signer(name: str, module: Any) -> Callable[[bytes], dict[str, str]]:
    """How the platform signs a webhook, with the adapter test module's secret."""
    if name == "zendesk":
        return lambda body: module.sign(body, _now_zendesk())
    if name == "helpscout":
        return lambda body: module.sign(body, "convo.customer.reply.created")
    if name == "front":
        return lambda body: module.sign_app(body)
    if name == "freshdesk":
        return lambda body: {"X-TL-Loop-Secret": module.SECRET}
    return lambda body: module.sign(body)


def case(name: str) -> tuple[Any, Callable[[bytes], dict[str, str]], bytes]:
    """The adapter (pointing nowhere), a signer and a webhook body (real where we have one)."""
    module: Any = importlib.import_module(f"test_{name}")
    options: dict[str, Any] = {"base_url": NOWHERE}
    if name == "front":
        options["webhook_kind"] = "app"
    body = _real(REAL_BODIES[name]) if name in REAL_BODIES else None
    return module.make_adapter(**options), signer(name, module), body or module.CUSTOMER


def relay_app(
    name: str, adapter: Any, tmp_path: Path, *, now: float | None, **settings: Any
) -> Any:
    """A relay without workers (jobs stay queued) whose clock reads `now` (or the real time)."""
    relay = Relay(
        loop=Loop(engines=[FakeEngine()]),
        adapters={name: adapter},
        settings=RelaySettings(queue_path=tmp_path / "queue.sqlite3", **settings),
        clock=time.time if now is None else (lambda: now),
    )
    return create_app(relay, workers=False)


@pytest.mark.parametrize(
    "name", ["zammad", "chatwoot", "zendesk", "intercom", "helpscout", "front", "freshdesk"]
)
def test_a_captured_webhook_replayed_with_new_delivery_headers_is_handled_once(
    name: str, tmp_path: Path
) -> None:
    adapter, sign, body = case(name)
    headers = sign(body)
    assert adapter.parse_event(body, headers).kind != "ignored"
    happened = event_time(adapter, body, headers)
    app = relay_app(name, adapter, tmp_path, now=None if happened is None else happened + 60)
    statuses = []
    with relay_in_thread(app) as url:
        for attempt in range(6):  # the original, then five replays with fresh delivery ids
            sent = dict(headers)
            if attempt:
                sent.update({header: str(uuid.uuid4()) for header in DELIVERY_HEADERS})
            response = httpx.post(f"{url}/webhooks/{name}", content=body, headers=sent)
            statuses.append((response.status_code, response.json().get("status")))
        queued = app.state.relay.queue.counts()["queued"]
    assert statuses == [(202, "queued")] + [(200, "duplicate")] * 5, statuses
    assert queued == 1


def test_two_different_messages_are_still_two_jobs(tmp_path: Path) -> None:
    module: Any = importlib.import_module("test_zammad")
    adapter = module.make_adapter(base_url=NOWHERE)
    first = json.loads(_real("zammad_default_payload_docs") or module.CUSTOMER)
    if "article" not in first:
        pytest.skip("no realworld Zammad payload")
    second = json.loads(json.dumps(first))
    second["article"]["id"] = int(first["article"]["id"]) + 1
    second["article"]["body"] = "Otra pregunta"
    happened = event_time(adapter, json.dumps(first).encode(), {})
    app = relay_app("zammad", adapter, tmp_path, now=None if happened is None else happened + 60)
    with relay_in_thread(app) as url:
        for payload in (first, second):
            body = json.dumps(payload).encode()
            response = httpx.post(f"{url}/webhooks/zammad", content=body, headers=module.sign(body))
            assert response.status_code == 202, response.text
        assert app.state.relay.queue.counts()["queued"] == 2


# -- the replay window -------------------------------------------------------------------------

# The platforms whose signed body dates the event.
WINDOWED = ["zammad", "intercom", "helpscout", "front"]


@pytest.mark.parametrize("name", WINDOWED)
def test_a_replay_older_than_the_window_is_refused_with_its_reason(
    name: str, tmp_path: Path
) -> None:
    """The default window (72 h): a captured webhook sent again three days and an hour after
    its event is refused in one line, and nothing is queued, although no key remembers it."""
    adapter, sign, body = case(name)
    headers = sign(body)
    happened = event_time(adapter, body, headers)
    assert happened is not None, f"{name}'s payload should date its event"
    app = relay_app(name, adapter, tmp_path, now=happened + 73 * 3600)
    with relay_in_thread(app) as url:
        response = httpx.post(f"{url}/webhooks/{name}", content=body, headers=headers)
        counts = app.state.relay.queue.counts()
    assert response.status_code == 200  # a refusal the sender must not retry
    answer = response.json()
    assert answer["status"] == "stale"
    reason = answer["reason"]
    assert "\n" not in reason
    assert "73 h old" in reason
    assert "72 h replay window" in reason
    assert "relay.replay_window_hours" in reason  # names the setting to look at
    assert counts["queued"] == 0


@pytest.mark.parametrize("name", WINDOWED)
def test_a_redelivery_inside_the_window_is_a_duplicate_not_a_replay(
    name: str, tmp_path: Path
) -> None:
    """A platform retrying late (its retries end within 24 h; 71 h here) is still recognised:
    the first delivery is queued and the late one answered `duplicate`, never `stale`."""
    adapter, sign, body = case(name)
    headers = sign(body)
    happened = event_time(adapter, body, headers)
    assert happened is not None
    clock = [happened + 60]
    relay = Relay(
        loop=Loop(engines=[FakeEngine()]),
        adapters={name: adapter},
        settings=RelaySettings(queue_path=tmp_path / "queue.sqlite3"),
        clock=lambda: clock[0],
    )
    app = create_app(relay, workers=False)
    answers = []
    with relay_in_thread(app) as url:
        for at in (happened + 60, happened + 71 * 3600):
            clock[0] = at
            response = httpx.post(f"{url}/webhooks/{name}", content=body, headers=headers)
            answers.append((response.status_code, response.json()["status"]))
        queued = relay.queue.counts()["queued"]
    assert answers == [(202, "queued"), (200, "duplicate")]
    assert queued == 1


def test_a_shorter_window_than_retention_is_enforced_in_words() -> None:
    """The default window cannot outlive the duplicates it protects; the error says which
    setting to change."""
    with pytest.raises(
        ValueError, match=r"replay_window_hours \(72, the default\).*retention_days \(2 days\)"
    ):
        RelaySettings(retention_days=2)
    RelaySettings(retention_days=2, replay_window_hours=48)  # both named: fine
