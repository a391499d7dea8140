"""Zammad: X-Hub-Signature (reference §8 vector), trigger payloads, articles, KB answers."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from tl_loop import (
    OWN_NOTE_MARKER,
    Article,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    WebhookAuthError,
)
from tl_loop.kb import kb_pull
from tl_loop.testing import AdapterContract
from tl_loop_zammad import ZammadAdapter

SECRET = "test-secret"
BASE = "https://support.example.com"
VECTOR_BODY = b'{"id":1,"text":"Hola"}'
VECTOR_SIGNATURE = "sha1=1b37fc39f782493358823529bb33f92351620a88"


def make_adapter(**options: object) -> ZammadAdapter:
    settings: dict[str, object] = {
        "base_url": BASE,
        "token": "zm-token-123",
        "webhook_secret": SECRET,
        "kb_locale_ids": {"en": 1, "es": 2},
    }
    settings.update(options)
    return ZammadAdapter(**settings)  # type: ignore[arg-type]


def sign(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    return {
        "X-Hub-Signature": f"sha1={digest}",
        "X-Zammad-Trigger": "tl_loop",
        "X-Zammad-Delivery": "c5a3e4b4-6f2e-4b55-9d0e-1c2d3e4f5a6b",
        "User-Agent": "Zammad User Agent",
    }


def trigger_body(
    *, sender: str, internal: bool, article_type: str, body: str, count: int = 3
) -> bytes:
    ticket: dict[str, Any] = {
        "id": 5,
        "number": "77001",
        "title": "Pedido",
        "group_id": 1,
        "state_id": 2,
        "customer_id": 10,
        "article_count": count,
        "customer": {"id": 10, "firstname": "Ana", "email": "ana@example.com"},
        "created_at": "2025-03-12T10:00:00.000Z",
    }
    article: dict[str, Any] = {
        "id": 31,
        "ticket_id": 5,
        "type": article_type,
        "sender": sender,
        "from": "Ana <ana@example.com>",
        "subject": "Pedido",
        "content_type": "text/html",
        "body": body,
        "internal": internal,
        "created_by_id": 10 if sender == "Customer" else 3,
        "attachments": [],
        "created_at": "2025-03-12T10:05:00.000Z",
    }
    return json.dumps({"ticket": ticket, "article": article}).encode()


CUSTOMER = trigger_body(
    sender="Customer", internal=False, article_type="email", body="<p>¿Y mi pedido?</p>"
)
OWN_NOTE = trigger_body(
    sender="Agent",
    internal=True,
    article_type="note",
    body=f"<p>My order?</p><p>{OWN_NOTE_MARKER}</p>",
)


class TestZammadContract(AdapterContract):
    @pytest.fixture
    def contract_adapter(self) -> ZammadAdapter:
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


# -- signatures ----------------------------------------------------------------------------


def test_the_reference_vector_verifies_and_a_forgery_does_not() -> None:
    adapter = make_adapter()
    adapter.verify_webhook(VECTOR_BODY, {"X-Hub-Signature": VECTOR_SIGNATURE})
    with pytest.raises(WebhookAuthError, match="does not match"):
        adapter.verify_webhook(VECTOR_BODY, {"x-hub-signature": "sha1=0" + VECTOR_SIGNATURE[6:]})
    with pytest.raises(WebhookAuthError, match="no signature"):
        adapter.verify_webhook(VECTOR_BODY, {"X-Zammad-Delivery": "1"})


def test_there_is_no_timestamp_so_age_does_not_matter() -> None:
    make_adapter().verify_webhook(VECTOR_BODY, {"X-Hub-Signature": VECTOR_SIGNATURE}, now=0)


# -- events --------------------------------------------------------------------------------


def test_a_customer_article_is_a_complete_customer_message() -> None:
    event = make_adapter().parse_event(CUSTOMER, sign(CUSTOMER))
    assert (event.kind, event.conversation_id, event.message_id) == ("customer_message", "5", "31")
    assert event.event_id == "c5a3e4b4-6f2e-4b55-9d0e-1c2d3e4f5a6b"
    assert (event.text, event.content_type, event.complete) == (
        "<p>¿Y mi pedido?</p>",
        "html",
        True,
    )


def test_the_first_customer_article_is_a_new_ticket() -> None:
    body = trigger_body(sender="Customer", internal=False, article_type="web", body="Hola", count=1)
    assert make_adapter().parse_event(body, sign(body)).kind == "ticket_created"


def test_internal_notes_are_agent_notes_unless_ours_and_replies_are_ignored() -> None:
    adapter = make_adapter()
    note = trigger_body(sender="Agent", internal=True, article_type="note", body="#tl Ya salió")
    assert adapter.parse_event(note, {}).kind == "agent_note"
    assert adapter.parse_event(OWN_NOTE, {}).kind == "ignored"
    reply = trigger_body(sender="Agent", internal=False, article_type="email", body="Hi")
    system = trigger_body(sender="System", internal=False, article_type="note", body="Escalated")
    assert [adapter.parse_event(b, {}).kind for b in (reply, system)] == ["ignored", "ignored"]


def test_a_custom_payload_is_incomplete_and_needs_an_event() -> None:
    adapter = make_adapter()
    event = adapter.parse_event(b'{"ticket_id": "5", "event": "customer_message"}', {})
    assert (event.kind, event.conversation_id, event.complete) == ("customer_message", "5", False)
    assert event.event_id.startswith("body:")
    with pytest.raises(InvalidRequestError, match="event"):
        adapter.parse_event(b'{"ticket_id": "5"}', {})


# -- requests ------------------------------------------------------------------------------


def test_a_note_is_an_internal_note_article_and_a_reply_a_public_email() -> None:
    adapter = make_adapter()
    note = adapter.build_post_note("5", "<p>Hello</p>")
    assert (note.method, str(note.url)) == ("POST", f"{BASE}/api/v1/ticket_articles")
    assert note.headers["Authorization"] == "Token token=zm-token-123"
    assert json.loads(note.content) == {
        "ticket_id": 5,
        "body": "<p>Hello</p>",
        "content_type": "text/html",
        "type": "note",
        "internal": True,
        "sender": "Agent",
    }
    reply = adapter.build_post_reply("5", "Hola", content_type="text", to="ana@example.com")
    assert json.loads(reply.content) == {
        "ticket_id": 5,
        "body": "Hola",
        "content_type": "text/plain",
        "type": "email",
        "internal": False,
        "sender": "Agent",
        "to": "ana@example.com",
    }
    web = make_adapter(reply_type="web").build_post_reply("5", "Hola")
    assert json.loads(web.content)["type"] == "web"


def test_articles_are_read_in_one_response(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter()
    article = {
        "ticket_id": 5,
        "content_type": "text/html",
        "attachments": [],
        "created_at": "2025-03-12T10:05:00.000Z",
    }
    httpx_mock.add_response(
        url=f"{BASE}/api/v1/ticket_articles/by_ticket/5",
        json=[
            {
                **article,
                "id": 30,
                "type": "email",
                "sender": "Customer",
                "internal": False,
                "body": "<p>Hola</p>",
            },
            {
                **article,
                "id": 31,
                "type": "note",
                "sender": "Agent",
                "internal": True,
                "body": "Nota",
                "content_type": "text/plain",
            },
            {
                **article,
                "id": 32,
                "type": "note",
                "sender": "System",
                "internal": False,
                "body": "Auto",
            },
        ],
    )
    with httpx.Client() as client:
        response = client.send(adapter.build_get_messages("5"))
    assert [
        (m.id, m.author_role, m.public, m.content_type) for m in adapter.parse_messages(response)
    ] == [
        ("30", "customer", True, "html"),
        ("31", "agent", False, "text"),
        ("32", "system", True, "html"),
    ]
    assert adapter.next_page(response) is None


def test_the_language_goes_to_an_attribute_or_a_tag() -> None:
    tag = make_adapter().build_set_language("5", "pt-BR")
    assert (tag.method, str(tag.url)) == ("POST", f"{BASE}/api/v1/tags/add")
    assert json.loads(tag.content) == {"object": "Ticket", "o_id": 5, "item": "lang_pt-br"}
    field = make_adapter(language_attribute="customer_language").build_set_language("5", "es")
    assert (field.method, str(field.url)) == ("PUT", f"{BASE}/api/v1/tickets/5")
    assert json.loads(field.content) == {"customer_language": "es"}


# -- knowledge base ------------------------------------------------------------------------


def asset_map() -> dict[str, Any]:
    return {
        "KnowledgeBaseAnswer": {"9": {"id": 9, "category_id": 1, "translation_ids": [11, 12]}},
        "KnowledgeBaseLocale": {"1": {"id": 1, "system_locale_id": 1, "primary": True}},
        "KnowledgeBaseAnswerTranslation": {
            "11": {
                "id": 11,
                "title": "Returns",
                "kb_locale_id": 1,
                "answer_id": 9,
                "content_id": 21,
                "updated_at": "2025-03-12T14:51:11.559Z",
            },
            "12": {
                "id": 12,
                "title": "Devoluciones",
                "kb_locale_id": 2,
                "answer_id": 9,
                "content_id": 22,
                "updated_at": "2025-03-13T09:00:00.000Z",
            },
        },
        "KnowledgeBaseAnswerTranslationContent": {
            "21": {"id": 21, "body": "<p>Send it back.</p>", "attachments": []},
        },
    }


def test_answers_are_listed_per_locale_and_read_with_their_bodies(httpx_mock: HTTPXMock) -> None:
    adapter = make_adapter()
    httpx_mock.add_response(
        method="POST", url=f"{BASE}/api/v1/knowledge_bases/init", json=asset_map()
    )
    httpx_mock.add_response(
        url=f"{BASE}/api/v1/knowledge_bases/1/answers/9?full=1&include_contents=21%2C22",
        json={"id": 9, "assets": asset_map()},
    )
    with httpx.Client() as client:
        listing = client.send(adapter.build_list_articles("en"))
        answer = client.send(adapter.build_get_answer("9", [21, 22]))
    expected_en = Article(
        id="11",
        title="Returns",
        body="<p>Send it back.</p>",
        locale="en",
        updated_at="2025-03-12T14:51:11.559Z",
        source_id="9",
    )
    assert adapter.parse_articles(listing) == [expected_en]
    assert [a.locale for a in adapter.parse_articles(answer)] == ["en", "es"]
    with pytest.raises(ConfigurationError, match="kb_locale_id"):
        adapter.build_list_articles("fr")


def test_an_overview_without_bodies_asks_for_the_listed_contents(
    httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    """`/knowledge_bases/init` lists titles (`content_id`s, no contents); the same call with
    `answer_translation_content_ids` adds the bodies (Zammad's KnowledgeBasesController#init).
    """
    adapter = make_adapter()
    overview = asset_map()
    del overview["KnowledgeBaseAnswerTranslationContent"]
    with_bodies = asset_map()
    init = f"{BASE}/api/v1/knowledge_bases/init"
    httpx_mock.add_response(method="POST", url=init, match_json={}, json=overview)
    httpx_mock.add_response(
        method="POST",
        url=init,
        match_json={"answer_translation_content_ids": [21]},  # the listed locale's only
        json=with_bodies,
    )
    assert kb_pull(adapter, locale="en", dest=tmp_path) == 1
    pulled = (tmp_path / "11.html").read_text(encoding="utf-8")
    assert pulled.endswith("<p>Send it back.</p>")
    # An overview that carries the contents already needs no second call.
    answered = httpx.Response(200, json=with_bodies, request=adapter.build_list_articles("en"))
    assert adapter.build_article_bodies(answered) is None


def test_a_translation_is_added_to_the_answer_then_updated_by_id() -> None:
    adapter = make_adapter()
    source = Article(
        id="11", title="Returns", body="<p>Send it back.</p>", locale="en", source_id="9"
    )
    create = adapter.build_publish_translation(
        source, locale="es", title="Devoluciones", body="<p>D</p>"
    )
    assert (create.method, str(create.url)) == (
        "PATCH",
        f"{BASE}/api/v1/knowledge_bases/1/answers/9",
    )
    assert json.loads(create.content) == {
        "translations_attributes": [
            {"title": "Devoluciones", "content_attributes": {"body": "<p>D</p>"}, "kb_locale_id": 2}
        ]
    }
    existing = Article(id="12", title="Devoluciones", body="", locale="es", source_id="9")
    update = adapter.build_publish_translation(existing, locale="es", title="T", body="B")
    assert json.loads(update.content) == {
        "translations_attributes": [{"title": "T", "content_attributes": {"body": "B"}, "id": 12}]
    }


# -- errors and configuration --------------------------------------------------------------


def test_error_bodies_are_quoted() -> None:
    adapter = make_adapter()
    request = adapter.build_get_messages("5")
    missing = adapter.error_for(
        httpx.Response(
            404,
            json={"error": "Couldn't find Ticket with 'id'=5", "error_human": "Ticket not found"},
            request=request,
        )
    )
    assert isinstance(missing, NotFoundError)
    assert "Ticket not found" in str(missing)


def test_configuration_comes_from_the_environment() -> None:
    adapter = ZammadAdapter.from_env(
        {
            "ZAMMAD_BASE_URL": BASE + "/",
            "ZAMMAD_TOKEN": "zm-token-123",
            "ZAMMAD_WEBHOOK_SECRET": SECRET,
            "ZAMMAD_KB_LOCALE_IDS": "en=1, es=2",
            "ZAMMAD_REPLY_TYPE": "web",
        }
    )
    assert (adapter.base_url, adapter.kb_locale_ids, adapter.reply_type) == (
        BASE,
        {"en": 1, "es": 2},
        "web",
    )
    assert "zm-token-123" not in repr(adapter)
    with pytest.raises(ConfigurationError, match="ZAMMAD_TOKEN"):
        ZammadAdapter.from_env({"ZAMMAD_BASE_URL": BASE})
    with pytest.raises(ConfigurationError, match="en=1"):
        ZammadAdapter.from_env(
            {
                "ZAMMAD_BASE_URL": BASE,
                "ZAMMAD_TOKEN": "t",
                "ZAMMAD_WEBHOOK_SECRET": "s",
                "ZAMMAD_KB_LOCALE_IDS": "en",
            }
        )


# -- channel ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("article_type", "channel"),
    [("email", "email"), ("chat", "chat"), ("web", None), ("phone", None)],
)
def test_the_customer_article_type_is_the_channel(article_type: str, channel: str | None) -> None:
    body = trigger_body(sender="Customer", internal=False, article_type=article_type, body="Hola")
    event = make_adapter().parse_event(body, sign(body))
    assert (event.kind, event.channel) == ("customer_message", channel)


def test_an_agent_note_says_no_channel_and_a_custom_payload_may_name_it() -> None:
    adapter = make_adapter()
    note = trigger_body(sender="Agent", internal=True, article_type="note", body="#tl Hi")
    event = adapter.parse_event(note, sign(note))
    assert (event.kind, event.channel) == ("agent_note", None)
    custom = b'{"ticket_id": "5", "event": "customer_message", "article_type": "email"}'
    assert adapter.parse_event(custom, {}).channel == "email"
    assert adapter.parse_event(b'{"ticket_id": "5", "event": "agent_note"}', {}).channel is None
