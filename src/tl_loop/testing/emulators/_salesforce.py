"""`SalesforceEmulator`: the slice of a Salesforce org tl_loop uses, on loopback, over real HTTP.

- `POST /services/oauth2/token`: the client-credentials grant (the connected app's key and
  secret) and the JWT bearer grant (an RS256 assertion checked against the app's certificate
  key); answers `access_token`, `instance_url`, `id`, `token_type`, `issued_at`, `signature`.
- `/services/data/vXX.X/…` with `Authorization: Bearer`: 401 `INVALID_SESSION_ID` for an
  unknown or revoked token; `Sforce-Limit-Info: api-usage=n/limit` on every answer and 403
  `REQUEST_LIMIT_EXCEEDED` once the daily allowance is spent.
- `GET query?q=` (the SOQL subset of `_soql`: child relationships, parent fields) and
  `GET query/<locator>` for `nextRecordsUrl` pages; `POST sobjects/<Object>` (201),
  `PATCH`/`GET sobjects/<Object>/<id>`; `POST actions/standard/emailSimple` (sends, logs an
  `EmailMessage` on the case) and `sendConversationMessages` (a message into the Messaging
  session); `POST knowledgeManagement/articleVersions/translations` (a draft translation).
- Outbound Messaging: workflow rules (`add_outbound_rule`) turn created records into SOAP
  `notifications`, re-sent with doubling waits until the answer is `notificationsResponse`
  with `Ack` true (Salesforce keeps trying for 24 hours; here for `retry_for` seconds).

```python
from tl_loop.testing import SalesforceEmulator

with SalesforceEmulator() as org:
    adapter = org.adapter()                          # the installed SalesforceAdapter
    case = org.add_case(subject="Pedido 1234", email="ana@example.com")
    org.customer_email(case, "Hola, mi pedido no ha llegado.", from_address="ana@example.com")
```
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qs

import httpx

from tl_loop.helpdesk._adapter import PATH_SECRET_HEADER
from tl_loop.testing.emulators._salesforce_org import (
    ApiError,
    OutboundRule,
    SalesforceOrg,
)
from tl_loop.testing.emulators._salesforce_script import OrgScripting
from tl_loop.testing.emulators._salesforce_wire import (
    Delivery,
    OutboundSender,
    check_assertion,
    envelope,
    public_key,
)
from tl_loop.testing.emulators._server import (
    EmulatorRequest,
    EmulatorResponse,
    EmulatorServer,
    Refusal,
    Webhook,
)
from tl_loop.testing.emulators._store import EmulatedConversation, EmulatedMessage, Write

__all__ = ["Delivery", "SalesforceEmulator"]

_API = r"/services/data/v\d+\.\d+"
_JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    500: "UNKNOWN_EXCEPTION",
    503: "SERVER_UNAVAILABLE",
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
FEED_FIELDS = ("Id", "ParentId", "Body", "Type", "Visibility", "IsRichText", "CreatedById")
ENTRY_FIELDS = ("Id", "ConversationId", "ActorType", "EntryType", "Message", "CreatedById")


class SalesforceEmulator(OrgScripting, EmulatorServer):
    """A Salesforce org on loopback; see the module docstring for what it serves.

    Args:
        organization_id: the org's id.
        client_id: the connected app's consumer key.
        client_secret: its consumer secret (client-credentials grant).
        jwt_public_key: the app's PEM certificate (or public key): enables the JWT grant.
        jwt_username: the user a JWT may name in `sub`.
        webhook_secret: the last segment of the Outbound Message endpoint URL.
        batch_size: records per query page (Salesforce: up to 2,000).
        retry_base: the first Outbound Message retry wait in seconds (doubled each time).
        retry_for: how long an unacknowledged Outbound Message is retried.
        webhook_url: where `send` posts (the relay's `/webhooks/salesforce`; the secret is
            appended as Salesforce's endpoint URL carries it).
        rate_limit: the daily API allowance (default 15,000).
    """

    platform: ClassVar[str] = "salesforce"
    default_rate_limit: ClassVar[int] = 15_000  # Enterprise Edition's base daily allowance

    def __init__(
        self,
        *,
        organization_id: str = "00D000000000001AAA",
        client_id: str = "3MVG9emulatorConsumerKey",
        client_secret: str = "emulator-consumer-secret",
        jwt_public_key: str | bytes | None = None,
        jwt_username: str = "integration@example.com",
        webhook_secret: str = "emulator-salesforce-outbound-secret",
        batch_size: int = 2000,
        retry_base: float = 0.2,
        retry_for: float = 30.0,
        webhook_url: str | None = None,
        rate_limit: int | None = None,
        rate_window: float = 86400.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.org = SalesforceOrg(organization_id=organization_id, batch_size=batch_size)
        self.client_id = client_id
        self.client_secret = client_secret
        self.jwt_username = jwt_username
        self.webhook_secret = webhook_secret
        self._jwt_key = public_key(jwt_public_key) if jwt_public_key else None
        self.retry_base = retry_base
        self.retry_for = retry_for
        self.tokens: dict[str, str] = {}  # token → user id
        self.token_requests: list[str] = []  # grant types, in order
        self._conversations: dict[str, int] = {}  # Case or session id → store conversation id
        self._records: dict[int, str] = {}
        self._articles: dict[str, int] = {}  # KnowledgeArticleId → store article id
        self._synced: set[int] = set()  # store messages that exist as records
        super().__init__(
            webhook_url=webhook_url,
            rate_limit=rate_limit,
            rate_window=rate_window,
            host=host,
            port=port,
        )
        self.sender = OutboundSender(
            organization_id=self.org.organization_id,
            instance_url=self.url,
            retry_base=retry_base,
            retry_for=retry_for,
        )
        self.org.on_create = self.sender.queue

    def close(self) -> None:
        """Stop serving and stop re-sending Outbound Messages."""
        self.sender.close()
        super().close()

    # -- the platform's rules ------------------------------------------------------------

    def routes(self) -> None:
        self.route("POST", r"/services/oauth2/token", self._token, public=True)
        self.route("GET", _API + r"/query", self._query)
        self.route("GET", _API + r"/query/(?P<locator>[\w-]+)", self._more)
        self.route("POST", _API + r"/sobjects/(?P<object>\w+)", self._create)
        self.route("PATCH", _API + r"/sobjects/(?P<object>\w+)/(?P<id>\w+)", self._update)
        self.route("GET", _API + r"/sobjects/(?P<object>\w+)/(?P<id>\w+)", self._retrieve)
        self.route("POST", _API + r"/actions/standard/(?P<action>\w+)", self._action)
        translations = _API + r"/knowledgeManagement/articleVersions/translations"
        self.route("POST", translations, self._translate)

    def authenticate(self, request: EmulatorRequest) -> None:
        token = (request.headers.get("authorization") or "").removeprefix("Bearer ").strip()
        with self.store.lock:
            known = token in self.tokens
        if not known:
            raise Refusal(
                401,
                "Session expired or invalid",
                payload=[
                    {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
                ],
            )

    def rate_limit_headers(self, limit: int, remaining: int, reset: float) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={limit - remaining}/{limit}"}

    def rate_limited(self, reset: float) -> EmulatorResponse:
        # The daily allowance spent: 403 REQUEST_LIMIT_EXCEEDED, no Retry-After.
        return EmulatorResponse(
            403,
            [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
        )

    def error_payload(self, status: int, message: str) -> Any:
        return [{"message": message, "errorCode": _CODES.get(status, "UNKNOWN_EXCEPTION")}]

    def adapter_options(self) -> dict[str, Any]:
        """What `SalesforceAdapter` needs to talk to this org."""
        return {
            "instance_url": self.url,
            "organization_id": self.org.organization_id,
            "webhook_secret": self.webhook_secret,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "integration_user_id": self.org.integration_user,
            "language_field": "Customer_Language__c",
            "satisfaction_field": "CSAT__c",
            "chat_message_definition": "TL_Reply",
        }

    # -- the generic emulator interface --------------------------------------------------

    def open_conversation(self, **details: Any) -> EmulatedConversation:
        """A conversation: a case (e-mail) or a Messaging session (`channel="chat"`)."""
        conversation = super().open_conversation(**details)
        if conversation.channel == "chat":
            record = self.add_messaging_session(name=conversation.customer_name)
        else:
            record = self.add_case(subject=conversation.subject, email=conversation.customer_email)
        with self.store.lock:
            self._conversations[record] = conversation.id
            self._records[conversation.id] = record
        return conversation

    def conversation_key(self, conversation: EmulatedConversation) -> str:
        """The Case or MessagingSession id behind a conversation."""
        return self._records[conversation.id]

    def customer_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        parent = self.conversation_key(conversation)
        self._synced.add(message.id)
        if conversation.channel == "chat":
            record = self.customer_chat(parent, message.body, fire=False)
            return self.outbound("ConversationEntry", record, ENTRY_FIELDS)
        html = message.body if message.content_type == "html" else None
        record = self.customer_email(
            parent, message.body, html=html, fire=False, from_address=conversation.customer_email
        )
        return self.outbound("EmailMessage", record, EMAIL_FIELDS)

    def agent_note_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        parent = self.conversation_key(conversation)
        self._synced.add(message.id)
        if conversation.channel == "chat":
            fields = {
                "ParentId": parent,
                "Body": f"<p>{message.body}</p>",
                "Type": "TextPost",
                "Visibility": "InternalUsers",
                "IsRichText": True,
            }
            record = self.org.create("FeedItem", fields, by=self.org.agent, fire=False)
            return self.outbound("FeedItem", record, FEED_FIELDS)
        record = self.agent_comment(parent, message.body, fire=False)
        return self.outbound("CaseComment", record, COMMENT_FIELDS)

    def outbound(self, object_type: str, record_id: str, fields: Sequence[str]) -> Webhook:
        """The Outbound Message Salesforce sends for one record (not yet sent)."""
        record = self.org.get(object_type, record_id) or {}
        body = envelope(
            organization_id=self.org.organization_id,
            action_id="04k000000000001AAA",
            instance_url=self.url,
            notifications=[
                (
                    self.org.new_id("Notification"),
                    object_type,
                    {name: record.get(name) for name in fields},
                )
            ],
        )
        # Salesforce sends no header of its own: the secret is the endpoint URL's last segment
        # (`send` appends it), which the relay hands the adapter as PATH_SECRET_HEADER. The
        # relay drops that header when a sender sets it, so it authenticates nothing in transit.
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '""',
            PATH_SECRET_HEADER: self.webhook_secret,
        }
        return Webhook(object_type, body, headers)

    def send(
        self, webhook: Webhook, *, url: str | None = None, timeout: float = 10.0
    ) -> httpx.Response:
        # An Outbound Message's endpoint URL carries the shared secret as its last segment.
        target = url or self.webhook_url or ""
        if target.rstrip("/").endswith(f"/webhooks/{self.platform}"):
            target = f"{target.rstrip('/')}/{self.webhook_secret}"
        return super().send(webhook, url=target or None, timeout=timeout)

    # -- scripting the org ---------------------------------------------------------------

    def add_outbound_rule(
        self,
        object_type: str,
        endpoint: str,
        *,
        fields: Sequence[str],
        when: Callable[[Mapping[str, Any]], bool] = lambda record: True,
    ) -> None:
        """A workflow rule: records of `object_type` matching `when` go to `endpoint`."""
        self.org.rules.append(OutboundRule(object_type, endpoint, tuple(fields), when))

    def expire_tokens(self) -> None:
        """Revoke every access token (the next call answers `INVALID_SESSION_ID`)."""
        with self.store.lock:
            self.tokens.clear()

    def redeliver(self, delivery: Delivery) -> None:
        """Send a message once more (Salesforce may deliver one more than once)."""
        self.sender.redeliver(delivery)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every Outbound Message sent by a rule (or again), oldest first."""
        return self.sender.deliveries

    # -- OAuth ---------------------------------------------------------------------------

    def _token(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        grant = form.get("grant_type", "")
        with self.store.lock:
            self.token_requests.append(grant)
        if grant == "client_credentials":
            if (form.get("client_id"), form.get("client_secret")) != (
                self.client_id,
                self.client_secret,
            ):
                return _oauth_error("invalid_client", "invalid client credentials")
            return EmulatorResponse(200, self._issue(request.base_url))
        if grant == _JWT_GRANT:
            if self._jwt_key is None:
                return _oauth_error("invalid_grant", "the app has no certificate for JWT")
            problem = check_assertion(
                form.get("assertion", ""),
                key=self._jwt_key,
                client_id=self.client_id,
                username=self.jwt_username,
                audience=request.base_url,
            )
            if problem:
                return _oauth_error("invalid_grant", problem)
            return EmulatorResponse(200, self._issue(request.base_url))
        return _oauth_error("unsupported_grant_type", "grant type not supported")

    def _issue(self, base_url: str) -> dict[str, Any]:
        token = f"{self.org.organization_id[:15]}!{secrets.token_urlsafe(24)}"
        user = self.org.integration_user
        with self.store.lock:
            self.tokens[token] = user
        return {
            "access_token": token,
            "instance_url": base_url,
            "id": f"{base_url}/id/{self.org.organization_id}/{user}",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
            "scope": "api",
        }

    # -- the REST API --------------------------------------------------------------------

    def _user(self, request: EmulatorRequest) -> str:
        token = (request.headers.get("authorization") or "").removeprefix("Bearer ").strip()
        with self.store.lock:
            return self.tokens.get(token, self.org.integration_user)

    def _query(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        soql = request.param("q") or ""
        self._sync_store_messages()
        self._sync_store_ratings()
        if "Knowledge__kav" in soql:
            self._publish_store_articles()
        return _api(lambda: (200, self.org.query(soql)))

    def _more(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        return _api(lambda: (200, self.org.more(groups["locator"])))

    def _create(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        fields, kind = request.json_object(), groups["object"]

        def create() -> tuple[int, Any]:
            record_id = self.org.api_create(kind, fields, user=self._user(request))
            if kind in ("CaseComment", "FeedItem"):
                text = str(fields.get("CommentBody") or fields.get("Body") or "")
                content: Literal["html", "text"] = "html" if kind == "FeedItem" else "text"
                self._record("note", str(fields.get("ParentId")), text, content, fields)
            return 201, {"id": record_id, "success": True, "errors": []}

        return _api(create)

    def _update(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        fields, kind, record_id = request.json_object(), groups["object"], groups["id"]

        def update() -> tuple[int, Any]:
            self.org.api_update(kind, record_id, fields)
            if kind == "Case" and "Customer_Language__c" in fields:
                self._record("language", record_id, str(fields["Customer_Language__c"]), "", fields)
            if kind == "Knowledge__kav":
                self._translated(record_id, fields)
            return 204, None

        return _api(update)

    def _retrieve(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        def retrieve() -> tuple[int, Any]:
            record = self.org.get(groups["object"], groups["id"])
            if record is None:
                raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
            return 200, record

        return _api(retrieve)

    def _action(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        body, name = request.json_object(), groups["action"]

        def run() -> tuple[int, Any]:
            status, results = self.org.run_action(name, body, self._user(request))
            for item, result in zip(body.get("inputs") or [], results, strict=False):
                if not result.get("isSuccess"):
                    continue
                if name == "emailSimple":
                    parent = str(item.get("relatedRecordId") or "")
                    self._record("reply", parent, str(item.get("emailBody")), "html", item)
                elif name == "sendConversationMessages":
                    sessions = self.org.rows("MessagingSession")
                    users = item.get("messagingEndUserIds") or []
                    session = next(
                        (s["Id"] for s in sessions if s.get("MessagingEndUserId") in users), ""
                    )
                    params = item.get("messagingDefinitionInputParameters") or [{}]
                    self._record("reply", session, str(params[0].get("textValue")), "text", item)
            return status, results

        return _api(run)

    def _translate(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        body = request.json_object()
        return _api(lambda: self.org.submit_translation(body))

    def _record(
        self,
        kind: Literal["note", "reply", "language"],
        parent: str,
        body: str,
        content_type: str,
        payload: Any,
    ) -> None:
        with self.store.lock:
            conversation = self._conversations.get(parent)
        key = str(conversation) if conversation is not None else parent
        self.store.record(Write(kind, key, body, content_type, payload))


def _api(call: Callable[[], tuple[int, Any]]) -> EmulatorResponse:
    try:
        status, payload = call()
    except ApiError as error:
        raise Refusal(error.status, error.message, payload=error.body()) from None
    return EmulatorResponse(status, payload)


def _oauth_error(code: str, description: str) -> EmulatorResponse:
    return EmulatorResponse(400, {"error": code, "error_description": description})
