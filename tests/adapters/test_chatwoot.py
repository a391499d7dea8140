"""Chatwoot: webhook signatures (reference §8 vector), message_created kinds, messages API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from tl_loop import (
    OWN_NOTE_MARKER,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    WebhookAuthError,
)
from tl_loop.helpdesk import HelpdeskClient
from tl_loop.testing import AdapterContract
from tl_loop_chatwoot import ChatwootAdapter

SECRET = "test-secret"
BASE = "https://chat.acme.test"
MESSAGES_URL = f"{BASE}/api/v1/accounts/3/conversations/10/messages"
VECTOR_BODY = b'{"id":1,"text":"Hola"}'
VECTOR_SIGNATURE = "sha256=42855b67e634db164a9ede008f327e836ee5731a09c3037a0c86e80114e1799f"


def make_adapter(**options: Any) -> ChatwootAdapter:
    settings: dict[str, Any] = {
        "base_url": BASE,
        "account_id": 3,
        "api_access_token": "cw-token-123",
        "webhook_secret": SECRET,
    }
    settings.update(options)
    return ChatwootAdapter(**settings)


def sign(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    stamp = timestamp or str(int(time.time()))
    digest = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "X-Chatwoot-Signature": f"sha256={digest}",
        "X-Chatwoot-Timestamp": stamp,
        "X-Chatwoot-Delivery": "5d1c6b4e-2f0a-4c57-9a51-0f6c1d3b7e21",
    }


def conversation(**extra: Any) -> dict[str, Any]:
    # The nested conversation of a webhook: its messages carry message_type as an *integer*.
    value: dict[str, Any] = {
        "additional_attributes": {},
        "can_reply": True,
        "channel": "Channel::WebWidget",
        "id": 10,
        "inbox_id": 1,
        "messages": [{"id": 117, "content": "Hola", "message_type": 0, "private": False}],
        "meta": {"sender": {"id": 14, "type": "contact"}, "assignee": None},
        "status": "open",
        "unread_count": 1,
        "timestamp": 1627063369,
        "custom_attributes": {},
        "labels": [],
    }
    value.update(extra)
    return value


def message_created(
    content: str | None,
    *,
    message_type: object = "incoming",
    private: bool = False,
    sender_type: str = "contact",
    message_id: int = 118,
    **conversation_extra: Any,
) -> bytes:
    payload = {
        "id": message_id,
        "content": content,
        "created_at": "2021-07-23T18:02:48.000Z",
        "message_type": message_type,
        "content_type": "text",
        "private": private,
        "content_attributes": {},
        "source_id": None,
        "sender": {"id": 14, "name": "little-haze-776", "avatar": "", "type": sender_type},
        "inbox": {"id": 1, "name": "Acme Support"},
        "conversation": conversation(**conversation_extra),
        "account": {"id": 3, "name": "Acme Inc"},
        "event": "message_created",
    }
    return json.dumps(payload).encode()


CUSTOMER = message_created("Hola, mi pedido no ha llegado.")
OWN_NOTE = message_created(
    f"Hello, my order has not arrived.\n\n{OWN_NOTE_MARKER}",
    message_type="outgoing",
    private=True,
    sender_type="user",
)


class TestContract(AdapterContract):
    @pytest.fixture
    def contract_adapter(self) -> ChatwootAdapter:
        return make_adapter()

    @pytest.fixture
    def signed_webhook(self) -> Callable[[bytes], dict[str, str]]:
        return lambda body: sign(body)

    @pytest.fixture
    def customer_message_body(self) -> bytes:
        return CUSTOMER

    @pytest.fixture
    def own_note_body(self) -> bytes:
        return OWN_NOTE

    @pytest.fixture
    def contract_replay_window(self) -> float:
        return 300.0


# -- signatures ----------------------------------------------------------------------------


def test_the_reference_vector_verifies() -> None:
    headers = {"X-Chatwoot-Signature": VECTOR_SIGNATURE, "X-Chatwoot-Timestamp": "1700000000"}
    make_adapter().verify_webhook(VECTOR_BODY, headers, now=1_700_000_010)


def test_a_forged_vector_is_refused() -> None:
    forged = VECTOR_SIGNATURE[:-1] + "0"
    headers = {"x-chatwoot-signature": forged, "x-chatwoot-timestamp": "1700000000"}
    with pytest.raises(WebhookAuthError, match="does not match"):
        make_adapter().verify_webhook(VECTOR_BODY, headers, now=1_700_000_010)


def test_a_stale_vector_is_refused() -> None:
    headers = {"X-Chatwoot-Signature": VECTOR_SIGNATURE, "X-Chatwoot-Timestamp": "1700000000"}
    with pytest.raises(WebhookAuthError, match="window"):
        make_adapter().verify_webhook(VECTOR_BODY, headers, now=1_700_000_000 + 301)


def test_the_timestamp_is_part_of_what_is_signed() -> None:
    headers = {"X-Chatwoot-Signature": VECTOR_SIGNATURE, "X-Chatwoot-Timestamp": "1700000001"}
    with pytest.raises(WebhookAuthError, match="does not match"):
        make_adapter().verify_webhook(VECTOR_BODY, headers, now=1_700_000_010)


def test_a_signature_without_its_timestamp_is_refused() -> None:
    with pytest.raises(WebhookAuthError, match="X-Chatwoot-Timestamp"):
        make_adapter().verify_webhook(VECTOR_BODY, {"X-Chatwoot-Signature": VECTOR_SIGNATURE})


def test_unsigned_webhooks_need_an_explicit_opt_in() -> None:
    with pytest.raises(WebhookAuthError, match="CHATWOOT_WEBHOOK_SECRET"):
        make_adapter(webhook_secret=None).verify_webhook(CUSTOMER, {})
    make_adapter(webhook_secret=None, allow_unsigned=True).verify_webhook(CUSTOMER, {})


# -- events --------------------------------------------------------------------------------


def test_an_incoming_message_is_a_customer_message() -> None:
    event = make_adapter().parse_event(CUSTOMER, sign(CUSTOMER))
    assert event.kind == "customer_message"
    assert (event.conversation_id, event.message_id) == ("10", "118")
    assert event.text == "Hola, mi pedido no ha llegado."
    assert event.content_type == "text"
    assert event.complete
    assert event.author_id == "14"
    assert event.event_id == "5d1c6b4e-2f0a-4c57-9a51-0f6c1d3b7e21"


@pytest.mark.parametrize("message_type", ["incoming", 0, "0", "Incoming"])
def test_message_type_may_be_a_name_or_the_enum_int(message_type: object) -> None:
    body = message_created("Hola", message_type=message_type)
    assert make_adapter().parse_event(body, {}).kind == "customer_message"


def test_nested_integer_message_types_do_not_decide_the_kind() -> None:
    # The nested conversation.messages hold an incoming int (0); the top-level is outgoing.
    body = message_created("We are on it", message_type="outgoing")
    assert make_adapter().parse_event(body, {}).kind == "ignored"


@pytest.mark.parametrize(
    ("message_type", "private", "kind"),
    [
        ("outgoing", False, "ignored"),  # a public agent reply
        (1, False, "ignored"),
        ("outgoing", True, "agent_note"),
        (1, True, "agent_note"),
        ("activity", False, "ignored"),  # "Conversation was resolved by …"
        (2, False, "ignored"),
        (3, False, "ignored"),  # template / bot messages
        ("incoming", True, "ignored"),
    ],
)
def test_outgoing_private_and_system_messages(
    message_type: object, private: bool, kind: str
) -> None:
    body = message_created("#tl Hello", message_type=message_type, private=private)
    assert make_adapter().parse_event(body, {}).kind == kind


def test_an_agent_note_is_markdown_with_its_author() -> None:
    body = message_created(
        "#tl Your order **ships** today", message_type="outgoing", private=True, sender_type="user"
    )
    event = make_adapter().parse_event(body, {})
    assert (event.kind, event.content_type) == ("agent_note", "markdown")
    assert event.text == "#tl Your order **ships** today"


def test_our_own_note_is_ignored() -> None:
    assert make_adapter().parse_event(OWN_NOTE, sign(OWN_NOTE)).kind == "ignored"


def test_without_a_delivery_id_the_message_id_dedupes() -> None:
    first = make_adapter().parse_event(CUSTOMER, {})
    again = make_adapter().parse_event(CUSTOMER, {})
    other = make_adapter().parse_event(message_created("Otra", message_id=119), {})
    assert first.event_id == again.event_id == "message_created:118"
    assert other.event_id != first.event_id


def test_a_conversation_with_only_a_display_id_is_addressed_by_it() -> None:
    # Chatwoot's published sample webhook carries `display_id` and no `id`.
    payload = json.loads(message_created("Hi"))
    payload["conversation"] = {"display_id": 7, "additional_attributes": {}}
    event = make_adapter().parse_event(json.dumps(payload).encode(), {})
    assert (event.kind, event.conversation_id) == ("customer_message", "7")
    created = json.dumps({"event": "conversation_created", "display_id": 8, "messages": []})
    assert make_adapter().parse_event(created.encode(), {}).conversation_id == "8"


def test_an_attachment_only_message_has_empty_text() -> None:
    event = make_adapter().parse_event(message_created(None), {})
    assert (event.kind, event.text, event.complete) == ("customer_message", "", True)


def test_a_new_conversation_carries_its_first_incoming_message() -> None:
    payload = conversation(
        messages=[
            {"id": 200, "content": "Bienvenido", "message_type": 3, "private": False},
            {"id": 201, "content": "Necesito ayuda", "message_type": 0, "private": False},
        ]
    )
    payload["event"] = "conversation_created"
    event = make_adapter().parse_event(json.dumps(payload).encode(), {})
    assert event.kind == "ticket_created"
    assert (event.conversation_id, event.message_id, event.text) == ("10", "201", "Necesito ayuda")
    assert event.complete


def test_a_new_conversation_without_messages_is_incomplete() -> None:
    payload = conversation(messages=[])
    payload["event"] = "conversation_created"
    event = make_adapter().parse_event(json.dumps(payload).encode(), {})
    assert (event.kind, event.text, event.complete) == ("ticket_created", None, False)


@pytest.mark.parametrize(
    "name", ["conversation_status_changed", "message_updated", "webwidget_triggered"]
)
def test_other_events_are_ignored(name: str) -> None:
    payload = {"event": name, "id": 10, "status": "resolved"}
    assert make_adapter().parse_event(json.dumps(payload).encode(), {}).kind == "ignored"


@pytest.mark.parametrize(
    ("extra", "language"),
    [
        ({"custom_attributes": {"language": "es"}}, "es"),
        ({"additional_attributes": {"conversation_language": "pt_br"}}, "pt-BR"),
        ({"labels": ["vip", "lang-fr"]}, "fr"),
        (
            {
                "custom_attributes": {"language": "de"},
                "additional_attributes": {"conversation_language": "es"},
            },
            "de",
        ),
        ({"custom_attributes": {"language": "Spanish please"}}, None),
        ({}, None),
    ],
)
def test_the_customer_language_comes_from_attributes_or_labels(
    extra: dict[str, Any], language: str | None
) -> None:
    event = make_adapter().parse_event(message_created("Hola", **extra), {})
    assert event.customer_language == language


def test_the_language_attribute_and_label_prefix_are_configurable() -> None:
    adapter = make_adapter(language_attribute="idioma", language_label_prefix="idioma_")
    body = message_created("Hola", custom_attributes={"idioma": "it"})
    assert adapter.parse_event(body, {}).customer_language == "it"
    labelled = message_created("Hola", labels=["idioma_nl"])
    assert adapter.parse_event(labelled, {}).customer_language == "nl"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "JSON object"),
        (b'{"id": 1}', '"event"'),
        (b'{"event": "message_created", "id": 5, "message_type": "incoming"}', "conversation"),
    ],
)
def test_malformed_bodies_say_what_is_missing(body: bytes, problem: str) -> None:
    with pytest.raises(InvalidRequestError, match=problem):
        make_adapter().parse_event(body, {})


# -- requests ------------------------------------------------------------------------------


def test_a_private_note_is_a_private_outgoing_message(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="POST",
        url=MESSAGES_URL,
        match_headers={"api_access_token": "cw-token-123"},
        match_json={
            "content": "Hello **Ana**\n\nLine two\nend",
            "message_type": "outgoing",
            "private": True,
            "content_type": "text",
        },
        json={"id": 300, "private": True},
    )
    request = make_adapter().build_post_note(
        "10", "<p>Hello <strong>Ana</strong></p><p>Line two<br>end</p>"
    )
    with httpx.Client() as client:
        assert client.send(request).json()["id"] == 300


def test_a_reply_is_a_public_outgoing_message(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="POST",
        url=MESSAGES_URL,
        match_json={
            "content": "Su pedido sale hoy.\nGracias",
            "message_type": "outgoing",
            "private": False,
            "content_type": "text",
        },
        json={"id": 301, "private": False},
    )
    request = make_adapter().build_post_reply(
        "10", "Su pedido sale hoy.\nGracias", content_type="text"
    )
    with httpx.Client() as client:
        assert client.send(request).status_code == 200


def test_links_and_lists_survive_as_markdown() -> None:
    request = make_adapter().build_post_note(
        "10", '<ul><li>Track it <a href="https://acme.test/t/1">here</a></li><li>Or call</li></ul>'
    )
    content = json.loads(request.content)["content"]
    assert content == "- Track it [here](https://acme.test/t/1)\n- Or call"


def messages_page(ids: range) -> dict[str, Any]:
    items = [
        {
            "id": i,
            "content": f"m{i}",
            "message_type": i % 3,
            "private": i % 5 == 0,
            "created_at": 1_700_000_000 + i,
            "sender": {"id": 1, "type": "contact" if i % 3 == 0 else "user"},
        }
        for i in ids
    ]
    return {"meta": {"labels": [], "contact": {"id": 14}}, "payload": items}


def test_messages_are_read_with_their_roles_and_older_pages(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter()
    httpx_mock.add_response(method="GET", url=MESSAGES_URL, json=messages_page(range(21, 41)))
    httpx_mock.add_response(
        method="GET", url=f"{MESSAGES_URL}?before=21", json=messages_page(range(18, 21))
    )
    with httpx.Client() as client:
        first = client.send(adapter.build_get_messages("10"))
        older_request = adapter.next_page(first)
        assert older_request is not None
        older = client.send(older_request)
    messages = adapter.parse_messages(first)
    assert [m.id for m in messages[:3]] == ["21", "22", "23"]
    assert [m.author_role for m in messages[:3]] == ["customer", "agent", "system"]
    assert messages[4].public is False  # id 25: a private note
    assert messages[0].created_at == "2023-11-14T22:13:41Z"
    assert older_request.headers["api_access_token"] == "cw-token-123"
    assert [m.text for m in adapter.parse_messages(older)] == ["m18", "m19", "m20"]
    assert adapter.next_page(older) is None


def test_reading_a_missing_conversation_raises_not_found() -> None:
    adapter = make_adapter()
    response = httpx.Response(
        404, json={"error": "Resource could not be found"}, request=adapter.build_get_messages("9")
    )
    with pytest.raises(NotFoundError, match="Resource could not be found"):
        adapter.parse_messages(response)


def test_the_language_is_written_only_when_enabled() -> None:
    assert make_adapter().build_set_language("10", "es") is None
    request = make_adapter(write_language=True).build_set_language(
        "10", "es", custom_attributes={"plan": "gold"}
    )
    assert request is not None
    assert (request.method, str(request.url)) == (
        "POST",
        f"{BASE}/api/v1/accounts/3/conversations/10/custom_attributes",
    )
    assert json.loads(request.content) == {"custom_attributes": {"plan": "gold", "language": "es"}}


def test_the_language_write_keeps_the_other_custom_attributes(httpx_mock: HTTPXMock) -> None:
    conversation_url = f"{BASE}/api/v1/accounts/3/conversations/10"
    httpx_mock.add_response(
        method="GET",
        url=conversation_url,
        json={"id": 10, "custom_attributes": {"plan": "gold", "order": "A-17", "language": "de"}},
    )
    httpx_mock.add_response(
        method="POST",
        url=f"{conversation_url}/custom_attributes",
        match_json={"custom_attributes": {"plan": "gold", "order": "A-17", "language": "es"}},
        json={"custom_attributes": {"plan": "gold", "order": "A-17", "language": "es"}},
    )
    with HelpdeskClient(make_adapter(write_language=True)) as client:
        assert client.set_language("10", "es") is True


def test_a_language_already_recorded_is_not_written_again(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="GET",
        url=f"{BASE}/api/v1/accounts/3/conversations/10",
        json={"id": 10, "custom_attributes": {"language": "es"}},
    )
    with HelpdeskClient(make_adapter(write_language=True)) as client:
        assert client.set_language("10", "es") is False  # nothing sent
    with HelpdeskClient(make_adapter()) as client:
        assert client.set_language("10", "es") is False  # not enabled: not even read


# -- errors and configuration -------------------------------------------------------------


def error(status: int, **kwargs: Any) -> Exception | None:
    adapter = make_adapter()
    response = httpx.Response(status, request=adapter.build_get_messages("10"), **kwargs)
    return adapter.error_for(response)


def test_error_bodies_are_quoted() -> None:
    refused = error(401, json={"errors": ["You need to sign in or sign up before continuing."]})
    assert isinstance(refused, AuthenticationError)
    assert "You need to sign in" in str(refused)
    limited = error(429, headers={"Retry-After": "30"}, json={"error": "Too many requests"})
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 30.0
    assert isinstance(error(502, text="Bad gateway"), ServiceUnavailableError)


def test_from_env_names_missing_variables() -> None:
    with pytest.raises(ConfigurationError, match="CHATWOOT_ACCOUNT_ID"):
        ChatwootAdapter.from_env({"CHATWOOT_BASE_URL": BASE, "CHATWOOT_API_ACCESS_TOKEN": "t"})
    adapter = ChatwootAdapter.from_env(
        {
            "CHATWOOT_BASE_URL": BASE + "/",
            "CHATWOOT_ACCOUNT_ID": "3",
            "CHATWOOT_API_ACCESS_TOKEN": "cw-token-123",
            "CHATWOOT_WEBHOOK_SECRET": SECRET,
        }
    )
    assert str(adapter.build_get_messages("10").url) == MESSAGES_URL
    assert "cw-token-123" not in repr(adapter)
    adapter.verify_webhook(
        VECTOR_BODY,
        {"X-Chatwoot-Signature": VECTOR_SIGNATURE, "X-Chatwoot-Timestamp": "1700000000"},
        now=1_700_000_000,
    )


# -- channel ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel_type", "channel"),
    [
        ("Channel::WebWidget", "chat"),
        ("Channel::Whatsapp", "chat"),
        ("Channel::Email", "email"),
        ("Channel::Api", None),
        (None, None),
    ],
)
def test_the_inbox_channel_type_is_the_channel(
    channel_type: str | None, channel: str | None
) -> None:
    body = message_created("Hola", channel=channel_type)
    event = make_adapter().parse_event(body, {})
    assert (event.kind, event.channel) == ("customer_message", channel)


def test_an_agent_note_and_a_new_conversation_carry_the_channel() -> None:
    adapter = make_adapter()
    note = message_created(
        "#tl Hi", message_type="outgoing", private=True, channel="Channel::Email"
    )
    event = adapter.parse_event(note, {})
    assert (event.kind, event.channel) == ("agent_note", "email")
    created = conversation(channel="Channel::Email")
    created["event"] = "conversation_created"
    assert adapter.parse_event(json.dumps(created).encode(), {}).channel == "email"


def test_without_a_conversation_channel_the_inbox_channel_type_is_used() -> None:
    payload = json.loads(message_created("Hola", channel=None))
    payload["inbox"]["channel_type"] = "Channel::Email"
    event = make_adapter().parse_event(json.dumps(payload).encode(), {})
    assert event.channel == "email"
