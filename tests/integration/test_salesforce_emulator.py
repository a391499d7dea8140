"""The Salesforce adapter against `SalesforceEmulator` over real HTTP on loopback: OAuth token
flows and their renewal, SOQL pages, notes, the reply chains, limits, Knowledge, and the
Outbound Message sender's retry-until-acknowledged rule."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tl_loop import AuthenticationError, InvalidRequestError, RateLimitError
from tl_loop.helpdesk import HelpdeskClient
from tl_loop.kb import kb_publish, kb_pull, translate_folder
from tl_loop.testing import SalesforceEmulator
from tl_loop_salesforce import SalesforceAdapter

SECRET = "s3cret-for-the-salesforce-relay"


@pytest.fixture
def org() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(retry_base=0.05, retry_for=3.0) as emulator:
        yield emulator


def adapter_for(org: SalesforceEmulator, **options: Any) -> SalesforceAdapter:
    settings: dict[str, Any] = {
        "instance_url": org.url,
        "organization_id": org.org.organization_id,
        "webhook_secret": SECRET,
        "client_id": org.client_id,
        "client_secret": org.client_secret,
    }
    settings.update(options)
    return SalesforceAdapter(**settings)


def test_client_credentials_token_is_fetched_once_and_renewed_after_invalid_session(
    org: SalesforceEmulator,
) -> None:
    adapter = adapter_for(org)
    case = org.add_case(subject="Pedido", email="ana@example.com")
    org.customer_email(case, "Hola, mi pedido no ha llegado.", from_address="ana@example.com")
    with HelpdeskClient(adapter) as client:
        [message] = client.get_messages(case)
        client.get_messages(case)
        assert org.token_requests == ["client_credentials"]
        org.expire_tokens()  # the session times out: INVALID_SESSION_ID
        client.post_note(case, "<p>Translation</p>")
        assert org.token_requests == ["client_credentials", "client_credentials"]
    assert (message.author_role, message.text) == ("customer", "Hola, mi pedido no ha llegado.")
    [note] = org.records("CaseComment", ParentId=case)
    assert note["IsPublished"] is False
    assert note["CommentBody"] == "Translation"


def test_refused_credentials_say_which_to_check(org: SalesforceEmulator) -> None:
    adapter = adapter_for(org, client_secret="wrong-secret")
    with (
        HelpdeskClient(adapter) as client,
        pytest.raises(AuthenticationError, match="invalid_client"),
    ):
        client.get_messages(org.add_case(subject="x"))


def test_the_jwt_bearer_flow_signs_an_assertion_the_org_verifies(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tl-loop")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    with SalesforceEmulator(jwt_public_key=cert_pem, jwt_username="bot@acme.example") as org:
        adapter = adapter_for(
            org,
            client_secret=None,
            jwt_username="bot@acme.example",
            jwt_private_key=pem,
            login_url=org.url,
        )
        case = org.add_case(subject="x")
        with HelpdeskClient(adapter) as client:
            client.post_note(case, "hello", content_type="text")
        assert org.token_requests == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
        # The token names the instance to use: requests built for a stale URL follow it.
        moved = adapter_for(
            org,
            instance_url="http://127.0.0.1:9",
            client_secret=None,
            jwt_username="bot@acme.example",
            jwt_private_key=pem,
            login_url=org.url,
        )
        with HelpdeskClient(moved) as client:
            assert [m.text for m in client.get_messages(case)] == ["hello"]
        wrong_user = adapter_for(
            org,
            client_secret=None,
            jwt_username="someone@else",
            jwt_private_key=pem,
            login_url=org.url,
        )
        with (
            HelpdeskClient(wrong_user) as client,
            pytest.raises(AuthenticationError, match="approved"),
        ):
            client.post_note(case, "hello", content_type="text")


def test_query_pages_are_followed_through_next_records_url(org: SalesforceEmulator) -> None:
    org.org.batch_size = 2
    session = org.add_messaging_session()
    for n in range(5):
        org.customer_chat(session, f"mensaje {n}")
    with HelpdeskClient(adapter_for(org)) as client:
        messages = client.get_messages(session)
    assert [m.text for m in messages] == [f"mensaje {n}" for n in range(5)]
    assert {m.author_role for m in messages} == {"customer"}


def test_an_email_reply_reads_the_address_first_when_it_is_not_known(
    org: SalesforceEmulator,
) -> None:
    case = org.add_case(subject="Pedido 1234", email="web@example.com")
    org.customer_email(case, "Hola", from_address="ana@example.com")
    with HelpdeskClient(adapter_for(org)) as client:  # a fresh adapter knows no address
        client.post_reply(case, "<p>Su pedido se envía hoy.</p>")
    [sent] = org.org.sent_emails
    assert (sent["emailAddresses"], sent["emailSubject"]) == ("ana@example.com", "Re: Pedido 1234")
    assert sent["logEmailOnSend"] is True
    assert sent["relatedRecordId"] == case
    logged = org.records("EmailMessage", ParentId=case, Incoming=False)
    assert [m["HtmlBody"] for m in logged] == ["<p>Su pedido se envía hoy.</p>"]
    web_case = org.add_case(subject="Formulario", email="web@example.com", origin="Web")
    with HelpdeskClient(adapter_for(org)) as client:
        client.post_reply(web_case, "Gracias", content_type="text")
    assert org.org.sent_emails[-1]["emailAddresses"] == "web@example.com"
    nobody = org.add_case(subject="Sin correo")
    with (
        HelpdeskClient(adapter_for(org)) as client,
        pytest.raises(InvalidRequestError, match="no customer e-mail"),
    ):
        client.post_reply(nobody, "Gracias", content_type="text")


def test_a_chat_reply_goes_into_the_messaging_session(org: SalesforceEmulator) -> None:
    session = org.add_messaging_session()
    adapter = adapter_for(org, chat_message_definition="TL_Reply")
    with HelpdeskClient(adapter) as client:
        client.post_reply(session, "<p>Su pedido se envía <b>hoy</b>.</p>")
    [entry] = org.records("ConversationEntry", ConversationId=session, ActorType="Agent")
    assert entry["Message"] == "Su pedido se envía **hoy**."


def test_the_daily_limit_is_a_rate_limit_and_the_ceiling_stops_us_first() -> None:
    with SalesforceEmulator(rate_limit=2) as org:
        case = org.add_case(subject="x")
        polite, greedy = org.adapter(), org.adapter(api_usage_ceiling=1.0)
        with HelpdeskClient(polite, sleep=lambda seconds: None) as client:
            client.get_messages(case)
            assert polite.api_usage == (1, 2)
            client.get_messages(case)  # 2 of 2 used: over the 90 % ceiling, nothing is sent
            with pytest.raises(RateLimitError, match="api_usage_ceiling"):
                client.post_note(case, "x", content_type="text")
        with HelpdeskClient(greedy, sleep=lambda seconds: None) as client:
            with pytest.raises(RateLimitError, match="REQUEST_LIMIT_EXCEEDED") as refused:
                client.post_note(case, "x", content_type="text")
            assert refused.value.retryable
        assert org.records("CaseComment") == []


def test_knowledge_pull_translate_and_publish_as_draft_translation(
    org: SalesforceEmulator, tmp_path: Path
) -> None:
    from tl_loop import TlLoopConfig

    article = org.add_article(title="Reset your password", body="<p>Open the settings.</p>")
    adapter = adapter_for(org)
    assert kb_pull(adapter, locale="en", dest=tmp_path / "src") == 1
    config = TlLoopConfig(engines=["fake"])
    translate_folder(
        tmp_path / "src", out_dir=tmp_path / "out", targets=["fr"], config=config, workers=0
    )
    report = kb_publish(tmp_path / "out", adapter=adapter, source="en")
    assert report.published == [(f"{article}.html", "fr")], report.failed
    [draft] = org.records("Knowledge__kav", KnowledgeArticleId=article, Language="fr")
    assert draft["PublishStatus"] == "Draft"
    assert draft["IsMasterLanguage"] is False
    assert draft["Title"].startswith("[fr]")
    assert "Open the settings." in draft["Answer__c"]
    [online] = org.records("Knowledge__kav", KnowledgeArticleId=article, PublishStatus="Online")
    assert online["Language"] == "en_US"  # the published article is untouched


class _Listener(BaseHTTPRequestHandler):
    answers: ClassVar[list[tuple[int, bytes]]] = []
    received: ClassVar[list[bytes]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        status, body = self.answers.pop(0) if self.answers else (200, b"")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_outbound_messages_are_sent_again_until_acknowledged(org: SalesforceEmulator) -> None:
    from tl_loop_salesforce._inbound import ACK

    _Listener.answers = [(503, b""), (200, b"<ok/>"), (200, ACK)]
    _Listener.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Listener)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}/webhooks/salesforce/{SECRET}"
        org.add_outbound_rule("EmailMessage", endpoint, fields=("Id", "ParentId", "TextBody"))
        org.customer_email(org.add_case(subject="x"), "Hola")
        delivery = org.wait_for(lambda: next((d for d in org.deliveries if d.acked), None))
    finally:
        server.shutdown()
        server.server_close()
    assert delivery.attempts == 3
    assert delivery.statuses == (503, 200, 200)
    assert len(set(_Listener.received)) == 1  # the same notification each time
    assert b"<OrganizationId>" in _Listener.received[0]
