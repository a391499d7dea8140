"""The relay for real (`python -m tl_loop.relay` under uvicorn) against `SalesforceEmulator`:
Outbound Messages in over HTTP, acknowledged in SOAP; OAuth, SOQL and writes out over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from relay_servers import RelayProcess
from tl_loop.testing import SalesforceEmulator
from tl_loop_salesforce import SECRET_HEADER

SPANISH = "Hola, mi pedido no ha llegado todavía."
TRANSLATIONS = {
    SPANISH: "Hello, my order has not arrived yet.",
    "Your order ships today.": "Su pedido se envía hoy.",
}
EMAIL_FIELDS = (
    "Id",
    "ParentId",
    "Incoming",
    "FromAddress",
    "Subject",
    "TextBody",
    "HtmlBody",
    "CreatedById",
)
COMMENT_FIELDS = ("Id", "ParentId", "CommentBody", "IsPublished", "CreatedById")


def write_config(directory: Path, org: SalesforceEmulator) -> Path:
    translations = "\n".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in TRANSLATIONS.items())
    config = directory / "tl-loop.toml"
    config.write_text(
        f"""
engines = ["fake"]
agent_languages = ["en"]

[engine.fake.translations]
{translations}

[detection]
languages = ["en", "es"]

[relay]
queue_path = "queue.sqlite3"
workers = 2
poll_seconds = 0.1
http_timeout = 3
lease_seconds = 12

{org.relay_table()}
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def org() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(retry_base=0.1, retry_for=20.0) as emulator:
        yield emulator


@pytest.fixture
def relay(tmp_path: Path, org: SalesforceEmulator) -> Iterator[RelayProcess]:
    process = RelayProcess(write_config(tmp_path, org))
    try:
        process.start()
        org.webhook_url = f"{process.url}/webhooks/salesforce"
        endpoint = f"{process.url}/webhooks/salesforce/{org.webhook_secret}"
        org.add_outbound_rule("EmailMessage", endpoint, fields=EMAIL_FIELDS)
        org.add_outbound_rule("CaseComment", endpoint, fields=COMMENT_FIELDS)
        yield process
    finally:
        process.stop()
        process.kill()


def notes(org: SalesforceEmulator, case: str) -> list[dict[str, object]]:
    return org.records("CaseComment", ParentId=case, CreatedById=org.org.integration_user)


def test_a_customer_email_becomes_one_internal_comment_with_the_translation(
    relay: RelayProcess, org: SalesforceEmulator
) -> None:
    case = org.add_case(subject="Pedido", email="ana@example.com")
    org.customer_email(case, SPANISH, from_address="ana@example.com")
    [note] = org.wait_for(lambda: notes(org, case), timeout=20)
    assert note["IsPublished"] is False
    assert "Hello, my order has not arrived yet." in str(note["CommentBody"])
    assert SPANISH in str(note["CommentBody"])
    org.wait_for(lambda: (org.org.get("Case", case) or {}).get("Customer_Language__c") == "es")
    # Every Outbound Message, our own comment's included, was acknowledged in SOAP.
    org.wait_for(lambda: len(org.deliveries) == 2 and all(d.acked for d in org.deliveries))
    assert org.org.sent_emails == []


def test_tl_sends_one_email_and_a_redelivery_is_handled_once(
    relay: RelayProcess, org: SalesforceEmulator
) -> None:
    case = org.add_case(subject="Pedido 1234", email="ana@example.com")
    org.customer_email(case, SPANISH, from_address="ana@example.com")
    org.wait_for(lambda: notes(org, case), timeout=20)
    first = org.deliveries[0]
    org.redeliver(first)  # Salesforce may deliver a notification more than once
    assert org.deliveries[-1].acked

    org.agent_comment(case, "#tl Your order ships today.")
    [email] = org.wait_for(lambda: org.org.sent_emails, timeout=20)
    assert email["emailAddresses"] == "ana@example.com"
    assert email["emailBody"] == "<p>Su pedido se envía hoy.</p>"
    time.sleep(1.0)  # time for a duplicate to show up
    assert len(org.org.sent_emails) == 1
    assert len(notes(org, case)) == 1
    assert relay.metric('tl_loop_webhooks_total{adapter="salesforce",outcome="duplicate"}') == 1


def test_a_delivery_from_another_org_is_refused_and_never_acknowledged(
    relay: RelayProcess, org: SalesforceEmulator
) -> None:
    with SalesforceEmulator(
        organization_id="00D7x000000ABCDEAA", retry_base=0.1, retry_for=1.5
    ) as stranger:
        endpoint = f"{relay.url}/webhooks/salesforce/{org.webhook_secret}"
        stranger.add_outbound_rule("EmailMessage", endpoint, fields=EMAIL_FIELDS)
        stranger.customer_email(stranger.add_case(subject="x"), SPANISH)
        delivery = stranger.wait_for(lambda: stranger.deliveries and stranger.deliveries[0])
        stranger.wait_for(lambda: delivery.attempts >= 2)
        assert not delivery.acked
        assert set(delivery.statuses) == {401}
    assert relay.metric('tl_loop_webhooks_total{adapter="salesforce",outcome="unauthorized"}') >= 2
    assert org.records("CaseComment") == []


def test_the_generic_emulator_interface_runs_email_and_chat_through_the_relay(
    relay: RelayProcess, org: SalesforceEmulator
) -> None:
    ticket = org.open_conversation()
    answer = org.send(org.customer_message(ticket, SPANISH))
    assert answer.status_code == 200
    assert b"<Ack>true</Ack>" in answer.content
    [note] = org.wait_for(lambda: org.notes(ticket.id), timeout=20)
    assert "Hello, my order has not arrived yet." in note.body
    org.send(org.agent_note(ticket, "#tl Your order ships today."))
    [reply] = org.wait_for(lambda: org.replies(ticket.id), timeout=20)
    assert reply.body == "<p>Su pedido se envía hoy.</p>"

    chat = org.open_conversation(channel="chat")
    org.send(org.customer_message(chat, SPANISH))
    [chat_note] = org.wait_for(lambda: org.notes(chat.id), timeout=20)
    assert chat_note.content_type == "html"  # an internal feed post on the session
    org.send(org.agent_note(chat, "#tl Your order ships today."))
    [chat_reply] = org.wait_for(lambda: org.replies(chat.id), timeout=20)
    assert chat_reply.body == "Su pedido se envía hoy."


def test_a_flow_callout_with_the_secret_header_is_queued(
    relay: RelayProcess, org: SalesforceEmulator
) -> None:
    case = org.add_case(subject="Pedido", email="ana@example.com")
    record = org.customer_email(case, SPANISH, from_address="ana@example.com", fire=False)
    body = {"organizationId": org.org.organization_id, "object": "EmailMessage",
            "record": {k: v for k, v in org.org.get("EmailMessage", record).items()}}  # fmt: skip
    url = f"{relay.url}/webhooks/salesforce"
    answer = httpx.post(url, json=body, headers={SECRET_HEADER: org.webhook_secret}, timeout=5)
    assert answer.status_code == 202
    assert answer.json()["status"] == "queued"
    org.wait_for(lambda: notes(org, case), timeout=20)
    forged = httpx.post(url, json=body, headers={SECRET_HEADER: "guessed-" * 3}, timeout=5)
    assert forged.status_code == 401
