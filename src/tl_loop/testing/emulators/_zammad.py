"""Zammad (REST API v1), as far as the `zammad` adapter uses it.

- Auth: `Authorization: Token token=<access token>` (or `Bearer <token>`); 401 otherwise.
- `GET /api/v1/tickets/{id}`, `PUT /api/v1/tickets/{id}` (object-manager attributes),
  `GET /api/v1/ticket_articles/by_ticket/{id}` (every article, one answer),
  `POST /api/v1/ticket_articles` (`type`, `internal`, `sender`, `content_type`; bodies over
  1,500,000 characters → 422), `POST /api/v1/tags/add`.
- Knowledge base: `POST /api/v1/knowledge_bases/init` (the asset map: translation titles, and
  the contents named by `answer_translation_content_ids`),
  `GET /api/v1/knowledge_bases/{kb}/answers/{id}?full=1&include_contents=<content ids>` (one
  answer, with the contents named, comma-separated: Zammad's `AnswersController#show`),
  `PATCH /api/v1/knowledge_bases/{kb}/answers/{id}` (`translations_attributes`).
- Rate limits: Zammad sends no rate-limit headers; the emulator's budget still ends in 429.
- Webhooks: the default trigger payload `{"ticket": …, "article": …}`, with `X-Zammad-Trigger`,
  `X-Zammad-Delivery` and `X-Hub-Signature: sha1=<hex HMAC-SHA1(token, body)>`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, ClassVar

from tl_loop.helpdesk import hmac_digest
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

__all__ = ["ZammadEmulator"]


def _stamp(moment: float) -> str:
    # Zammad's timestamps carry milliseconds: 2021-08-02T11:57:18.068Z
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment))
        + f".{int(moment * 1000) % 1000:03d}Z"
    )


class ZammadEmulator(EmulatorServer):
    """A Zammad instance on loopback; see the module docstring for what it serves."""

    platform: ClassVar[str] = "zammad"
    default_rate_limit: ClassVar[int] = 10_000
    max_note_chars: ClassVar[int | None] = 1_500_000  # article.rb caps bodies at 1.5 MB

    token = "emulator-zammad-token"
    webhook_secret = "emulator-zammad-signature-token"
    kb_id = 1
    kb_locales: ClassVar[dict[str, int]] = {"en": 1, "es": 2, "de": 3, "fr": 4}

    def adapter_options(self) -> dict[str, Any]:
        """`base_url`, `token`, `webhook_secret`, `reply_type`, `kb_id`, `kb_locale_ids`."""
        return {
            "base_url": self.url,
            "token": self.token,
            "webhook_secret": self.webhook_secret,
            "reply_type": "web",
            "kb_id": self.kb_id,
            "kb_locale_ids": dict(self.kb_locales),
        }

    def routes(self) -> None:
        self.route("GET", r"/api/v1/tickets/(?P<ticket>\d+)", self._show_ticket)
        self.route("PUT", r"/api/v1/tickets/(?P<ticket>\d+)", self._update_ticket)
        self.route("GET", r"/api/v1/ticket_articles/by_ticket/(?P<ticket>\d+)", self._articles)
        self.route("POST", "/api/v1/ticket_articles", self._create_article)
        self.route("POST", "/api/v1/tags/add", self._add_tag)
        self.route("POST", "/api/v1/knowledge_bases/init", self._kb_init)
        answer = r"/api/v1/knowledge_bases/(?P<kb>\d+)/answers/(?P<answer>\d+)"
        self.route("GET", answer, self._kb_answer)
        self.route("PATCH", answer, self._kb_update)

    # -- platform rules ----------------------------------------------------------------------

    def authenticate(self, request: EmulatorRequest) -> None:
        accepted = (f"Token token={self.token}", f"Bearer {self.token}")
        if request.headers.get("authorization") not in accepted:
            raise Refusal(401, "Invalid token!")

    def error_payload(self, status: int, message: str) -> Any:
        return {"error": message, "error_human": message}

    # -- tickets -----------------------------------------------------------------------------

    def _show_ticket(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        return EmulatorResponse(200, self.ticket_json(self.find_conversation(groups["ticket"])))

    def _update_ticket(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        ticket = self.find_conversation(groups["ticket"])
        payload = request.json_object()
        for name, value in payload.items():
            if name in ("id", "number"):
                continue
            ticket.fields[name] = value
            self.record_language(ticket, str(value), payload)
        return EmulatorResponse(200, self.ticket_json(ticket))

    def _articles(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        ticket = self.find_conversation(groups["ticket"])
        with self.store.lock:
            items = [self.article_json(ticket, message) for message in ticket.messages]
        return EmulatorResponse(200, items)

    def _create_article(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        payload = request.json_object()
        ticket = self.find_conversation(str(payload.get("ticket_id")))
        body = payload.get("body")
        if not isinstance(body, str) or not body:
            raise Refusal(422, "Need at least article: body")
        if payload.get("type") not in ("note", "email", "web", "phone", "chat", "sms"):
            raise Refusal(422, f"No such article type {payload.get('type')!r}")
        if payload.get("type") == "email" and not payload.get("to"):
            raise Refusal(422, "Need recipient (to) for an email article")
        html = payload.get("content_type", "text/plain") == "text/html"
        message = self.write_message(
            ticket,
            body,
            public=payload.get("internal") is not True,
            content_type="html" if html else "text",
            payload=payload,
        )
        shown = self.article_json(ticket, message)
        shown["type"] = payload["type"]
        return EmulatorResponse(201, shown)

    def _add_tag(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        payload = request.json_object()
        if payload.get("object") != "Ticket" or not payload.get("item"):
            raise Refusal(422, "Need object, o_id and item")
        ticket = self.find_conversation(str(payload.get("o_id")))
        with self.store.lock:
            ticket.tags.append(str(payload["item"]))
        self.record_language(ticket, str(payload["item"]), payload)
        return EmulatorResponse(200, True)

    # -- knowledge base ----------------------------------------------------------------------

    def _kb_init(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        payload = request.json_object() if request.body.strip() else {}
        named = payload.get("answer_translation_content_ids")
        return EmulatorResponse(200, self.kb_assets(None, contents=_content_ids(named)))

    def _kb_answer(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        answer = self._answer(groups)
        named = (request.param("include_contents") or "").split(",")
        assets = self.kb_assets(answer.id, contents=_content_ids(named))
        return EmulatorResponse(200, {"id": answer.id, "assets": assets})

    def _kb_update(self, request: EmulatorRequest, groups: dict[str, str]) -> EmulatorResponse:
        answer = self._answer(groups)
        payload = request.json_object()
        translations = payload.get("translations_attributes")
        if not isinstance(translations, list):
            raise Refusal(422, "translations_attributes must be a list")
        locale_tags = {number: tag for tag, number in self.kb_locales.items()}
        for attributes in translations:
            if not isinstance(attributes, dict):
                raise Refusal(422, "each translation must be an object")
            body = str((attributes.get("content_attributes") or {}).get("body", ""))
            if "id" in attributes:
                with self.store.lock:
                    found = self.store.articles.get(int(attributes["id"]))
                if found is None or found.source_id != answer.id:
                    raise Refusal(404, f"no translation {attributes['id']} on answer {answer.id}")
            else:
                tag = locale_tags.get(attributes.get("kb_locale_id"))  # type: ignore[arg-type]
                if tag is None:
                    raise Refusal(422, f"no kb_locale_id {attributes.get('kb_locale_id')!r}")
                found = self.store.translation(answer.id, tag) or self.store.add_article(
                    str(attributes.get("title") or ""), body, locale=tag, source_id=answer.id
                )
            with self.store.lock:
                found.title = str(attributes.get("title", found.title))
                found.body = body or found.body
                found.updated_at = time.time()
            self.store.record(Write("article", str(answer.id), found.body, "html", payload))
        return EmulatorResponse(
            200, {"id": answer.id, "assets": self.kb_assets(answer.id, contents=None)}
        )

    def _answer(self, groups: dict[str, str]) -> EmulatedArticle:
        if int(groups["kb"]) != self.kb_id:
            raise Refusal(404, f"knowledge base {groups['kb']} not found")
        with self.store.lock:
            answer = self.store.articles.get(int(groups["answer"]))
        if answer is None or answer.source_id is not None:
            raise Refusal(404, f"answer {groups['answer']} not found")
        return answer

    def kb_assets(self, answer_id: int | None, *, contents: set[int] | None) -> dict[str, Any]:
        """Zammad's asset map of the knowledge base (one answer's, or all), with the contents
        (bodies) whose `content_id` is in `contents` (None: every listed one)."""
        with self.store.lock:
            articles = list(self.store.articles.values())
        answers = [a for a in articles if a.source_id is None and answer_id in (None, a.id)]
        ids = {a.id for a in answers}
        translations = [a for a in articles if a.id in ids or a.source_id in ids]
        assets: dict[str, Any] = {
            "KnowledgeBase": {str(self.kb_id): {"id": self.kb_id, "active": True}},
            "KnowledgeBaseLocale": {
                str(number): {
                    "id": number,
                    "kb_id": self.kb_id,
                    "system_locale_id": number,
                    "primary": tag == "en",
                }
                for tag, number in self.kb_locales.items()
            },
            "KnowledgeBaseAnswer": {
                str(a.id): {
                    "id": a.id,
                    "category_id": 1,
                    "position": 0,
                    "translation_ids": [
                        t.id for t in translations if t.id == a.id or t.source_id == a.id
                    ],
                    "published_at": _stamp(a.created_at),
                    "internal_at": None,
                    "archived_at": None,
                    "created_at": _stamp(a.created_at),
                    "updated_at": _stamp(a.updated_at),
                }
                for a in answers
            },
            "KnowledgeBaseAnswerTranslation": {
                str(t.id): {
                    "id": t.id,
                    "title": t.title,
                    "kb_locale_id": self.kb_locales.get(t.locale, 0),
                    "answer_id": t.source_id or t.id,
                    "content_id": _content_id(t),
                    "created_at": _stamp(t.created_at),
                    "updated_at": _stamp(t.updated_at),
                }
                for t in translations
            },
        }
        named = [t for t in translations if contents is None or _content_id(t) in contents]
        if named:
            assets["KnowledgeBaseAnswerTranslationContent"] = {
                str(_content_id(t)): {"id": _content_id(t), "body": t.body, "attachments": []}
                for t in named
            }
        return assets

    # -- shapes ------------------------------------------------------------------------------

    def ticket_json(self, ticket: EmulatedConversation) -> dict[str, Any]:
        """A ticket as `GET /api/v1/tickets/{id}` renders it."""
        with self.store.lock:
            ids = [m.id for m in ticket.messages]
        return {
            "id": ticket.id,
            "group_id": 1,
            "priority_id": 2,
            "state_id": 2 if ticket.status == "open" else 4,
            "organization_id": None,
            "number": str(30000 + ticket.id),
            "title": ticket.subject,
            "owner_id": ticket.agent_id,
            "customer_id": ticket.customer_id,
            "note": None,
            "first_response_at": None,
            "close_at": _stamp(ticket.solved_at) if ticket.solved_at else None,
            "last_contact_at": _stamp(ticket.updated_at),
            "last_contact_customer_at": _stamp(ticket.updated_at),
            "create_article_type_id": 5,
            "create_article_sender_id": 2,
            "article_count": len(ids),
            "article_ids": ids,
            "tags": list(ticket.tags),
            "preferences": {},
            "updated_by_id": ticket.agent_id,
            "created_by_id": ticket.customer_id,
            "created_at": _stamp(ticket.created_at),
            "updated_at": _stamp(ticket.updated_at),
            **ticket.fields,
        }

    def article_json(
        self, ticket: EmulatedConversation, message: EmulatedMessage
    ) -> dict[str, Any]:
        """A ticket article as `GET …/by_ticket/{id}` renders it."""
        customer = message.author == "customer"
        author = ticket.customer_id if customer else ticket.agent_id
        kind = ticket.channel if customer else ("note" if not message.public else "web")
        return {
            "id": message.id,
            "ticket_id": ticket.id,
            "type_id": {"email": 1, "chat": 8, "note": 10, "web": 11}.get(kind, 11),
            "sender_id": 2 if customer else 1,
            "from": f"{ticket.customer_name} <{ticket.customer_email}>"
            if customer
            else "Alex Agent",
            "to": None if customer else ticket.customer_email,
            "cc": None,
            "subject": None,
            "reply_to": None,
            "message_id": None,
            "message_id_md5": None,
            "in_reply_to": None,
            "content_type": "text/html" if message.content_type == "html" else "text/plain",
            "references": None,
            "body": message.body,
            "internal": not message.public,
            "preferences": {},
            "updated_by_id": author,
            "created_by_id": author,
            "origin_by_id": None,
            "created_at": _stamp(message.created_at),
            "updated_at": _stamp(message.created_at),
            "attachments": [],
            "type": kind,
            "sender": "Customer" if customer else "Agent",
            "created_by": ticket.customer_email if customer else "agent@acme.example",
            "updated_by": ticket.customer_email if customer else "agent@acme.example",
            "time_unit": None,
        }

    # -- webhooks ----------------------------------------------------------------------------

    def customer_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        return self.trigger(conversation, message)

    def agent_note_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        return self.trigger(conversation, message)

    def _user(self, ticket: EmulatedConversation, *, customer: bool) -> dict[str, Any]:
        stamp = _stamp(ticket.created_at)
        name = ticket.customer_name if customer else "Alex Agent"
        first, _, last = name.partition(" ")
        email = ticket.customer_email if customer else "agent@acme.example"
        return {
            "active": True,
            "created_at": stamp,
            "created_by": "-",
            "created_by_id": 1,
            "email": email,
            "firstname": first,
            "lastname": last,
            "id": ticket.customer_id if customer else ticket.agent_id,
            "image": None,
            "login": email,
            "organization": None,
            "organization_id": None,
            "out_of_office": False,
            "role_ids": [3] if customer else [2],
            "roles": ["Customer"] if customer else ["Agent"],
            "updated_at": stamp,
            "updated_by": "-",
            "updated_by_id": 1,
            "verified": False,
            "vip": False,
            "address": None,
            "note": None,
            "phone": None,
            "karma_user_ids": [],
        }

    def trigger_ticket(self, ticket: EmulatedConversation) -> dict[str, Any]:
        """A ticket as the default trigger payload renders it: associations expanded."""
        stamp = _stamp(ticket.created_at)
        meta = {
            "active": True,
            "created_at": stamp,
            "created_by": "-",
            "created_by_id": 1,
            "updated_at": stamp,
            "updated_by": "-",
            "updated_by_id": 1,
        }
        customer, agent = self._user(ticket, customer=True), self._user(ticket, customer=False)
        shown = self.ticket_json(ticket)
        shown.update(
            create_article_sender="Customer",
            create_article_type=ticket.channel,
            created_by=customer,
            customer=customer,
            group={
                **meta,
                "follow_up_assignment": True,
                "follow_up_possible": "yes",
                "id": 1,
                "name": "Users",
                "user_ids": [ticket.agent_id],
                "users": [agent["email"]],
            },
            organization=None,
            owner=agent,
            priority={**meta, "default_create": True, "id": 2, "name": "2 normal"},
            state="open" if ticket.status == "open" else "closed",
            ticket_time_accounting=[],
            ticket_time_accounting_ids=[],
            updated_by=agent,
        )
        return shown

    def trigger(self, ticket: EmulatedConversation, message: EmulatedMessage) -> Webhook:
        """The default trigger payload about `message`, signed with the signature token."""
        article = self.article_json(ticket, message)
        author = self._user(ticket, customer=message.author == "customer")
        article.update(
            created_by=author, updated_by=author, origin_by=author["login"], accounted_time=0
        )
        payload = {"ticket": self.trigger_ticket(ticket), "article": article}
        return self.webhook(payload, event="trigger")

    def sign(self, body: bytes, *, event: str = "") -> dict[str, str]:
        """Zammad's signature: `sha1=` hex HMAC-SHA1 of the body, with trigger and delivery."""
        signature = hmac_digest(self.webhook_secret, body, algorithm="sha1", encoding="hex")
        headers = {
            "content-type": "application/json; charset=utf-8",
            "user-agent": "Zammad User Agent",
            "x-zammad-trigger": "tl_loop",
            "x-zammad-delivery": str(uuid.uuid4()),
            "x-hub-signature": f"sha1={signature}",
        }
        return headers


_CONTENTS = 70_000
"""Contents are rows of their own in Zammad (`content_id`); here their ids are offset from the
translations' so that mixing the two up shows."""


def _content_id(translation: EmulatedArticle) -> int:
    return _CONTENTS + translation.id


def _content_ids(named: object) -> set[int]:
    """Content ids as a request names them (a JSON list, or the parts of a comma list)."""
    items = named if isinstance(named, list) else []
    return {int(str(item)) for item in items if str(item).strip().isdigit()}
