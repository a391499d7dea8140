"""The emulators answer in the shapes the real platforms do.

Every case in `../shared/realworld/helpdesk/` is a real webhook body, API response or
documented request. For each, the emulator of its platform produces its own counterpart (the
same webhook, the same API call's answer) and every key the real one has must be there with
the same JSON type, recursively; documented requests must be accepted. Extra keys in the
emulator are allowed. Differences the emulator makes on purpose are listed in `ALLOWED` with
the reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tl_loop.testing.emulators import EMULATORS, EmulatedConversation, EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
REALWORLD = Path(os.environ.get("TL_LOOP_REALWORLD") or ROOT.parent / "shared" / "realworld")
CASES = REALWORLD / "helpdesk"

# Paths (dotted, `[]` for list items) the emulator leaves out on purpose, per case.
_CHATWOOT_2020 = "Chatwoot's 2020 docs sample; captured webhooks have numeric ids, no contact"
_HELPSCOUT_SDK = "the SDK fixture nests these under createdBy; the documented thread has them apart"
ALLOWED: dict[str, dict[str, str]] = {
    "chatwoot_docs_sample_message_created": {
        "id": _CHATWOOT_2020,
        "sender.id": _CHATWOOT_2020,
        "account.id": _CHATWOOT_2020,
        "contact": _CHATWOOT_2020,
        "conversation.display_id": "captured webhooks give the display id as conversation.id",
        "conversation.additional_attributes.browser": "web-widget only",
        "conversation.additional_attributes.referer": "web-widget only",
        "conversation.additional_attributes.initiated_at": "web-widget only",
    },
    "chatwoot_conversation_status_changed": {
        "messages[].sender.avatar_url": "the real last message is an agent bot's; contacts, "
        "whose message ends the emulated conversation, have no avatar_url",
    },
    "helpscout_convo_customer_reply_sdk": {
        "_embedded.threads[].createdBy.to": _HELPSCOUT_SDK,
        "_embedded.threads[].createdBy.cc": _HELPSCOUT_SDK,
        "_embedded.threads[].createdBy.bcc": _HELPSCOUT_SDK,
        "_embedded.threads[].createdBy.createdAt": _HELPSCOUT_SDK,
        "_embedded.threads[]._links.createdByUser": "the SDK fixture's customer thread says a "
        "user created it; the emulator links the customer (createdByCustomer)",
    },
    "helpscout_threads_response_sdk": {
        "_links.next": "present only while there is a next page (the real one had two)",
    },
    "intercom_admin_noted_hull": {
        "data.item.conversation_message": "a 1.x workspace; the emulator speaks API 2.x (source)",
        "data.item.user": "a 1.x workspace; the emulator speaks API 2.x (contacts)",
        "data.item.assignee": "a 1.x workspace; 2.x has admin_assignee_id",
        "data.item.metadata": "a 1.x workspace",
        "data.item.tags_added": "a 1.x workspace",
        "data.item.links": "a 1.x workspace",
    },
    "intercom_admin_closed_darragh": {
        "data.item.conversation_message": "a 1.x workspace; the emulator speaks API 2.x (source)",
        "data.item.user": "a 1.x workspace; the emulator speaks API 2.x (contacts)",
        "data.item.assignee": "a 1.x workspace; 2.x has admin_assignee_id",
        "data.item.metadata": "a 1.x workspace",
        "data.item.tags_added": "a 1.x workspace",
        "data.item.links": "a 1.x workspace",
    },
}


@dataclass
class Shape:
    """The JSON types seen at one place, and the shapes of keys and list items under it."""

    types: set[str] = field(default_factory=set)
    keys: dict[str, Shape] = field(default_factory=dict)
    items: Shape | None = None

    def add(self, value: Any) -> Shape:
        if value is None:
            self.types.add("null")
        elif isinstance(value, bool):
            self.types.add("bool")
        elif isinstance(value, int | float):
            self.types.add("number")
        elif isinstance(value, str):
            self.types.add("string")
        elif isinstance(value, list):
            self.types.add("list")
            self.items = self.items or Shape()
            for item in value:
                self.items.add(item)
        elif isinstance(value, dict):
            self.types.add("object")
            for key, item in value.items():
                self.keys.setdefault(key, Shape()).add(item)
        return self


def differences(real: Shape, emulated: Shape, path: str = "") -> Iterator[str]:
    """Where the emulated shape lacks a key of the real one, or has another type."""
    known, mine = real.types - {"null"}, emulated.types - {"null"}
    if known and mine and not known & mine:
        yield f"{path or '(top)'}: real {sorted(known)}, emulator {sorted(mine)}"
        return
    if "object" in mine:
        for key, below in real.keys.items():
            where = f"{path}.{key}" if path else key
            if key not in emulated.keys:
                yield f"{where}: missing"
            else:
                yield from differences(below, emulated.keys[key], where)
    if real.items is not None and emulated.items is not None and emulated.items.types:
        yield from differences(real.items, emulated.items, f"{path}[]")


def _cases(kind: str) -> list[Any]:
    if not CASES.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no real cases at {CASES}"))]
    found = []
    for path in sorted(CASES.iterdir()):
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if manifest["kind"] == kind:
            found.append(pytest.param(path, id=path.name))
    return found


def _manifest(case: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((case / "manifest.json").read_text(encoding="utf-8"))
    return manifest


def _real(case: Path, name: str) -> Any:
    return json.loads((case / name).read_text(encoding="utf-8"))


def _busy_conversation(emulator: EmulatorServer) -> EmulatedConversation:
    """A conversation with a customer message, an agent reply and an internal note each."""
    conversation = emulator.open_conversation()
    store = emulator.store
    store.add_message(
        conversation,
        "Hola, mi pedido no llegó.",
        author="customer",
        public=True,
        content_type="text",
    )
    store.add_message(conversation, "<p>Lo siento.</p>", author="agent", public=True)
    store.add_message(
        conversation, "Check the courier", author="agent", public=False, content_type="text"
    )
    store.add_message(conversation, "Gracias", author="customer", public=True, content_type="text")
    return conversation


def _check(case: Path, real: Any, emulated: Any) -> None:
    allowed = ALLOWED.get(case.name, {})
    problems = [
        problem
        for problem in differences(Shape().add(real), Shape().add(emulated))
        if problem.split(":")[0] not in allowed
    ]
    assert problems == [], f"{case.name}: the emulator's shape differs: {problems}"


@pytest.mark.parametrize("case", _cases("messages_response"))
def test_api_answers_have_the_real_shape(case: Path) -> None:
    manifest = _manifest(case)
    with EMULATORS[manifest["platform"]]() as emulator:
        conversation = _busy_conversation(emulator)
        adapter = emulator.adapter()
        request = adapter.build_get_messages(emulator.conversation_key(conversation))
        with httpx.Client() as http:
            if emulator.platform == "helpscout":  # the token comes from the OAuth endpoint
                token = http.post(
                    f"{emulator.url}/v2/oauth2/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": emulator.app_id,  # type: ignore[attr-defined]
                        "client_secret": emulator.app_secret,
                    },
                ).json()["access_token"]  # type: ignore[attr-defined]
                request.headers["authorization"] = f"Bearer {token}"
            response = http.send(request)
        assert response.status_code == 200, response.text
        _check(case, _real(case, "response.json"), response.json())


@pytest.mark.parametrize("case", _cases("webhook"))
def test_webhooks_have_the_real_shape(case: Path) -> None:
    manifest = _manifest(case)
    with EMULATORS[manifest["platform"]]() as emulator:
        conversation = _busy_conversation(emulator)
        real = _real(case, "body.json")
        if str(real.get("event", "")).startswith("conversation_"):
            webhook = emulator.conversation_event(conversation, real["event"])  # type: ignore[attr-defined]
        elif manifest["expect"]["kind"] == "agent_note":
            webhook = emulator.agent_note(conversation, "#tl Your order ships today.")
        else:
            webhook = emulator.customer_message(conversation, "¿Dónde está mi pedido?")
        emulator.adapter().verify_webhook(webhook.body, webhook.headers)
        _check(case, real, webhook.json())


@pytest.mark.parametrize("case", _cases("request"))
def test_documented_requests_are_accepted(case: Path) -> None:
    manifest = _manifest(case)
    expect = manifest["expect"]
    with EMULATORS[manifest["platform"]]() as emulator:
        conversation = _busy_conversation(emulator)
        key = emulator.conversation_key(conversation)
        builder = getattr(emulator.adapter(), expect["builder"])
        request = builder(key, *expect["args"][1:], **expect.get("kwargs", {}))
        assert (request.method, request.url.path.replace(key, expect["args"][0])) == (
            expect["method"],
            expect["path"],
        )
        with httpx.Client() as http:
            response = http.send(request)
        assert response.is_success, response.text
        [write] = emulator.writes(conversation.id)
        assert write.kind == ("note" if expect["builder"] == "build_post_note" else "reply")


def test_fronts_validation_request_has_the_real_shape() -> None:
    case = CASES / "front_app_webhook_sync_challenge_docs"
    if not case.is_dir():
        pytest.skip(f"no real case at {case}")
    with EMULATORS["front"]() as emulator:
        challenge = emulator.challenge()  # type: ignore[attr-defined]
        _check(case, _real(case, "body.json"), challenge.json())
        assert set(_manifest(case)["headers"]) <= set(challenge.headers)
