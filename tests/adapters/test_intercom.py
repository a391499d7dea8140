"""Intercom: X-Hub-Signature (reference §8 vector), notification topics, notes vs replies."""

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
    Article,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    RateLimitError,
    WebhookAuthError,
)
from tl_loop.testing import AdapterContract
from tl_loop_intercom import IntercomAdapter

SECRET = "test-secret"
BASE = "https://api.intercom.io"
VECTOR_BODY = b'{"id":1,"text":"Hola"}'
VECTOR_SIGNATURE = "sha1=1b37fc39f782493358823529bb33f92351620a88"


def make_adapter(**options: object) -> IntercomAdapter:
    settings: dict[str, object] = {
        "access_token": "ic-token-123",
        "client_secret": SECRET,
        "admin_id": "3156780",
    }
    settings.update(options)
    return IntercomAdapter(**settings)  # type: ignore[arg-type]


def sign(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    return {"X-Hub-Signature": f"sha1={digest}", "Content-Type": "application/json"}


def part(
    part_id: str, part_type: str, body: str | None, author_type: str, author_id: str
) -> dict[str, Any]:
    return {
        "type": "conversation_part",
        "id": part_id,
        "part_type": part_type,
        "body": body,
        "created_at": 1700000100,
        "updated_at": 1700000100,
        "notified_at": 1700000100,
        "assigned_to": None,
        "author": {"type": author_type, "id": author_id, "name": "Ana", "email": "ana@example.com"},
        "attachments": [],
        "external_id": None,
        "redacted": False,
    }


def conversation(*parts: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "conversation",
        "id": "215467",
        "created_at": 1700000000,
        "updated_at": 1700000100,
        "open": True,
        "state": "open",
        "source": {
            "type": "conversation",
            "id": "403918330",
            "delivered_as": "customer_initiated",
            "subject": "",
            "body": "<p>Hola, mi pedido no ha llegado.</p>",
            "author": {"type": "user", "id": "5f3a", "name": "Ana", "email": "ana@example.com"},
            "attachments": [],
            "redacted": False,
        },
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "5f3a"}]},
        "conversation_parts": {
            "type": "conversation_part.list",
            "conversation_parts": list(parts),
            "total_count": len(parts),
        },
    }


def notification(
    topic: str, item: dict[str, Any], notification_id: str = "notif_ccd8a4d2"
) -> bytes:
    envelope = {
        "type": "notification_event",
        "id": notification_id,
        "topic": topic,
        "app_id": "abc123",
        "data": {"type": "notification_event_data", "item": item},
        "delivery_status": None,
        "delivery_attempts": 1,
        "delivered_at": 0,
        "first_sent_at": 1700000100,
        "created_at": 1700000100,
        "links": {},
        "self": None,
    }
    return json.dumps(envelope).encode()


CUSTOMER = notification(
    "conversation.user.replied",
    conversation(part("901", "comment", "<p>¿Alguna novedad?</p>", "user", "5f3a")),
)
OWN_NOTE = notification(
    "conversation.admin.noted",
    conversation(
        part("902", "note", f"<p>Any news?</p><p>{OWN_NOTE_MARKER}</p>", "admin", "3156780")
    ),
)


class TestIntercomContract(AdapterContract):
    @pytest.fixture
    def contract_adapter(self) -> IntercomAdapter:
        return make_adapter()

    @pytest.fixture
    def signed_webhook(self) -> Callable[[bytes], dict[str, str]]:
        return sign

    @pytest.fixture
    def customer_message_body(self) -> bytes:
        return CUSTOMER

    @pytest.fixture
    def own_note_body(self) -> bytes:
        return OWN_NOTE

    @pytest.fixture
    def contract_signature_header(self) -> str:
        return "X-Hub-Signature"

    @pytest.fixture
    def contract_rate_limit(self) -> tuple[dict[str, str], float]:
        return {
            "X-RateLimit-Limit": "10000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time()) + 9),
        }, 9.0


# -- signatures ----------------------------------------------------------------------------


def test_the_reference_vector_verifies_and_a_forgery_does_not() -> None:
    adapter = make_adapter()
    adapter.verify_webhook(VECTOR_BODY, {"x-hub-signature": VECTOR_SIGNATURE})
    with pytest.raises(WebhookAuthError, match="does not match"):
        adapter.verify_webhook(VECTOR_BODY, {"X-Hub-Signature": VECTOR_SIGNATURE[:-1] + "b"})
    with pytest.raises(WebhookAuthError, match="does not match"):
        adapter.verify_webhook(
            VECTOR_BODY, {"X-Hub-Signature": VECTOR_SIGNATURE.removeprefix("sha1=")}
        )


def test_there_is_no_timestamp_so_an_old_delivery_still_verifies() -> None:
    # Intercom signs no timestamp: replays are caught by the event-id dedupe instead.
    make_adapter().verify_webhook(VECTOR_BODY, {"X-Hub-Signature": VECTOR_SIGNATURE}, now=0)


# -- events --------------------------------------------------------------------------------


def test_a_user_reply_is_a_complete_customer_message() -> None:
    event = make_adapter().parse_event(CUSTOMER, {})
    assert (event.kind, event.event_id, event.conversation_id) == (
        "customer_message",
        "notif_ccd8a4d2",
        "215467",
    )
    assert (event.message_id, event.text, event.author_id) == (
        "901",
        "<p>¿Alguna novedad?</p>",
        "5f3a",
    )
    assert event.content_type == "html"
    assert event.complete


def test_a_new_conversation_carries_its_first_message() -> None:
    event = make_adapter().parse_event(
        notification("conversation.user.created", conversation()), {}
    )
    assert (event.kind, event.text, event.message_id) == (
        "ticket_created",
        "<p>Hola, mi pedido no ha llegado.</p>",
        "403918330",
    )


def version_1_shape(item: dict[str, Any]) -> dict[str, Any]:
    # Workspaces on the 1.x payload shape carry `conversation_message` and no `source`.
    first = dict(item.pop("source"))
    first["type"] = "conversation_message"
    return {**item, "conversation_message": first}


def test_the_1x_shape_gives_the_first_message_from_conversation_message() -> None:
    item = version_1_shape(conversation())
    event = make_adapter().parse_event(notification("conversation.user.created", item), {})
    assert (event.kind, event.text, event.message_id) == (
        "ticket_created",
        "<p>Hola, mi pedido no ha llegado.</p>",
        "403918330",
    )
    adapter = make_adapter()
    response = httpx.Response(200, json=item, request=adapter.build_get_messages("215467"))
    [first] = adapter.parse_messages(response)
    assert (first.id, first.author_role, first.public) == ("403918330", "customer", True)


def test_an_admin_note_is_an_agent_note_unless_it_is_ours() -> None:
    adapter = make_adapter()
    body = notification(
        "conversation.admin.noted",
        conversation(part("903", "note", "<p>#tl Ya salió.</p>", "admin", "777")),
    )
    note = adapter.parse_event(body, {})
    assert (note.kind, note.text, note.author_id) == ("agent_note", "<p>#tl Ya salió.</p>", "777")
    assert adapter.parse_event(OWN_NOTE, {}).kind == "ignored"


def test_admin_replies_assignments_and_contacts_are_ignored() -> None:
    adapter = make_adapter()
    reply = notification(
        "conversation.admin.replied",
        conversation(part("904", "comment", "<p>Hi</p>", "admin", "777")),
    )
    assigned = notification(
        "conversation.admin.assigned", conversation(part("905", "assignment", None, "admin", "777"))
    )
    contact = notification("contact.user.created", {"type": "contact", "id": "5f3a"})
    assert [adapter.parse_event(body, {}).kind for body in (reply, assigned, contact)] == [
        "ignored",
        "ignored",
        "ignored",
    ]


def test_a_body_that_is_not_a_notification_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="notification_event"):
        make_adapter().parse_event(b'{"type": "conversation", "id": "1"}', {})


# -- requests ------------------------------------------------------------------------------


def test_a_note_and_a_reply_differ_only_in_message_type() -> None:
    adapter = make_adapter()
    note = adapter.build_post_note("215467", "<p>Hello</p>")
    reply = adapter.build_post_reply("215467", "Hola & adiós", content_type="text")
    for request in (note, reply):
        assert (request.method, str(request.url)) == ("POST", f"{BASE}/conversations/215467/reply")
        assert request.headers["Authorization"] == "Bearer ic-token-123"
        assert request.headers["Intercom-Version"] == "2.11"
    assert json.loads(note.content) == {
        "message_type": "note",
        "type": "admin",
        "admin_id": "3156780",
        "body": "<p>Hello</p>",
    }
    assert json.loads(reply.content) == {
        "message_type": "comment",
        "type": "admin",
        "admin_id": "3156780",
        "body": "<p>Hola &amp; adiós</p>",
    }


def test_a_conversation_is_read_in_one_response(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter()
    httpx_mock.add_response(
        url=f"{BASE}/conversations/215467",
        json=conversation(
            part("901", "comment", "<p>¿Alguna novedad?</p>", "user", "5f3a"),
            part("902", "note", "<p>Checking</p>", "admin", "777"),
            part("905", "assignment", None, "admin", "777"),
            part("906", "comment", "<p>Soy Fin</p>", "bot", "1"),
        ),
    )
    with httpx.Client() as client:
        response = client.send(adapter.build_get_messages("215467"))
    messages = adapter.parse_messages(response)
    assert [(m.id, m.author_role, m.public) for m in messages] == [
        ("403918330", "customer", True),
        ("901", "customer", True),
        ("902", "agent", False),
        ("906", "system", True),
    ]
    assert adapter.next_page(response) is None


def test_the_language_goes_to_a_conversation_attribute_when_configured() -> None:
    assert make_adapter().build_set_language("215467", "es") is None
    request = make_adapter(language_attribute="Language").build_set_language("215467", "es")
    assert request is not None
    assert (request.method, str(request.url)) == ("PUT", f"{BASE}/conversations/215467")
    assert json.loads(request.content) == {"custom_attributes": {"Language": "es"}}


# -- articles ------------------------------------------------------------------------------


def article(article_id: str, translations: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "article",
        "id": article_id,
        "workspace_id": "abc123",
        "title": "Returns",
        "description": "",
        "body": "<p>Send it back.</p>",
        "author_id": 3156780,
        "state": "published",
        "created_at": 1700000000,
        "updated_at": 1700000500,
        "default_locale": "en",
        "translated_content": {"type": "article_translated_content", **translations},
    }


def test_articles_are_listed_in_a_locale_page_by_page(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter(per_page=1)
    spanish = {
        "type": "article_content",
        "title": "Devoluciones",
        "body": "<p>Devuélvalo.</p>",
        "author_id": 3156780,
        "state": "published",
        "updated_at": 1700000600,
    }
    httpx_mock.add_response(
        url=f"{BASE}/articles?page=1&per_page=1",
        json={
            "type": "list",
            "pages": {"type": "pages", "page": 1, "per_page": 1, "total_pages": 2},
            "total_count": 2,
            "data": [article("10", {"es": spanish})],
        },
    )
    httpx_mock.add_response(
        url=f"{BASE}/articles?page=2&per_page=1",
        json={
            "type": "list",
            "pages": {"type": "pages", "page": 2, "per_page": 1, "total_pages": 2},
            "total_count": 2,
            "data": [article("11", {})],
        },
    )
    found: list[Article] = []
    request: httpx.Request | None = adapter.build_list_articles("es")
    with httpx.Client() as client:
        while request is not None:
            response = client.send(request)
            found += adapter.parse_articles(response)
            request = adapter.next_page(response)
    assert found == [
        Article(
            id="10",
            title="Devoluciones",
            body="<p>Devuélvalo.</p>",
            locale="es",
            updated_at="1700000600",
            source_id="10",
        )
    ]


def test_a_translation_is_published_as_a_draft_translated_content() -> None:
    adapter = make_adapter()
    source = Article(id="10", title="Returns", body="<p>Send it back.</p>", locale="en")
    request = adapter.build_publish_translation(
        source, locale="es", title="Devoluciones", body="<p>D</p>"
    )
    assert (request.method, str(request.url)) == ("PUT", f"{BASE}/articles/10")
    assert json.loads(request.content) == {
        "translated_content": {
            "es": {
                "type": "article_content",
                "title": "Devoluciones",
                "body": "<p>D</p>",
                "author_id": 3156780,
                "state": "draft",
            }
        }
    }


# -- errors and configuration --------------------------------------------------------------


def test_error_lists_are_quoted_and_the_reset_header_sets_the_wait() -> None:
    adapter = make_adapter()
    request = adapter.build_get_messages("1")
    refused = adapter.error_for(
        httpx.Response(
            401,
            json={
                "type": "error.list",
                "request_id": "r1",
                "errors": [{"code": "unauthorized", "message": "Access Token Invalid"}],
            },
            request=request,
        )
    )
    assert isinstance(refused, AuthenticationError)
    assert "Access Token Invalid" in str(refused)
    assert "ic-token-123" not in str(refused)
    limited = adapter.error_for(
        httpx.Response(
            429,
            headers={"X-RateLimit-Reset": "1700000060", "Date": "Tue, 14 Nov 2023 22:13:20 GMT"},
            request=request,
        )
    )
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 60  # reset 1700000060 minus the server's Date 1700000000


def test_configuration_comes_from_the_environment() -> None:
    adapter = IntercomAdapter.from_env(
        {
            "INTERCOM_ACCESS_TOKEN": "ic-token-123",
            "INTERCOM_CLIENT_SECRET": SECRET,
            "INTERCOM_ADMIN_ID": "3156780",
            "INTERCOM_BASE_URL": "https://api.eu.intercom.io",
        }
    )
    assert adapter.base_url == "https://api.eu.intercom.io"
    assert "ic-token-123" not in repr(adapter)
    with pytest.raises(ConfigurationError, match="INTERCOM_ADMIN_ID"):
        IntercomAdapter.from_env({"INTERCOM_ACCESS_TOKEN": "t", "INTERCOM_CLIENT_SECRET": "s"})


# -- channel ---------------------------------------------------------------------------------


def with_source_type(item: dict[str, Any], source_type: str | None) -> dict[str, Any]:
    if source_type is None:
        del item["source"]
    else:
        item["source"]["type"] = source_type
    return item


@pytest.mark.parametrize(
    ("source_type", "channel"),
    [
        ("conversation", "chat"),
        ("email", "email"),
        ("whatsapp", "chat"),
        ("push", None),
        (None, None),
    ],
)
def test_the_conversation_source_type_is_the_channel(
    source_type: str | None, channel: str | None
) -> None:
    item = conversation(part("901", "comment", "<p>¿Alguna novedad?</p>", "user", "5f3a"))
    body = notification("conversation.user.replied", with_source_type(item, source_type))
    parsed = make_adapter().parse_event(body, sign(body))
    assert (parsed.kind, parsed.channel) == ("customer_message", channel)


def test_an_agent_note_and_a_new_conversation_carry_the_conversation_channel() -> None:
    note = part("903", "note", "<p>#tl Your order ships today.</p>", "admin", "77")
    noted = notification("conversation.admin.noted", with_source_type(conversation(note), "email"))
    created = notification("conversation.user.created", with_source_type(conversation(), "email"))
    adapter = make_adapter()
    parsed = adapter.parse_event(noted, sign(noted))
    assert (parsed.kind, parsed.channel) == ("agent_note", "email")
    parsed = adapter.parse_event(created, sign(created))
    assert (parsed.kind, parsed.channel) == ("ticket_created", "email")
