"""Chatwoot (application API v1), as far as the `chatwoot` adapter uses it.

- Auth: the `api_access_token` header; 401 otherwise.
- `GET /api/v1/accounts/{a}/conversations/{id}` and `…/messages` (the newest 20, oldest first;
  older ones with `before=<message id>`); `POST …/messages` (`message_type`, `private`;
  `content` over 150,000 characters → 422); `POST …/custom_attributes` (replaces the set).
- `GET /api/v1/accounts/{a}/csat_survey_responses`: CSAT ratings (1-5) with their feedback.
- Rate limits: no headers on answers; a spent budget gets 429 with `Retry-After`.
- Webhooks: `message_created` in Chatwoot's shape, signed (v4.12+) `X-Chatwoot-Signature:
  sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, `X-Chatwoot-Timestamp`,
  `X-Chatwoot-Delivery`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, ClassVar

from tl_loop.helpdesk import hmac_digest, html_to_markdown
from tl_loop.testing.emulators._pages import page_slice
from tl_loop.testing.emulators._server import (
    EmulatorRequest,
    EmulatorResponse,
    EmulatorServer,
    Refusal,
    Webhook,
)
from tl_loop.testing.emulators._store import EmulatedConversation, EmulatedMessage, iso

__all__ = ["ChatwootEmulator"]

_PAGE = 20  # Chatwoot returns the newest 20 messages per call
_CONVERSATION = r"/api/v1/accounts/(?P<account>\d+)/conversations/(?P<conversation>\d+)"
_TYPES = {"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}


def _content(message: EmulatedMessage) -> str:
    # Chatwoot stores Markdown text; HTML a customer never types.
    return html_to_markdown(message.body) if message.content_type == "html" else message.body


class ChatwootEmulator(EmulatorServer):
    """A Chatwoot account on loopback; see the module docstring for what it serves."""

    platform: ClassVar[str] = "chatwoot"
    default_rate_limit: ClassVar[int] = 3000
    max_note_chars: ClassVar[int | None] = 150_000  # Message content length validation

    account_id = 1
    inbox_id = 17
    api_access_token = "emulator-chatwoot-access-token"
    webhook_secret = "emulator-chatwoot-webhook-secret"

    def adapter_options(self) -> dict[str, Any]:
        """`base_url`, `account_id`, `api_access_token`, `webhook_secret`, `write_language`."""
        return {
            "base_url": self.url,
            "account_id": self.account_id,
            "api_access_token": self.api_access_token,
            "webhook_secret": self.webhook_secret,
            "write_language": True,
        }

    def routes(self) -> None:
        self.route("GET", _CONVERSATION, self._show)
        self.route("GET", _CONVERSATION + "/messages", self._messages)
        self.route("POST", _CONVERSATION + "/messages", self._create_message)
        self.route("POST", _CONVERSATION + "/custom_attributes", self._custom_attributes)
        self.route("GET", r"/api/v1/accounts/(?P<account>\d+)/csat_survey_responses", self._csat)

    # -- platform rules ----------------------------------------------------------------------

    def authenticate(self, request: EmulatorRequest) -> None:
        if request.headers.get("api_access_token") != self.api_access_token:
            raise Refusal(401, "You need to sign in or sign up before continuing.")

    def error_payload(self, status: int, message: str) -> Any:
        if status == 401:
            return {"errors": [message]}
        if status == 404:
            return {"error": message}
        if status == 429:
            return {"error": "Retry later"}
        return {"message": message, "attributes": ["content"]}

    def check_length(self, text: str) -> None:
        if self.max_note_chars is not None and len(text) > self.max_note_chars:
            raise Refusal(422, f"Content is too long (maximum is {self.max_note_chars} characters)")

    def _conversation(self, groups: dict[str, str]) -> EmulatedConversation:
        if int(groups["account"]) != self.account_id:
            raise Refusal(401, "You are not authorized to access this account")
        return self.find_conversation(groups["conversation"])

    # -- conversations -----------------------------------------------------------------------

    def _show(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        return EmulatorResponse(200, self.conversation_json(self._conversation(groups)))

    def _messages(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self._conversation(groups)
        before = request.int_param("before", 0, low=0)
        with self.store.lock:
            older = [m for m in conversation.messages if not before or m.id < before]
            chunk = older[-_PAGE:]
            payload = [self.message_json(conversation, message) for message in chunk]
        meta: dict[str, Any] = {
            "labels": [],
            "additional_attributes": {},
            "contact": self._contact(conversation),
            "assignee": self._agent(conversation),
            "agent_last_seen_at": None,
            "assignee_last_seen_at": None,
        }
        return EmulatorResponse(200, {"meta": meta, "payload": payload})

    def _create_message(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self._conversation(groups)
        payload = request.json_object()
        content = payload.get("content")
        if not isinstance(content, str) or not content.strip():
            raise Refusal(422, "Content can't be blank")
        if payload.get("message_type", "outgoing") not in ("outgoing", "incoming"):
            raise Refusal(422, f"message_type {payload.get('message_type')!r} is not valid")
        message = self.write_message(
            conversation,
            content,
            public=payload.get("private") is not True,
            content_type="text",
            payload=payload,
        )
        return EmulatorResponse(200, self.message_json(conversation, message))

    def _custom_attributes(
        self, request: EmulatorRequest, groups: dict[str, str]
    ) -> EmulatorResponse:
        conversation = self._conversation(groups)
        payload = request.json_object()
        attributes = payload.get("custom_attributes")
        if not isinstance(attributes, dict):
            raise Refusal(422, "custom_attributes must be an object")
        with self.store.lock:
            conversation.fields = dict(attributes)  # Chatwoot replaces the whole set
        for value in attributes.values():
            self.record_language(conversation, str(value), payload)
        return EmulatorResponse(200, {"custom_attributes": dict(attributes)})

    # -- CSAT --------------------------------------------------------------------------------

    def _csat(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        with self.store.lock:
            responses = [
                {
                    "id": rating.id,
                    "rating": rating.score,
                    "feedback_message": rating.comment or None,
                    "account_id": self.account_id,
                    "message_id": conversation.messages[-1].id if conversation.messages else None,
                    "csat_survey_response_id": rating.id,
                    "contact_id": conversation.customer_id,
                    "conversation_id": conversation.id,
                    "assigned_agent_id": conversation.agent_id,
                    "created_at": iso(rating.created_at),
                    "updated_at": iso(rating.created_at),
                    "contact": self._contact(conversation),
                    "conversation": {
                        "id": conversation.id,
                        "display_id": conversation.id,
                        "created_at": int(conversation.created_at),
                    },
                    "assigned_agent": self._agent(conversation),
                }
                for conversation in self.store.conversations.values()
                for rating in conversation.ratings
            ]
        chunk, _ = page_slice(responses, request.int_param("page", 1), 25)
        return EmulatorResponse(200, chunk)

    # -- shapes ------------------------------------------------------------------------------

    def _contact(self, conversation: EmulatedConversation) -> dict[str, Any]:
        return {
            "additional_attributes": {},
            "custom_attributes": {},
            "email": conversation.customer_email,
            "id": conversation.customer_id,
            "identifier": None,
            "name": conversation.customer_name,
            "phone_number": None,
            "thumbnail": "",
            "type": "contact",
        }

    def _agent(self, conversation: EmulatedConversation) -> dict[str, Any]:
        return {
            "id": conversation.agent_id,
            "name": "Alex Agent",
            "available_name": "Alex Agent",
            "avatar_url": "",
            "type": "user",
            "availability_status": "online",
            "thumbnail": "",
        }

    def _channel(self, conversation: EmulatedConversation) -> str:
        return "Channel::Email" if conversation.channel == "email" else "Channel::WebWidget"

    def message_json(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> dict[str, Any]:
        """A message as the messages endpoint renders it (`message_type` as an int)."""
        customer = message.author == "customer"
        sender = self._contact(conversation) if customer else self._agent(conversation)
        return {
            "id": message.id,
            "content": _content(message),
            "account_id": self.account_id,
            "inbox_id": self.inbox_id,
            "conversation_id": conversation.id,
            "message_type": _TYPES["incoming" if customer else "outgoing"],
            "created_at": int(message.created_at),
            "updated_at": iso(message.created_at),
            "private": not message.public,
            "status": "sent",
            "source_id": None,
            "content_type": "text",
            "content_attributes": {},
            "sender_type": "Contact" if customer else "User",
            "sender_id": conversation.customer_id if customer else conversation.agent_id,
            "external_source_ids": {},
            "additional_attributes": {},
            "processed_message_content": _content(message),
            # Chatwoot scores incoming messages only.
            "sentiment": {"label": "neutral", "score": 0.5, "value": 0} if customer else {},
            "conversation": {
                "assignee_id": conversation.agent_id,
                "unread_count": 0,
                "last_activity_at": int(conversation.updated_at),
                "contact_inbox": {
                    "source_id": str(uuid.uuid5(uuid.NAMESPACE_OID, str(conversation.id)))
                },
            },
            "sender": sender,
        }

    def conversation_json(self, conversation: EmulatedConversation) -> dict[str, Any]:
        """A conversation as `GET …/conversations/{id}` and webhooks render it."""
        with self.store.lock:
            last = conversation.messages[-1:] if conversation.messages else []
            messages = [self.message_json(conversation, m) for m in last]
        return {
            "additional_attributes": {},
            "can_reply": True,
            "channel": self._channel(conversation),
            "contact_inbox": {
                "id": conversation.id + 1,
                "contact_id": conversation.customer_id,
                "inbox_id": self.inbox_id,
                "source_id": "emulator",
                "created_at": iso(conversation.created_at),
                "updated_at": iso(conversation.created_at),
                "hmac_verified": False,
                "pubsub_token": "emulator",
            },
            "id": conversation.id,
            "inbox_id": self.inbox_id,
            "messages": messages,
            "labels": [tag for tag in conversation.tags],
            "meta": {
                "sender": self._contact(conversation),
                "assignee": self._agent(conversation),
                "team": None,
                "hmac_verified": False,
            },
            "status": "resolved" if conversation.status == "solved" else conversation.status,
            "custom_attributes": dict(conversation.fields),
            "snoozed_until": None,
            "unread_count": 0,
            "first_reply_created_at": None,
            "priority": None,
            "waiting_since": int(conversation.created_at),
            "agent_last_seen_at": 0,
            "contact_last_seen_at": 0,
            "timestamp": int(conversation.updated_at),
            "created_at": int(conversation.created_at),
        }

    # -- webhooks ----------------------------------------------------------------------------

    def customer_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        return self.message_created(conversation, message)

    def agent_note_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        return self.message_created(conversation, message)

    def message_created(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        """The `message_created` webhook for `message`, signed as Chatwoot v4.12+ signs."""
        customer = message.author == "customer"
        sender = self._contact(conversation) if customer else self._agent(conversation)
        payload = {
            "account": {"id": self.account_id, "name": "Acme"},
            "additional_attributes": {},
            "content_attributes": {},
            "content_type": "text",
            "content": _content(message),
            "conversation": self.conversation_json(conversation),
            "created_at": iso(message.created_at),
            "id": message.id,
            "inbox": {"id": self.inbox_id, "name": "Support"},
            "message_type": "incoming" if customer else "outgoing",
            "private": not message.public,
            "sender": {"account": {"id": self.account_id, "name": "Acme"}, "avatar": "", **sender},
            "source_id": None,
            "event": "message_created",
        }
        return self.webhook(payload, event="message_created")

    def conversation_event(
        self, conversation: EmulatedConversation, event: str = "conversation_status_changed"
    ) -> Webhook:
        """A conversation webhook (`conversation_status_changed`, `conversation_updated`, …):
        the conversation itself with `event` and `changed_attributes`."""
        payload = {
            **self.conversation_json(conversation),
            "event": event,
            "changed_attributes": None,
        }
        return self.webhook(payload, event=event)

    def sign(self, body: bytes, *, event: str = "") -> dict[str, str]:
        """Chatwoot's (v4.12+) signature: hex HMAC-SHA256 of `"<timestamp>.<body>"`."""
        stamp = str(int(time.time()))
        digest = hmac_digest(
            self.webhook_secret, stamp.encode() + b"." + body, algorithm="sha256", encoding="hex"
        )
        headers = {
            "content-type": "application/json",
            "x-chatwoot-signature": f"sha256={digest}",
            "x-chatwoot-timestamp": stamp,
            "x-chatwoot-delivery": str(uuid.uuid4()),
        }
        return headers
