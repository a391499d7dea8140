"""Help Scout: OAuth2 token, webhook signatures (reference §8 vector), events, threads API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
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
    RateLimitError,
    WebhookAuthError,
)
from tl_loop.helpdesk import HelpdeskClient
from tl_loop.testing import AdapterContract
from tl_loop_helpscout import HelpScoutAdapter

SECRET = "test-secret"
BASE = "https://api.helpscout.net"
VECTOR_BODY = b'{"id":1,"text":"Hola"}'
VECTOR_SIGNATURE = "Gzf8OfeCSTNYgjUpuzP5I1FiCog="


def make_adapter(**options: Any) -> HelpScoutAdapter:
    settings: dict[str, Any] = {
        "app_id": "hs-app-id",
        "app_secret": "hs-app-secret-123",
        "webhook_secret": SECRET,
        "access_token": "hs-access-token",
    }
    settings.update(options)
    return HelpScoutAdapter(**settings)


def sign(body: bytes, event: str) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha1).digest()
    return {"X-HelpScout-Signature": base64.b64encode(digest).decode(), "X-HelpScout-Event": event}


def thread(thread_id: int, kind: str, body: str, created: str, **extra: Any) -> dict[str, Any]:
    creator = {"id": 77, "type": "customer"} if kind == "customer" else {"id": 5, "type": "user"}
    value: dict[str, Any] = {
        "id": thread_id,
        "type": kind,
        "status": "active",
        "state": "published",
        "action": {"type": "default", "text": ""},
        "body": body,
        "source": {"type": "email", "via": "customer" if kind == "customer" else "user"},
        "createdBy": creator,
        "assignedTo": None,
        "customer": {"id": 77, "email": "ana@example.com"},
        "to": [],
        "cc": [],
        "bcc": [],
        "createdAt": created,
    }
    value.update(extra)
    return value


def conversation(threads: list[dict[str, Any]], **extra: Any) -> bytes:
    payload: dict[str, Any] = {
        "id": 123,
        "number": 4567,
        "threads": len(threads),
        "type": "email",
        "folderId": 1,
        "status": "active",
        "state": "published",
        "subject": "Pedido",
        "preview": "Hola…",
        "mailboxId": 9,
        "createdBy": {"id": 77, "type": "customer", "email": "ana@example.com"},
        "createdAt": "2024-05-01T10:00:00Z",
        "userUpdatedAt": "2024-05-01T10:05:00Z",
        "customerWaitingSince": {"time": "2024-05-01T10:05:00Z", "friendly": "now"},
        "source": {"type": "email", "via": "customer"},
        "tags": [],
        "cc": [],
        "bcc": [],
        "primaryCustomer": {"id": 77},
        "customFields": [],
        "_links": {"self": {"href": f"{BASE}/v2/conversations/123"}},
        "_embedded": {"threads": threads},
    }
    payload.update(extra)
    return json.dumps(payload).encode()


FIRST = thread(1001, "customer", "<p>Hola</p>", "2024-05-01T10:00:00Z")
REPLY = thread(1002, "reply", "<p>Hi Ana</p>", "2024-05-01T10:02:00Z")
LATEST = thread(1003, "customer", "<p>Mi pedido no ha llegado.</p>", "2024-05-01T10:05:00Z")
# Help Scout lists threads newest first.
CUSTOMER = conversation([LATEST, REPLY, FIRST])
OWN_NOTE = conversation(
    [
        thread(
            1004,
            "note",
            f"<p>My order has not arrived.</p><p>{OWN_NOTE_MARKER}</p>",
            "2024-05-01T10:06:00Z",
        ),
        LATEST,
    ]
)


class TestContract(AdapterContract):
    @pytest.fixture
    def contract_adapter(self) -> HelpScoutAdapter:
        return make_adapter()

    @pytest.fixture
    def signed_webhook(self) -> Callable[[bytes], dict[str, str]]:
        # Help Scout names the event in a header, not the body: pick it by the body.
        def signed(body: bytes) -> dict[str, str]:
            event = "convo.note.created" if body == OWN_NOTE else "convo.customer.reply.created"
            return sign(body, event)

        return signed

    @pytest.fixture
    def customer_message_body(self) -> bytes:
        return CUSTOMER

    @pytest.fixture
    def own_note_body(self) -> bytes:
        return OWN_NOTE

    @pytest.fixture
    def contract_rate_limit(self) -> tuple[dict[str, str], float]:
        return {"X-RateLimit-Retry-After": "12", "X-RateLimit-Remaining-Minute": "0"}, 12.0


# -- OAuth2 --------------------------------------------------------------------------------


def test_the_token_is_fetched_with_client_credentials(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter(access_token=None)
    request = adapter.build_get_messages("123")
    assert "authorization" not in request.headers  # the client puts the token on
    httpx_mock.add_response(
        method="POST",
        url=f"{BASE}/v2/oauth2/token",
        match_content=b"grant_type=client_credentials&client_id=hs-app-id&client_secret=hs-app-secret-123",
        json={"token_type": "bearer", "access_token": "fresh-token", "expires_in": 172800},
    )
    httpx_mock.add_response(
        method="GET",
        url=f"{BASE}/v2/conversations/123/threads",
        match_headers={"Authorization": "Bearer fresh-token"},
        json={"page": {"size": 50, "totalElements": 0, "totalPages": 1, "number": 1}},
        is_reusable=True,
    )
    with HelpdeskClient(adapter) as client:
        assert client.get_messages("123") == []
        assert client.get_messages("123") == []
    assert len(httpx_mock.get_requests(url=f"{BASE}/v2/oauth2/token")) == 1
    assert adapter.token_provider is not None
    assert not adapter.token_provider.needs_token()


def test_a_refused_app_secret_is_an_authentication_error(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter(access_token=None)
    httpx_mock.add_response(
        method="POST",
        url=f"{BASE}/v2/oauth2/token",
        status_code=401,
        json={"error": "invalid_client", "error_description": "Bad client credentials"},
    )
    with HelpdeskClient(adapter) as client, pytest.raises(AuthenticationError) as refused:
        client.post_note("123", "<p>x</p>")
    assert "invalid_client" in str(refused.value)
    assert "HELPSCOUT_APP_SECRET" in str(refused.value)
    assert "hs-app-secret-123" not in str(refused.value)


# -- signatures ----------------------------------------------------------------------------


def test_the_reference_vector_verifies() -> None:
    make_adapter().verify_webhook(VECTOR_BODY, {"X-HelpScout-Signature": VECTOR_SIGNATURE})


def test_a_forged_vector_is_refused() -> None:
    forged = "H" + VECTOR_SIGNATURE[1:]
    with pytest.raises(WebhookAuthError, match="does not match"):
        make_adapter().verify_webhook(VECTOR_BODY, {"x-helpscout-signature": forged})


def test_no_timestamp_is_signed_so_age_is_not_checked() -> None:
    # Help Scout signs the body only: replays are caught by the event id, not by a clock.
    headers = {"X-HelpScout-Signature": VECTOR_SIGNATURE}
    make_adapter().verify_webhook(VECTOR_BODY, headers, now=4_000_000_000)


# -- events --------------------------------------------------------------------------------


def test_a_customer_reply_is_the_newest_customer_thread() -> None:
    event = make_adapter().parse_event(CUSTOMER, sign(CUSTOMER, "convo.customer.reply.created"))
    assert event.kind == "customer_message"
    assert (event.conversation_id, event.message_id) == ("123", "1003")
    assert event.text == "<p>Mi pedido no ha llegado.</p>"
    assert (event.content_type, event.complete, event.author_id) == ("html", True, "77")
    assert event.event_id == "convo.customer.reply.created:123:1003"


def test_an_agent_note_is_the_newest_note() -> None:
    note = thread(1005, "note", "<p>#tl Ships today</p>", "2024-05-01T10:07:00Z")
    body = conversation([note, LATEST])
    event = make_adapter().parse_event(body, sign(body, "convo.note.created"))
    assert (event.kind, event.message_id, event.text) == (
        "agent_note",
        "1005",
        "<p>#tl Ships today</p>",
    )
    assert event.author_id == "5"


def test_our_own_note_is_ignored() -> None:
    assert (
        make_adapter().parse_event(OWN_NOTE, sign(OWN_NOTE, "convo.note.created")).kind == "ignored"
    )


@pytest.mark.parametrize(
    "name", ["convo.agent.reply.created", "convo.assigned", "convo.status", "helpscout.test"]
)
def test_agent_replies_and_other_events_are_ignored(name: str) -> None:
    assert make_adapter().parse_event(CUSTOMER, sign(CUSTOMER, name)).kind == "ignored"


def test_a_conversation_started_by_a_customer_is_a_new_ticket() -> None:
    body = conversation([FIRST])
    event = make_adapter().parse_event(body, sign(body, "convo.created"))
    assert (event.kind, event.message_id, event.text) == ("ticket_created", "1001", "<p>Hola</p>")


def test_a_conversation_started_by_an_agent_is_ignored() -> None:
    body = conversation(
        [thread(1001, "message", "<p>Hello</p>", "2024-05-01T10:00:00Z")],
        createdBy={"id": 5, "type": "user", "email": "agent@acme.test"},
    )
    assert make_adapter().parse_event(body, sign(body, "convo.created")).kind == "ignored"


def test_a_payload_without_threads_asks_for_a_fetch() -> None:
    payload = json.loads(CUSTOMER)
    del payload["_embedded"]
    body = json.dumps(payload).encode()
    event = make_adapter().parse_event(body, sign(body, "convo.customer.reply.created"))
    assert (event.kind, event.text, event.complete) == ("customer_message", None, False)
    assert event.event_id == "convo.customer.reply.created:123:2024-05-01T10:05:00Z"


def test_the_language_comes_from_a_custom_field() -> None:
    fields = [{"id": 8, "name": "Language", "value": "es-mx", "text": "es-mx"}]
    body = conversation([LATEST], customFields=fields)
    headers = sign(body, "convo.customer.reply.created")
    assert make_adapter().parse_event(body, headers).customer_language == "es-MX"
    by_id = [{"id": 31, "name": "Idioma", "value": "fr"}]
    body = conversation([LATEST], customFields=by_id)
    adapter = make_adapter(language_field_id=31)
    assert adapter.parse_event(body, headers).customer_language == "fr"
    assert make_adapter().parse_event(body, headers).customer_language is None


@pytest.mark.parametrize(
    ("body", "headers", "problem"),
    [
        (CUSTOMER, {}, "X-HelpScout-Event"),
        (b"not json", {"X-HelpScout-Event": "convo.created"}, "not JSON"),
        (b"[]", {"X-HelpScout-Event": "convo.created"}, "JSON object"),
        (b'{"number": 5}', {"X-HelpScout-Event": "convo.note.created"}, "conversation id"),
    ],
)
def test_malformed_webhooks_say_what_is_missing(
    body: bytes, headers: dict[str, str], problem: str
) -> None:
    with pytest.raises(InvalidRequestError, match=problem):
        make_adapter().parse_event(body, headers)


# -- requests ------------------------------------------------------------------------------


def threads_page(threads: list[dict[str, Any]], number: int, total: int) -> dict[str, Any]:
    links: dict[str, Any] = {
        "self": {"href": f"{BASE}/v2/conversations/123/threads?page={number}"},
        "first": {"href": f"{BASE}/v2/conversations/123/threads?page=1"},
        "last": {"href": f"{BASE}/v2/conversations/123/threads?page={total}"},
        "page": {"href": f"{BASE}/v2/conversations/123/threads{{?page}}", "templated": True},
    }
    if number < total:
        links["next"] = {"href": f"{BASE}/v2/conversations/123/threads?page={number + 1}"}
    page = {"size": 2, "totalElements": 3, "totalPages": total, "number": number}
    body: dict[str, Any] = {"page": page, "_links": links}
    if threads:  # HAL leaves `_embedded` out when there is nothing to embed
        body["_embedded"] = {"threads": threads}
    return body


def test_threads_are_read_page_by_page(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter()
    note = thread(1004, "note", "<p>internal</p>", "2024-05-01T10:06:00Z")
    line = thread(1006, "lineitem", "", "2024-05-01T10:06:30Z", createdBy={"id": 5, "type": "user"})
    url = f"{BASE}/v2/conversations/123/threads"
    httpx_mock.add_response(method="GET", url=url, json=threads_page([line, note, LATEST], 1, 2))
    httpx_mock.add_response(
        method="GET",
        url=f"{url}?page=2",
        match_headers={"Authorization": "Bearer hs-access-token"},
        json=threads_page([REPLY, FIRST], 2, 2),
    )
    with HelpdeskClient(adapter) as client:
        first = client.read(adapter.build_get_messages("123"))
        following = adapter.next_page(first)
        assert following is not None
        second = client.read(following)
    messages = adapter.parse_messages(first)
    assert [m.id for m in messages] == ["1003", "1004", "1006"]  # oldest first
    assert [(m.author_role, m.public) for m in messages] == [
        ("customer", True),
        ("agent", False),
        ("system", False),
    ]
    assert [m.id for m in adapter.parse_messages(second)] == ["1001", "1002"]
    assert adapter.next_page(second) is None


def test_an_empty_thread_page_has_no_messages() -> None:
    adapter = make_adapter()
    response = httpx.Response(
        200, json=threads_page([], 1, 1), request=adapter.build_get_messages("1")
    )
    assert adapter.parse_messages(response) == []


def test_a_note_posts_html_text(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="POST",
        url=f"{BASE}/v2/conversations/123/notes",
        match_headers={"Authorization": "Bearer hs-access-token"},
        match_json={"text": "Ships &lt;today&gt;<br>Thanks", "user": 5},
        status_code=201,
        headers={"Resource-ID": "1010"},
    )
    adapter = make_adapter(user_id="5")
    request = adapter.build_post_note("123", "Ships <today>\nThanks", content_type="text")
    with HelpdeskClient(adapter) as client:
        assert client.write(request).status_code == 201


def test_a_reply_names_the_customer_seen_in_the_webhook(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter()
    with pytest.raises(ConfigurationError, match="customer_id"):
        adapter.build_post_reply("123", "<p>Sale hoy</p>")
    adapter.parse_event(CUSTOMER, sign(CUSTOMER, "convo.customer.reply.created"))
    httpx_mock.add_response(
        method="POST",
        url=f"{BASE}/v2/conversations/123/reply",
        match_json={"customer": {"id": 77}, "text": "<p>Sale hoy</p>"},
        status_code=201,
    )
    with httpx.Client() as client:
        assert client.send(adapter.build_post_reply("123", "<p>Sale hoy</p>")).status_code == 201


def test_a_reply_may_name_its_customer_and_be_a_draft() -> None:
    request = make_adapter().build_post_reply("9", "<p>Hola</p>", customer_id=42, draft=True)
    assert json.loads(request.content) == {
        "customer": {"id": 42},
        "text": "<p>Hola</p>",
        "draft": True,
    }


def test_the_language_field_is_written_when_configured() -> None:
    assert make_adapter().build_set_language("123", "es") is None
    request = make_adapter(language_field_id=31).build_set_language("123", "es")
    assert request is not None
    assert (request.method, str(request.url)) == ("PUT", f"{BASE}/v2/conversations/123/fields")
    assert json.loads(request.content) == {"fields": [{"id": 31, "value": "es"}]}


# -- errors and configuration -------------------------------------------------------------


def error(status: int, **kwargs: Any) -> Exception | None:
    adapter = make_adapter()
    response = httpx.Response(status, request=adapter.build_get_messages("123"), **kwargs)
    return adapter.error_for(response)


def test_the_rate_limit_wait_comes_from_its_own_header() -> None:
    limited = error(429, headers={"X-RateLimit-Retry-After": "12", "Retry-After": "60"})
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 12.0
    fallback = error(429, headers={"Retry-After": "60"})
    assert isinstance(fallback, RateLimitError)
    assert fallback.retry_after == 60.0


def test_validation_errors_name_the_fields() -> None:
    body = {
        "logRef": "ad2e5a2a-1#32",
        "message": "Bad request",
        "_embedded": {
            "errors": [{"path": "text", "message": "may not be empty", "source": "JSON"}]
        },
    }
    refused = error(400, json=body, headers={"Content-Type": "application/vnd.error+json"})
    assert isinstance(refused, InvalidRequestError)
    assert "text: may not be empty" in str(refused)
    assert "ad2e5a2a-1#32" in str(refused)
    assert isinstance(error(401, json={"message": "Unauthorized"}), AuthenticationError)


def test_from_env_names_missing_variables() -> None:
    with pytest.raises(ConfigurationError, match="HELPSCOUT_WEBHOOK_SECRET"):
        HelpScoutAdapter.from_env({"HELPSCOUT_APP_ID": "a", "HELPSCOUT_APP_SECRET": "b"})
    with pytest.raises(ConfigurationError, match="HELPSCOUT_LANGUAGE_FIELD_ID"):
        HelpScoutAdapter.from_env(
            {
                "HELPSCOUT_APP_ID": "a",
                "HELPSCOUT_APP_SECRET": "b",
                "HELPSCOUT_WEBHOOK_SECRET": "c",
                "HELPSCOUT_LANGUAGE_FIELD_ID": "Language",
            }
        )
    adapter = HelpScoutAdapter.from_env(
        {
            "HELPSCOUT_APP_ID": "hs-app-id",
            "HELPSCOUT_APP_SECRET": "hs-app-secret-123",
            "HELPSCOUT_WEBHOOK_SECRET": SECRET,
            "HELPSCOUT_LANGUAGE_FIELD_ID": "31",
        }
    )
    assert adapter.token_provider is not None
    assert adapter.token_provider.needs_token()
    assert "hs-app-secret-123" not in repr(adapter)
    assert "hs-app-secret-123" not in repr(adapter.token_provider)
    request = adapter.build_set_language("1", "es")  # the client adds the token when sending
    assert request is not None
    assert request.url.path == "/v2/conversations/1/fields"


# -- channel ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conversation_type", "channel"), [("email", "email"), ("chat", "chat"), ("phone", None)]
)
def test_the_conversation_type_is_the_channel(conversation_type: str, channel: str | None) -> None:
    body = conversation([LATEST, REPLY, FIRST], type=conversation_type)
    event = make_adapter().parse_event(body, sign(body, "convo.customer.reply.created"))
    assert (event.kind, event.channel) == ("customer_message", channel)


def test_an_agent_note_carries_the_conversation_channel() -> None:
    note = thread(1005, "note", "<p>#tl Your order ships today.</p>", "2024-05-01T10:06:00Z")
    body = conversation([note, LATEST, REPLY, FIRST], type="chat")
    event = make_adapter().parse_event(body, sign(body, "convo.note.created"))
    assert (event.kind, event.channel) == ("agent_note", "chat")
