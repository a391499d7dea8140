"""Front: rule and application webhook signatures (reference §8 vectors), events, Core API."""

from __future__ import annotations

import base64
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
    ServiceResponseError,
    WebhookAuthError,
)
from tl_loop.helpdesk import HelpdeskClient
from tl_loop.testing import AdapterContract
from tl_loop_front import FrontAdapter

SECRET = "test-secret"
BASE = "https://api2.frontapp.com"
VECTOR_BODY = b'{"id":1,"text":"Hola"}'
RULE_SIGNATURE = "Gzf8OfeCSTNYgjUpuzP5I1FiCog="
APP_SIGNATURE = "zi+r0wmaUftxgG+jZ/gXYMGtZx+No2qISqUN+9AQGhU="


def make_adapter(**options: Any) -> FrontAdapter:
    settings: dict[str, Any] = {"api_token": "front-token-123", "webhook_secret": SECRET}
    settings.update(options)
    return FrontAdapter(**settings)


def sign_rule(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha1).digest()
    return {"X-Front-Signature": base64.b64encode(digest).decode()}


def sign_app(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    stamp = timestamp or str(int(time.time() * 1000))  # Front sends milliseconds
    digest = hmac.new(SECRET.encode(), stamp.encode() + b":" + body, hashlib.sha256).digest()
    return {
        "X-Front-Signature": base64.b64encode(digest).decode(),
        "X-Front-Request-Timestamp": stamp,
    }


def conversation(**extra: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "_links": {"self": f"{BASE}/conversations/cnv_55c8c149"},
        "id": "cnv_55c8c149",
        "subject": "Pedido",
        "status": "unassigned",
        "assignee": None,
        "recipient": {"handle": "ana@example.com", "role": "from"},
        "tags": [],
        "links": [],
        "custom_fields": {},
        "created_at": 1701292639.0,
        "is_private": False,
    }
    value.update(extra)
    return value


def event(
    event_type: str, target_type: str, data: dict[str, Any], **conversation_extra: Any
) -> dict[str, Any]:
    return {
        "_links": {"self": f"{BASE}/events/evt_3a1b9c"},
        "id": "evt_3a1b9c",
        "type": event_type,
        "emitted_at": 1701292649.333,
        "source": {"_meta": {"type": "inboxes"}, "data": [{"id": "inb_1", "name": "Support"}]},
        "target": {"_meta": {"type": target_type}, "data": data},
        "conversation": conversation(**conversation_extra),
    }


def inbound(body: str | None = "<p>Hola, mi pedido no ha llegado.</p>", **extra: Any) -> bytes:
    data: dict[str, Any] = {
        "_links": {"self": f"{BASE}/messages/msg_1"},
        "id": "msg_1",
        "type": "email",
        "is_inbound": True,
        "created_at": 1701292649.0,
        "blurb": "Hola, mi pedido…",
        "author": None,
        "recipients": [{"handle": "ana@example.com", "role": "from"}],
    }
    if body is not None:
        data.update(body=body, text="Hola, mi pedido no ha llegado.")
    return json.dumps(event("inbound", "message", data, **extra)).encode()


def comment(body: str, event_type: str = "comment") -> bytes:
    data = {
        "_links": {"self": f"{BASE}/comments/com_1"},
        "id": "com_1",
        "author": {"id": "tea_7", "email": "leo@acme.test", "is_admin": False},
        "body": body,
        "posted_at": 1701292700.0,
        "is_pinned": False,
    }
    return json.dumps(event(event_type, "comment", data)).encode()


CUSTOMER = inbound()
OWN_NOTE = comment(f"My order has not arrived.\n\n{OWN_NOTE_MARKER}")


class TestContract(AdapterContract):
    """Application webhooks: SHA-256 over "<ms timestamp>:<body>"."""

    @pytest.fixture
    def contract_adapter(self) -> FrontAdapter:
        return make_adapter(webhook_kind="app")

    @pytest.fixture
    def signed_webhook(self) -> Callable[[bytes], dict[str, str]]:
        return lambda body: sign_app(body)

    @pytest.fixture
    def customer_message_body(self) -> bytes:
        return CUSTOMER

    @pytest.fixture
    def own_note_body(self) -> bytes:
        return OWN_NOTE

    @pytest.fixture
    def contract_replay_window(self) -> float:
        return 300.0


class TestRuleWebhookContract(TestContract):
    """Rule webhooks: SHA-1 over the body, no timestamp."""

    @pytest.fixture
    def contract_adapter(self) -> FrontAdapter:
        return make_adapter(webhook_kind="rule")

    @pytest.fixture
    def signed_webhook(self) -> Callable[[bytes], dict[str, str]]:
        return sign_rule

    @pytest.fixture
    def contract_replay_window(self) -> None:
        return None


# -- signatures ----------------------------------------------------------------------------


def test_the_rule_vector_verifies() -> None:
    make_adapter().verify_webhook(VECTOR_BODY, {"X-Front-Signature": RULE_SIGNATURE})


def test_a_forged_rule_vector_is_refused() -> None:
    with pytest.raises(WebhookAuthError, match="does not match"):
        make_adapter().verify_webhook(VECTOR_BODY, {"x-front-signature": "H" + RULE_SIGNATURE[1:]})


def test_the_app_vector_verifies() -> None:
    headers = {"X-Front-Signature": APP_SIGNATURE, "X-Front-Request-Timestamp": "1700000000"}
    make_adapter(webhook_kind="app").verify_webhook(VECTOR_BODY, headers, now=1_700_000_010)


def test_a_forged_app_vector_is_refused() -> None:
    headers = {
        "X-Front-Signature": "y" + APP_SIGNATURE[1:],
        "X-Front-Request-Timestamp": "1700000000",
    }
    with pytest.raises(WebhookAuthError, match="does not match"):
        make_adapter(webhook_kind="app").verify_webhook(VECTOR_BODY, headers, now=1_700_000_010)


def test_a_stale_app_vector_is_refused() -> None:
    headers = {"X-Front-Signature": APP_SIGNATURE, "X-Front-Request-Timestamp": "1700000000"}
    with pytest.raises(WebhookAuthError, match="window"):
        make_adapter(webhook_kind="app").verify_webhook(
            VECTOR_BODY, headers, now=1_700_000_000 + 301
        )


def test_millisecond_timestamps_are_read_as_such() -> None:
    adapter = make_adapter(webhook_kind="app")
    headers = sign_app(VECTOR_BODY, "1700000000000")
    adapter.verify_webhook(VECTOR_BODY, headers, now=1_700_000_100)
    with pytest.raises(WebhookAuthError, match="window"):
        adapter.verify_webhook(VECTOR_BODY, headers, now=1_700_000_400)


def test_the_kinds_do_not_accept_each_others_signatures() -> None:
    with pytest.raises(WebhookAuthError):
        make_adapter(webhook_kind="app").verify_webhook(VECTOR_BODY, sign_rule(VECTOR_BODY))
    with pytest.raises(WebhookAuthError):
        make_adapter(webhook_kind="rule").verify_webhook(VECTOR_BODY, sign_app(VECTOR_BODY))


def test_the_validation_challenge_is_echoed() -> None:
    adapter = make_adapter(webhook_kind="app")
    body = b'{"type":"sync","authorization":{"id":"cmp_abc"}}'
    headers = {**sign_app(body), "X-Front-Challenge": "r4nd0m"}
    adapter.verify_webhook(body, headers)
    reply = adapter.webhook_reply(body, headers)
    assert reply is not None
    assert not reply.process
    assert (reply.status, reply.content_type) == (200, "application/json")
    assert json.loads(reply.body) == {"challenge": "r4nd0m"}
    assert adapter.parse_event(body, headers).kind == "ignored"
    assert adapter.webhook_reply(body, sign_app(body)) is None


# -- events --------------------------------------------------------------------------------


def test_an_inbound_message_is_a_customer_message() -> None:
    parsed = make_adapter().parse_event(CUSTOMER, sign_rule(CUSTOMER))
    assert parsed.kind == "customer_message"
    assert (parsed.event_id, parsed.conversation_id, parsed.message_id) == (
        "evt_3a1b9c",
        "cnv_55c8c149",
        "msg_1",
    )
    assert (parsed.text, parsed.content_type) == ("<p>Hola, mi pedido no ha llegado.</p>", "html")
    assert parsed.complete


def test_a_comment_is_an_agent_note_in_markdown() -> None:
    parsed = make_adapter().parse_event(comment("#tl It **ships** today"), {})
    assert (parsed.kind, parsed.content_type, parsed.author_id) == (
        "agent_note",
        "markdown",
        "tea_7",
    )
    assert parsed.text == "#tl It **ships** today"


def test_our_own_comment_is_ignored() -> None:
    assert make_adapter().parse_event(OWN_NOTE, {}).kind == "ignored"


@pytest.mark.parametrize(
    "event_type", ["outbound", "out_reply", "mention", "assign", "tag", "archive"]
)
def test_replies_mentions_and_other_events_are_ignored(event_type: str) -> None:
    body = json.dumps(event(event_type, "message", {"id": "msg_2", "body": "<p>Hi</p>"})).encode()
    assert make_adapter().parse_event(body, {}).kind == "ignored"


def test_a_preview_event_asks_for_a_fetch() -> None:
    parsed = make_adapter().parse_event(inbound(body=None), {})
    assert (parsed.kind, parsed.text, parsed.complete) == ("customer_message", None, False)
    assert parsed.message_id == "msg_1"


def test_an_application_envelope_is_unwrapped() -> None:
    inner = json.loads(CUSTOMER)
    inner["type"] = "inbound_received"
    envelope = {"type": "inbound_received", "authorization": {"id": "cmp_abc"}, "payload": inner}
    parsed = make_adapter().parse_event(json.dumps(envelope).encode(), {})
    assert (parsed.kind, parsed.event_id, parsed.conversation_id) == (
        "customer_message",
        "evt_3a1b9c",
        "cnv_55c8c149",
    )


@pytest.mark.parametrize(
    ("extra", "language"),
    [
        ({"custom_fields": {"Language": "es"}}, "es"),
        (
            {"tags": [{"id": "tag_1", "name": "vip"}, {"id": "tag_2", "name": "lang-pt_br"}]},
            "pt-BR",
        ),
        ({"custom_fields": {"Language": "Spanish"}}, None),
        ({}, None),
    ],
)
def test_the_customer_language_comes_from_a_field_or_tag(
    extra: dict[str, Any], language: str | None
) -> None:
    assert make_adapter().parse_event(inbound(**extra), {}).customer_language == language


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[]", "JSON object"),
        (b'{"id": "evt_1"}', "type"),
        (b'{"type": "inbound", "target": {"data": {"id": "msg_1"}}}', "conversation.id"),
    ],
)
def test_malformed_bodies_say_what_is_missing(body: bytes, problem: str) -> None:
    with pytest.raises(InvalidRequestError, match=problem):
        make_adapter().parse_event(body, {})


# -- requests ------------------------------------------------------------------------------


def test_a_note_is_a_markdown_comment(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="POST",
        url=f"{BASE}/conversations/cnv_55c8c149/comments",
        match_headers={"Authorization": "Bearer front-token-123"},
        match_json={"body": "Ships **today**\n\nThanks", "author_id": "tea_9"},
        status_code=201,
        json={"id": "com_9", "body": "Ships **today**", "posted_at": 1701292800.0},
    )
    request = make_adapter(author_id="tea_9").build_post_note(
        "cnv_55c8c149", "<p>Ships <b>today</b></p><p>Thanks</p>"
    )
    with httpx.Client() as client:
        assert client.send(request).status_code == 201


def test_a_reply_is_accepted_for_sending_later(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter(channel_id="cha_1")
    httpx_mock.add_response(
        method="POST",
        url=f"{BASE}/conversations/cnv_55c8c149/messages",
        match_json={"body": "Sale hoy.<br>Gracias &amp; saludos", "channel_id": "cha_1"},
        status_code=202,
        json={"status": "accepted", "message_uid": "1c9a8e7f"},
    )
    httpx_mock.add_response(
        method="GET",
        url=f"{BASE}/messages/alt:uid:1c9a8e7f",
        json={"id": "msg_9", "is_inbound": False, "error_type": None},
    )
    request = adapter.build_post_reply(
        "cnv_55c8c149", "Sale hoy.\nGracias & saludos", content_type="text"
    )
    with httpx.Client() as client:
        accepted = client.send(request)
        uid = adapter.accepted_message_uid(accepted)
        sent = client.send(adapter.build_get_message(f"alt:uid:{uid}"))
    assert (accepted.status_code, uid, sent.json()["id"]) == (202, "1c9a8e7f", "msg_9")


def test_an_accepted_answer_without_uid_is_refused() -> None:
    adapter = make_adapter()
    request = adapter.build_post_reply("cnv_1", "<p>x</p>")
    with pytest.raises(ServiceResponseError, match="message_uid"):
        adapter.accepted_message_uid(
            httpx.Response(202, json={"status": "accepted"}, request=request)
        )


def messages_page(ids: range, following: str | None) -> dict[str, Any]:
    results = [
        {
            "_links": {"self": f"{BASE}/messages/msg_{i}"},
            "id": f"msg_{i}",
            "type": "email",
            "is_inbound": i % 2 == 1,
            "draft_mode": "shared" if i == 4 else None,
            "created_at": 1_700_000_000.5 + i,
            "blurb": f"m{i}",
            "body": f"<p>m{i}</p>",
            "text": f"m{i}",
        }
        for i in ids
    ]
    return {"_pagination": {"next": following}, "_links": {"self": "…"}, "_results": results}


def test_messages_are_read_page_by_page(httpx_mock: HTTPXMock) -> None:
    # Front lists a conversation's messages newest first ("in reverse chronological order"):
    # page 1 holds the newest four, newest first; page 2 the two oldest.
    adapter = make_adapter()
    url = f"{BASE}/conversations/cnv_55c8c149/messages"
    following = f"{url}?limit=100&page_token=abc123"
    httpx_mock.add_response(
        method="GET", url=f"{url}?limit=100", json=messages_page(range(6, 2, -1), following)
    )
    httpx_mock.add_response(method="GET", url=following, json=messages_page(range(2, 0, -1), None))
    with httpx.Client() as client:
        first = client.send(adapter.build_get_messages("cnv_55c8c149"))
        later = adapter.next_page(first)
        assert later is not None
        second = client.send(later)
    messages = adapter.parse_messages(first)
    assert [(m.id, m.author_role, m.public) for m in messages] == [
        ("msg_3", "customer", True),
        ("msg_4", "agent", False),  # a shared draft
        ("msg_5", "customer", True),
        ("msg_6", "agent", True),
    ]
    assert (messages[0].text, messages[0].content_type) == ("<p>m3</p>", "html")
    assert messages[0].created_at == "2023-11-14T22:13:23.500000Z"
    assert [m.id for m in adapter.parse_messages(second)] == ["msg_1", "msg_2"]
    comments = adapter.next_page(second)  # then the comments, where agents write notes
    assert comments is not None
    assert str(comments.url) == f"{BASE}/conversations/cnv_55c8c149/comments"


def comments_page(ids: range) -> dict[str, Any]:
    results = [
        {
            "_links": {"self": f"{BASE}/comments/com_{i}"},
            "id": f"com_{i}",
            "author": {"id": "tea_55c8c149", "email": "leela@planet-express.com"},
            "body": f"#tl c{i}",
            "posted_at": 1_700_000_000.25 + i,
            "attachments": [],
            "is_pinned": False,
        }
        for i in ids
    ]
    return {"_pagination": {"next": None}, "_links": {"self": "…"}, "_results": results}


def test_the_client_reads_a_conversation_oldest_first(httpx_mock: HTTPXMock) -> None:
    """Across pages too: the relay's "latest customer message" is the last one it gets."""
    adapter = make_adapter()
    url = f"{BASE}/conversations/cnv_55c8c149/messages"
    following = f"{url}?limit=100&page_token=abc123"
    httpx_mock.add_response(
        method="GET", url=f"{url}?limit=100", json=messages_page(range(6, 2, -1), following)
    )
    httpx_mock.add_response(method="GET", url=following, json=messages_page(range(2, 0, -1), None))
    httpx_mock.add_response(
        method="GET",
        url=f"{BASE}/conversations/cnv_55c8c149/comments",
        json=comments_page(
            range(8, 2, -5)  # com_8 and com_3, newest first
        ),
    )
    with HelpdeskClient(adapter) as client:
        messages = client.get_messages("cnv_55c8c149")
    assert [m.id for m in messages] == [
        "msg_1",
        "msg_2",
        "com_3",
        "msg_3",
        "msg_4",
        "msg_5",
        "msg_6",
        "com_8",
    ]  # fmt: skip (by time: com_3 was posted a quarter second before msg_3)
    assert [m.id for m in messages if m.author_role == "customer"][-1] == "msg_5"
    note = messages[-1]
    assert (note.text, note.content_type, note.author_role, note.public) == (
        "#tl c8", "markdown", "agent", False
    )  # fmt: skip


def test_a_merged_conversation_points_to_the_new_one() -> None:
    adapter = make_adapter()
    response = httpx.Response(
        301,
        headers={"Location": f"{BASE}/conversations/cnv_new"},
        request=adapter.build_get_messages("cnv_old"),
    )
    assert adapter.merged_into(response) == "cnv_new"
    merged = adapter.error_for(response)
    assert isinstance(merged, NotFoundError)
    assert "cnv_new" in str(merged)
    with pytest.raises(NotFoundError, match="merged"):
        adapter.parse_messages(response)


def test_the_language_is_added_as_a_mapped_tag() -> None:
    assert make_adapter().build_set_language("cnv_1", "es") is None
    adapter = make_adapter(language_tag_ids={"es": "tag_es", "pt-BR": "tag_ptbr"})
    request = adapter.build_set_language("cnv_1", "pt_br")
    assert request is not None
    assert (request.method, str(request.url)) == ("POST", f"{BASE}/conversations/cnv_1/tags")
    assert json.loads(request.content) == {"tag_ids": ["tag_ptbr"]}
    assert adapter.build_set_language("cnv_1", "fr") is None


# -- errors and configuration -------------------------------------------------------------


def error(status: int, **kwargs: Any) -> Exception | None:
    adapter = make_adapter()
    response = httpx.Response(status, request=adapter.build_get_messages("cnv_1"), **kwargs)
    return adapter.error_for(response)


def test_the_rate_limit_wait_comes_from_retry_after_or_the_reset_time() -> None:
    limited = error(429, headers={"retry-after": "20", "x-front-tier": "tier1"})
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 20.0
    reset = str(time.time() + 30)
    drained = error(429, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset})
    assert isinstance(drained, RateLimitError)
    assert drained.retry_after == pytest.approx(30, abs=2)


def test_error_bodies_are_quoted() -> None:
    body = {
        "_error": {
            "status": 400,
            "title": "Bad request",
            "message": "Body did not satisfy requirements",
            "details": ["body: missing required property"],
        }
    }
    refused = error(400, json=body)
    assert isinstance(refused, InvalidRequestError)
    assert "Body did not satisfy requirements" in str(refused)
    assert "body: missing required property" in str(refused)
    assert isinstance(
        error(401, json={"_error": {"status": 401, "title": "Unauthenticated"}}),
        AuthenticationError,
    )


def test_configuration_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="webhook_kind"):
        make_adapter(webhook_kind="both")
    with pytest.raises(ConfigurationError, match="'Spanish!' is not a language tag"):
        make_adapter(language_tag_ids={"Spanish!": "tag_1"})
    with pytest.raises(ConfigurationError, match="FRONT_WEBHOOK_SECRET"):
        FrontAdapter.from_env({"FRONT_API_TOKEN": "t"})
    with pytest.raises(ConfigurationError, match="FRONT_WEBHOOK_KIND"):
        FrontAdapter.from_env(
            {"FRONT_API_TOKEN": "t", "FRONT_WEBHOOK_SECRET": "s", "FRONT_WEBHOOK_KIND": "rules"}
        )
    adapter = FrontAdapter.from_env(
        {
            "FRONT_API_TOKEN": "front-token-123",
            "FRONT_WEBHOOK_SECRET": SECRET,
            "FRONT_WEBHOOK_KIND": "APP",
        }
    )
    headers = {"X-Front-Signature": APP_SIGNATURE, "X-Front-Request-Timestamp": "1700000000"}
    adapter.verify_webhook(VECTOR_BODY, headers, now=1_700_000_000)
    assert "front-token-123" not in repr(adapter)


# -- channel ---------------------------------------------------------------------------------


def inbound_of_type(message_type: str | None) -> bytes:
    payload = json.loads(inbound())
    if message_type is None:
        del payload["target"]["data"]["type"]
    else:
        payload["target"]["data"]["type"] = message_type
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("message_type", "channel"),
    [
        ("email", "email"),
        ("intercom", "chat"),
        ("front_chat", "chat"),
        ("whatsapp", "chat"),
        ("custom", None),
        (None, None),
    ],
)
def test_the_inbound_message_type_is_the_channel(
    message_type: str | None, channel: str | None
) -> None:
    body = inbound_of_type(message_type)
    parsed = make_adapter().parse_event(body, sign_rule(body))
    assert (parsed.kind, parsed.channel) == ("customer_message", channel)


def test_a_comment_says_no_channel() -> None:
    body = comment("#tl Your order ships today.")
    parsed = make_adapter().parse_event(body, sign_rule(body))
    assert (parsed.kind, parsed.channel) == ("agent_note", None)
