"""Zendesk Support and Help Center, as far as the `zendesk` adapter uses them.

- Auth: HTTP Basic `{email}/token:{api_token}`, or `Authorization: Bearer <oauth token>`;
  401 `{"error": "Couldn't authenticate you"}` otherwise.
- `GET /api/v2/tickets/{id}.json`, `GET /api/v2/tickets/{id}/comments.json` (cursor pages:
  `page[size]` ≤ 100, `page[after]`, `meta.has_more`, `links.next`; `include=users`).
- `PUT /api/v2/tickets/{id}.json`: `ticket.comment` (`body` or `html_body`, `public`),
  `additional_tags`, `custom_fields`; comments over 65,000 characters → 422.
- `GET /api/v2/satisfaction_ratings.json`: the ratings (`good`/`bad`) with their tickets.
- Help Center: `GET /api/v2/help_center/{locale}/articles.json`, `POST
  /api/v2/help_center/articles/{id}/translations.json`, `PUT …/translations/{locale}.json`.
- Rate limits: `x-rate-limit`, `x-rate-limit-remaining`, `ratelimit-limit/-remaining/-reset`
  on every answer; 429 with `Retry-After`.
- Webhooks: event webhooks `zen:event-type:ticket.comment_added`, signed
  `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret, timestamp + body)).
"""

from __future__ import annotations

import base64
import time
import uuid
from html import escape
from typing import Any, ClassVar

from tl_loop.helpdesk import hmac_digest, html_to_markdown
from tl_loop.testing.emulators._pages import cursor_for, offset_of, url_with
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

__all__ = ["ZendeskEmulator"]

_TICKET = r"/api/v2/tickets/(?P<ticket>\d+)"


class ZendeskEmulator(EmulatorServer):
    """A Zendesk account on loopback; see the module docstring for what it serves."""

    platform: ClassVar[str] = "zendesk"
    default_rate_limit: ClassVar[int] = 700  # Enterprise: 700 requests a minute
    max_note_chars: ClassVar[int | None] = 65_000  # "roughly ~65,000 characters" (Zendesk)

    email = "agent@acme.example"
    api_token = "emulator-api-token"
    oauth_token = "emulator-oauth-token"
    webhook_secret = "emulator-zendesk-signing-secret"

    def adapter_options(self) -> dict[str, Any]:
        """`base_url`, `email`, `api_token` and `webhook_secret` for `ZendeskAdapter`."""
        return {
            "base_url": self.url,
            "email": self.email,
            "api_token": self.api_token,
            "webhook_secret": self.webhook_secret,
        }

    def routes(self) -> None:
        self.route("GET", _TICKET + r"\.json", self._show_ticket)
        self.route("PUT", _TICKET + r"\.json", self._update_ticket)
        self.route("GET", _TICKET + r"/comments\.json", self._comments)
        self.route("GET", r"/api/v2/satisfaction_ratings\.json", self._ratings)
        self.route("GET", r"/api/v2/help_center/(?P<locale>[\w-]+)/articles\.json", self._articles)
        articles = r"/api/v2/help_center/articles/(?P<article>\d+)/translations"
        self.route("POST", articles + r"\.json", self._create_translation)
        self.route("PUT", articles + r"/(?P<locale>[\w-]+)\.json", self._update_translation)

    # -- platform rules ----------------------------------------------------------------------

    def authenticate(self, request: EmulatorRequest) -> None:
        basic = base64.b64encode(f"{self.email}/token:{self.api_token}".encode()).decode()
        accepted = (f"Basic {basic}", f"Bearer {self.oauth_token}")
        if request.headers.get("authorization") not in accepted:
            raise Refusal(401, "Couldn't authenticate you")

    def rate_limit_headers(self, limit: int, remaining: int, reset: float) -> dict[str, str]:
        seconds = str(max(0, round(reset - time.time())))
        return {
            "x-rate-limit": str(limit),
            "x-rate-limit-remaining": str(remaining),
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": seconds,
        }

    def error_payload(self, status: int, message: str) -> Any:
        if status == 401:
            return {"error": message}
        if status == 404:
            return {"error": "RecordNotFound", "description": "Not found"}
        if status == 422:
            return {
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": {"base": [{"description": message, "error": "ValueTooLong"}]},
            }
        return {"error": message}

    # -- tickets -----------------------------------------------------------------------------

    def _show_ticket(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        ticket = self.find_conversation(groups["ticket"])
        return EmulatorResponse(200, {"ticket": self.ticket_json(ticket, request.base_url)})

    def _comments(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        ticket = self.find_conversation(groups["ticket"])
        size = request.int_param("page[size]", 100, high=self.max_page_size)
        start = offset_of(request.param("page[after]"))
        with self.store.lock:
            chunk = ticket.messages[start : start + size]
            more = start + size < len(ticket.messages)
        payload: dict[str, Any] = {
            "comments": [self.comment_json(ticket, message) for message in chunk],
            "meta": {
                "has_more": more,
                "after_cursor": cursor_for(start + len(chunk)),
                "before_cursor": cursor_for(start),
            },
            "links": {
                "prev": url_with(request, {"page[before]": cursor_for(start)}) if start else None,
                "next": url_with(request, {"page[after]": cursor_for(start + size)})
                if more
                else None,
            },
        }
        if "users" in (request.param("include") or "").split(","):
            payload["users"] = self._users(ticket)
        return EmulatorResponse(200, payload)

    def _update_ticket(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        ticket = self.find_conversation(groups["ticket"])
        payload = request.json_object()
        changes = payload.get("ticket")
        if not isinstance(changes, dict):
            raise Refusal(
                400,
                "Parameter ticket is required",
                payload={"error": "InvalidEndpoint", "description": "ticket is required"},
            )
        events: list[dict[str, Any]] = []
        audit_id = self.store.next_id()
        comment = changes.get("comment")
        if isinstance(comment, dict):
            message = self._add_comment(ticket, comment, payload)
            events.append({**self.comment_json(ticket, message), "audit_id": audit_id})
        tags = changes.get("additional_tags") or []
        for tag in tags if isinstance(tags, list) else [tags]:
            with self.store.lock:
                ticket.tags.append(str(tag))
            self.record_language(ticket, str(tag), payload)
            events.append(
                {
                    "id": self.store.next_id(),
                    "type": "Change",
                    "field_name": "tags",
                    "value": list(ticket.tags),
                    "previous_value": [],
                }
            )
        for field in changes.get("custom_fields") or []:
            if isinstance(field, dict) and "id" in field:
                ticket.fields[str(field["id"])] = field.get("value")
                self.record_language(ticket, str(field.get("value")), payload)
        audit = {
            "id": audit_id,
            "ticket_id": ticket.id,
            "created_at": iso(time.time()),
            "author_id": ticket.agent_id,
            "metadata": {"system": {}, "custom": {}},
            "events": events,
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
        }
        body = {"ticket": self.ticket_json(ticket, request.base_url), "audit": audit}
        return EmulatorResponse(200, body)

    def _add_comment(
        self, ticket: EmulatedConversation, comment: dict[str, Any], payload: Any
    ) -> EmulatedMessage:
        html = comment.get("html_body")
        text = html if isinstance(html, str) else comment.get("body")
        if not isinstance(text, str) or not text.strip():
            raise Refusal(422, "Comment: body can't be blank")
        return self.write_message(
            ticket,
            text,
            public=comment.get("public") is not False,
            content_type="html" if isinstance(html, str) else "text",
            payload=payload,
        )

    # -- satisfaction ------------------------------------------------------------------------

    def _ratings(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        with self.store.lock:
            ratings = [
                {
                    "url": f"{request.base_url}/api/v2/satisfaction_ratings/{rating.id}.json",
                    "id": rating.id,
                    "assignee_id": ticket.agent_id,
                    "group_id": None,
                    "requester_id": ticket.customer_id,
                    "ticket_id": ticket.id,
                    "score": "good" if rating.score >= 3 else "bad",
                    "comment": rating.comment or None,
                    "reason": None,
                    "reason_id": None,
                    "created_at": iso(rating.created_at),
                    "updated_at": iso(rating.created_at),
                }
                for ticket in self.store.conversations.values()
                for rating in ticket.ratings
            ]
        size = request.int_param("page[size]", 100, high=self.max_page_size)
        start = offset_of(request.param("page[after]"))
        more = start + size < len(ratings)
        return EmulatorResponse(
            200,
            {
                "satisfaction_ratings": ratings[start : start + size],
                "meta": {
                    "has_more": more,
                    "after_cursor": cursor_for(start + size),
                    "before_cursor": cursor_for(start),
                },
                "links": {
                    "prev": None,
                    "next": url_with(request, {"page[after]": cursor_for(start + size)})
                    if more
                    else None,
                },
            },
        )

    # -- help center -------------------------------------------------------------------------

    def _articles(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        locale = groups["locale"].lower()
        with self.store.lock:
            found = [a for a in self.store.articles.values() if a.locale.lower() == locale]
        size = request.int_param("page[size]", 30, high=self.max_page_size)
        start = offset_of(request.param("page[after]"))
        more = start + size < len(found)
        return EmulatorResponse(
            200,
            {
                "articles": [
                    self.article_json(a, request.base_url) for a in found[start : start + size]
                ],
                "meta": {
                    "has_more": more,
                    "after_cursor": cursor_for(start + size),
                    "before_cursor": cursor_for(start),
                },
                "links": {
                    "prev": None,
                    "next": url_with(request, {"page[after]": cursor_for(start + size)})
                    if more
                    else None,
                },
            },
        )

    def _create_translation(
        self, request: EmulatorRequest, groups: dict[str, str]
    ) -> EmulatorResponse:
        source = self._source_article(groups["article"])
        fields = self._translation_fields(request)
        locale = str(fields["locale"]).lower()
        if self.store.translation(source.id, locale) is not None or source.locale == locale:
            taken = [{"description": "Locale has already been taken"}]
            raise Refusal(
                400,
                "Locale has already been taken",
                payload={"error": "RecordInvalid", "details": {"locale": taken}},
            )
        article = self.store.add_article(
            str(fields["title"]), str(fields["body"]), locale=locale, source_id=source.id
        )
        article.draft = bool(fields.get("draft", False))
        self._record_article(article, request)
        return EmulatorResponse(201, {"translation": self.translation_json(article, request)})

    def _update_translation(
        self, request: EmulatorRequest, groups: dict[str, str]
    ) -> EmulatorResponse:
        source = self._source_article(groups["article"])
        article = self.store.translation(source.id, groups["locale"].lower())
        if article is None:
            raise Refusal(404, "translation not found")
        fields = self._translation_fields(request, partial=True)
        with self.store.lock:
            article.title = str(fields.get("title", article.title))
            article.body = str(fields.get("body", article.body))
            article.draft = bool(fields.get("draft", article.draft))
            article.updated_at = time.time()
        self._record_article(article, request)
        return EmulatorResponse(200, {"translation": self.translation_json(article, request)})

    def _source_article(self, article_id: str) -> EmulatedArticle:
        with self.store.lock:
            article = self.store.articles.get(int(article_id))
        if article is None or article.source_id is not None:
            raise Refusal(404, f"article {article_id} not found")
        return article

    def _translation_fields(
        self, request: EmulatorRequest, *, partial: bool = False
    ) -> dict[str, Any]:
        fields = request.json_object().get("translation")
        if not isinstance(fields, dict):
            raise Refusal(400, "translation is required")
        missing = [key for key in ("locale", "title", "body") if key not in fields]
        if missing and not partial:
            raise Refusal(400, f"translation needs {', '.join(missing)}")
        return fields

    def _record_article(self, article: EmulatedArticle, request: EmulatorRequest) -> None:
        self.store.record(
            Write("article", str(article.source_id), article.body, "html", request.json())
        )

    # -- shapes ------------------------------------------------------------------------------

    def ticket_json(self, ticket: EmulatedConversation, base_url: str) -> dict[str, Any]:
        """A ticket as `GET /api/v2/tickets/{id}.json` renders it."""
        first = ticket.messages[0].body if ticket.messages else ""
        rating = ticket.ratings[-1] if ticket.ratings else None
        return {
            "url": f"{base_url}/api/v2/tickets/{ticket.id}.json",
            "id": ticket.id,
            "external_id": None,
            "via": {
                "channel": "native_messaging" if ticket.channel == "chat" else "email",
                "source": {"from": {}, "to": {}, "rel": None},
            },
            "created_at": iso(ticket.created_at),
            "updated_at": iso(ticket.updated_at),
            "type": None,
            "subject": ticket.subject,
            "raw_subject": ticket.subject,
            "description": html_to_markdown(first),
            "priority": None,
            "status": ticket.status,
            "recipient": None,
            "requester_id": ticket.customer_id,
            "submitter_id": ticket.customer_id,
            "assignee_id": ticket.agent_id,
            "organization_id": None,
            "group_id": None,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "is_public": True,
            "due_at": None,
            "tags": list(ticket.tags),
            "custom_fields": [
                {"id": int(key), "value": value}
                for key, value in ticket.fields.items()
                if key.isdigit()
            ],
            "satisfaction_rating": {
                "score": "good" if rating.score >= 3 else "bad",
                "comment": rating.comment,
            }
            if rating
            else None,
            "brand_id": None,
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": ticket.channel == "chat",
        }

    def comment_json(
        self, ticket: EmulatedConversation, message: EmulatedMessage
    ) -> dict[str, Any]:
        """A comment as `GET …/comments.json` renders it."""
        if message.content_type == "html":
            html, plain = message.body, html_to_markdown(message.body)
        else:
            paragraphs = "".join(
                f'<p dir="auto">{escape(line)}</p>' for line in message.body.split("\n") if line
            )
            html, plain = f'<div class="zd-comment" dir="auto">{paragraphs}</div>', message.body
        author = ticket.customer_id if message.author == "customer" else ticket.agent_id
        return {
            "id": message.id,
            "type": "Comment",
            "author_id": -1 if message.author == "system" else author,
            "body": plain,
            "html_body": html,
            "plain_body": plain,
            "public": message.public,
            "attachments": [],
            "audit_id": message.id - 1,
            "via": {
                "channel": "api" if message.author == "agent" else "web",
                "source": {
                    "from": {},
                    "to": {"name": ticket.customer_name, "address": ticket.customer_email},
                    "rel": None,
                },
            },
            "created_at": iso(message.created_at),
            "metadata": {
                "system": {
                    "client": "tl_loop emulator",
                    "ip_address": "127.0.0.1",
                    "location": "Loopback",
                    "latitude": 0.0,
                    "longitude": 0.0,
                },
                "custom": {},
            },
        }

    def _users(self, ticket: EmulatedConversation) -> list[dict[str, Any]]:
        return [
            {
                "id": ticket.customer_id,
                "name": ticket.customer_name,
                "email": ticket.customer_email,
                "role": "end-user",
                "locale": "es",
            },
            {
                "id": ticket.agent_id,
                "name": "Alex Agent",
                "email": self.email,
                "role": "agent",
                "locale": "en-US",
            },
        ]

    def article_json(self, article: EmulatedArticle, base_url: str) -> dict[str, Any]:
        """A Help Center article as the articles list renders it."""
        return {
            "id": article.id,
            "url": f"{base_url}/api/v2/help_center/{article.locale}/articles/{article.id}.json",
            "html_url": f"{base_url}/hc/{article.locale}/articles/{article.id}",
            "author_id": 1,
            "comments_disabled": False,
            "draft": article.draft,
            "promoted": False,
            "position": 0,
            "vote_sum": 0,
            "vote_count": 0,
            "section_id": 1,
            "created_at": iso(article.created_at),
            "updated_at": iso(article.updated_at),
            "edited_at": iso(article.updated_at),
            "name": article.title,
            "title": article.title,
            "body": article.body,
            "source_locale": article.locale,
            "locale": article.locale,
            "outdated": False,
            "outdated_locales": [],
            "label_names": [],
        }

    def translation_json(
        self, article: EmulatedArticle, request: EmulatorRequest
    ) -> dict[str, Any]:
        """A Help Center translation as create/update answer it."""
        source = article.source_id
        return {
            "id": article.id,
            "url": f"{request.base_url}/api/v2/help_center/articles/{source}/translations/"
            f"{article.id}.json",
            "html_url": f"{request.base_url}/hc/{article.locale}/articles/{source}",
            "source_id": source,
            "source_type": "Article",
            "locale": article.locale,
            "title": article.title,
            "body": article.body,
            "outdated": False,
            "draft": article.draft,
            "hidden": False,
            "created_at": iso(article.created_at),
            "updated_at": iso(article.updated_at),
        }

    # -- webhooks ----------------------------------------------------------------------------

    def customer_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        return self._comment_added(conversation, message, author_id=conversation.customer_id)

    def agent_note_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        return self._comment_added(conversation, message, author_id=conversation.agent_id)

    def _comment_added(
        self, ticket: EmulatedConversation, message: EmulatedMessage, *, author_id: int
    ) -> Webhook:
        comment = self.comment_json(ticket, message)
        staff = author_id == ticket.agent_id
        payload = {
            "account_id": 2222096,
            "detail": {
                "actor_id": str(author_id),
                "assignee_id": str(ticket.agent_id),
                "brand_id": "360000146293",
                "created_at": iso(ticket.created_at),
                "custom_status": "1",
                "description": html_to_markdown(ticket.messages[0].body),
                "external_id": None,
                "form_id": "1",
                "group_id": None,
                "id": str(ticket.id),
                "is_public": True,
                "organization_id": None,
                "priority": None,
                "requester_id": str(ticket.customer_id),
                "status": ticket.status.upper(),
                "subject": ticket.subject,
                "submitter_id": str(ticket.customer_id),
                "tags": list(ticket.tags),
                "type": None,
                "updated_at": iso(ticket.updated_at),
                "via": {"channel": "native_messaging" if ticket.channel == "chat" else "email"},
            },
            "event": {
                "comment": {
                    "author": {
                        "id": str(author_id),
                        "is_staff": staff,
                        "name": "Alex Agent" if staff else ticket.customer_name,
                    },
                    "body": comment["body"],
                    "html_body": comment["html_body"],
                    "id": str(message.id),
                    "is_public": message.public,
                },
                "meta": {"sequence": {"id": str(uuid.uuid4()), "position": 1}},
            },
            "id": str(uuid.uuid4()),
            "subject": f"zen:ticket:{ticket.id}",
            "time": iso(time.time()),
            "type": "zen:event-type:ticket.comment_added",
            "zendesk_event_version": "2022-11-06",
        }
        return self.webhook(payload, event="ticket.comment_added")

    def sign(self, body: bytes, *, event: str = "") -> dict[str, str]:
        """Zendesk's signature: base64 HMAC-SHA256 of timestamp + body, no separator."""
        stamp = iso(time.time())
        signature = hmac_digest(
            self.webhook_secret, stamp.encode() + body, algorithm="sha256", encoding="base64"
        )
        return {
            "content-type": "application/json",
            "x-zendesk-webhook-id": "01HANAHHBNJDDW768TX5J4YFX7",
            "x-zendesk-webhook-invocation-id": str(uuid.uuid4().int)[:19],
            "x-zendesk-webhook-signature": signature,
            "x-zendesk-webhook-signature-timestamp": stamp,
        }
