"""Zendesk: webhook signatures (reference §8 vectors), events, comments, Guide translations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping

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
from tl_loop_zendesk import ZendeskAdapter
from tl_loop_zendesk import _events as zendesk_events

SECRET = "test-secret"
BASE = "https://acme.zendesk.com"
VECTOR_BODY = b'{"id":1,"text":"Hola"}'
VECTOR_SIGNATURE = "wl15I7tPZm0JFvwREnTd7DC7cWFhE2qOU8Df5dsi7K4="


def make_adapter(**options: object) -> ZendeskAdapter:
    settings: dict[str, object] = {
        "subdomain": "acme",
        "email": "bot@acme.test",
        "api_token": "zd-token-123",
        "webhook_secret": SECRET,
    }
    settings.update(options)
    return ZendeskAdapter(**settings)  # type: ignore[arg-type]


def sign(body: bytes, timestamp: str) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return {
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
        "X-Zendesk-Webhook-Invocation-Id": "8350205582",
    }


def event_webhook(event_type: str, event: Mapping[str, object], **detail: object) -> bytes:
    payload = {
        "type": event_type,
        "account_id": 123456,
        "id": "2c4d1b7a-8a8e-4d8e-9d5b-6b1f0e7e9a01",
        "time": "2024-09-06T18:52:11Z",
        "zendesk_event_version": "2022-06-20",
        "subject": "zen:ticket:555",
        "detail": {
            "id": "555",
            "requester_id": "26155588908179",
            "subject": "Pedido",
            "status": "OPEN",
            **detail,
        },
        "event": event,
    }
    return json.dumps(payload).encode()


def comment_added(body: str, *, author_id: str, public: bool) -> bytes:
    event = {"comment": {"id": 777, "body": body, "is_public": public, "author": {"id": author_id}}}
    return event_webhook("zen:event-type:ticket.comment_added", event)


CUSTOMER = comment_added("Hola, mi pedido no ha llegado.", author_id="26155588908179", public=True)
OWN_NOTE = comment_added(
    f"Hello, my order has not arrived.\n{OWN_NOTE_MARKER}", author_id="9", public=False
)


class TestZendeskContract(AdapterContract):
    @pytest.fixture
    def contract_adapter(self) -> ZendeskAdapter:
        return make_adapter()

    @pytest.fixture
    def signed_webhook(self) -> Callable[[bytes], dict[str, str]]:
        return lambda body: sign(body, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    @pytest.fixture
    def customer_message_body(self) -> bytes:
        return CUSTOMER

    @pytest.fixture
    def own_note_body(self) -> bytes:
        return OWN_NOTE

    @pytest.fixture
    def contract_replay_window(self) -> float:
        return 300.0

    @pytest.fixture
    def contract_signature_header(self) -> str:
        return "X-Zendesk-Webhook-Signature"


# -- signatures ----------------------------------------------------------------------------


def test_the_reference_vector_verifies() -> None:
    headers = {
        "X-Zendesk-Webhook-Signature": VECTOR_SIGNATURE,
        "X-Zendesk-Webhook-Signature-Timestamp": "1700000000",
    }
    make_adapter().verify_webhook(VECTOR_BODY, headers, now=1_700_000_010)


def test_a_forged_vector_is_refused() -> None:
    forged = "x" + VECTOR_SIGNATURE[1:]
    headers = {
        "x-zendesk-webhook-signature": forged,
        "x-zendesk-webhook-signature-timestamp": "1700000000",
    }
    with pytest.raises(WebhookAuthError, match="does not match"):
        make_adapter().verify_webhook(VECTOR_BODY, headers, now=1_700_000_010)


def test_a_stale_vector_is_refused() -> None:
    headers = {
        "X-Zendesk-Webhook-Signature": VECTOR_SIGNATURE,
        "X-Zendesk-Webhook-Signature-Timestamp": "1700000000",
    }
    with pytest.raises(WebhookAuthError, match="window"):
        make_adapter().verify_webhook(VECTOR_BODY, headers, now=1_700_000_000 + 301)


def test_the_signature_covers_the_timestamp_with_no_separator() -> None:
    # A common mistake signs "ts.body"; the real scheme concatenates.
    dotted = hmac.new(SECRET.encode(), b"1700000000." + VECTOR_BODY, hashlib.sha256).digest()
    headers = {
        "X-Zendesk-Webhook-Signature": base64.b64encode(dotted).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": "1700000000",
    }
    with pytest.raises(WebhookAuthError):
        make_adapter().verify_webhook(VECTOR_BODY, headers, now=1_700_000_000)


def test_iso_timestamps_as_zendesk_documents_them_verify() -> None:
    headers = sign(VECTOR_BODY, "2023-11-14T22:13:20Z")  # = 1700000000
    make_adapter().verify_webhook(VECTOR_BODY, headers, now=1_700_000_100)
    with pytest.raises(WebhookAuthError, match="window"):
        make_adapter().verify_webhook(VECTOR_BODY, headers, now=1_700_001_000)


def test_a_signature_without_timestamp_is_refused() -> None:
    with pytest.raises(WebhookAuthError, match="timestamp"):
        make_adapter().verify_webhook(
            VECTOR_BODY, {"X-Zendesk-Webhook-Signature": VECTOR_SIGNATURE}
        )


# -- events --------------------------------------------------------------------------------


def test_a_customer_comment_is_a_complete_customer_message() -> None:
    event = make_adapter().parse_event(CUSTOMER, {})
    assert (event.kind, event.conversation_id, event.message_id) == (
        "customer_message",
        "555",
        "777",
    )
    assert event.event_id == "2c4d1b7a-8a8e-4d8e-9d5b-6b1f0e7e9a01"
    assert event.text == "Hola, mi pedido no ha llegado."
    assert event.author_id == "26155588908179"
    assert event.complete


def test_a_private_agent_comment_is_an_agent_note() -> None:
    body = comment_added("#tl Ya lo enviamos hoy.", author_id="9", public=False)
    event = make_adapter().parse_event(body, {})
    assert (event.kind, event.text) == ("agent_note", "#tl Ya lo enviamos hoy.")


def test_our_own_note_and_public_agent_replies_are_ignored() -> None:
    adapter = make_adapter()
    assert adapter.parse_event(OWN_NOTE, {}).kind == "ignored"
    reply = comment_added("It ships today.", author_id="9", public=True)
    assert adapter.parse_event(reply, {}).kind == "ignored"
    status = event_webhook("zen:event-type:ticket.status_changed", {"current": "SOLVED"})
    assert adapter.parse_event(status, {}).kind == "ignored"


def comment_event(comment: dict[str, object]) -> bytes:
    base = {"id": 778, "is_public": True, "author": {"id": "26155588908179"}}
    return event_webhook("zen:event-type:ticket.comment_added", {"comment": {**base, **comment}})


def test_the_customers_formatting_comes_from_html_body() -> None:
    body = comment_event(
        {
            "body": "Hola,\n\nmi pedido 123 no ha llegado. Ver https://acme.example/p",
            "html_body": '<div class="zd-comment" dir="auto"><p>Hola,</p><p>mi pedido '
            "<strong>123</strong> no ha llegado. Ver "
            '<a href="https://acme.example/p">https://acme.example/p</a></p></div>',
        }
    )
    event = make_adapter().parse_event(body, {})
    assert event.content_type == "html"
    assert event.text is not None
    assert "<strong>123</strong>" in event.text


def test_a_trimmed_html_body_falls_back_to_the_plain_body() -> None:
    body = comment_event({"body": "Hola, mi pedido no ha llegado.", "html_body": "<div>...</div>"})
    event = make_adapter().parse_event(body, {})
    assert (event.text, event.content_type) == ("Hola, mi pedido no ha llegado.", "text")


@pytest.mark.parametrize(
    ("author", "public", "kind"),
    [
        ({"id": "31", "is_staff": False}, True, "customer_message"),  # a CC'd end user
        ({"id": "26155588908179", "is_staff": True}, False, "agent_note"),  # agent-requester
        ({"id": "26155588908179", "is_staff": False}, False, "ignored"),
        ({"id": "9", "is_staff": True}, True, "ignored"),
    ],
)
def test_is_staff_says_who_wrote_the_comment(
    author: dict[str, object], public: bool, kind: str
) -> None:
    body = comment_event({"body": "Hola", "is_public": public, "author": author})
    assert make_adapter().parse_event(body, {}).kind == kind


def test_ticket_created_carries_the_description() -> None:
    body = event_webhook(
        "zen:event-type:ticket.created", {"meta": {}}, description="No puedo entrar."
    )
    event = make_adapter().parse_event(body, {})
    assert (event.kind, event.conversation_id, event.text) == (
        "ticket_created",
        "555",
        "No puedo entrar.",
    )


def test_a_trigger_body_is_incomplete_and_dedupes_by_invocation() -> None:
    body = json.dumps(
        {
            "ticket_id": "555",
            "event": "customer_message",
            "comment": "Hola, mi pedido no ha llegado.",
            "requester_locale": "es-419",
        }
    ).encode()
    adapter = make_adapter()
    event = adapter.parse_event(body, {"X-Zendesk-Webhook-Invocation-Id": "42"})
    assert (event.kind, event.conversation_id, event.event_id) == ("customer_message", "555", "42")
    assert event.customer_language == "es-419"
    assert not event.complete
    without_header = adapter.parse_event(body, {})
    assert without_header.event_id == adapter.parse_event(body, {}).event_id


def test_a_trigger_body_tells_identical_comments_apart_by_the_update_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    adapter = make_adapter()

    def body(**extra: str) -> bytes:
        payload = {"ticket_id": "555", "event": "customer_message", "comment": "Thanks", **extra}
        return json.dumps(payload).encode()

    def key(raw: bytes) -> str:
        # The invocation id header is not signed: the body's hash is the dedupe key.
        headers = {"X-Zendesk-Webhook-Invocation-Id": "42"}
        return adapter.replay_key(adapter.parse_event(raw, headers), raw, headers)

    first, second = body(updated_at="1765016750"), body(updated_at="1765017067")
    assert key(first) != key(second)
    assert key(first) == key(first)
    zendesk_events._say_update_time_missing.cache_clear()
    with caplog.at_level("WARNING", logger="tl_loop.adapters.zendesk"):
        adapter.parse_event(body(), {})
        adapter.parse_event(body(), {})
    [said] = [record.getMessage() for record in caplog.records]
    assert '"updated_at": "{{ticket.updated_at_with_timestamp}}"' in said


def test_a_trigger_body_without_a_known_event_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="event"):
        make_adapter().parse_event(b'{"ticket_id": "555", "event": "updated"}', {})
    with pytest.raises(InvalidRequestError, match="detail"):
        make_adapter().parse_event(b'{"type": "zen:event-type:ticket.created", "id": "x"}', {})


# -- requests ------------------------------------------------------------------------------


def test_a_note_is_a_private_comment_and_a_reply_a_public_one() -> None:
    adapter = make_adapter(author_id=494820284)
    note = adapter.build_post_note("555", "<p>Hello</p>")
    reply = adapter.build_post_reply("555", "Hola", content_type="text")
    assert (note.method, str(note.url)) == ("PUT", f"{BASE}/api/v2/tickets/555.json")
    assert json.loads(note.content) == {
        "ticket": {
            "comment": {"public": False, "html_body": "<p>Hello</p>", "author_id": 494820284}
        }
    }
    assert (reply.method, str(reply.url)) == ("PUT", f"{BASE}/api/v2/tickets/555.json")
    assert json.loads(reply.content) == {
        "ticket": {"comment": {"public": True, "body": "Hola", "author_id": 494820284}}
    }
    expected = "Basic " + base64.b64encode(b"bot@acme.test/token:zd-token-123").decode()
    assert note.headers["Authorization"] == expected


def test_messages_are_read_page_by_page(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter()
    first_url = f"{BASE}/api/v2/tickets/555/comments.json?include=users&page%5Bsize%5D=100"
    next_url = f"{BASE}/api/v2/tickets/555/comments.json?page%5Bafter%5D=xyz&page%5Bsize%5D=100"
    httpx_mock.add_response(
        url=first_url,
        json={
            "comments": [
                {
                    "id": 1,
                    "type": "Comment",
                    "author_id": 100,
                    "body": "Hola",
                    "html_body": '<div class="zd-comment"><p>Hola</p></div>',
                    "plain_body": "Hola",
                    "public": True,
                    "created_at": "2024-09-06T18:52:11Z",
                }
            ],
            "users": [{"id": 100, "role": "end-user"}, {"id": 9, "role": "agent"}],
            "meta": {"has_more": True, "after_cursor": "xyz", "before_cursor": "abc"},
            "links": {"prev": None, "next": next_url},
        },
    )
    httpx_mock.add_response(
        url=next_url,
        json={
            "comments": [
                {"id": 2, "author_id": 9, "body": "Internal", "html_body": "", "public": False}
            ],
            "meta": {"has_more": False},
            "links": {"next": None},
        },
    )
    with httpx.Client() as client:
        response = client.send(adapter.build_get_messages("555"))
        first = adapter.parse_messages(response)
        following = adapter.next_page(response)
        assert following is not None
        second_response = client.send(following)
    second = adapter.parse_messages(second_response)
    assert adapter.next_page(second_response) is None
    assert [(m.id, m.author_role, m.public, m.content_type) for m in first] == [
        ("1", "customer", True, "html")
    ]
    assert first[0].text == '<div class="zd-comment"><p>Hola</p></div>'
    assert [(m.id, m.author_role, m.public, m.text) for m in second] == [
        ("2", "agent", False, "Internal")
    ]


def test_the_language_goes_to_a_custom_field_or_a_tag() -> None:
    field = make_adapter(language_field_id=360001).build_set_language("555", "pt-BR")
    assert (field.method, str(field.url)) == ("PUT", f"{BASE}/api/v2/tickets/555.json")
    assert json.loads(field.content) == {
        "ticket": {"custom_fields": [{"id": 360001, "value": "pt-BR"}]}
    }
    tag = make_adapter().build_set_language("555", "pt-BR")
    assert json.loads(tag.content) == {"ticket": {"additional_tags": ["lang_pt-br"]}}


# -- Guide ---------------------------------------------------------------------------------


def test_articles_are_listed_by_locale(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter()
    httpx_mock.add_response(
        url=f"{BASE}/api/v2/help_center/en-us/articles.json?page%5Bsize%5D=100",
        json={
            "articles": [
                {
                    "id": 360,
                    "title": "Returns",
                    "body": "<p>Send it back.</p>",
                    "locale": "en-us",
                    "source_locale": "en-us",
                    "draft": False,
                    "outdated": False,
                    "updated_at": "2024-01-02T03:04:05Z",
                }
            ],
            "meta": {"has_more": False},
            "links": {"next": None},
        },
    )
    with httpx.Client() as client:
        response = client.send(adapter.build_list_articles("en-US"))
    assert adapter.parse_articles(response) == [
        Article(
            id="360",
            title="Returns",
            body="<p>Send it back.</p>",
            locale="en-us",
            updated_at="2024-01-02T03:04:05Z",
            source_id="360",
        )
    ]
    assert adapter.next_page(response) is None


def test_a_translation_is_created_as_a_draft_then_updated_in_place() -> None:
    adapter = make_adapter()
    source = Article(id="360", title="Returns", body="<p>Send it back.</p>", locale="en-us")
    create = adapter.build_publish_translation(
        source, locale="es", title="Devoluciones", body="<p>Devuélvalo.</p>"
    )
    assert (create.method, str(create.url)) == (
        "POST",
        f"{BASE}/api/v2/help_center/articles/360/translations.json",
    )
    assert json.loads(create.content) == {
        "translation": {
            "locale": "es",
            "title": "Devoluciones",
            "body": "<p>Devuélvalo.</p>",
            "draft": True,
        }
    }
    existing = Article(
        id="360", title="Devoluciones", body="<p>…</p>", locale="es", source_id="360"
    )
    update = adapter.build_publish_translation(existing, locale="es", title="T", body="B")
    assert (update.method, str(update.url)) == (
        "PUT",
        f"{BASE}/api/v2/help_center/articles/360/translations/es.json",
    )
    assert json.loads(update.content)["translation"]["draft"] is True


# -- errors and configuration --------------------------------------------------------------


def error_response(
    status: int, body: object, headers: dict[str, str] | None = None
) -> httpx.Response:
    request = make_adapter().build_get_messages("555")
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_a_429_waits_for_retry_after_or_the_exhausted_limit() -> None:
    adapter = make_adapter()
    limited = adapter.error_for(error_response(429, {}, {"Retry-After": "93"}))
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 93
    headers = {
        "ratelimit-limit": "700",
        "ratelimit-remaining": "12",
        "ratelimit-reset": "40",
        "zendesk-ratelimit-tickets-update": "total=20; remaining=0; resets=59",
    }
    endpoint = adapter.error_for(error_response(429, {}, headers))
    assert isinstance(endpoint, RateLimitError)
    assert endpoint.retry_after == 59
    older = {"rate-limit": "700", "rate-limit-remaining": "0", "rate-limit-reset": "17"}
    assert adapter.retry_after(error_response(429, {}, older)) == 17


def test_error_bodies_are_quoted() -> None:
    adapter = make_adapter()
    refused = adapter.error_for(error_response(401, {"error": "Couldn't authenticate you"}))
    assert isinstance(refused, AuthenticationError)
    assert "Couldn't authenticate you" in str(refused)
    invalid = adapter.error_for(
        error_response(
            422,
            {
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": {"base": [{"description": "Ticket has reached 5000 comments"}]},
            },
        )
    )
    assert isinstance(invalid, InvalidRequestError)
    assert "5000 comments" in str(invalid)
    assert "zd-token-123" not in str(invalid)


def test_configuration_comes_from_the_environment() -> None:
    adapter = ZendeskAdapter.from_env(
        {
            "ZENDESK_SUBDOMAIN": "acme",
            "ZENDESK_EMAIL": "bot@acme.test",
            "ZENDESK_API_TOKEN": "zd-token-123",
            "ZENDESK_WEBHOOK_SECRET": SECRET,
            "ZENDESK_LANGUAGE_FIELD_ID": "360001",
        }
    )
    assert adapter.base_url == BASE
    assert adapter.language_field_id == 360001
    assert "zd-token-123" not in repr(adapter)
    with pytest.raises(ConfigurationError, match="ZENDESK_WEBHOOK_SECRET"):
        ZendeskAdapter.from_env({"ZENDESK_SUBDOMAIN": "acme"})
    with pytest.raises(ConfigurationError, match="ZENDESK_API_TOKEN"):
        ZendeskAdapter.from_env({"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_WEBHOOK_SECRET": "s"})


# -- channel ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("via", "channel"),
    [
        ("email", "email"),
        ("chat", "chat"),
        ("native_messaging", "chat"),
        ("web", None),
        ("api", None),
    ],
)
def test_an_event_webhook_takes_the_channel_from_via(via: str, channel: str | None) -> None:
    event = {
        "comment": {
            "id": 778,
            "body": "Hola, ¿dónde está mi pedido?",
            "is_public": True,
            "author": {"id": "26155588908179"},
        }
    }
    body = event_webhook("zen:event-type:ticket.comment_added", event, via={"channel": via})
    parsed = make_adapter().parse_event(body, {})
    assert (parsed.kind, parsed.channel) == ("customer_message", channel)


def test_a_created_ticket_and_an_event_without_via_carry_their_channel_or_none() -> None:
    created = event_webhook(
        "zen:event-type:ticket.created", {}, description="Hola", via={"channel": "email"}
    )
    assert make_adapter().parse_event(created, {}).channel == "email"
    assert make_adapter().parse_event(CUSTOMER, {}).channel is None


def test_a_trigger_body_may_name_the_channel_with_the_via_placeholder() -> None:
    def trigger(**extra: str) -> bytes:
        payload = {"ticket_id": "555", "event": "customer_message", "comment": "Hola", **extra}
        return json.dumps(payload).encode()

    adapter = make_adapter()
    assert adapter.parse_event(trigger(channel="Mail"), {}).channel == "email"
    assert adapter.parse_event(trigger(channel="Chat"), {}).channel == "chat"
    assert adapter.parse_event(trigger(channel="Web Form"), {}).channel is None
    assert adapter.parse_event(trigger(), {}).channel is None
