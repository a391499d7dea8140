"""Freshdesk: shared-secret webhooks, automation bodies, notes vs replies, solution articles."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest
from pytest_httpx import HTTPXMock

from tl_loop import (
    OWN_NOTE_MARKER,
    Article,
    ConfigurationError,
    InvalidRequestError,
    RateLimitError,
    WebhookAuthError,
)
from tl_loop.testing import AdapterContract
from tl_loop_freshdesk import FreshdeskAdapter
from tl_loop_freshdesk import _adapter as freshdesk_adapter

SECRET = "test-secret"
BASE = "https://acme.freshdesk.com"


def make_adapter(**options: object) -> FreshdeskAdapter:
    settings: dict[str, object] = {
        "domain": "acme",
        "api_key": "fd-key-123",
        "webhook_secret": SECRET,
        "kb_folder_id": "5000",
    }
    settings.update(options)
    return FreshdeskAdapter(**settings)  # type: ignore[arg-type]


def rule_body(event: str, text: str, **extra: object) -> bytes:
    # What the automation rule's "Trigger webhook" action sends with the documented JSON.
    payload = {
        "freshdesk_webhook": {
            "ticket_id": "42",
            "event": event,
            "text": text,
            "requester_language": "es",
            **extra,
        }
    }
    return json.dumps(payload).encode()


CUSTOMER = rule_body("customer_message", "<div>Hola, mi pedido no ha llegado.</div>")
OWN_NOTE = rule_body("agent_note", f"<div>My order has not arrived.<br>{OWN_NOTE_MARKER}</div>")


class TestFreshdeskContract(AdapterContract):
    @pytest.fixture
    def contract_adapter(self) -> FreshdeskAdapter:
        return make_adapter()

    @pytest.fixture
    def signed_webhook(self) -> Callable[[bytes], dict[str, str]]:
        return lambda body: {"X-TL-Loop-Secret": SECRET, "Content-Type": "application/json"}

    @pytest.fixture
    def customer_message_body(self) -> bytes:
        return CUSTOMER

    @pytest.fixture
    def own_note_body(self) -> bytes:
        return OWN_NOTE

    @pytest.fixture
    def contract_signs_body(self) -> bool:
        return False


# -- authentication ------------------------------------------------------------------------


def test_the_shared_secret_header_or_basic_auth_authenticates() -> None:
    adapter = make_adapter()
    adapter.verify_webhook(CUSTOMER, {"x-tl-loop-secret": SECRET})
    basic = base64.b64encode(f"tl_loop:{SECRET}".encode()).decode()
    adapter.verify_webhook(CUSTOMER, {"Authorization": f"Basic {basic}"})


def test_a_wrong_or_missing_secret_is_refused() -> None:
    adapter = make_adapter()
    with pytest.raises(WebhookAuthError, match="wrong"):
        adapter.verify_webhook(CUSTOMER, {"X-TL-Loop-Secret": "test-secrex"})
    with pytest.raises(WebhookAuthError, match="X-TL-Loop-Secret"):
        adapter.verify_webhook(CUSTOMER, {"Authorization": "Bearer abc"})
    custom = make_adapter(secret_header="X-Hook-Token")
    with pytest.raises(WebhookAuthError):
        custom.verify_webhook(CUSTOMER, {"X-TL-Loop-Secret": SECRET})
    custom.verify_webhook(CUSTOMER, {"X-Hook-Token": SECRET})


# -- events --------------------------------------------------------------------------------


def test_a_customer_reply_rule_is_an_incomplete_customer_message() -> None:
    event = make_adapter().parse_event(CUSTOMER, {})
    assert (event.kind, event.conversation_id) == ("customer_message", "42")
    assert event.text == "<div>Hola, mi pedido no ha llegado.</div>"
    assert event.customer_language == "es"
    assert not event.complete  # placeholders: the relay re-reads the conversation
    assert event.event_id.startswith("body:")


def test_notes_ticket_creation_and_our_own_notes() -> None:
    adapter = make_adapter()
    note = adapter.parse_event(rule_body("agent_note", "#tl Ya salió."), {})
    assert (note.kind, note.text) == ("agent_note", "#tl Ya salió.")
    created = adapter.parse_event(
        json.dumps(
            {"ticket_id": 43, "event": "ticket_created", "text": "No puedo entrar"}
        ).encode(),
        {},
    )
    assert (created.kind, created.conversation_id, created.text) == (
        "ticket_created",
        "43",
        "No puedo entrar",
    )
    assert adapter.parse_event(OWN_NOTE, {}).kind == "ignored"


def test_different_messages_have_different_event_ids() -> None:
    adapter = make_adapter()
    first = adapter.parse_event(rule_body("customer_message", "Hola"), {})
    second = adapter.parse_event(rule_body("customer_message", "¿Hola?"), {})
    assert first.event_id != second.event_id


def test_the_tickets_update_time_tells_identical_messages_apart() -> None:
    adapter = make_adapter()

    def key(body: bytes) -> str:
        return adapter.replay_key(adapter.parse_event(body, {}), body, {})

    thanks = "<div>Thanks</div>"
    first = rule_body("customer_message", thanks, updated_at="2026-12-06 10:25:50 UTC")
    second = rule_body("customer_message", thanks, updated_at="2026-12-06 10:31:07 UTC")
    assert key(first) != key(second)  # two messages
    assert key(first) == key(first)  # Freshdesk retrying one delivery


def test_a_rule_without_the_update_time_is_pointed_out_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    adapter = make_adapter()
    freshdesk_adapter._say_update_time_missing.cache_clear()  # said once a process
    with caplog.at_level("WARNING", logger="tl_loop.adapters.freshdesk"):
        adapter.parse_event(rule_body("customer_message", "Hola", updated_at="2026-12-06"), {})
        assert caplog.records == []
        adapter.parse_event(rule_body("customer_message", "Hola"), {})
        adapter.parse_event(rule_body("agent_note", "#tl Hi"), {})
    [said] = [record.getMessage() for record in caplog.records]
    assert '"updated_at": "{{ticket.modified_on}}"' in said


def test_a_body_missing_the_ticket_or_event_says_which() -> None:
    with pytest.raises(InvalidRequestError, match="ticket_id"):
        make_adapter().parse_event(b'{"event": "agent_note"}', {})
    with pytest.raises(InvalidRequestError, match="event"):
        make_adapter().parse_event(b'{"ticket_id": 1}', {})


def wrapper_body(triggered: str, **extra: object) -> bytes:
    # What an existing automation sends with Freshdesk's {{triggered_event}} placeholder.
    inner = {"triggered_event": triggered, "ticket_id": "11", **extra}
    return json.dumps({"freshdesk_webhook": inner}).encode()


@pytest.mark.parametrize(
    ("triggered", "kind"),
    [
        ("{ticket_action:created}", "ticket_created"),
        ("{note_type:private}", "agent_note"),
        ("{note_type:public}", "ignored"),
        ("{status:{from:2,to:4}}", "ignored"),
        ("{priority:{from:1,to:3}}", "ignored"),
    ],
)
def test_freshdesks_triggered_event_is_understood(triggered: str, kind: str) -> None:
    event = make_adapter().parse_event(wrapper_body(triggered), {})
    assert (event.kind, event.conversation_id) == (kind, "11")


def test_a_created_ticket_carries_its_description_as_the_first_message() -> None:
    body = wrapper_body("{ticket_action:created}", ticket_description="<div>Hola ☃</div>")
    event = make_adapter().parse_event(body, {})
    assert (event.text, event.content_type, event.complete) == ("<div>Hola ☃</div>", "html", True)


def test_an_explicit_event_wins_over_triggered_event() -> None:
    body = wrapper_body("{note_type:private}", event="customer_message", text="<p>Hola</p>")
    assert make_adapter().parse_event(body, {}).kind == "customer_message"


# -- requests ------------------------------------------------------------------------------


def test_a_note_is_private_and_a_reply_goes_to_the_reply_endpoint() -> None:
    adapter = make_adapter()
    note = adapter.build_post_note("42", "<p>Hello</p>")
    assert (note.method, str(note.url)) == ("POST", f"{BASE}/api/v2/tickets/42/notes")
    assert json.loads(note.content) == {"body": "<p>Hello</p>", "private": True}
    reply = adapter.build_post_reply("42", "Hola & adiós\nGracias", content_type="text")
    assert (reply.method, str(reply.url)) == ("POST", f"{BASE}/api/v2/tickets/42/reply")
    assert json.loads(reply.content) == {"body": "Hola &amp; adiós<br>Gracias"}
    expected = "Basic " + base64.b64encode(b"fd-key-123:X").decode()
    assert reply.headers["Authorization"] == expected


def conversation(number: int, *, incoming: bool, private: bool) -> dict[str, object]:
    return {
        "body": f"<div>message {number}</div>",
        "body_text": f"message {number}",
        "id": number,
        "incoming": incoming,
        "private": private,
        "user_id": 7,
        "source": 2 if private else 0,
        "ticket_id": 42,
        "created_at": "2024-01-02T03:04:05Z",
        "attachments": [],
    }


def test_conversations_are_read_page_by_page(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter(per_page=2)
    httpx_mock.add_response(
        url=f"{BASE}/api/v2/tickets/42/conversations?page=1&per_page=2",
        json=[
            conversation(1, incoming=True, private=False),
            conversation(2, incoming=False, private=True),
        ],
    )
    httpx_mock.add_response(
        url=f"{BASE}/api/v2/tickets/42/conversations?page=2&per_page=2",
        json=[conversation(3, incoming=False, private=False)],
    )
    messages = []
    request: httpx.Request | None = adapter.build_get_messages("42")
    with httpx.Client() as client:
        while request is not None:
            response = client.send(request)
            messages += adapter.parse_messages(response)
            request = adapter.next_page(response)
    assert [(m.id, m.author_role, m.public, m.content_type) for m in messages] == [
        ("1", "customer", True, "html"),
        ("2", "agent", False, "html"),
        ("3", "agent", True, "html"),
    ]


def test_a_link_header_names_the_next_page(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter()
    following = f"{BASE}/api/v2/tickets/42/conversations?page=2&per_page=100"
    httpx_mock.add_response(json=[], headers={"Link": f'<{following}>; rel="next"'})
    with httpx.Client() as client:
        response = client.send(adapter.build_get_messages("42"))
    request = adapter.next_page(response)
    assert request is not None
    assert str(request.url) == following


def test_the_language_goes_to_a_custom_field_when_configured() -> None:
    assert make_adapter().build_set_language("42", "es") is None
    request = make_adapter(language_field="cf_language").build_set_language("42", "es")
    assert request is not None
    assert (request.method, str(request.url)) == ("PUT", f"{BASE}/api/v2/tickets/42")
    assert json.loads(request.content) == {"custom_fields": {"cf_language": "es"}}


# -- solutions -----------------------------------------------------------------------------


def test_solution_articles_are_listed_per_folder_and_language(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter()
    article = {
        "id": 9001,
        "type": 1,
        "status": 2,
        "agent_id": 7,
        "category_id": 10,
        "folder_id": 5000,
        "title": "Devoluciones",
        "description": "<p>Devuélvalo.</p>",
        "description_text": "Devuélvalo.",
        "seo_data": {},
        "tags": [],
        "updated_at": "2024-01-02T03:04:05Z",
    }
    httpx_mock.add_response(
        url=f"{BASE}/api/v2/solutions/folders/5000/articles/es?page=1&per_page=100", json=[article]
    )
    with httpx.Client() as client:
        response = client.send(adapter.build_list_articles("es"))
    assert adapter.parse_articles(response) == [
        Article(
            id="9001",
            title="Devoluciones",
            body="<p>Devuélvalo.</p>",
            locale="es",
            updated_at="2024-01-02T03:04:05Z",
            source_id="9001",
        )
    ]
    assert adapter.next_page(response) is None
    primary = adapter.build_list_articles("en", folder_id="6000")
    assert primary.url.path == "/api/v2/solutions/folders/6000/articles"
    with pytest.raises(ConfigurationError, match="folder"):
        make_adapter(kb_folder_id=None).build_list_articles("es")


def test_a_translation_is_created_as_a_draft_then_updated() -> None:
    adapter = make_adapter()
    source = Article(id="9001", title="Returns", body="<p>Send it back.</p>", locale="en")
    create = adapter.build_publish_translation(
        source, locale="es", title="Devoluciones", body="<p>D</p>"
    )
    assert (create.method, str(create.url)) == ("POST", f"{BASE}/api/v2/solutions/articles/9001/es")
    assert json.loads(create.content) == {
        "title": "Devoluciones",
        "description": "<p>D</p>",
        "status": 1,
    }
    existing = Article(id="9001", title="Devoluciones", body="", locale="es", source_id="9001")
    update = adapter.build_publish_translation(
        existing, locale="es", title="T", body="B", draft=False
    )
    assert update.method == "PUT"
    assert json.loads(update.content)["status"] == 2


# -- errors and configuration --------------------------------------------------------------


def error_response(
    status: int, body: object, headers: dict[str, str] | None = None
) -> httpx.Response:
    request = make_adapter().build_get_messages("42")
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_rate_limits_and_validation_errors() -> None:
    adapter = make_adapter()
    headers = {"Retry-After": "31", "X-RateLimit-Total": "200", "X-RateLimit-Remaining": "0"}
    limited = adapter.error_for(error_response(429, {}, headers))
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 31
    invalid = adapter.error_for(
        error_response(
            400,
            {
                "description": "Validation failed",
                "errors": [
                    {"field": "body", "message": "It should not be blank", "code": "missing_field"}
                ],
            },
        )
    )
    assert isinstance(invalid, InvalidRequestError)
    assert "body: It should not be blank" in str(invalid)


def test_configuration_comes_from_the_environment() -> None:
    adapter = FreshdeskAdapter.from_env(
        {
            "FRESHDESK_DOMAIN": "acme",
            "FRESHDESK_API_KEY": "fd-key-123",
            "FRESHDESK_WEBHOOK_SECRET": SECRET,
            "FRESHDESK_LANGUAGE_FIELD": "cf_language",
        }
    )
    assert (adapter.base_url, adapter.language_field) == (BASE, "cf_language")
    assert "fd-key-123" not in repr(adapter)
    with pytest.raises(ConfigurationError, match="FRESHDESK_WEBHOOK_SECRET"):
        FreshdeskAdapter.from_env({"FRESHDESK_DOMAIN": "acme", "FRESHDESK_API_KEY": "k"})


# -- channel ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "channel"),
    [
        (1, "email"),
        ("10", "email"),
        ("Outbound Email", "email"),
        (7, "chat"),
        ("Chat", "chat"),
        (2, None),
        ("Phone", None),
        (True, None),
    ],
)
def test_the_rule_may_send_the_ticket_source_as_the_channel(
    source: object, channel: str | None
) -> None:
    body = rule_body("customer_message", "Hola", source=source)
    assert make_adapter().parse_event(body, {}).channel == channel


def test_without_a_source_the_channel_is_unknown() -> None:
    assert make_adapter().parse_event(rule_body("agent_note", "#tl Hi"), {}).channel is None
