"""Front (Core API), as far as the `front` adapter uses it.

- Auth: `Authorization: Bearer <API token>`, or an OAuth access token from `POST /oauth/token`
  (`authorization_code` and `refresh_token` grants, client id and secret by basic auth or
  form); 401 `_error` otherwise.
- `GET /conversations/{id}`, `GET /conversations/{id}/messages` (newest first, `limit` ≤ 100,
  `page_token`, `_pagination.next`), `GET …/comments` (newest first), `POST …/comments` (201),
  `POST …/messages` (202 `{"status": "accepted", "message_uid"}`; sent a moment later),
  `GET /messages/{id}` (also `alt:uid:<message_uid>`), `POST …/tags`.
- Rate limits: `x-ratelimit-limit`, `x-ratelimit-remaining`, `x-ratelimit-reset` (epoch);
  429 with `retry-after` and `x-front-tier`.
- Webhooks: application webhooks (`{"type": "inbound_received" | "new_comment_added",
  "authorization", "payload"}`, `X-Front-Signature` = base64(HMAC-SHA256(secret,
  "<ms timestamp>:<body>")), `X-Front-Request-Timestamp`), their `X-Front-Challenge`
  validation request, or rule webhooks (base64 HMAC-SHA1 of the body).
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any, ClassVar, Literal

from tl_loop.helpdesk import hmac_digest, html_to_markdown
from tl_loop.testing.emulators._oauth import TokenIssuer
from tl_loop.testing.emulators._pages import cursor_for, offset_of, url_with
from tl_loop.testing.emulators._server import (
    EmulatorRequest,
    EmulatorResponse,
    EmulatorServer,
    Refusal,
    Webhook,
)
from tl_loop.testing.emulators._store import EmulatedConversation, EmulatedMessage

__all__ = ["FrontEmulator"]

_CONVERSATION = r"/conversations/cnv_(?P<conversation>\d+)"


def cnv(conversation_id: object) -> str:
    """Front's conversation id for a store id: `cnv_<id>`."""
    return f"cnv_{conversation_id}"


class FrontEmulator(EmulatorServer):
    """A Front company on loopback; see the module docstring for what it serves.

    Conversation ids are Front's (`cnv_1002`); `notes("cnv_1002")` finds its comments.

    Args:
        webhook_kind: `app` (application webhooks, signed with a timestamp) or `rule`.
        **options: as for `EmulatorServer`.
    """

    platform: ClassVar[str] = "front"
    default_rate_limit: ClassVar[int] = 100  # Professional plan: 100 requests a minute

    api_token = "emulator-front-api-token"
    webhook_secret = "emulator-front-signing-key"
    client_id = "emulator-front-client-id"
    client_secret = "emulator-front-client-secret"
    authorization_code = "emulator-front-authorization-code"
    company_id = "cmp_emu1"
    author_id = "tea_emu1"
    language_tags: ClassVar[dict[str, str]] = {
        "es": "tag_lang_es",
        "de": "tag_lang_de",
        "fr": "tag_lang_fr",
        "en": "tag_lang_en",
    }

    def __init__(self, *, webhook_kind: Literal["app", "rule"] = "app", **options: Any) -> None:
        self.webhook_kind = webhook_kind
        self.tokens = TokenIssuer(self.client_id, self.client_secret, lifetime=3600)
        self._refresh_tokens: set[str] = set()
        self._accepted: dict[str, tuple[int, int]] = {}  # message_uid → (conversation, message)
        super().__init__(**options)

    def adapter_options(self) -> dict[str, Any]:
        """`base_url`, `api_token`, `webhook_secret`, `webhook_kind`, `author_id`,
        `language_tag_ids`."""
        return {
            "base_url": self.url,
            "api_token": self.api_token,
            "webhook_secret": self.webhook_secret,
            "webhook_kind": self.webhook_kind,
            "author_id": self.author_id,
            "language_tag_ids": dict(self.language_tags),
        }

    def conversation_key(self, conversation: EmulatedConversation) -> str:
        """The id this platform uses for `conversation` (`cnv_…`)."""
        return cnv(conversation.id)

    def writes(self, conversation_id: object = None, *, kind: str | None = None) -> list[Any]:
        """As for `EmulatorServer`; `cnv_…` ids are accepted too."""
        key = str(conversation_id).removeprefix("cnv_") if conversation_id is not None else None
        return super().writes(key, kind=kind)

    def routes(self) -> None:
        self.route("POST", "/oauth/token", self._token, public=True)
        self.route("GET", _CONVERSATION, self._show)
        self.route("GET", _CONVERSATION + "/messages", self._messages)
        self.route("POST", _CONVERSATION + "/messages", self._reply)
        self.route("GET", _CONVERSATION + "/comments", self._comments)
        self.route("POST", _CONVERSATION + "/comments", self._comment)
        self.route("POST", _CONVERSATION + "/tags", self._tags)
        self.route("GET", r"/messages/(?P<message>[\w:]+)", self._message)

    # -- platform rules ----------------------------------------------------------------------

    def authenticate(self, request: EmulatorRequest) -> None:
        if request.headers.get("authorization") == f"Bearer {self.api_token}":
            return
        self.tokens.check(request, realm="front")

    def rate_limit_headers(self, limit: int, remaining: int, reset: float) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(int(reset)),
        }

    def rate_limited(self, reset: float) -> EmulatorResponse:
        wait = str(max(1, round(reset - time.time())))
        payload = self.error_payload(429, "Rate limit exceeded")
        return EmulatorResponse(429, payload, {"retry-after": wait, "x-front-tier": "tier1"})

    def error_payload(self, status: int, message: str) -> Any:
        titles = {
            400: "Bad request",
            401: "Unauthenticated",
            404: "Not found",
            429: "Too many requests",
        }
        return {
            "_error": {
                "status": status,
                "title": titles.get(status, "Error"),
                "message": message,
                "details": [],
            }
        }

    # -- OAuth -------------------------------------------------------------------------------

    def _token(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        form = self.tokens.form(request)
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
        grant = form.get("grant_type")
        if grant == "authorization_code" and form.get("code") != self.authorization_code:
            raise Refusal(400, "invalid code", payload={"error": "invalid_grant"})
        if grant == "refresh_token" and form.get("refresh_token") not in self._refresh_tokens:
            raise Refusal(400, "invalid refresh token", payload={"error": "invalid_grant"})
        if grant not in ("authorization_code", "refresh_token"):
            raise Refusal(
                400, "unsupported grant type", payload={"error": "unsupported_grant_type"}
            )
        issued = self.tokens.issue(client_id, client_secret)
        refresh = secrets.token_urlsafe(24)
        self._refresh_tokens.add(refresh)
        lifetime = int(str(issued["expires_in"]))
        issued.update(
            refresh_token=refresh, token_type="Bearer", expires_at=int(time.time()) + lifetime
        )
        return EmulatorResponse(200, issued)

    # -- conversations -----------------------------------------------------------------------

    def _show(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        return EmulatorResponse(200, self.conversation_json(conversation))

    def _messages(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        limit = request.int_param("limit", 50, high=100)
        start = offset_of(request.param("page_token"))
        with self.store.lock:
            messages = [m for m in conversation.messages if m.public]  # comments are apart
        if request.param("sort_order") != "asc":
            messages.reverse()  # Front lists newest first
        chunk = messages[start : start + limit]
        more = start + limit < len(messages)
        following = url_with(request, {"page_token": cursor_for(start + limit)}) if more else None
        return EmulatorResponse(
            200,
            {
                "_pagination": {"next": following},
                "_links": {"self": url_with(request, {})},
                "_results": [self.message_json(conversation, m) for m in chunk],
            },
        )

    def _comments(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        with self.store.lock:
            comments = [m for m in conversation.messages if not m.public]
        comments.reverse()  # Front lists a conversation's comments newest first too
        return EmulatorResponse(
            200,
            {
                "_pagination": {"next": None},
                "_links": {"self": url_with(request, {})},
                "_results": [self.comment_json(conversation, m) for m in comments],
            },
        )

    def _comment(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        payload = request.json_object()
        body = payload.get("body")
        if not isinstance(body, str) or not body.strip():
            raise Refusal(400, "body is required")
        message = self.write_message(
            conversation, body, public=False, content_type="text", payload=payload
        )
        return EmulatorResponse(201, self.comment_json(conversation, message))

    def _reply(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        payload = request.json_object()
        body = payload.get("body")
        if not isinstance(body, str) or not body.strip():
            raise Refusal(400, "body is required")
        message = self.write_message(
            conversation, body, public=True, content_type="html", payload=payload
        )
        uid = secrets.token_hex(8)
        with self.store.lock:
            self._accepted[uid] = (conversation.id, message.id)
        return EmulatorResponse(202, {"status": "accepted", "message_uid": uid})

    def _tags(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        payload = request.json_object()
        tag_ids = payload.get("tag_ids")
        names = {tag: f"lang-{language}" for language, tag in self.language_tags.items()}
        if not isinstance(tag_ids, list) or any(tag not in names for tag in tag_ids):
            raise Refusal(400, f"unknown tag ids {tag_ids!r}")
        for tag in tag_ids:
            with self.store.lock:
                conversation.tags.append(names[tag])
            self.record_language(conversation, names[tag], payload)
        return EmulatorResponse(204)

    def _message(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        key = groups["message"]
        with self.store.lock:
            if key.startswith("alt:uid:"):
                found = self._accepted.get(key.removeprefix("alt:uid:"))
            else:
                found = next(
                    (
                        (c.id, m.id)
                        for c in self.store.conversations.values()
                        for m in c.messages
                        if f"msg_{m.id}" == key
                    ),
                    None,
                )
        if found is None:
            raise Refusal(404, f"message {key} not found")
        conversation = self.find_conversation(str(found[0]))
        message = next(m for m in conversation.messages if m.id == found[1])
        return EmulatorResponse(200, self.message_json(conversation, message))

    # -- shapes ------------------------------------------------------------------------------

    def _recipient(self, conversation: EmulatedConversation) -> dict[str, Any]:
        return {
            "_links": {"related": {"contact": None}},
            "name": conversation.customer_name,
            "handle": conversation.customer_email,
            "role": "from",
        }

    def _teammate(self) -> dict[str, Any]:
        return {
            "_links": {"self": f"{self.url}/teammates/{self.author_id}"},
            "id": self.author_id,
            "email": "agent@acme.example",
            "username": "alex",
            "first_name": "Alex",
            "last_name": "Agent",
            "is_admin": False,
            "is_available": True,
            "is_blocked": False,
            "custom_fields": {},
        }

    def message_json(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> dict[str, Any]:
        """A message as Front's MessageResponse."""
        inbound = message.author == "customer"
        html = message.body if message.content_type == "html" else f"<p>{message.body}</p>"
        return {
            "_links": {
                "self": f"{self.url}/messages/msg_{message.id}",
                "related": {"conversation": f"{self.url}/conversations/{cnv(conversation.id)}"},
            },
            "id": f"msg_{message.id}",
            "message_uid": f"uid{message.id}",
            "type": "email" if conversation.channel == "email" else "front_chat",
            "is_inbound": inbound,
            "draft_mode": None,
            "error_type": None,
            "version": None,
            "created_at": round(message.created_at, 3),
            "subject": conversation.subject,
            "blurb": html_to_markdown(html)[:100],
            "author": None if inbound else self._teammate(),
            "recipients": [self._recipient(conversation)],
            "body": html,
            "text": html_to_markdown(html),
            "attachments": [],
            "signature": None,
            "metadata": {},
        }

    def comment_json(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> dict[str, Any]:
        """A comment as Front's CommentResponse."""
        return {
            "_links": {
                "self": f"{self.url}/comments/com_{message.id}",
                "related": {
                    "conversation": f"{self.url}/conversations/{cnv(conversation.id)}",
                    "mentions": f"{self.url}/comments/com_{message.id}/mentions",
                },
            },
            "id": f"com_{message.id}",
            "author": self._teammate(),
            "body": message.body,
            "posted_at": round(message.created_at, 3),
            "attachments": [],
            "is_pinned": False,
        }

    def conversation_json(self, conversation: EmulatedConversation) -> dict[str, Any]:
        """A conversation as Front's ConversationResponse."""
        status = "archived" if conversation.status == "solved" else "assigned"
        return {
            "_links": {
                "self": f"{self.url}/conversations/{cnv(conversation.id)}",
                "related": {
                    "messages": f"{self.url}/conversations/{cnv(conversation.id)}/messages",
                    "comments": f"{self.url}/conversations/{cnv(conversation.id)}/comments",
                },
            },
            "id": cnv(conversation.id),
            "subject": conversation.subject,
            "status": status,
            "status_id": None,
            "status_category": "resolved" if status == "archived" else "open",
            "ticket_ids": [],
            "assignee": self._teammate(),
            "recipient": self._recipient(conversation),
            "tags": [{"id": f"tag_{tag}", "name": tag} for tag in conversation.tags],
            "links": [],
            "custom_fields": dict(conversation.fields),
            "created_at": round(conversation.created_at, 3),
            "updated_at": round(conversation.updated_at, 3),
            "waiting_since": round(conversation.updated_at, 3),
            "is_private": False,
            "scheduled_reminders": [],
            "metadata": {},
        }

    # -- webhooks ----------------------------------------------------------------------------

    def customer_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        target = {"_meta": {"type": "message"}, "data": self.message_json(conversation, message)}
        return self._event("inbound", "inbound_received", conversation, target)

    def agent_note_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        target = {"_meta": {"type": "comment"}, "data": self.comment_json(conversation, message)}
        return self._event("comment", "new_comment_added", conversation, target)

    def _event(
        self, kind: str, app_type: str, conversation: EmulatedConversation, target: Any
    ) -> Webhook:
        event_id = f"evt_{secrets.token_hex(6)}"
        event = {
            "_links": {"self": f"{self.url}/events/{event_id}"},
            "id": event_id,
            "type": kind,
            "emitted_at": round(time.time(), 3),
            "conversation": self.conversation_json(conversation),
            "source": {"_meta": {"type": "inboxes"}, "data": []},
            "target": target,
        }
        if self.webhook_kind == "rule":
            return self.webhook(event, event=kind)
        envelope = {"type": app_type, "authorization": {"id": self.company_id}, "payload": event}
        return self.webhook(envelope, event=app_type)

    def challenge(self) -> Webhook:
        """The validation request Front sends when an application webhook is saved; the
        receiver must answer 200 with the `X-Front-Challenge` value in its body."""
        sync = {"type": "sync", "authorization": {"id": self.company_id}}
        webhook = self.webhook(sync, event="sync")
        webhook.headers["x-front-challenge"] = secrets.token_urlsafe(9)
        return webhook

    def sign(self, body: bytes, *, event: str = "") -> dict[str, str]:
        """Front's signature for `webhook_kind`: app webhooks base64 HMAC-SHA256 of
        `"<ms timestamp>:<body>"` with the signing key; rule webhooks base64 HMAC-SHA1 of the
        body with the API secret."""
        if self.webhook_kind == "rule":
            signature = hmac_digest(self.webhook_secret, body, algorithm="sha1", encoding="base64")
            return {"content-type": "application/json", "x-front-signature": signature}
        stamp = str(int(time.time() * 1000))
        signed = stamp.encode() + b":" + body
        return {
            "content-type": "application/json",
            "x-front-signature": hmac_digest(
                self.webhook_secret, signed, algorithm="sha256", encoding="base64"
            ),
            "x-front-request-timestamp": stamp,
        }
