"""`SalesforceEmulator`: the slice of a Salesforce org tl_loop uses, on loopback, over real HTTP.

- `POST /services/oauth2/token`: the client-credentials grant (a connected app's key and
  secret) and the JWT bearer grant (an RS256 assertion checked against the app's certificate
  key: `iss`, `sub`, `aud`, `exp` at most 3 minutes ahead); answers `access_token`,
  `instance_url`, `id`, `token_type`, `issued_at`, `signature`.
- `/services/data/vXX.X/…` with `Authorization: Bearer`: 401 `INVALID_SESSION_ID` for an
  unknown or expired token; every answer carries `Sforce-Limit-Info: api-usage=n/limit`;
  403 `REQUEST_LIMIT_EXCEEDED` once the allowance is used up.
- `GET query?q=` (the SOQL subset of `_soql`, child relationships and parent fields included)
  and `GET query/<locator>` for `nextRecordsUrl` pages.
- `POST sobjects/<Object>` (201 `{"id", "success", "errors"}`), `PATCH sobjects/<Object>/<id>`
  (204), `GET sobjects/<Object>/<id>`.
- `POST actions/standard/emailSimple` (sends the e-mail, logs an `EmailMessage` on the related
  case) and `POST actions/standard/sendConversationMessages` (a message into the Messaging
  session), answering a list of `{"actionName", "errors", "isSuccess", "outputValues"}`.
- `POST knowledgeManagement/articleVersions/translations`: a draft translation of an article.
- Outbound Messaging: workflow rules (`add_outbound_rule`) turn created records into SOAP
  `notifications` POSTed to the endpoint, re-sent with exponential backoff until the answer is
  a `notificationsResponse` with `Ack` true (as Salesforce does, for 24 hours; here in seconds).

```python
from tl_loop.testing import SalesforceEmulator

with SalesforceEmulator() as org:
    org.add_outbound_rule("EmailMessage", "http://127.0.0.1:8080/webhooks/salesforce/<secret>",
                          fields=("Id", "ParentId", "Incoming", "TextBody", "HtmlBody"))
    case = org.add_case(subject="Pedido", email="ana@example.com")
    org.customer_email(case, "Hola, mi pedido no ha llegado.")
```
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

import httpx

from tl_loop.testing._salesforce_org import ApiError, OutboundRule, SalesforceOrg, now_iso

__all__ = ["Delivery", "SalesforceEmulator"]

T = TypeVar("T")
_JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Delivery:
    """One Outbound Message and what became of it."""

    endpoint: str
    body: bytes
    notification_ids: tuple[str, ...]
    attempts: int = 0
    acked: bool = False
    statuses: tuple[int, ...] = ()


class SalesforceEmulator:
    """A Salesforce org on loopback: REST API, OAuth token endpoint, Outbound Messaging.

    Args:
        organization_id: the org's id.
        client_id: the connected app's consumer key.
        client_secret: its consumer secret (client-credentials grant).
        jwt_public_key: the PEM public key (or certificate) of the app, enabling the JWT
            bearer grant for `jwt_username`.
        jwt_username: the user a JWT may name in `sub`.
        api_limit: the daily API allowance.
        batch_size: records per query page.
        retry_base: the first Outbound Message retry delay in seconds (doubled each time).
        retry_for: how long an unacknowledged message is retried (Salesforce: 24 hours).
    """

    def __init__(
        self,
        *,
        organization_id: str = "00D000000000001AAA",
        client_id: str = "3MVG9emulatorConsumerKey",
        client_secret: str = "emulator-consumer-secret",
        jwt_public_key: str | bytes | None = None,
        jwt_username: str = "integration@example.com",
        api_limit: int = 15000,
        batch_size: int = 2000,
        retry_base: float = 0.2,
        retry_for: float = 30.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.org = SalesforceOrg(
            organization_id=organization_id, api_limit=api_limit, batch_size=batch_size
        )
        self.org.on_create = self._queue_notification
        self.client_id = client_id
        self.client_secret = client_secret
        self.jwt_username = jwt_username
        self._jwt_key = _public_key(jwt_public_key) if jwt_public_key else None
        self.retry_base = retry_base
        self.retry_for = retry_for
        self.tokens: dict[str, str] = {}  # token → user id
        self.token_requests: list[str] = []  # grant types, in order
        self.deliveries: list[Delivery] = []
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._fail: list[ApiError] = []
        self._senders: list[threading.Thread] = []

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The instance URL (`http://127.0.0.1:<port>`): API host, My Domain and login host."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Serve in a background thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and stop re-sending Outbound Messages."""
        self._stop.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        for sender in self._senders:
            sender.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- scripting the org -------------------------------------------------------------------

    def add_outbound_rule(
        self,
        object_type: str,
        endpoint: str,
        *,
        fields: Sequence[str],
        when: Callable[[Mapping[str, Any]], bool] = lambda record: True,
    ) -> None:
        """A workflow rule: records of `object_type` matching `when` are sent to `endpoint`."""
        self.org.rules.append(OutboundRule(object_type, endpoint, tuple(fields), when))

    def add_case(
        self,
        *,
        subject: str,
        email: str | None = None,
        origin: str = "Email",
        description: str | None = None,
    ) -> str:
        """A case (as Email-to-Case or Web-to-Case makes it); returns its id."""
        fields = {
            "Subject": subject,
            "SuppliedEmail": email,
            "ContactEmail": None,
            "Origin": origin,
            "Description": description,
            "Status": "New",
        }
        return self.org.create("Case", fields, by=self.org.automated)

    def customer_email(
        self,
        case_id: str,
        text: str,
        *,
        html: str | None = None,
        from_address: str = "customer@example.com",
    ) -> str:
        """An incoming e-mail on a case (Email-to-Case); returns the EmailMessage id."""
        case = self.org.get("Case", case_id) or {}
        fields = {
            "ParentId": case_id,
            "Incoming": True,
            "TextBody": text,
            "HtmlBody": html,
            "FromAddress": from_address,
            "Subject": case.get("Subject"),
            "MessageDate": now_iso(),
            "Status": "0",
        }
        return self.org.create("EmailMessage", fields, by=self.org.automated)

    def agent_comment(self, case_id: str, text: str, *, published: bool = False) -> str:
        """A case comment typed by the agent; returns its id."""
        fields = {"ParentId": case_id, "CommentBody": text, "IsPublished": published}
        return self.org.create("CaseComment", fields, by=self.org.agent)

    def add_messaging_session(self, *, name: str = "Ana") -> str:
        """A Messaging for In-App and Web session with its messaging user; returns its id."""
        user = self.org.create("MessagingEndUser", {"Name": name}, fire=False)
        return self.org.create("MessagingSession", {"MessagingEndUserId": user, "Status": "Active"})

    def customer_chat(self, session_id: str, text: str) -> str:
        """A message from the end user in a Messaging session; returns the entry id."""
        fields = {
            "ConversationId": session_id,
            "ActorType": "EndUser",
            "EntryType": "Text",
            "Message": text,
            "EntryTime": now_iso(),
        }
        return self.org.create("ConversationEntry", fields, by=self.org.automated)

    def add_article(self, *, title: str, body: str, language: str = "en_US") -> str:
        """A published Knowledge article in its master language; returns its article id."""
        article = self.org.new_id("KnowledgeArticle")
        fields = {
            "KnowledgeArticleId": article,
            "Title": title,
            "Answer__c": body,
            "Language": language,
            "PublishStatus": "Online",
            "IsMasterLanguage": True,
            "UrlName": title.lower().replace(" ", "-"),
            "LastModifiedDate": now_iso(),
        }
        self.org.create("Knowledge__kav", fields, fire=False)
        return article

    def expire_tokens(self) -> None:
        """Revoke every access token (the next call answers `INVALID_SESSION_ID`)."""
        with self._lock:
            self.tokens.clear()

    def fail_next(self, status: int, code: str, message: str = "emulated failure") -> None:
        """Answer the next API call with this error (e.g. 403 `REQUEST_LIMIT_EXCEEDED`)."""
        with self._lock:
            self._fail.append(ApiError(status, code, message))

    # -- what happened -----------------------------------------------------------------------

    def records(self, object_type: str, **equal: Any) -> list[dict[str, Any]]:
        """The records of an object whose fields equal `equal`, in creation order."""
        return self.org.rows(object_type, **equal)

    def wait_for(self, condition: Callable[[], T], *, timeout: float = 10.0) -> T:
        """Poll `condition` until it is truthy; return its value.

        Raises:
            TimeoutError: still falsy after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition still false after {timeout} s")
            time.sleep(0.05)

    # -- Outbound Messaging ------------------------------------------------------------------

    def _queue_notification(
        self, rule: OutboundRule, object_type: str, record: dict[str, Any]
    ) -> None:
        notification_id = self.org.new_id("Notification")
        body = _envelope(
            self.org.organization_id, rule, object_type, record, notification_id, self.url
        )
        delivery = Delivery(rule.endpoint, body, (notification_id,))
        with self._lock:
            self.deliveries.append(delivery)
        sender = threading.Thread(target=self._send, args=(delivery,), daemon=True)
        self._senders.append(sender)
        sender.start()

    def _send(self, delivery: Delivery) -> None:
        # Salesforce's rule: retried, with the wait doubling, until acknowledged or too old.
        started, wait = time.monotonic(), self.retry_base
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set() and time.monotonic() - started < self.retry_for:
                delivery.attempts += 1
                try:
                    response = client.post(
                        delivery.endpoint,
                        content=delivery.body,
                        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
                    )
                    delivery.statuses += (response.status_code,)
                    if response.status_code == 200 and _acknowledged(response.content):
                        delivery.acked = True
                        return
                except httpx.TransportError:
                    delivery.statuses += (0,)
                self._stop.wait(wait)
                wait = min(wait * 2, 5.0)

    def redeliver(self, delivery: Delivery) -> None:
        """Send a delivered message once more (Salesforce may deliver more than once)."""
        again = Delivery(delivery.endpoint, delivery.body, delivery.notification_ids)
        with self._lock:
            self.deliveries.append(again)
        self._send(again)

    # -- OAuth -----------------------------------------------------------------------------

    def _token(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", "")
        self.token_requests.append(grant)
        if grant == "client_credentials":
            if (form.get("client_id"), form.get("client_secret")) != (
                self.client_id,
                self.client_secret,
            ):
                return 400, {
                    "error": "invalid_client",
                    "error_description": "invalid client credentials",
                }
            return 200, self._issue(self.org.integration_user)
        if grant == _JWT_GRANT:
            problem = self._check_assertion(form.get("assertion", ""))
            if problem:
                return 400, {"error": "invalid_grant", "error_description": problem}
            return 200, self._issue(self.org.integration_user)
        return 400, {
            "error": "unsupported_grant_type",
            "error_description": "grant type not supported",
        }

    def _issue(self, user: str) -> dict[str, Any]:
        token = f"{self.org.organization_id[:15]}!{secrets.token_urlsafe(24)}"
        with self._lock:
            self.tokens[token] = user
        return {
            "access_token": token,
            "instance_url": self.url,
            "id": f"{self.url}/id/{self.org.organization_id}/{user}",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
            "scope": "api",
        }

    def _check_assertion(self, assertion: str) -> str | None:
        if self._jwt_key is None:
            return "the JWT bearer flow is not set up for this app (no certificate)"
        try:
            head, claims_part, signature = assertion.split(".")
            header = json.loads(_unb64(head))
            claims = json.loads(_unb64(claims_part))
        except ValueError:
            return "invalid assertion"
        if header.get("alg") != "RS256":
            return "invalid assertion: the algorithm must be RS256"
        if not _verify(self._jwt_key, f"{head}.{claims_part}".encode(), _unb64(signature)):
            return "invalid assertion: the signature does not verify"
        if claims.get("iss") != self.client_id:
            return "invalid_client_id: client identifier invalid"
        if claims.get("sub") != self.jwt_username:
            return "user hasn't approved this consumer"
        if claims.get("aud") != self.url:
            return "audience is invalid"
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp < time.time() or exp > time.time() + 300:
            return "expired authorization code"
        return None

    def _user_for(self, authorization: str | None) -> str | None:
        token = (authorization or "").removeprefix("Bearer ").strip()
        with self._lock:
            return self.tokens.get(token)

    def _take_failure(self) -> ApiError | None:
        with self._lock:
            return self._fail.pop(0) if self._fail else None

    # -- the REST API ----------------------------------------------------------------------

    def _api(
        self, method: str, path: str, query: Mapping[str, list[str]], body: Any, user: str
    ) -> tuple[int, Any]:
        parts = path.split("/")[4:]  # after /services/data/vXX.X
        if method == "GET" and parts == ["query"]:
            return 200, self.org.query(query.get("q", [""])[0])
        if method == "GET" and len(parts) == 2 and parts[0] == "query":
            return 200, self.org.more(parts[1])
        if parts[:1] == ["sobjects"] and len(parts) == 2 and method == "POST":
            record_id = self.org.api_create(parts[1], _object(body), user=user)
            return 201, {"id": record_id, "success": True, "errors": []}
        if parts[:1] == ["sobjects"] and len(parts) == 3:
            if method == "PATCH":
                self.org.api_update(parts[1], parts[2], _object(body))
                return 204, None
            if method == "GET":
                record = self.org.get(parts[1], parts[2])
                if record is None:
                    raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
                return 200, record
        if method == "POST" and parts[:2] == ["actions", "standard"] and len(parts) == 3:
            return self._action(parts[2], _object(body), user)
        if method == "POST" and parts == ["knowledgeManagement", "articleVersions", "translations"]:
            return self.org.submit_translation(_object(body))
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def _action(self, name: str, body: Mapping[str, Any], user: str) -> tuple[int, Any]:
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not inputs:
            raise ApiError(400, "JSON_PARSER_ERROR", "the action needs an inputs list")
        results: list[dict[str, Any]] = []
        for item in inputs:
            try:
                if name == "emailSimple":
                    self.org.email_simple(item, user)
                elif name == "sendConversationMessages":
                    self.org.send_conversation_message(item, user)
                else:
                    raise ApiError(404, "NOT_FOUND", f"no standard action {name}")
                results.append(
                    {"actionName": name, "errors": None, "isSuccess": True, "outputValues": None}
                )
            except ApiError as error:
                results.append(
                    {
                        "actionName": name,
                        "isSuccess": False,
                        "outputValues": None,
                        "errors": [
                            {"statusCode": error.code, "message": error.message, "fields": []}
                        ],
                    }
                )
        return (200 if all(r["isSuccess"] for r in results) else 400), results


# -- HTTP ----------------------------------------------------------------------------------


def _handler(emulator: SalesforceEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any, *, limits: bool = False) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            if limits:
                self.send_header("Sforce-Limit-Info", emulator.org.limit_info())
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _handle(self) -> None:
            split = urlsplit(self.path)
            raw = self._body()
            if split.path == "/services/oauth2/token" and self.command == "POST":
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                self._send(*emulator._token(form))
                return
            if not split.path.startswith("/services/data/v"):
                self._send(404, [{"message": "not found", "errorCode": "NOT_FOUND"}])
                return
            user = emulator._user_for(self.headers.get("Authorization"))
            if user is None:
                self._send(
                    401,
                    [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
                )
                return
            try:
                failure = emulator._take_failure()
                if failure is not None:
                    raise failure
                emulator.org.count_call()
                body = json.loads(raw) if raw else None
                status, payload = emulator._api(
                    self.command, unquote(split.path), parse_qs(split.query), body, user
                )
            except ApiError as error:
                self._send(error.status, error.body(), limits=True)
                return
            except ValueError:
                self._send(400, [{"message": "malformed JSON", "errorCode": "JSON_PARSER_ERROR"}])
                return
            self._send(status, payload, limits=True)

        do_GET = do_POST = do_PATCH = _handle

    return Handler


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "the body must be a JSON object")
    return body


def _envelope(
    org_id: str,
    rule: OutboundRule,
    object_type: str,
    record: Mapping[str, Any],
    notification_id: str,
    url: str,
) -> bytes:
    fields = []
    for name in rule.fields:
        value = record.get(name)
        if value is None:
            fields.append(f'<sf:{name} xsi:nil="true"/>')
        else:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            fields.append(f"<sf:{name}>{escape(text)}</sf:{name}>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        " <soapenv:Body>\n"
        '  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">\n'
        f"   <OrganizationId>{org_id}</OrganizationId>\n"
        f"   <ActionId>{rule.action_id}</ActionId>\n"
        '   <SessionId xsi:nil="true"/>\n'
        f"   <EnterpriseUrl>{url}/services/Soap/c/62.0/{org_id[:15]}</EnterpriseUrl>\n"
        f"   <PartnerUrl>{url}/services/Soap/u/62.0/{org_id[:15]}</PartnerUrl>\n"
        "   <Notification>\n"
        f"    <Id>{notification_id}</Id>\n"
        f'    <sObject xsi:type="sf:{object_type}" '
        'xmlns:sf="urn:sobject.enterprise.soap.sforce.com">\n'
        f"     {''.join(fields)}\n"
        "    </sObject>\n"
        "   </Notification>\n"
        "  </notifications>\n"
        " </soapenv:Body>\n"
        "</soapenv:Envelope>\n"
    ).encode()


def _acknowledged(body: bytes) -> bool:
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return False
    ack = root.find(
        "{http://schemas.xmlsoap.org/soap/envelope/}Body/"
        "{http://soap.sforce.com/2005/09/outbound}notificationsResponse/"
        "{http://soap.sforce.com/2005/09/outbound}Ack"
    )
    return ack is not None and (ack.text or "").strip().lower() == "true"


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _public_key(pem: str | bytes) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = pem.encode() if isinstance(pem, str) else pem
    if b"CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return load_pem_public_key(data)


def _verify(key: Any, message: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
