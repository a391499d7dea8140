"""Help Scout (Inbox API 2.0), as far as the `helpscout` adapter uses it.

- OAuth2: `POST /v2/oauth2/token` (client-credentials grant, form encoded) issues bearer
  tokens valid 2 days; every other call needs one (401 otherwise; `revoke_tokens()` expires
  them all, as a secret rotation does).
- `GET /v2/conversations/{id}` (with `embed=threads`), `GET /v2/conversations/{id}/threads`
  (HAL, newest first, `page`, `_links.next`), `POST …/notes` and `POST …/reply` (201, no
  body, `Resource-ID`), `PUT …/fields` (204).
- `GET /v2/reports/happiness/ratings`: customer ratings (1 great, 2 okay, 3 not good).
- Rate limits: `X-RateLimit-Limit-Minute`, `X-RateLimit-Remaining-Minute`; writes count
  twice; 429 with `X-RateLimit-Retry-After`.
- Webhooks: the conversation with the new thread embedded, `X-HelpScout-Event`
  (`convo.customer.reply.created`, `convo.note.created`, `convo.created`) and
  `X-HelpScout-Signature` = base64(HMAC-SHA1(secret, body)).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from tl_loop.helpdesk import hmac_digest, html_to_markdown
from tl_loop.testing.emulators._oauth import TokenIssuer
from tl_loop.testing.emulators._pages import page_slice, url_with
from tl_loop.testing.emulators._server import (
    EmulatorRequest,
    EmulatorResponse,
    EmulatorServer,
    Refusal,
    Webhook,
)
from tl_loop.testing.emulators._store import EmulatedConversation, EmulatedMessage, iso

__all__ = ["HelpScoutEmulator"]

_CONVERSATION = r"/v2/conversations/(?P<conversation>\d+)"
_THREADS_PER_PAGE = 50
_RATINGS = {5: 1, 4: 1, 3: 2, 2: 3, 1: 3}  # our 1-5 score → Help Scout's rating id
_RATING_NAMES = {1: "Great", 2: "Okay", 3: "Not Good"}


def _invalid(path: str, message: str) -> Refusal:
    """Help Scout's 400 `vnd.error` with one field error."""
    error = {"path": path, "message": message, "source": "JSON"}
    payload = {"logRef": "emulator#400", "message": "Validation error",
               "_embedded": {"errors": [error]}}  # fmt: skip
    return Refusal(400, "Validation error", payload=payload)


class HelpScoutEmulator(EmulatorServer):
    """A Help Scout account on loopback; see the module docstring for what it serves.

    Args:
        token_lifetime: seconds an access token lives (Help Scout: 2 days).
        **options: as for `EmulatorServer`.
    """

    platform: ClassVar[str] = "helpscout"
    default_rate_limit: ClassVar[int] = 200  # requests a minute; writes count twice

    app_id = "emulator-helpscout-app-id"
    app_secret = "emulator-helpscout-app-secret"
    webhook_secret = "emulator-helpscout-webhook-secret"
    user_id = 256
    mailbox_id = 85

    def __init__(self, *, token_lifetime: int = 172_800, **options: Any) -> None:
        self.tokens = TokenIssuer(self.app_id, self.app_secret, lifetime=token_lifetime)
        super().__init__(**options)

    def adapter_options(self) -> dict[str, Any]:
        """`base_url`, `app_id`, `app_secret`, `webhook_secret`, `user_id` (no token)."""
        return {
            "base_url": self.url,
            "app_id": self.app_id,
            "app_secret": self.app_secret,
            "webhook_secret": self.webhook_secret,
            "user_id": self.user_id,
        }

    def revoke_tokens(self) -> None:
        """Expire every access token issued so far (clients must fetch a new one)."""
        self.tokens.revoke_all()

    def routes(self) -> None:
        self.route("POST", "/v2/oauth2/token", self._token, public=True)
        self.route("GET", _CONVERSATION, self._show)
        self.route("GET", _CONVERSATION + "/threads", self._threads)
        self.route("POST", _CONVERSATION + "/notes", self._note)
        self.route("POST", _CONVERSATION + "/reply", self._reply)
        self.route("PUT", _CONVERSATION + "/fields", self._fields)
        self.route("GET", "/v2/reports/happiness/ratings", self._ratings)

    # -- platform rules ----------------------------------------------------------------------

    def authenticate(self, request: EmulatorRequest) -> None:
        self.tokens.check(request, realm="helpscout")

    def request_cost(self, request: EmulatorRequest) -> int:
        return 1 if request.method == "GET" else 2

    def rate_limit_headers(self, limit: int, remaining: int, reset: float) -> dict[str, str]:
        return {
            "X-RateLimit-Limit-Minute": str(limit),
            "X-RateLimit-Remaining-Minute": str(remaining),
        }

    def rate_limited(self, reset: float) -> EmulatorResponse:
        wait = str(max(1, round(reset - time.time())))
        payload = self.error_payload(429, "Rate limit exceeded")
        return EmulatorResponse(429, payload, {"X-RateLimit-Retry-After": wait})

    def error_payload(self, status: int, message: str) -> Any:
        return {
            "logRef": f"emulator#{status}",
            "message": message,
            "_links": {
                "about": {"href": "https://developer.helpscout.com/mailbox-api/overview/errors"}
            },
        }

    # -- OAuth -------------------------------------------------------------------------------

    def _token(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        form = self.tokens.form(request)
        if form.get("grant_type") != "client_credentials":
            raise Refusal(
                400,
                "unsupported grant type",
                payload={
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type must be client_credentials",
                },
            )
        issued = self.tokens.issue(form.get("client_id"), form.get("client_secret"))
        return EmulatorResponse(200, issued)

    # -- conversations -----------------------------------------------------------------------

    def _show(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        shown = self.conversation_json(conversation)
        if "threads" in (request.param("embed") or ""):
            with self.store.lock:
                threads = [
                    self.thread_json(conversation, m) for m in reversed(conversation.messages)
                ]
            shown["_embedded"] = {"threads": threads}
        return EmulatorResponse(200, shown)

    def _threads(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        page = request.int_param("page", 1)
        with self.store.lock:
            newest_first = list(reversed(conversation.messages))
            chunk, pages = page_slice(newest_first, page, _THREADS_PER_PAGE)
            threads = [self.thread_json(conversation, message) for message in chunk]
        links: dict[str, Any] = {
            "self": {"href": url_with(request, {"page": page})},
            "first": {"href": url_with(request, {"page": 1})},
            "last": {"href": url_with(request, {"page": pages})},
            "page": {"href": f"{request.base_url}{request.path}{{?page}}", "templated": True},
        }
        if page < pages:
            links["next"] = {"href": url_with(request, {"page": page + 1})}
        body: dict[str, Any] = {
            "page": {
                "size": _THREADS_PER_PAGE,
                "totalElements": len(newest_first),
                "totalPages": pages,
                "number": page,
            },
            "_links": links,
        }
        if threads:  # HAL leaves `_embedded` out when the list is empty
            body["_embedded"] = {"threads": threads}
        return EmulatorResponse(200, body)

    def _note(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        payload = request.json_object()
        message = self.write_message(
            conversation, self._text(payload), public=False, content_type="html", payload=payload
        )
        return self._created(request, conversation, message)

    def _reply(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        payload = request.json_object()
        customer = payload.get("customer")
        if not isinstance(customer, dict) or customer.get("id") != conversation.customer_id:
            expected = f'{{"id": {conversation.customer_id}}}'
            raise _invalid("customer", f"must be the conversation's customer {expected}")
        message = self.write_message(
            conversation, self._text(payload), public=True, content_type="html", payload=payload
        )
        return self._created(request, conversation, message)

    def _text(self, payload: dict[str, Any]) -> str:
        text = payload.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _invalid("text", "may not be empty")
        return text

    def _created(
        self, request: EmulatorRequest, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> EmulatorResponse:
        location = f"{request.base_url}/v2/conversations/{conversation.id}/threads/{message.id}"
        return EmulatorResponse(201, None, {"Resource-ID": str(message.id), "Location": location})

    def _fields(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        payload = request.json_object()
        fields = payload.get("fields")
        if not isinstance(fields, list):
            raise Refusal(400, "fields must be a list")
        for field in fields:
            if isinstance(field, dict) and "id" in field:
                conversation.fields[str(field["id"])] = field.get("value")
                self.record_language(conversation, str(field.get("value")), payload)
        return EmulatorResponse(204)

    # -- ratings -----------------------------------------------------------------------------

    def _ratings(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        with self.store.lock:
            results = [
                {
                    "number": 10000 + conversation.id,
                    "threadid": conversation.messages[-1].id if conversation.messages else None,
                    "threadCreatedAt": iso(conversation.updated_at),
                    "id": conversation.id,
                    "customerId": conversation.customer_id,
                    "customerName": conversation.customer_name,
                    "conversationId": conversation.id,
                    "ratingId": _RATINGS.get(rating.score, 2),
                    "ratingName": _RATING_NAMES[_RATINGS.get(rating.score, 2)],
                    "ratingComments": rating.comment,
                    "ratingCreatedAt": iso(rating.created_at),
                    "ratingCustomerName": conversation.customer_name,
                    "ratingUserId": self.user_id,
                    "ratingUserName": "Alex Agent",
                    "type": conversation.channel,
                }
                for conversation in self.store.conversations.values()
                for rating in conversation.ratings
            ]
        page = request.int_param("page", 1)
        chunk, pages = page_slice(results, page, 50)
        return EmulatorResponse(
            200, {"results": chunk, "page": page, "pages": pages, "count": len(results)}
        )

    # -- shapes ------------------------------------------------------------------------------

    def _person(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> dict[str, Any]:
        if message.author == "customer":
            first, _, last = conversation.customer_name.partition(" ")
            return {
                "id": conversation.customer_id,
                "type": "customer",
                "first": first,
                "last": last,
                "email": conversation.customer_email,
            }
        return {
            "id": self.user_id,
            "type": "user",
            "first": "Alex",
            "last": "Agent",
            "email": "agent@acme.example",
        }

    def thread_json(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> dict[str, Any]:
        """A thread as the threads endpoint renders it."""
        kind = "customer" if message.author == "customer" else "reply" if message.public else "note"
        first, _, last = conversation.customer_name.partition(" ")
        body = (
            message.body if message.content_type == "html" else message.body.replace("\n", "<br>")
        )
        return {
            "id": message.id,
            "type": kind,
            "status": "active",
            "state": "published",
            "action": {"type": "default", "text": "", "associatedEntities": []},
            "body": body,
            "source": {
                "type": conversation.channel,
                "via": "customer" if kind == "customer" else "user",
            },
            "customer": {
                "id": conversation.customer_id,
                "first": first,
                "last": last,
                "photoUrl": "",
                "email": conversation.customer_email,
            },
            "createdBy": self._person(conversation, message),
            "assignedTo": {
                "id": self.user_id,
                "type": "user",
                "first": "Alex",
                "last": "Agent",
                "email": "agent@acme.example",
            },
            "savedReplyId": 0,
            "to": [conversation.customer_email] if kind == "reply" else [],
            "cc": [],
            "bcc": [],
            "createdAt": iso(message.created_at),
            "_embedded": {"attachments": []},
            "_links": {
                "createdByCustomer" if kind == "customer" else "createdByUser": {
                    "href": f"{self.url}/v2/customers/{conversation.customer_id}"
                }
            },
        }

    def conversation_json(self, conversation: EmulatedConversation) -> dict[str, Any]:
        """A conversation as `GET /v2/conversations/{id}` renders it."""
        base = f"{self.url}/v2/conversations/{conversation.id}"
        with self.store.lock:
            count = len(conversation.messages)
            preview = html_to_markdown(conversation.messages[-1].body)[:255] if count else ""
        return {
            "id": conversation.id,
            "number": 10000 + conversation.id,
            "threads": count,
            "type": conversation.channel,
            "folderId": 493,
            "status": "closed" if conversation.status == "solved" else "active",
            "state": "published",
            "subject": conversation.subject,
            "preview": preview,
            "mailboxId": self.mailbox_id,
            "assignee": {
                "id": self.user_id,
                "first": "Alex",
                "last": "Agent",
                "email": "agent@acme.example",
            },
            "createdBy": {
                "id": conversation.customer_id,
                "type": "customer",
                "email": conversation.customer_email,
            },
            "createdAt": iso(conversation.created_at),
            "closedBy": self.user_id if conversation.solved_at else 0,
            "closedAt": iso(conversation.solved_at) if conversation.solved_at else None,
            "userUpdatedAt": iso(conversation.updated_at),
            "customerWaitingSince": {
                "time": iso(conversation.updated_at),
                "friendly": "just now",
                "latestReplyFrom": "customer",
            },
            "source": {"type": conversation.channel, "via": "customer"},
            "tags": [
                {"id": n, "color": "#929499", "tag": tag} for n, tag in enumerate(conversation.tags)
            ],
            "cc": [],
            "bcc": [],
            "primaryCustomer": {"id": conversation.customer_id},
            "customFields": [
                {"id": int(key) if key.isdigit() else key, "name": "Language", "value": value}
                for key, value in conversation.fields.items()
            ],
            "_links": {
                "assignee": {"href": f"{self.url}/v2/users/{self.user_id}"},
                "closedBy": {"href": f"{self.url}/v2/users/{self.user_id}"},
                "createdByCustomer": {
                    "href": f"{self.url}/v2/customers/{conversation.customer_id}"
                },
                "mailbox": {"href": f"{self.url}/v2/mailboxes/{self.mailbox_id}"},
                "primaryCustomer": {"href": f"{self.url}/v2/customers/{conversation.customer_id}"},
                "threads": {"href": f"{base}/threads"},
                "self": {"href": base},
            },
        }

    # -- webhooks ----------------------------------------------------------------------------

    def customer_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        first = conversation.messages[0] is message
        event = "convo.created" if first else "convo.customer.reply.created"
        return self.event(event, conversation, message)

    def agent_note_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        return self.event("convo.note.created", conversation, message)

    def event(
        self, event: str, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        """A webhook: the conversation with the new thread embedded, signed with the secret."""
        payload = self.conversation_json(conversation)
        payload["_embedded"] = {"threads": [self.thread_json(conversation, message)]}
        return self.webhook(payload, event=event)

    def sign(self, body: bytes, *, event: str = "") -> dict[str, str]:
        """Help Scout's signature: base64 HMAC-SHA1 of the body; the event in a header."""
        signature = hmac_digest(self.webhook_secret, body, algorithm="sha1", encoding="base64")
        return {
            "content-type": "application/json",
            "x-helpscout-event": event,
            "x-helpscout-signature": signature,
        }
