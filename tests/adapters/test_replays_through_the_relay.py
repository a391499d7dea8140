"""Replays through the relay for real (uvicorn on loopback), for every adapter.

The issue's attack: capture one signed webhook, replay it with a new delivery header
(`X-Zammad-Delivery`, `X-Chatwoot-Delivery`, `x-zendesk-webhook-invocation-id`, ...). Before, each
replay was a new job (5 public replies on Zammad, Chatwoot and Zendesk). Now the dedupe key comes
from what the signature covers: one job, whatever the headers say. Real webhook bodies from
`../shared/realworld` where there is one, signed at test time with the platform's scheme.
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

from relay_servers import relay_in_thread
from tl_loop import Loop
from tl_loop.relay import RelaySettings, create_app
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


@pytest.mark.parametrize(
    "name", ["zammad", "chatwoot", "zendesk", "intercom", "helpscout", "front", "freshdesk"]
)
def test_a_captured_webhook_replayed_with_new_delivery_headers_is_handled_once(
    name: str, tmp_path: Path
) -> None:
    adapter, sign, body = case(name)
    headers = sign(body)
    assert adapter.parse_event(body, headers).kind != "ignored"
    app = create_app(
        loop=Loop(engines=[FakeEngine()]),
        adapters={name: adapter},
        settings=RelaySettings(queue_path=tmp_path / "queue.sqlite3"),
        workers=False,
    )
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
    app = create_app(
        loop=Loop(engines=[FakeEngine()]),
        adapters={"zammad": adapter},
        settings=RelaySettings(queue_path=tmp_path / "queue.sqlite3"),
        workers=False,
    )
    with relay_in_thread(app) as url:
        for payload in (first, second):
            body = json.dumps(payload).encode()
            response = httpx.post(f"{url}/webhooks/zammad", content=body, headers=module.sign(body))
            assert response.status_code == 202, response.text
        assert app.state.relay.queue.counts()["queued"] == 2
