"""Every real helpdesk case in `../shared/realworld/helpdesk/` gives what its manifest expects.

Each case is a webhook body, an API response, a request to build, or a run through the relay,
captured from the platform's documentation, SDKs or integrations. The manifest holds the
adapter configuration and the `expect`ed outcome; bodies are signed here with the manifest's
secret, the way each platform signs them. The cases are read where they lie, never copied.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from relay_servers import event_time
from tl_loop import LanguageDetector, Loop
from tl_loop.helpdesk import HelpdeskAdapter, load_adapter_class
from tl_loop.relay import Relay, RelaySettings, create_app
from tl_loop.testing import FakeEngine

ROOT = Path(__file__).resolve().parents[2]
REALWORLD = Path(os.environ.get("TL_LOOP_REALWORLD") or ROOT.parent / "shared" / "realworld")
CASES = REALWORLD / "helpdesk"


def _cases() -> list[Any]:
    if not CASES.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no real cases at {CASES}"))]
    return [pytest.param(path, id=path.name) for path in sorted(CASES.iterdir()) if path.is_dir()]


def _hmac(secret: str, message: bytes, algorithm: str) -> bytes:
    return hmac.new(secret.encode(), message, getattr(hashlib, algorithm)).digest()


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _sign(scheme: str, secret: str, body: bytes) -> dict[str, str]:
    """Headers as each platform signs a delivery (from its documentation)."""
    now = time.time()
    if scheme == "chatwoot":  # sha256=hex(HMAC-SHA256(secret, "<ts>.<body>"))
        stamp = str(int(now))
        digest = _hmac(secret, f"{stamp}.".encode() + body, "sha256").hex()
        return {"X-Chatwoot-Timestamp": stamp, "X-Chatwoot-Signature": f"sha256={digest}"}
    if scheme == "freshdesk":  # automations send a shared secret in a custom header
        return {"X-TL-Loop-Secret": secret}
    if scheme == "front_app":  # base64(HMAC-SHA256(secret, "<ms>:<body>"))
        stamp = str(int(now * 1000))
        digest = _hmac(secret, f"{stamp}:".encode() + body, "sha256")
        return {"X-Front-Request-Timestamp": stamp, "X-Front-Signature": _b64(digest)}
    if scheme == "helpscout":  # base64(HMAC-SHA1(secret, body))
        return {"X-HelpScout-Signature": _b64(_hmac(secret, body, "sha1"))}
    if scheme == "front_rule":  # rule webhooks: base64(HMAC-SHA1(API secret, body))
        return {"X-Front-Signature": _b64(_hmac(secret, body, "sha1"))}
    if scheme in ("intercom", "zammad"):  # sha1=hex(HMAC-SHA1(secret, body))
        return {"X-Hub-Signature": "sha1=" + _hmac(secret, body, "sha1").hex()}
    if scheme == "zendesk":  # base64(HMAC-SHA256(secret, timestamp + body))
        stamp = datetime.fromtimestamp(int(now), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
            "X-Zendesk-Webhook-Signature": _b64(_hmac(secret, stamp.encode() + body, "sha256")),
        }
    raise AssertionError(f"unknown signing scheme {scheme!r}")


class Case:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.manifest: dict[str, Any] = json.loads((path / "manifest.json").read_text())
        self.expect: dict[str, Any] = self.manifest["expect"]

    def adapter(self) -> HelpdeskAdapter:
        config = self.manifest["config"]
        adapter_class = load_adapter_class(self.manifest["platform"])
        return adapter_class(**config)  # type: ignore[call-arg]

    def body(self) -> bytes:
        source = self.path
        if "body_from" in self.manifest:
            source = self.path.parent / self.manifest["body_from"]
        return (source / "body.json").read_bytes()

    def headers(self, body: bytes) -> dict[str, str]:
        config = self.manifest["config"]
        secret = config.get("webhook_secret") or config["client_secret"]
        return {**_sign(self.manifest["sign"], secret, body), **self.manifest.get("headers", {})}


def _dig(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        value = value[part]
    return value


def _check_webhook(case: Case) -> None:
    adapter = case.adapter()
    body = case.body()
    headers = case.headers(body)
    adapter.verify_webhook(body, headers)
    event = adapter.parse_event(body, headers)
    for key, wanted in case.expect.items():
        if key == "text_startswith":
            assert (event.text or "").startswith(wanted), event.text
        elif key == "reply_customer_id":
            reply = adapter.build_post_reply(event.conversation_id, "<p>x</p>")
            assert json.loads(reply.content)["customer"]["id"] == wanted
        else:
            assert getattr(event, key) == wanted, f"{key}: {getattr(event, key)!r}"


def _check_messages(case: Case) -> None:
    adapter = case.adapter()
    request = adapter.build_get_messages(case.manifest["conversation_id"])
    data = json.loads((case.path / "response.json").read_text())
    response = httpx.Response(200, json=data, request=request)
    messages = adapter.parse_messages(response)
    assert len(messages) == case.expect["count"]
    for message, wanted in zip(messages, case.expect["messages"], strict=False):
        for key, value in wanted.items():
            if key == "note":
                continue
            if key == "text_startswith":
                assert message.text.startswith(value), message.text[:80]
            else:
                assert getattr(message, key) == value, f"message {message.id} {key}"
    following = adapter.next_page(response)
    wanted_next = case.expect["next_page"]
    assert (str(following.url) if following is not None else None) == wanted_next


def _check_request(case: Case) -> None:
    adapter = case.adapter()
    builder: Callable[..., httpx.Request] = getattr(adapter, case.expect["builder"])
    request = builder(*case.expect["args"], **case.expect.get("kwargs", {}))
    assert request.method == case.expect["method"]
    assert request.url.path == case.expect["path"]
    sent = json.loads(request.content)
    for dotted, value in case.expect.get("json_paths", {}).items():
        assert _dig(sent, dotted) == value, dotted
    for name, value in case.expect.get("headers", {}).items():
        assert request.headers[name] == value


class _Platform:
    """Stands in for the platform's API: OAuth token endpoint and writes, recording requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.token = "tok-realworld"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(
                200, json={"access_token": self.token, "token_type": "bearer", "expires_in": 7200}
            )
        if request.headers.get("authorization") not in (f"Bearer {self.token}", None):
            return httpx.Response(401)
        if "authorization" not in request.headers and "api.helpscout.net" in str(request.url):
            return httpx.Response(401, json={"error": "invalid_token"})
        return httpx.Response(201 if request.method == "POST" else 200, json={})


def _post(app: Any, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST to the relay's ASGI app in process (no lifespan: jobs run by `relay.drain()`)."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay") as client:
            return await client.post(path, content=body, headers=headers)

    return anyio.run(send)


def _check_relay(case: Case, tmp_path: Path) -> None:
    platform = _Platform()
    name = case.manifest["platform"]
    languages = case.manifest.get("agent_languages", ["en"])
    adapter = case.adapter()
    body = case.body()
    headers = case.headers(body)
    happened = event_time(adapter, body, headers)  # a captured body keeps its real, old time
    relay = Relay(
        loop=Loop(
            engines=[FakeEngine()],
            detector=LanguageDetector(["en", "es", "de"]),
            agent_languages=languages,
        ),
        adapters={name: adapter},
        settings=RelaySettings(queue_path=tmp_path / "queue.sqlite3"),
        http_client=httpx.Client(transport=httpx.MockTransport(platform)),
        clock=time.time if happened is None else (lambda: happened + 60),
    )
    with relay:
        answer = _post(create_app(relay, workers=False), f"/webhooks/{name}", body, headers)
        assert answer.status_code == case.expect["accept_status"], answer.text
        if "response_contains" in case.expect:
            assert case.expect["response_contains"] in answer.text
        relay.drain()
        if "job_outcome" in case.expect:
            counts = relay.queue.counts()
            assert relay.queue.failed_jobs() == []
            assert counts[case.expect["job_outcome"]] == 1, counts
        for wanted in case.expect.get("requests_include", []):
            assert wanted in platform.requests, platform.requests


_CHECKS: Mapping[str, Callable[[Case], None]] = {
    "webhook": _check_webhook,
    "messages_response": _check_messages,
    "request": _check_request,
}


@pytest.mark.parametrize("path", _cases())
def test_the_real_case_gives_what_its_manifest_expects(path: Path, tmp_path: Path) -> None:
    case = Case(path)
    kind = case.manifest["kind"]
    if kind == "relay":
        _check_relay(case, tmp_path)
    else:
        _CHECKS[kind](case)
