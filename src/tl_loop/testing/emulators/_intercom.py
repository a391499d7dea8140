"""Intercom (REST API 2.x), as far as the `intercom` adapter uses it.

- Auth: `Authorization: Bearer <access token>`; 401 `error.list` `unauthorized` otherwise.
- `GET /conversations/{id}`: the first message as `source`, later ones as
  `conversation_parts` (not paginated, up to 500), `conversation_rating`, `statistics`.
- `POST /conversations/{id}/reply`: `message_type` `comment` or `note`, `type: admin`,
  `admin_id`; `PUT /conversations/{id}` with `custom_attributes`.
- Articles: `GET /articles` (`page`, `per_page`, `pages.next`), `PUT /articles/{id}` with
  `translated_content.{locale}`.
- Rate limits: `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (epoch).
- Webhooks: `notification_event` (`conversation.user.replied`, `conversation.admin.noted`,
  `conversation.user.created`) signed `X-Hub-Signature: sha1=<hex HMAC-SHA1(client secret,
  body)>`.
"""

from __future__ import annotations

import time
import uuid
from html import escape
from typing import Any, ClassVar

from tl_loop.helpdesk import hmac_digest
from tl_loop.testing.emulators._pages import page_slice, url_with
from tl_loop.testing.emulators._server import (
    EmulatorRequest,
    EmulatorResponse,
    EmulatorServer,
    Refusal,
    Webhook,
)
from tl_loop.testing.emulators._store import (
    EmulatedArticle,
    EmulatedConversation,
    EmulatedMessage,
    Write,
)

__all__ = ["IntercomEmulator"]

_CONVERSATION = r"/conversations/(?P<conversation>\d+)"


def _html(message: EmulatedMessage) -> str:
    if message.content_type == "html":
        return message.body
    return "".join(f"<p>{escape(line)}</p>" for line in message.body.split("\n") if line)


class IntercomEmulator(EmulatorServer):
    """An Intercom workspace on loopback; see the module docstring for what it serves."""

    platform: ClassVar[str] = "intercom"
    default_rate_limit: ClassVar[int] = 10_000  # per app and minute (spread over 10 s windows)

    access_token = "emulator-intercom-access-token"
    client_secret = "emulator-intercom-client-secret"
    admin_id = "991267596"
    app_id = "emu1abcd"
    language_attribute = "Language"

    def adapter_options(self) -> dict[str, Any]:
        """`base_url`, `access_token`, `client_secret`, `admin_id`, `language_attribute`."""
        return {
            "base_url": self.url,
            "access_token": self.access_token,
            "client_secret": self.client_secret,
            "admin_id": self.admin_id,
            "language_attribute": self.language_attribute,
        }

    def routes(self) -> None:
        self.route("GET", _CONVERSATION, self._show)
        self.route("PUT", _CONVERSATION, self._update)
        self.route("POST", _CONVERSATION + "/reply", self._reply)
        self.route("GET", "/articles", self._articles)
        self.route("PUT", r"/articles/(?P<article>\d+)", self._update_article)

    # -- platform rules ----------------------------------------------------------------------

    def authenticate(self, request: EmulatorRequest) -> None:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            raise Refusal(401, "Access Token Invalid")

    def rate_limit_headers(self, limit: int, remaining: int, reset: float) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(reset)),
        }

    def rate_limited(self, reset: float) -> EmulatorResponse:
        # Intercom sends no Retry-After: clients wait for X-RateLimit-Reset.
        return EmulatorResponse(429, self.error_payload(429, "Exceeded rate limit"))

    def error_payload(self, status: int, message: str) -> Any:
        code = {401: "unauthorized", 404: "not_found", 429: "rate_limit_exceeded"}.get(
            status, "parameter_invalid"
        )
        return {
            "type": "error.list",
            "request_id": str(uuid.uuid4()),
            "errors": [{"code": code, "message": message}],
        }

    # -- conversations -----------------------------------------------------------------------

    def _show(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        return EmulatorResponse(200, self.conversation_json(conversation))

    def _update(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        payload = request.json_object()
        attributes = payload.get("custom_attributes")
        if not isinstance(attributes, dict):
            raise Refusal(400, "custom_attributes must be an object")
        for name, value in attributes.items():
            conversation.fields[name] = value
            self.record_language(conversation, str(value), payload)
        return EmulatorResponse(200, self.conversation_json(conversation))

    def _reply(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        conversation = self.find_conversation(groups["conversation"])
        payload = request.json_object()
        message_type = payload.get("message_type")
        if message_type not in ("comment", "note"):
            raise Refusal(400, "message_type must be one of comment, note")
        if payload.get("type") != "admin" or str(payload.get("admin_id")) != self.admin_id:
            raise Refusal(400, f"admin_id {payload.get('admin_id')!r} is not a teammate")
        body = payload.get("body")
        if not isinstance(body, str) or not body.strip():
            raise Refusal(400, "Body is required")
        self.write_message(
            conversation,
            body,
            public=message_type == "comment",
            content_type="html",
            payload=payload,
        )
        return EmulatorResponse(200, self.conversation_json(conversation))

    # -- articles ----------------------------------------------------------------------------

    def _articles(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        page = request.int_param("page", 1)
        per_page = request.int_param("per_page", 50, high=250)
        with self.store.lock:
            sources = [a for a in self.store.articles.values() if a.source_id is None]
            chunk, pages = page_slice(sources, page, per_page)
            data = [self.article_json(article) for article in chunk]
        shown: dict[str, Any] = {
            "type": "pages",
            "page": page,
            "per_page": per_page,
            "total_pages": pages,
        }
        if page < pages:
            shown["next"] = url_with(request, {"page": page + 1})
        body = {"type": "list", "data": data, "total_count": len(sources), "pages": shown}
        return EmulatorResponse(200, body)

    def _update_article(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        with self.store.lock:
            article = self.store.articles.get(int(groups["article"]))
        if article is None or article.source_id is not None:
            raise Refusal(404, "Resource Not Found")
        payload = request.json_object()
        translated = payload.get("translated_content")
        if not isinstance(translated, dict):
            raise Refusal(400, "translated_content must be an object")
        for locale, content in translated.items():
            if locale == "type" or not isinstance(content, dict):
                continue
            found = self.store.translation(article.id, locale)
            if found is None:
                found = self.store.add_article(
                    str(content.get("title") or ""), "", locale=locale, source_id=article.id
                )
            with self.store.lock:
                found.title = str(content.get("title", found.title))
                found.body = str(content.get("body", found.body))
                found.draft = content.get("state", "draft") != "published"
                found.updated_at = time.time()
            self.store.record(Write("article", str(article.id), found.body, "html", payload))
        return EmulatorResponse(200, self.article_json(article))

    # -- shapes ------------------------------------------------------------------------------

    def _author(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> dict[str, Any]:
        if message.author == "customer":
            return {
                "type": "user",
                "id": str(conversation.customer_id),
                "name": conversation.customer_name,
                "email": conversation.customer_email,
            }
        if message.author == "system":
            return {"type": "bot", "id": "1", "name": "Fin", "email": ""}
        return {
            "type": "admin",
            "id": self.admin_id,
            "name": "Alex Agent",
            "email": "agent@acme.example",
        }

    def part_json(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> dict[str, Any]:
        """A conversation part (a later message) as Intercom renders it."""
        stamp = int(message.created_at)
        return {
            "type": "conversation_part",
            "id": str(message.id),
            "part_type": "comment" if message.public else "note",
            "body": _html(message),
            "created_at": stamp,
            "updated_at": stamp,
            "notified_at": stamp,
            "assigned_to": None,
            "author": self._author(conversation, message),
            "attachments": [],
            "external_id": None,
            "redacted": False,
        }

    def conversation_json(self, conversation: EmulatedConversation) -> dict[str, Any]:
        """A conversation as `GET /conversations/{id}` renders it."""
        with self.store.lock:
            messages = list(conversation.messages)
        source = messages[0] if messages else None
        rating = conversation.ratings[-1] if conversation.ratings else None
        solved = int(conversation.solved_at) if conversation.solved_at else None
        return {
            "type": "conversation",
            "id": str(conversation.id),
            "created_at": int(conversation.created_at),
            "updated_at": int(conversation.updated_at),
            "waiting_since": None,
            "snoozed_until": None,
            "source": {
                "type": "conversation" if conversation.channel == "chat" else "email",
                "id": str(source.id) if source else "",
                "delivered_as": "customer_initiated",
                "subject": conversation.subject,
                "body": _html(source) if source else "",
                "author": self._author(conversation, source) if source else {},
                "attachments": [],
                "url": None,
                "redacted": False,
            },
            "contacts": {
                "type": "contact.list",
                "contacts": [
                    {"type": "contact", "id": str(conversation.customer_id), "external_id": None}
                ],
            },
            "first_contact_reply": None,
            "admin_assignee_id": int(self.admin_id),
            "team_assignee_id": None,
            "open": conversation.status == "open",
            "state": "open" if conversation.status == "open" else "closed",
            "read": True,
            "tags": {"type": "tag.list", "tags": []},
            "priority": "not_priority",
            "sla_applied": None,
            "statistics": {
                "type": "conversation_statistics",
                "time_to_assignment": 0,
                "time_to_admin_reply": None,
                "time_to_first_close": (solved - int(conversation.created_at)) if solved else None,
                "first_contact_reply_at": int(conversation.created_at),
                "first_close_at": solved,
                "last_close_at": solved,
                "last_contact_reply_at": int(conversation.updated_at),
            },
            "conversation_rating": {
                "rating": rating.score,
                "remark": rating.comment,
                "created_at": int(rating.created_at),
                "contact": {"type": "contact", "id": str(conversation.customer_id)},
                "teammate": {"type": "admin", "id": self.admin_id},
            }
            if rating
            else None,
            "teammates": None,
            "title": conversation.subject,
            "custom_attributes": dict(conversation.fields),
            "topics": {},
            "ticket": None,
            "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
            "ai_agent": None,
            "ai_agent_participated": False,
            "conversation_parts": {
                "type": "conversation_part.list",
                "conversation_parts": [self.part_json(conversation, m) for m in messages[1:]],
                "total_count": max(0, len(messages) - 1),
            },
        }

    def article_json(self, article: EmulatedArticle) -> dict[str, Any]:
        """An article with its translations under `translated_content`."""
        with self.store.lock:
            translations = [a for a in self.store.articles.values() if a.source_id == article.id]
        content: dict[str, Any] = {"type": "article_translated_content"}
        for translation in translations:
            content[translation.locale] = {
                "type": "article_content",
                "title": translation.title,
                "description": "",
                "body": translation.body,
                "author_id": int(self.admin_id),
                "state": "draft" if translation.draft else "published",
                "created_at": int(translation.created_at),
                "updated_at": int(translation.updated_at),
                "url": None,
            }
        return {
            "id": str(article.id),
            "type": "article",
            "workspace_id": self.app_id,
            "parent_id": None,
            "parent_type": None,
            "parent_ids": [],
            "title": article.title,
            "description": "",
            "body": article.body,
            "author_id": int(self.admin_id),
            "state": "draft" if article.draft else "published",
            "created_at": int(article.created_at),
            "updated_at": int(article.updated_at),
            "url": f"{self.url}/help/{article.locale}/articles/{article.id}",
            "default_locale": article.locale,
            "translated_content": content,
        }

    # -- webhooks ----------------------------------------------------------------------------

    def customer_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        first = conversation.messages[0] is message
        topic = "conversation.user.created" if first else "conversation.user.replied"
        return self.notification(topic, conversation, message)

    def agent_note_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        return self.notification("conversation.admin.noted", conversation, message)

    def notification(
        self, topic: str, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        """A `notification_event` about `message`, signed with the client secret."""
        item = self.conversation_json(conversation)
        parts = item["conversation_parts"]
        if conversation.messages[0] is not message:  # the webhook carries the new part only
            parts["conversation_parts"] = [self.part_json(conversation, message)]
            parts["total_count"] = 1
        now = int(time.time())
        payload = {
            "type": "notification_event",
            "app_id": self.app_id,
            "data": {"type": "notification_event_data", "item": item},
            "links": {},
            "id": f"notif_{uuid.uuid4()}",
            "topic": topic,
            "delivery_status": "pending",
            "delivery_attempts": 1,
            "delivered_at": 0,
            "first_sent_at": now,
            "created_at": now,
            "self": None,
        }
        return self.webhook(payload, event=topic)

    def sign(self, body: bytes, *, event: str = "") -> dict[str, str]:
        """Intercom's signature: `sha1=` hex HMAC-SHA1 of the body with the client secret."""
        signature = hmac_digest(self.client_secret, body, algorithm="sha1", encoding="hex")
        return {"content-type": "application/json", "x-hub-signature": f"sha1={signature}"}
