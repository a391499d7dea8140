"""Each adapter tells agents how to record a customer's language, and reads what they record."""

from __future__ import annotations

import json

import pytest

from tl_loop.helpdesk import HelpdeskAdapter, load_adapter_class

CONFIGS: dict[str, dict[str, object]] = {
    "zendesk": {"subdomain": "acme", "email": "a@b.c", "api_token": "t", "webhook_secret": "s"},
    "chatwoot": {
        "base_url": "https://chat.test", "account_id": 1, "api_access_token": "t",
        "webhook_secret": "s",
    },
    "front": {"api_token": "t", "webhook_secret": "s"},
    "helpscout": {"app_id": "a", "app_secret": "b", "webhook_secret": "s"},
    "intercom": {"access_token": "t", "client_secret": "s", "admin_id": "1"},
    "freshdesk": {"domain": "acme", "api_key": "k", "webhook_secret": "s"},
    "zammad": {"base_url": "https://z.test", "token": "t", "webhook_secret": "s"},
}  # fmt: skip


def adapter(name: str, **options: object) -> HelpdeskAdapter:
    return load_adapter_class(name)(**{**CONFIGS[name], **options})  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("name", "options", "words"),
    [
        ("zendesk", {}, "add the tag lang_xx to the ticket"),
        ("chatwoot", {}, "add the label lang-xx to the conversation"),
        ("front", {}, "tag the conversation lang-xx"),
        ("helpscout", {}, "custom field “Language”"),
        ("intercom", {"language_attribute": "Language"}, "conversation attribute “Language”"),
        ("freshdesk", {"language_field": "cf_language"}, "language field (cf_language)"),
        ("zammad", {"language_attribute": "language"}, "the ticket's “language” field"),
        ("freshdesk", {}, "learnt from the customer's next message"),
    ],
)
def test_the_help_names_the_helpdesks_own_place(
    name: str, options: dict[str, object], words: str
) -> None:
    help_text = adapter(name, **options).language_help()
    assert words in help_text
    assert "Conversation." not in help_text  # never the library's API


def test_zendesk_reads_the_lang_tag_an_agent_adds() -> None:
    body = {
        "type": "zen:event-type:ticket.comment_added",
        "id": "e1",
        "detail": {"id": "5", "requester_id": "9", "tags": ["vip", "lang_pt_br"]},
        "event": {
            "comment": {"id": 1, "body": "#tl Olá", "is_public": False, "author": {"id": "2"}}
        },
    }
    event = adapter("zendesk").parse_event(json.dumps(body).encode(), {})
    assert (event.kind, event.customer_language) == ("agent_note", "pt-BR")
    trigger = {"ticket_id": "5", "event": "agent_note", "tags": "vip lang_es"}
    assert (
        adapter("zendesk").parse_event(json.dumps(trigger).encode(), {}).customer_language == "es"
    )


def test_intercom_reads_the_attribute_or_a_lang_tag() -> None:
    item = {
        "type": "conversation",
        "id": "7",
        "custom_attributes": {"Language": "de"},
        "tags": {"type": "tag.list", "tags": [{"type": "tag", "name": "lang-fr"}]},
        "conversation_parts": {
            "conversation_parts": [
                {"id": "p1", "part_type": "note", "body": "<p>#tl hi</p>",
                 "author": {"type": "admin", "id": "3"}},
            ]
        },
    }  # fmt: skip
    body = json.dumps(
        {
            "type": "notification_event",
            "id": "n1",
            "topic": "conversation.admin.noted",
            "data": {"item": item},
        }
    ).encode()
    assert (
        adapter("intercom", language_attribute="Language").parse_event(body, {}).customer_language
        == "de"
    )
    assert adapter("intercom").parse_event(body, {}).customer_language == "fr"


def test_zammad_reads_the_language_attribute() -> None:
    body = {
        "ticket": {"id": 3, "language": "it"},
        "article": {"id": 4, "sender": "Agent", "internal": True, "body": "#tl ciao",
                    "content_type": "text/plain", "type": "note"},
    }  # fmt: skip
    zammad = adapter("zammad", language_attribute="language")
    assert zammad.parse_event(json.dumps(body).encode(), {}).customer_language == "it"
