"""Freshdesk, as far as the `freshdesk` adapter uses it.

- Auth: HTTP Basic with the API key as user (`api_key:X`); 401 `invalid_credentials` otherwise.
- `GET /api/v2/tickets/{id}` (the first message is the ticket's `description`),
  `GET /api/v2/tickets/{id}/conversations` (`page`, `per_page` ≤ 100, `Link: <…>; rel="next"`),
  `POST …/notes` (`private`), `POST …/reply`, `PUT /api/v2/tickets/{id}` (`custom_fields`).
- `GET /api/v2/surveys/satisfaction_ratings`: ratings on Freshdesk's -103…103 scale.
- Solutions: `GET /api/v2/solutions/folders/{folder}/articles[/{lang}]`, `POST`/`PUT
  /api/v2/solutions/articles/{id}/{lang}` (`status` 1 draft, 2 published).
- Rate limits: `X-RateLimit-Total`, `X-RateLimit-Remaining`, `X-RateLimit-Used-CurrentRequest`;
  429 with `Retry-After`.
- Webhooks: automation rules send admin-defined JSON (here the tl_loop rule body in Freshdesk's
  `freshdesk_webhook` wrapper, with `triggered_event` and `"updated_at": "{{ticket.modified_on}}"`,
  the ticket's last change to the second) and a shared secret in a custom header: Freshdesk
  does not sign webhooks.
"""

from __future__ import annotations

import base64
import time
from html import escape
from typing import Any, ClassVar

from tl_loop.helpdesk import html_to_markdown
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
    iso,
)

__all__ = ["FreshdeskEmulator"]

_TICKET = r"/api/v2/tickets/(?P<ticket>\d+)"
_SOURCE = {"email": 1, "chat": 7}
_STATUS = {"open": 2, "pending": 3, "solved": 4, "closed": 5}
# Freshdesk's classic satisfaction scale, by our 1-5 score.
_SCALE = {1: -103, 2: -102, 3: 101, 4: 102, 5: 103}


def _html(message: EmulatedMessage) -> str:
    if message.content_type == "html":
        return message.body
    return "".join(f"<div>{escape(line)}</div>" for line in message.body.split("\n"))


class FreshdeskEmulator(EmulatorServer):
    """A Freshdesk helpdesk on loopback; see the module docstring for what it serves."""

    platform: ClassVar[str] = "freshdesk"
    default_rate_limit: ClassVar[int] = 200  # Growth plan: 200 calls a minute
    max_note_chars: ClassVar[int | None] = None  # Freshdesk documents no body limit

    api_key = "emulator-freshdesk-key"
    webhook_secret = "emulator-freshdesk-shared-secret"
    folder_id = 5000
    language_field = "cf_language"

    def adapter_options(self) -> dict[str, Any]:
        """`base_url`, `api_key`, `webhook_secret`, `language_field` and `kb_folder_id`."""
        return {
            "base_url": self.url,
            "api_key": self.api_key,
            "webhook_secret": self.webhook_secret,
            "language_field": self.language_field,
            "kb_folder_id": str(self.folder_id),
        }

    def routes(self) -> None:
        self.route("GET", _TICKET, self._show_ticket)
        self.route("PUT", _TICKET, self._update_ticket)
        self.route("GET", _TICKET + "/conversations", self._conversations)
        self.route("POST", _TICKET + "/notes", self._note)
        self.route("POST", _TICKET + "/reply", self._reply)
        self.route("GET", "/api/v2/surveys/satisfaction_ratings", self._ratings)
        folder = r"/api/v2/solutions/folders/(?P<folder>\d+)/articles"
        self.route("GET", folder, self._articles)
        self.route("GET", folder + r"/(?P<lang>[\w-]+)", self._articles)
        translation = r"/api/v2/solutions/articles/(?P<article>\d+)/(?P<lang>[\w-]+)"
        self.route("POST", translation, self._translate)
        self.route("PUT", translation, self._translate)

    # -- platform rules ----------------------------------------------------------------------

    def authenticate(self, request: EmulatorRequest) -> None:
        expected = "Basic " + base64.b64encode(f"{self.api_key}:X".encode()).decode()
        if request.headers.get("authorization") != expected:
            raise Refusal(401, "You have to be logged in to perform this action.")

    def rate_limit_headers(self, limit: int, remaining: int, reset: float) -> dict[str, str]:
        return {
            "X-RateLimit-Total": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Used-CurrentRequest": "1",
        }

    def error_payload(self, status: int, message: str) -> Any:
        if status == 401:
            return {"code": "invalid_credentials", "message": message}
        if status == 404:
            return {"code": "not_found", "message": message}
        if status == 429:
            return {"code": "rate_limit_exceeded", "message": message}
        return {
            "description": "Validation failed",
            "errors": [{"field": "body", "message": message, "code": "invalid_value"}],
        }

    # -- tickets -----------------------------------------------------------------------------

    def _show_ticket(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        return EmulatorResponse(200, self.ticket_json(self.find_conversation(groups["ticket"])))

    def _update_ticket(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        ticket = self.find_conversation(groups["ticket"])
        payload = request.json_object()
        fields = payload.get("custom_fields")
        if isinstance(fields, dict):
            for name, value in fields.items():
                if not name.startswith("cf_"):
                    raise Refusal(400, f"custom field {name!r} does not exist")
                ticket.fields[name] = value
                self.record_language(ticket, str(value), payload)
        return EmulatorResponse(200, self.ticket_json(ticket))

    def _conversations(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        ticket = self.find_conversation(groups["ticket"])
        page = request.int_param("page", 1)
        per_page = request.int_param("per_page", 30, high=self.max_page_size)
        with self.store.lock:
            later = ticket.messages[1:]  # the first message is the ticket's description
            chunk, pages = page_slice(later, page, per_page)
            items = [self.conversation_json(ticket, message) for message in chunk]
        headers = {}
        if page < pages:
            headers["Link"] = f'<{url_with(request, {"page": page + 1})}>; rel="next"'
        return EmulatorResponse(200, items, headers)

    def _note(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        ticket = self.find_conversation(groups["ticket"])
        payload = request.json_object()
        body = self._body(payload)
        private = payload.get("private", True) is not False
        message = self.write_message(
            ticket, body, public=not private, content_type="html", payload=payload
        )
        return EmulatorResponse(201, self.conversation_json(ticket, message))

    def _reply(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        ticket = self.find_conversation(groups["ticket"])
        payload = request.json_object()
        message = self.write_message(
            ticket, self._body(payload), public=True, content_type="html", payload=payload
        )
        shown = self.conversation_json(ticket, message)
        shown["replied_to"] = [ticket.customer_email]
        return EmulatorResponse(201, shown)

    def _body(self, payload: dict[str, Any]) -> str:
        body = payload.get("body")
        if not isinstance(body, str) or not body.strip():
            raise Refusal(
                400,
                "It should be a/an String",
                payload={
                    "description": "Validation failed",
                    "errors": [
                        {
                            "field": "body",
                            "message": "It should be a/an String",
                            "code": "missing_field",
                        }
                    ],
                },
            )
        self.check_length(body)
        return body

    # -- satisfaction ------------------------------------------------------------------------

    def _ratings(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        with self.store.lock:
            ratings = [
                {
                    "id": rating.id,
                    "survey_id": 1,
                    "user_id": ticket.customer_id,
                    "agent_id": ticket.agent_id,
                    "feedback": rating.comment or None,
                    "group_id": None,
                    "ticket_id": ticket.id,
                    "ratings": {"default_question": _SCALE.get(rating.score, 101)},
                    "created_at": iso(rating.created_at),
                    "updated_at": iso(rating.created_at),
                }
                for ticket in self.store.conversations.values()
                for rating in ticket.ratings
            ]
        page = request.int_param("page", 1)
        per_page = request.int_param("per_page", 30, high=self.max_page_size)
        chunk, pages = page_slice(ratings, page, per_page)
        headers = {}
        if page < pages:
            headers["Link"] = f'<{url_with(request, {"page": page + 1})}>; rel="next"'
        return EmulatorResponse(200, chunk, headers)

    # -- solutions ---------------------------------------------------------------------------

    def _articles(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        if int(groups["folder"]) != self.folder_id:
            raise Refusal(404, f"folder {groups['folder']} not found")
        lang = (groups.get("lang") or "en").lower()
        with self.store.lock:
            found = [a for a in self.store.articles.values() if a.locale.lower() == lang]
        page = request.int_param("page", 1)
        per_page = request.int_param("per_page", 30, high=self.max_page_size)
        chunk, pages = page_slice(found, page, per_page)
        headers = {}
        if page < pages:
            headers["Link"] = f'<{url_with(request, {"page": page + 1})}>; rel="next"'
        return EmulatorResponse(200, [self.article_json(a) for a in chunk], headers)

    def _translate(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        with self.store.lock:
            source = self.store.articles.get(int(groups["article"]))
        if source is None or source.source_id is not None:
            raise Refusal(404, f"article {groups['article']} not found")
        lang = groups["lang"].lower()
        payload = request.json_object()
        existing = self.store.translation(source.id, lang)
        if request.method == "POST":
            if existing is not None:
                raise Refusal(409, f"article {source.id} already has a {lang} translation")
            if not payload.get("title") or not payload.get("description"):
                raise Refusal(400, "title and description are required")
            existing = self.store.add_article(
                str(payload["title"]),
                str(payload["description"]),
                locale=lang,
                source_id=source.id,
            )
            status = 201
        elif existing is None:
            raise Refusal(404, f"article {source.id} has no {lang} translation")
        else:
            status = 200
        with self.store.lock:
            existing.title = str(payload.get("title", existing.title))
            existing.body = str(payload.get("description", existing.body))
            existing.draft = payload.get("status", 1) == 1
            existing.updated_at = time.time()
        self.store.record(Write("article", str(source.id), existing.body, "html", payload))
        return EmulatorResponse(status, self.article_json(existing))

    # -- shapes ------------------------------------------------------------------------------

    def ticket_json(self, ticket: EmulatedConversation) -> dict[str, Any]:
        """A ticket as `GET /api/v2/tickets/{id}` renders it."""
        first = ticket.messages[0] if ticket.messages else None
        description = _html(first) if first else ""
        return {
            "cc_emails": [],
            "fwd_emails": [],
            "reply_cc_emails": [],
            "fr_escalated": False,
            "spam": False,
            "email_config_id": None,
            "group_id": None,
            "priority": 1,
            "requester_id": ticket.customer_id,
            "responder_id": ticket.agent_id,
            "source": _SOURCE[ticket.channel],
            "status": _STATUS.get(ticket.status, 2),
            "subject": ticket.subject,
            "to_emails": None,
            "id": ticket.id,
            "type": None,
            "due_by": iso(ticket.created_at + 86400),
            "fr_due_by": iso(ticket.created_at + 3600),
            "is_escalated": False,
            "description": description,
            "description_text": html_to_markdown(description),
            "custom_fields": dict(ticket.fields),
            "created_at": iso(ticket.created_at),
            "updated_at": iso(ticket.updated_at),
            "tags": list(ticket.tags),
            "attachments": [],
        }

    def conversation_json(
        self, ticket: EmulatedConversation, message: EmulatedMessage
    ) -> dict[str, Any]:
        """A conversation (reply or note) as `GET …/conversations` renders it."""
        body = _html(message)
        incoming = message.author == "customer"
        return {
            "body": body,
            "body_text": html_to_markdown(body),
            "id": message.id,
            "incoming": incoming,
            "private": not message.public,
            "user_id": ticket.customer_id if incoming else ticket.agent_id,
            "support_email": None,
            "source": 0 if message.public else 2,
            "ticket_id": ticket.id,
            "to_emails": [] if incoming or not message.public else [ticket.customer_email],
            "from_email": ticket.customer_email if incoming else None,
            "cc_emails": None,
            "bcc_emails": None,
            "created_at": iso(message.created_at),
            "updated_at": iso(message.created_at),
            "attachments": [],
        }

    def article_json(self, article: EmulatedArticle) -> dict[str, Any]:
        """A solution article as the folder listing renders it."""
        return {
            "id": article.source_id or article.id,
            "type": 1,
            "category_id": 4000,
            "folder_id": self.folder_id,
            "title": article.title,
            "description": article.body,
            "description_text": html_to_markdown(article.body),
            "status": 1 if article.draft else 2,
            "agent_id": 1,
            "thumbs_up": 0,
            "thumbs_down": 0,
            "hits": 0,
            "tags": [],
            "seo_data": {},
            "created_at": iso(article.created_at),
            "updated_at": iso(article.updated_at),
        }

    # -- webhooks ----------------------------------------------------------------------------

    def sign(self, body: bytes, *, event: str = "") -> dict[str, str]:
        """Freshdesk signs nothing: the automation rule sends the shared secret in a header."""
        return {"content-type": "application/json", "x-tl-loop-secret": self.webhook_secret}

    def customer_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        first = conversation.messages[0] is message
        event = "ticket_created" if first else "customer_message"
        triggered = "{ticket_action:created}" if first else "{reply_sent:sent}"
        return self._rule(conversation, message, event, triggered)

    def agent_note_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        return self._rule(conversation, message, "agent_note", "{note_type:private}")

    def _rule(
        self,
        ticket: EmulatedConversation,
        message: EmulatedMessage,
        event: str,
        triggered: str,
    ) -> Webhook:
        """The automation rule's webhook: the tl_loop rule body, with Freshdesk's placeholders."""
        author = ticket.customer_id if message.author == "customer" else ticket.agent_id
        payload = {
            "freshdesk_webhook": {
                "triggered_event": triggered,
                "ticket_id": str(ticket.id),
                "event": event,
                "text": _html(message),
                "author_id": str(author),
                # {{ticket.modified_on}}: what tells two identical messages apart (seconds).
                "updated_at": time.strftime(
                    "%Y-%m-%d %H:%M:%S UTC", time.gmtime(ticket.updated_at)
                ),
                "source": str(_SOURCE[ticket.channel]),
                "ticket_url": f"{self.url}/helpdesk/tickets/{ticket.id}",
                "ticket_type": "Question",
                "ticket_subject": ticket.subject,
                "ticket_description": _html(ticket.messages[0]),
                "ticket_priority": "Low",
                "ticket_status": ticket.status.capitalize(),
                "requester_name": ticket.customer_name,
                "requester_email": ticket.customer_email,
            }
        }
        return self.webhook(payload, event=event)
