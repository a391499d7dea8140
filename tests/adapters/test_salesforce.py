"""Salesforce: Outbound Messages and Flow callouts in, requests out, errors and limits.

Deliveries are written by hand from the documented shapes (`salesforce_fixtures`); the request
chains run against `SalesforceEmulator` in `tests/integration/test_salesforce_emulator.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import salesforce_fixtures as fx

from tl_loop import (
    OWN_NOTE_MARKER,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    RateLimitError,
    TextTooLongError,
    WebhookAuthError,
)
from tl_loop.helpdesk import PATH_SECRET_HEADER, PEER_HEADER, Article
from tl_loop.testing import AdapterContract
from tl_loop_salesforce import SECRET_HEADER, SalesforceAdapter

SECRET = "s3cret-for-the-salesforce-relay"
BASE = "https://acme.my.salesforce.com"


def make_adapter(**options: Any) -> SalesforceAdapter:
    settings: dict[str, Any] = {
        "instance_url": BASE,
        "organization_id": fx.ORG,
        "webhook_secret": SECRET,
        "access_token": "00D5e000000KQ2e!token",
    }
    settings.update(options)
    return SalesforceAdapter(**settings)


def path_secret(body: bytes) -> dict[str, str]:
    return {PATH_SECRET_HEADER: SECRET, "Content-Type": "text/xml; charset=utf-8"}


class TestSalesforceContract(AdapterContract):
    @pytest.fixture
    def contract_adapter(self) -> SalesforceAdapter:
        return make_adapter()

    @pytest.fixture
    def signed_webhook(self) -> Callable[[bytes], dict[str, str]]:
        return lambda body: {SECRET_HEADER: SECRET, "Content-Type": "application/json"}

    @pytest.fixture
    def contract_signs_body(self) -> bool:
        return False  # a shared secret; the org id in the body is checked instead

    @pytest.fixture
    def customer_message_body(self) -> bytes:
        return fx.customer_email()

    @pytest.fixture
    def own_note_body(self) -> bytes:
        return fx.agent_comment(f"tl_loop: customer wrote in es\n{OWN_NOTE_MARKER}")


# -- verification --------------------------------------------------------------------------


def test_the_secret_may_come_in_the_endpoint_path() -> None:
    make_adapter().verify_webhook(fx.customer_email(), path_secret(b""))


def test_a_wrong_secret_and_another_org_are_refused() -> None:
    adapter = make_adapter()
    with pytest.raises(WebhookAuthError, match="does not match"):
        adapter.verify_webhook(fx.customer_email(), {PATH_SECRET_HEADER: SECRET + "x"})
    with pytest.raises(WebhookAuthError, match=fx.OTHER_ORG):
        adapter.verify_webhook(fx.customer_email(org=fx.OTHER_ORG), path_secret(b""))


def test_a_15_character_org_id_matches_its_18_character_form() -> None:
    make_adapter(organization_id=fx.ORG[:15]).verify_webhook(fx.customer_email(), path_secret(b""))


def test_the_allow_list_checks_the_address_the_relay_saw() -> None:
    adapter = make_adapter(allowed_networks="13.108.0.0/14, 2001:db8::/32")
    body = fx.customer_email()
    adapter.verify_webhook(body, {**path_secret(body), PEER_HEADER: "13.109.1.2"})
    with pytest.raises(WebhookAuthError, match="not in allowed_networks"):
        adapter.verify_webhook(body, {**path_secret(body), PEER_HEADER: "198.51.100.7"})
    with pytest.raises(WebhookAuthError, match="no sender address"):
        adapter.verify_webhook(body, path_secret(body))


def test_configuration_mistakes_are_named() -> None:
    with pytest.raises(ConfigurationError, match="organization_id"):
        make_adapter(organization_id="00D123")
    with pytest.raises(ConfigurationError, match="16 characters"):
        make_adapter(webhook_secret="short")
    with pytest.raises(ConfigurationError, match="client_secret"):
        make_adapter(access_token=None)
    with pytest.raises(ConfigurationError, match="CIDR"):
        make_adapter(allowed_networks=["salesforce.com"])
    with pytest.raises(ConfigurationError, match="SALESFORCE_WEBHOOK_SECRET"):
        SalesforceAdapter.from_env({"SALESFORCE_INSTANCE_URL": BASE})


# -- events --------------------------------------------------------------------------------


def test_an_incoming_email_is_a_customer_message_with_its_html() -> None:
    event = make_adapter().parse_event(fx.customer_email(), {})
    assert (event.kind, event.conversation_id, event.channel) == (
        "customer_message",
        fx.CASE,
        "email",
    )
    assert event.event_id == "04l5e00000Gx7QzAAJ"  # the notification Id, Salesforce's dedupe key
    assert event.content_type == "html"
    assert event.text == "<p>Hola, mi pedido <b>no</b> ha llegado.</p>"
    assert event.complete


def test_one_envelope_carries_many_notifications() -> None:
    body = fx.envelope(
        (
            "04l000000000001AAA",
            "CaseComment",
            {
                "Id": "00a000000000001AAA",
                "ParentId": fx.CASE,
                "CommentBody": "Hola",
                "IsPublished": True,
            },
        ),
        (
            "04l000000000002AAA",
            "CaseComment",
            {
                "Id": "00a000000000002AAA",
                "ParentId": fx.CASE,
                "CommentBody": "#tl Hi",
                "IsPublished": False,
            },
        ),
        (
            "04l000000000003AAA",
            "EmailMessage",
            {"Id": "02s000000000003AAA", "ParentId": fx.CASE, "Incoming": False, "TextBody": "Re"},
        ),
    )
    adapter = make_adapter()
    events = adapter.parse_events(body, {})
    assert [e.kind for e in events] == ["customer_message", "agent_note", "ignored"]
    assert [e.event_id for e in events] == [f"04l00000000000{n}AAA" for n in (1, 2, 3)]
    with pytest.raises(InvalidRequestError, match="3 notifications"):
        adapter.parse_event(body, {})


def test_feed_posts_and_chat_entries() -> None:
    adapter = make_adapter()
    internal = fx.envelope(
        (
            "04l000000000010AAA",
            "FeedItem",
            {
                "Id": "0D5000000000010AAA",
                "ParentId": fx.SESSION,
                "Body": "<p>#tl Hello</p>",
                "Type": "TextPost",
                "Visibility": "InternalUsers",
                "IsRichText": True,
            },
        )
    )
    event = adapter.parse_event(internal, {})
    assert (event.kind, event.conversation_id, event.channel) == ("agent_note", fx.SESSION, "chat")
    assert event.content_type == "html"
    public = fx.envelope(
        (
            "04l000000000011AAA",
            "FeedItem",
            {
                "Id": "0D5000000000011AAA",
                "ParentId": fx.CASE,
                "Body": "x",
                "Visibility": "AllUsers",
            },
        )
    )
    assert adapter.parse_event(public, {}).kind == "ignored"
    chat = fx.envelope(
        (
            "04l000000000012AAA",
            "ConversationEntry",
            {
                "Id": "0XY000000000012AAA",
                "ConversationId": fx.SESSION,
                "ActorType": "EndUser",
                "EntryType": "Text",
                "Message": "¿Dónde está mi pedido?",
            },
        )
    )
    event = adapter.parse_event(chat, {})
    assert (event.kind, event.channel, event.text) == (
        "customer_message",
        "chat",
        "¿Dónde está mi pedido?",
    )


def test_our_own_records_are_ignored_by_marker_or_by_author() -> None:
    adapter = make_adapter(integration_user_id=fx.AGENT[:15])
    event = adapter.parse_event(fx.agent_comment("#tl Your order ships today."), {})
    assert event.kind == "ignored"  # created by the integration user
    unrelated = fx.envelope(("04l000000000020AAA", "Account", {"Id": "0015e00000ZkM3hAAF"}))
    assert make_adapter().parse_event(unrelated, {}).kind == "ignored"


def test_a_flow_callout_is_parsed_like_an_outbound_message() -> None:
    body = fx.flow_body(
        "CaseComment",
        {
            "Id": "00a000000000030AAA",
            "ParentId": fx.CASE,
            "CommentBody": "#tl Thanks",
            "IsPublished": False,
        },
    )
    adapter = make_adapter()
    adapter.verify_webhook(body, {SECRET_HEADER: SECRET})
    event = adapter.parse_event(body, {})
    assert (event.kind, event.event_id) == ("agent_note", "flow:CaseComment:00a000000000030AAA")
    assert adapter.webhook_reply(body, {}) is None  # a Flow gets the relay's JSON
    with pytest.raises(WebhookAuthError, match="not the configured"):
        adapter.verify_webhook(
            fx.flow_body("CaseComment", {"Id": "x"}, org=fx.OTHER_ORG), {SECRET_HEADER: SECRET}
        )


def test_an_outbound_message_is_acknowledged_in_soap() -> None:
    reply = make_adapter().webhook_reply(fx.customer_email(), {})
    assert reply is not None
    assert (reply.status, reply.content_type.split(";")[0]) == (200, "text/xml")
    assert b"<notificationsResponse" in reply.body
    assert b"<Ack>true</Ack>" in reply.body


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html><body>hi</body></html>", "not an Outbound Message"),
        (b"<soapenv:Envelope", "not well-formed"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', "DTD"),
        (json.dumps({"object": "CaseComment", "records": []}).encode(), "1 to 200"),
        (json.dumps({"object": "CaseComment", "record": {"ParentId": "x"}}).encode(), '"Id"'),
    ],
)
def test_unreadable_deliveries_say_what_is_wrong(body: bytes, problem: str) -> None:
    with pytest.raises(InvalidRequestError, match=problem):
        make_adapter().parse_events(body, {})


# -- requests ------------------------------------------------------------------------------


def test_a_note_is_an_unpublished_case_comment_in_plain_text_within_4000() -> None:
    request = make_adapter().build_post_note(fx.CASE, "<p><strong>Hola</strong></p>" + "x" * 5000)
    assert request.url.path == "/services/data/v62.0/sobjects/CaseComment"
    body = json.loads(request.content)
    assert body["IsPublished"] is False
    assert body["ParentId"] == fx.CASE
    assert body["CommentBody"].startswith("**Hola**")
    assert len(body["CommentBody"]) == 4000
    assert body["CommentBody"].endswith(OWN_NOTE_MARKER)


def test_a_note_may_be_an_internal_feed_post_in_its_tag_set() -> None:
    note = "<p><strong>Hola</strong><br>dos</p><blockquote>cita</blockquote><img src=x>"
    request = make_adapter(note_object="FeedItem").build_post_note(fx.CASE, note)
    body = json.loads(request.content)
    assert request.url.path.endswith("/sobjects/FeedItem")
    assert (body["Visibility"], body["Type"], body["IsRichText"]) == (
        "InternalUsers",
        "TextPost",
        True,
    )
    assert body["Body"] == "<p><b>Hola</b></p><p>dos</p><p>cita</p>"


def test_messaging_sessions_get_feed_posts_and_case_ids_are_checked() -> None:
    request = make_adapter().build_post_note(fx.SESSION, "Hola", content_type="text")
    assert request.url.path.endswith("/sobjects/FeedItem")
    injected = make_adapter().build_get_messages("500' OR Id != '").url.params["q"]
    assert injected.endswith(r"WHERE Id = '500\' OR Id != \''")


def test_the_language_goes_to_the_configured_case_field() -> None:
    assert make_adapter().build_set_language(fx.CASE, "es") is None
    request = make_adapter(language_field="Customer_Language__c").build_set_language(fx.CASE, "es")
    assert request is not None
    assert request.method == "PATCH"
    assert request.url.path == f"/services/data/v62.0/sobjects/Case/{fx.CASE}"
    assert json.loads(request.content) == {"Customer_Language__c": "es"}


def test_a_chat_reply_needs_a_messaging_component_and_a_reply_is_never_cut() -> None:
    with pytest.raises(ConfigurationError, match="chat_message_definition"):
        make_adapter().build_post_reply(fx.SESSION, "Hola")
    with pytest.raises(TextTooLongError, match="shorten"):
        make_adapter().build_post_reply(fx.CASE, "x" * 40000, content_type="text")


def test_knowledge_lists_online_versions_in_salesforce_language_codes() -> None:
    adapter = make_adapter()
    request = adapter.build_list_articles("pt-BR")
    soql = request.url.params["q"]
    assert "FROM Knowledge__kav WHERE PublishStatus = 'Online' AND Language = 'pt_BR'" in soql
    assert "Language = 'en_US'" in adapter.build_list_articles("en").url.params["q"]
    page = httpx.Response(
        200,
        request=request,
        json={
            "totalSize": 1,
            "done": True,
            "records": [
                {
                    "attributes": {"type": "Knowledge__kav", "url": "/x"},
                    "Id": "ka05e000000AbCdAAK",
                    "KnowledgeArticleId": "kA05e000000XyZ1CAI",
                    "Title": "Reset",
                    "Answer__c": "<p>Hi</p>",
                    "Language": "en_US",
                    "LastModifiedDate": "2026-11-02T10:00:00.000+0000",
                }
            ],
        },
    )
    [article] = adapter.parse_articles(page)
    assert (article.id, article.locale, article.body) == (
        "kA05e000000XyZ1CAI",
        "en-US",
        "<p>Hi</p>",
    )
    with pytest.raises(InvalidRequestError, match="draft translations only"):
        adapter.build_publish_translation(article, locale="fr", title="t", body="b", draft=False)


def test_publishing_a_translation_is_a_two_step_chain() -> None:
    from tl_loop.helpdesk import follow_up

    adapter = make_adapter()
    source = Article(id="kA05e000000XyZ1CAI", title="Reset", body="", locale="en-US")
    first = adapter.build_publish_translation(source, locale="fr", title="Réinit", body="<p>Fr</p>")
    assert first.url.path.endswith("/knowledgeManagement/articleVersions/translations")
    assert json.loads(first.content) == {"articleId": "kA05e000000XyZ1CAI", "language": "fr"}
    answer = httpx.Response(201, request=first, json={"id": "ka05e000000DrAfAAK"})
    second = follow_up(first, answer)
    assert second is not None
    assert second.method == "PATCH"
    assert second.url.path.endswith("/sobjects/Knowledge__kav/ka05e000000DrAfAAK")
    assert json.loads(second.content) == {"Title": "Réinit", "Answer__c": "<p>Fr</p>"}


# -- errors and limits ---------------------------------------------------------------------


def response(
    status: int, body: Any, *, path: str = "/services/data/v62.0/query", **headers: str
) -> httpx.Response:
    return httpx.Response(
        status, json=body, headers=headers, request=httpx.Request("GET", BASE + path)
    )


def test_salesforce_errors_keep_their_code_and_message() -> None:
    adapter = make_adapter()
    expired = adapter.error_for(
        response(
            401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        )
    )
    assert isinstance(expired, AuthenticationError)
    assert "INVALID_SESSION_ID: Session expired or invalid" in str(expired)
    limited = adapter.error_for(
        response(
            403,
            [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
        )
    )
    assert isinstance(limited, RateLimitError)
    assert limited.retryable
    assert limited.retry_after
    failed = adapter.error_for(
        response(
            200,
            [
                {
                    "actionName": "emailSimple",
                    "isSuccess": False,
                    "errors": [
                        {"statusCode": "INVALID_EMAIL_ADDRESS", "message": "Invalid to address"}
                    ],
                }
            ],
            path="/services/data/v62.0/actions/standard/emailSimple",
        )
    )
    assert isinstance(failed, InvalidRequestError)
    assert "INVALID_EMAIL_ADDRESS" in str(failed)


def test_the_api_allowance_is_read_and_its_ceiling_honoured() -> None:
    adapter = make_adapter(api_usage_ceiling=0.5)
    assert adapter.error_for(response(200, {}, **{"Sforce-Limit-Info": "api-usage=40/100"})) is None
    assert adapter.api_usage == (40, 100)
    adapter.build_get_messages(fx.CASE)  # under the ceiling
    adapter.error_for(response(200, {}, **{"Sforce-Limit-Info": "api-usage=51/100"}))
    with pytest.raises(RateLimitError, match="51 of the org's 100"):
        adapter.build_get_messages(fx.CASE)


def test_notes_are_read_back_on_cases_but_not_on_messaging_sessions() -> None:
    adapter = make_adapter()
    assert adapter.lists_notes_of(fx.CASE)  # its comments and feed posts come with the case
    assert not adapter.lists_notes_of(fx.SESSION)  # conversation entries hold no notes
