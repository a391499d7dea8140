"""The Freshdesk adapter: tickets, conversations and solution-article translations (API v2)."""

from __future__ import annotations

import base64
import functools
import hmac
import logging
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import httpx

from tl_loop import (
    Channel,
    ConfigurationError,
    ContentType,
    InvalidRequestError,
    ServiceError,
    WebhookAuthError,
)
from tl_loop.helpdesk import (
    AdapterSettings,
    Article,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    Rating,
    Setting,
    article_from,
    as_id,
    as_mapping,
    body_event_id,
    carries_own_marker,
    error_body,
    header,
    json_body,
    language_hint,
    next_page_request,
    parse_time,
    path_segment,
    response_array,
    text_to_html,
    translation_target,
    with_detail,
)

__all__ = ["FreshdeskAdapter"]

log = logging.getLogger("tl_loop.adapters.freshdesk")

_SERVICE = "freshdesk"
_EVENTS = ("agent_note", "customer_message", "ticket_created")
_DRAFT, _PUBLISHED = 1, 2  # solution article `status`
# Ticket `source`: 1 Email, 2 Portal, 3 Phone, 7 Chat, 9 Feedback widget, 10 Outbound email.
# `{{ticket.source}}` expands to the name. Portal, phone and widget tickets: not known.
_SOURCES: dict[str, Channel] = {
    "1": "email",
    "10": "email",
    "email": "email",
    "outbound_email": "email",
    "7": "chat",
    "chat": "chat",
}

Kind = Literal["customer_message", "agent_note", "ticket_created", "ignored"]
# What Freshdesk's `{{triggered_event}}` placeholder expands to (unquoted, not JSON):
# `{ticket_action:created}`, `{note_type:private}`, `{status:{from:2,to:3}}`, ...
_TRIGGERED: dict[tuple[str, str], Kind] = {
    ("ticket_action", "created"): "ticket_created",
    ("note_type", "private"): "agent_note",  # where agents write `#tl …`
}


def _triggered_kind(triggered: str) -> Kind:
    """The event kind of a `{{triggered_event}}` expansion; property changes are ignored."""
    parts = triggered.replace("{", "").replace("}", "").replace(",", ":").split(":")
    key = (parts[0].strip().lower(), parts[1].strip().lower()) if len(parts) == 2 else ("", "")
    return _TRIGGERED.get(key, "ignored")


class FreshdeskAdapter(HelpdeskAdapter):
    """Freshdesk tickets and solution articles.

    Freshdesk does not sign webhooks: the automation rule's webhook action must send the shared
    secret in a custom header (`X-TL-Loop-Secret` by default) or as the password of basic auth.

    Args:
        domain: the helpdesk's subdomain (`acme` for `https://acme.freshdesk.com`).
        api_key: an agent's API key (Profile settings → View API key).
        webhook_secret: the shared secret the automation rule sends.
        base_url: the API root, overriding `domain`.
        secret_header: the header carrying `webhook_secret`.
        language_field: a ticket custom field (e.g. `cf_language`) to store the customer
            language in; without it, `build_set_language` returns None (updating `tags`
            through the API would replace every tag on the ticket).
        per_page: conversations and articles per page (at most 100).
        kb_folder_id: the solution folder `build_list_articles` lists by default.
        kb_primary_language: the portal's primary language, listed without a language suffix.
    """

    name: ClassVar[str] = _SERVICE
    settings: ClassVar[AdapterSettings] = AdapterSettings(
        _SERVICE,
        Setting("domain", where="acme for https://acme.freshdesk.com"),
        Setting("base_url"),
        Setting("api_key", required=True, secret=True,
                where="Freshdesk → Profile settings → View API key"),
        Setting("webhook_secret", required=True, secret=True,
                where="the shared secret your automation rules send"),
        Setting("secret_header", default="X-TL-Loop-Secret"),
        Setting("language_field"),
        Setting("per_page", kind="int", default=100),
        Setting("kb_folder_id"),
        Setting("kb_primary_language", default="en"),
        one_of=(("domain", "base_url"),),
    )  # fmt: skip
    lists_notes = True  # its conversation listing includes internal notes
    supports_kb: ClassVar[bool] = True

    def __init__(
        self,
        *,
        domain: str | None = None,
        api_key: str,
        webhook_secret: str,
        base_url: str | None = None,
        secret_header: str = "X-TL-Loop-Secret",
        language_field: str | None = None,
        per_page: int = 100,
        kb_folder_id: str | None = None,
        kb_primary_language: str = "en",
    ) -> None:
        self.settings.check(
            api_key=api_key, webhook_secret=webhook_secret, domain=domain, base_url=base_url
        )
        if not 1 <= per_page <= 100:
            raise ConfigurationError(f"freshdesk: per_page must be 1..100, not {per_page}")
        self.base_url = (base_url or f"https://{domain}.freshdesk.com").rstrip("/")
        # Freshdesk takes the API key as the basic-auth user; the password is ignored.
        self._authorization = "Basic " + base64.b64encode(f"{api_key}:X".encode()).decode()
        self._webhook_secret = webhook_secret
        self.secret_header = secret_header
        self.language_field = language_field
        self.per_page = per_page
        self.kb_folder_id = kb_folder_id
        self.kb_primary_language = kb_primary_language

    # -- webhooks ----------------------------------------------------------------------------

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        """Compare the shared secret (custom header, or basic-auth password) in constant time.

        Raises:
            WebhookAuthError: the secret is missing or wrong.
        """
        received = header(headers, self.secret_header) or _basic_password(
            header(headers, "authorization") or ""
        )
        if not received:
            raise WebhookAuthError(
                f"freshdesk: the webhook carries no {self.secret_header} header (or basic "
                "auth); add it to the automation rule's webhook action"
            )
        if not hmac.compare_digest(received.strip().encode(), self._webhook_secret.encode()):
            raise WebhookAuthError(f"freshdesk: the webhook's {self.secret_header} is wrong")

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        """Parse the automation rule's JSON (top level, or under `freshdesk_webhook`).

        Expected keys: `ticket_id`, `event` (customer_message, agent_note or ticket_created),
        `updated_at` (`{{ticket.modified_on}}`: the body's hash is the event id, and this is
        what makes two identical messages two events), and optionally `text`, `author_id`,
        `requester_language`, `source` (the ticket's
        source code or name: email or chat becomes the channel). The text is a placeholder
        expansion, so the event is `complete=False`: the relay re-reads the conversation;
        except a new ticket's, `{{ticket.description}}`, the whole first message, which the
        conversations API does not list (`complete=True`).

        Without `event`, Freshdesk's own `triggered_event` is understood (the body many
        existing automations send, wrapped as `freshdesk_webhook`): a created ticket is
        `ticket_created` with its `ticket_description` as the text, a private note is an
        `agent_note`, and property changes are ignored.

        Raises:
            InvalidRequestError: not JSON, or `ticket_id` / `event` missing.
        """
        payload = json_body(body, service=_SERVICE, hint="set the rule's webhook content to JSON")
        inner = payload.get("freshdesk_webhook")
        if isinstance(inner, dict):
            payload = inner
        ticket_id = payload.get("ticket_id")
        if ticket_id in (None, ""):
            raise InvalidRequestError(
                'the webhook has no `ticket_id`; send {"ticket_id": "{{ticket.id}}", ...}',
                service=_SERVICE,
            )
        event = payload.get("event")
        triggered = payload.get("triggered_event")
        if event is None and isinstance(triggered, str):
            event = _triggered_kind(triggered)
        if event not in (*_EVENTS, "ignored"):
            raise InvalidRequestError(
                f"the webhook's `event` is {event!r}; set it to one of {', '.join(_EVENTS)} in "
                'the automation rule\'s JSON (or send "triggered_event": "{{triggered_event}}")',
                service=_SERVICE,
            )
        text = payload.get("text")
        if text is None and event == "ticket_created":
            text = payload.get("ticket_description")
        text = text if isinstance(text, str) and text.strip() else None
        # A new ticket's text is {{ticket.description}}, the whole first message, which the
        # conversations API does not list: use it as it came. Other placeholders are re-read.
        complete = event == "ticket_created" and text is not None
        kind: Kind = "ignored" if text is not None and carries_own_marker(text) else event
        if kind in ("customer_message", "agent_note") and not payload.get("updated_at"):
            _say_update_time_missing()
        return HelpdeskEvent(
            kind=kind,
            # Freshdesk sends no delivery id: the same body is the same delivery (retries
            # resend it). `updated_at` ({{ticket.modified_on}}) tells identical messages apart.
            event_id=body_event_id(body),
            conversation_id=str(ticket_id),
            text=text,
            content_type="html",
            author_id=as_id(payload.get("author_id")),
            customer_language=language_hint(payload.get("requester_language"))
            or (language_hint(payload.get(self.language_field)) if self.language_field else None),
            complete=complete,
            raw=payload,
            channel=_source_channel(payload.get("source")),
        )

    def language_help(self) -> str:
        """Freshdesk: the ticket's language field, when one is configured."""
        if self.language_field is None:
            return super().language_help()
        return (
            f"set the ticket's language field ({self.language_field}) to the customer's "
            "language code (e.g. es for Spanish)"
        )

    def ticket_url(self, conversation_id: str) -> str | None:
        """The ticket's page for agents, `https://<domain>.freshdesk.com/helpdesk/tickets/<id>`
        (what Freshdesk's `{{ticket.url}}` placeholder gives)."""
        return f"{self.base_url}/helpdesk/tickets/{path_segment(conversation_id)}"

    # -- conversations -----------------------------------------------------------------------

    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        """`GET /api/v2/tickets/{id}/conversations?page=1&per_page=…` (replies and notes; the
        ticket's first message is its `description`, not a conversation)."""
        return self._request(
            "GET",
            f"/api/v2/tickets/{path_segment(conversation_id)}/conversations",
            params={"page": 1, "per_page": self.per_page},
        )

    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        """The conversations of one page: `incoming` ones are the customer's."""
        items = response_array(response, service=_SERVICE)
        return [_message(item) for item in items if isinstance(item, dict)]

    def next_page(self, response: httpx.Response) -> httpx.Request | None:
        """The `Link: rel="next"` page, else the next `page` while pages come back full."""
        following = response.links.get("next", {}).get("url")
        if following:
            return next_page_request(response, link=following, headers=self._headers())
        params = response.request.url.params
        per_page = int(params.get("per_page", self.per_page))
        if len(response_array(response, service=_SERVICE)) < per_page:
            return None
        page = int(params.get("page", 1)) + 1
        return next_page_request(response, params={"page": page}, headers=self._headers())

    def build_post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`POST /api/v2/tickets/{id}/notes` with `private: true`."""
        return self._request(
            "POST",
            f"/api/v2/tickets/{path_segment(conversation_id)}/notes",
            json={"body": text_to_html(text, content_type), "private": True},
        )

    def build_post_reply(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`POST /api/v2/tickets/{id}/reply`, emailed to the requester."""
        return self._request(
            "POST",
            f"/api/v2/tickets/{path_segment(conversation_id)}/reply",
            json={"body": text_to_html(text, content_type)},
        )

    def build_set_language(self, conversation_id: str, language: str) -> httpx.Request | None:
        """`PUT /api/v2/tickets/{id}` setting `language_field`, when one is configured."""
        if self.language_field is None:
            return None
        return self._request(
            "PUT",
            f"/api/v2/tickets/{path_segment(conversation_id)}",
            json={"custom_fields": {self.language_field: language}},
        )

    # -- solutions (knowledge base) ----------------------------------------------------------

    def build_list_articles(self, locale: str, *, folder_id: str | None = None) -> httpx.Request:
        """`GET /api/v2/solutions/folders/{folder}/articles[/{lang}]`, paginated.

        Raises:
            ConfigurationError: no `folder_id` given and no `kb_folder_id` configured.
        """
        folder = folder_id or self.kb_folder_id
        if not folder:
            raise ConfigurationError(
                "freshdesk: solution articles are listed per folder; pass folder_id= or "
                "configure kb_folder_id"
            )
        path = f"/api/v2/solutions/folders/{path_segment(folder)}/articles"
        if locale.lower() != self.kb_primary_language.lower():
            path += f"/{path_segment(locale)}"
        return self._request("GET", path, params={"page": 1, "per_page": self.per_page})

    def parse_articles(self, response: httpx.Response) -> list[Article]:
        """The articles of one page, in the language the request named."""
        last = response.request.url.path.rstrip("/").rsplit("/", 1)[-1]
        locale = self.kb_primary_language if last == "articles" else last
        return [
            article_from(item, locale=locale, body="description")
            for item in response_array(response, service=_SERVICE)
            if isinstance(item, dict) and "id" in item
        ]

    def build_publish_translation(
        self, article: Article, *, locale: str, title: str, body: str, draft: bool = True
    ) -> httpx.Request:
        """Create the translation (`POST /api/v2/solutions/articles/{id}/{lang}`) from a
        source article, or update it (`PUT`, same path) when `article` is that translation;
        `status` 1 is a draft, 2 published."""
        article_id, update = translation_target(article, locale)
        method = "PUT" if update else "POST"
        status = _DRAFT if draft else _PUBLISHED
        return self._request(
            method,
            f"/api/v2/solutions/articles/{path_segment(article_id)}/{path_segment(locale)}",
            json={"title": title, "description": body, "status": status},
        )

    # -- errors ------------------------------------------------------------------------------

    # -- outcomes ----------------------------------------------------------------------------

    def build_list_ratings(self) -> httpx.Request:
        """`GET /api/v2/surveys/satisfaction_ratings` (pages by `page`/`per_page` and `Link`)."""
        return self._request(
            "GET",
            "/api/v2/surveys/satisfaction_ratings",
            params={"page": 1, "per_page": self.per_page},
        )

    def parse_ratings(self, response: httpx.Response) -> list[Rating]:
        """Freshdesk's classic scale runs from -103 (strongly unhappy) to 103 (extremely
        happy), 100 neutral; the default question's answer is the rating."""
        ratings = []
        for item in response_array(response, service=_SERVICE):
            item = as_mapping(item)
            value = as_mapping(item.get("ratings")).get("default_question")
            if not isinstance(value, int) or item.get("ticket_id") is None:
                continue
            ratings.append(
                Rating(
                    conversation_id=str(item["ticket_id"]),
                    score=_freshdesk_score(value),
                    raw=str(value),
                    satisfied=value > 100,
                    created_at=parse_time(item.get("created_at")),
                )
            )
        return ratings

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """The base mapping (429 honours `Retry-After`) with Freshdesk's `description` and
        per-field `errors` quoted."""
        error = super().error_for(response)
        return None if error is None else with_detail(error, response, _error_detail(response))

    # -- helpers -----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": self._authorization, "Accept": "application/json"}

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> httpx.Request:
        return httpx.Request(
            method, self.base_url + path, params=params, json=json, headers=self._headers()
        )


@functools.cache
def _say_update_time_missing() -> None:
    """Once a process: a rule body without the ticket's update time loses identical messages."""
    log.warning(
        'freshdesk: the automation rule\'s webhook body has no "updated_at": '
        '"{{ticket.modified_on}}"; without it two identical messages on one ticket (a customer '
        'writing "Thanks" twice) look like one delivery and the second is not translated. '
        "Add it to the rule's JSON (docs/helpdesks/freshdesk.md)."
    )


def _basic_password(authorization: str) -> str | None:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


def _message(item: dict[str, Any]) -> HelpdeskMessage:
    private = item.get("private") is True
    author: Literal["customer", "agent", "system"] = (
        "customer" if item.get("incoming") is True else "agent"
    )
    body = item.get("body")
    has_html = isinstance(body, str) and bool(body)
    return HelpdeskMessage(
        id=str(item.get("id")),
        text=str(body) if has_html else str(item.get("body_text") or ""),
        content_type="html" if has_html else "text",
        author_role=author,
        public=not private,
        created_at=item.get("created_at"),
    )


def _error_detail(response: httpx.Response) -> str:
    payload = error_body(response)
    parts = [str(part) for part in (payload.get("description"), payload.get("message")) if part]
    for problem in payload.get("errors") or []:
        if isinstance(problem, dict):
            field = problem.get("field")
            text = problem.get("message") or problem.get("code") or ""
            parts.append(f"{field}: {text}" if field else str(text))
    return "; ".join(parts)[:300]


def _source_channel(source: object) -> Channel | None:
    """The channel a ticket `source` (code, as number or text, or name) means, else None."""
    if isinstance(source, bool) or not isinstance(source, (int, str)):
        return None
    return _SOURCES.get(str(source).strip().lower().replace(" ", "_"))


def _freshdesk_score(value: int) -> float:
    """Freshdesk's classic -103…103 scale (100 neutral, ±101…103 by strength) on 0–1."""
    if value >= 100:
        return 0.5 + 0.5 * min(value - 100, 3) / 3
    return 0.5 - 0.5 * min(abs(value) - 100, 3) / 3 if value <= -100 else 0.5
