"""The Intercom adapter: conversations, notes, replies and article translations."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import httpx

from tl_loop import (
    Channel,
    ContentType,
    InvalidRequestError,
    ServiceError,
)
from tl_loop.helpdesk import (
    AdapterSettings,
    Article,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    Rating,
    Setting,
    as_id,
    as_mapping,
    carries_own_marker,
    epoch_seconds,
    error_body,
    header,
    hmac_digest,
    json_body,
    language_from_labels,
    language_hint,
    next_page_request,
    numeric_id,
    parse_time,
    path_segment,
    response_object,
    seconds_until,
    verify_signature,
    with_detail,
)

__all__ = ["IntercomAdapter"]

_SERVICE = "intercom"
_CUSTOMERS = frozenset({"user", "lead", "contact"})
_LANGUAGE_TAG = "lang-"  # a conversation tag such as `lang-es` gives the customer language
# The conversation `source.type`: the Messenger (`conversation`) and messaging apps are chat;
# push, phone calls and the rest say nothing certain (None).
_SOURCE_TYPES: dict[str, Channel] = {
    "email": "email",
    "conversation": "chat",
    "chat": "chat",
    "whatsapp": "chat",
    "facebook": "chat",
    "instagram": "chat",
    "sms": "chat",
}
_LOCALE = "tl_loop_locale"  # request extension: which locale an article listing asked for

Kind = Literal["customer_message", "agent_note", "ticket_created", "ignored"]
Role = Literal["customer", "agent", "system"]


class IntercomAdapter(HelpdeskAdapter):
    """Intercom conversations and Help Center articles.

    Args:
        access_token: the app's access token (Developer Hub → your app → Authentication).
        client_secret: the app's client secret, which signs webhooks (Basic information).
        admin_id: the admin (teammate) notes, replies and article drafts are written as; use
            a dedicated teammate so agents can tell tl_loop's writes apart.
        base_url: the API host; `https://api.eu.intercom.io` or `https://api.au.intercom.io`
            for workspaces hosted in Europe or Australia.
        api_version: the `Intercom-Version` header.
        language_attribute: a conversation data attribute to store the customer language in;
            without it `build_set_language` returns None.
        per_page: articles per page.
    """

    name: ClassVar[str] = _SERVICE
    lists_notes = True  # its conversation listing includes internal notes
    supports_kb: ClassVar[bool] = True
    settings: ClassVar[AdapterSettings] = AdapterSettings(
        _SERVICE,
        Setting("access_token", required=True, secret=True,
                where="Developer Hub → your app → Authentication"),
        Setting("client_secret", required=True, secret=True,
                where="Developer Hub → your app → Basic information"),
        Setting("admin_id", required=True, where="the teammate tl_loop writes as"),
        Setting("base_url", default="https://api.intercom.io"),
        Setting("api_version", default="2.11"),
        Setting("language_attribute"),
        Setting("per_page", kind="int", default=50),
    )  # fmt: skip

    def __init__(
        self,
        *,
        access_token: str,
        client_secret: str,
        admin_id: str,
        base_url: str = "https://api.intercom.io",
        api_version: str = "2.11",
        language_attribute: str | None = None,
        per_page: int = 50,
    ) -> None:
        self.settings.check(
            access_token=access_token, client_secret=client_secret, admin_id=admin_id
        )
        self.base_url = base_url.rstrip("/")
        self._access_token = access_token
        self._client_secret = client_secret
        self.admin_id = str(admin_id)
        self.api_version = api_version
        self.language_attribute = language_attribute
        self.per_page = per_page

    # -- webhooks ----------------------------------------------------------------------------

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        """Check `X-Hub-Signature: sha1=<hex HMAC-SHA1(client_secret, raw body)>`.

        Intercom signs no timestamp, so there is no replay window: dedupe by event id.

        Raises:
            WebhookAuthError: unsigned or forged.
        """
        received = header(headers, "x-hub-signature")
        expected = "sha1=" + hmac_digest(
            self._client_secret, body, algorithm="sha1", encoding="hex"
        )
        verify_signature(expected, received, service=self.name)

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        """Parse a `notification_event`: `conversation.user.created` starts a conversation,
        `conversation.user.replied` is a customer message, `conversation.admin.noted` an
        agent note; everything else (admin replies, assignments, pings) is ignored.

        Raises:
            InvalidRequestError: not JSON, or not a notification with a conversation.
        """
        payload = json_body(body, service=_SERVICE)
        event_id = payload.get("id")
        topic = payload.get("topic")
        if payload.get("type") != "notification_event" or not event_id or not topic:
            raise InvalidRequestError(
                "the webhook is not an Intercom notification_event with `id` and `topic`",
                service=_SERVICE,
            )
        item = as_mapping(as_mapping(payload.get("data")).get("item"))
        if not str(topic).startswith("conversation.") or item.get("type") != "conversation":
            return HelpdeskEvent(
                kind="ignored", event_id=str(event_id), conversation_id=str(item.get("id", ""))
            )
        if not item.get("id"):
            raise InvalidRequestError(
                "the notification's conversation has no `id`", service=_SERVICE
            )
        if topic == "conversation.user.created":
            return self._event("ticket_created", str(event_id), item, _first(item), payload)
        wanted = {"conversation.user.replied": "comment", "conversation.admin.noted": "note"}
        part_type = wanted.get(str(topic))
        part = _last_part(item, part_type) if part_type else None
        if part is None:
            return HelpdeskEvent(
                kind="ignored", event_id=str(event_id), conversation_id=str(item["id"])
            )
        kind: Kind = "customer_message" if part_type == "comment" else "agent_note"
        return self._event(kind, str(event_id), item, part, payload)

    def _event(
        self,
        kind: Kind,
        event_id: str,
        item: Mapping[str, Any],
        part: Mapping[str, Any],
        payload: Mapping[str, Any],
    ) -> HelpdeskEvent:
        body = part.get("body")
        text = body if isinstance(body, str) and body else None
        if text is not None and carries_own_marker(text):
            kind = "ignored"
        author = as_mapping(part.get("author"))
        return HelpdeskEvent(
            kind=kind,
            event_id=event_id,
            conversation_id=str(item["id"]),
            message_id=as_id(part.get("id")),
            text=text,
            content_type="html",
            author_id=as_id(author.get("id")),
            customer_language=self._language(item),
            complete=text is not None,
            raw=payload,
            # The conversation's first message says how it travels, notes and replies alike.
            channel=_SOURCE_TYPES.get(str(as_mapping(item.get("source")).get("type"))),
        )

    def _language(self, item: Mapping[str, Any]) -> str | None:
        """The conversation attribute `language_attribute`, else a `lang-xx` tag."""
        if self.language_attribute is not None:
            attributes = as_mapping(item.get("custom_attributes"))
            if (tag := language_hint(attributes.get(self.language_attribute))) is not None:
                return tag
        tags = as_mapping(item.get("tags")).get("tags")
        names = [as_mapping(t).get("name") for t in tags] if isinstance(tags, list) else []
        return language_from_labels(names, prefix=_LANGUAGE_TAG)

    def language_help(self) -> str:
        """Intercom: the language conversation attribute, or a `lang-xx` tag."""
        tag = (
            f"tag the conversation {_LANGUAGE_TAG}xx, where xx is the customer's language code "
            f"(e.g. {_LANGUAGE_TAG}es for Spanish)"
        )
        if self.language_attribute is None:
            return tag
        return f"{tag}, or set the conversation attribute “{self.language_attribute}” to that code"

    def replay_key(self, event: HelpdeskEvent, body: bytes, headers: Mapping[str, str]) -> str:
        """The notification's `id`: inside the signed body, the same on every delivery attempt
        (the body itself is not: `delivery_attempts` counts up)."""
        return f"notification:{event.event_id}"

    def signed_at(
        self, event: HelpdeskEvent, body: bytes, headers: Mapping[str, str]
    ) -> float | None:
        """The notification's `created_at` (the body is signed; no timestamp header is)."""
        return epoch_seconds(json_body(body, service=_SERVICE).get("created_at"))

    # -- conversations -----------------------------------------------------------------------

    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        """`GET /conversations/{id}`: the first message (`source`) and up to 500 parts, in one
        response (Intercom does not paginate parts, so `next_page` is None)."""
        return self._request("GET", f"/conversations/{path_segment(conversation_id)}")

    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        """The first message (`source`; `conversation_message` on the 1.x shape), then every
        part that has a body (assignments have none)."""
        item = response_object(response, service=_SERVICE)
        parts = [_first(item)]
        parts += [
            as_mapping(part)
            for part in as_mapping(item.get("conversation_parts")).get("conversation_parts") or []
        ]
        return [_message(part, item) for part in parts if part.get("body")]

    def build_post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`POST /conversations/{id}/reply` with `message_type: "note"` (teammates only)."""
        return self._reply(conversation_id, text, content_type, message_type="note")

    def build_post_reply(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`POST /conversations/{id}/reply` with `message_type: "comment"` (the customer sees
        it)."""
        return self._reply(conversation_id, text, content_type, message_type="comment")

    def build_set_language(self, conversation_id: str, language: str) -> httpx.Request | None:
        """`PUT /conversations/{id}` setting the `language_attribute` data attribute."""
        if self.language_attribute is None:
            return None
        return self._request(
            "PUT",
            f"/conversations/{path_segment(conversation_id)}",
            json={"custom_attributes": {self.language_attribute: language}},
        )

    # -- articles ----------------------------------------------------------------------------

    def build_list_articles(self, locale: str) -> httpx.Request:
        """`GET /articles?page=1&per_page=…`; `parse_articles` picks the `locale` content."""
        request = self._request("GET", "/articles", params={"page": 1, "per_page": self.per_page})
        request.extensions[_LOCALE] = locale
        return request

    def parse_articles(self, response: httpx.Response) -> list[Article]:
        """Articles that have content in the listed locale (default or translated)."""
        locale = str(response.request.extensions.get(_LOCALE) or "")
        articles = []
        for item in response_object(response, service=_SERVICE).get("data") or []:
            article = _article(as_mapping(item), locale)
            if article is not None:
                articles.append(article)
        return articles

    def next_page(self, response: httpx.Response) -> httpx.Request | None:
        """The next page of an article listing (`pages.next`), if any."""
        if response.request.url.path.rstrip("/") != "/articles":
            return None
        pages = as_mapping(response_object(response, service=_SERVICE).get("pages"))
        page = pages.get("page")
        after = None
        if isinstance(page, int) and page < int(pages.get("total_pages") or 0):
            after = {"page": page + 1}
        request = next_page_request(
            response, link=pages.get("next"), params=after, headers=self._headers()
        )
        if request is None:
            return None
        request.extensions[_LOCALE] = response.request.extensions.get(_LOCALE)
        return request

    def build_publish_translation(
        self, article: Article, *, locale: str, title: str, body: str, draft: bool = True
    ) -> httpx.Request:
        """`PUT /articles/{id}` with `translated_content.{locale}`, as a draft by default."""
        content = {
            "type": "article_content",
            "title": title,
            "body": body,
            "author_id": numeric_id(self.admin_id),
            "state": "draft" if draft else "published",
        }
        return self._request(
            "PUT",
            f"/articles/{path_segment(article.source_id or article.id)}",
            json={"translated_content": {locale: content}},
        )

    # -- errors ------------------------------------------------------------------------------

    # -- outcomes ----------------------------------------------------------------------------

    def rating_in_messages(self, conversation_id: str, response: httpx.Response) -> Rating | None:
        """Intercom keeps the customer's rating on the conversation: `conversation_rating`
        with `rating` 1–5 (4 and 5 count as satisfied)."""
        if response.is_error:
            return None
        rated = as_mapping(as_mapping(response.json()).get("conversation_rating"))
        value = rated.get("rating")
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        return Rating(
            conversation_id=conversation_id,
            score=(min(max(value, 1), 5) - 1) / 4,
            raw=str(value),
            satisfied=value >= 4,
            created_at=parse_time(rated.get("created_at")),
        )

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """The base mapping with Intercom's `error.list` messages quoted."""
        error = super().error_for(response)
        return None if error is None else with_detail(error, response, _error_detail(response))

    def retry_after(self, response: httpx.Response) -> float | None:
        """`Retry-After`, else the seconds until `X-RateLimit-Reset` (epoch seconds) by the
        server's clock."""
        waited = super().retry_after(response)
        if waited is not None:
            return waited
        return seconds_until(response.headers, "x-ratelimit-reset")

    def __repr__(self) -> str:
        return f"<IntercomAdapter base_url={self.base_url!r} admin_id={self.admin_id!r}>"

    # -- helpers -----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._access_token}",
            "Accept": "application/json",
            "Intercom-Version": self.api_version,
        }

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

    def _reply(
        self, conversation_id: str, text: str, content_type: ContentType, *, message_type: str
    ) -> httpx.Request:
        body = text if content_type == "html" else _paragraphs(text)
        return self._request(
            "POST",
            f"/conversations/{path_segment(conversation_id)}/reply",
            json={
                "message_type": message_type,
                "type": "admin",
                "admin_id": self.admin_id,
                "body": body,
            },
        )


def _last_part(item: Mapping[str, Any], part_type: str) -> Mapping[str, Any] | None:
    # A webhook carries the part(s) that triggered it; the newest of the wanted type is ours.
    parts = as_mapping(item.get("conversation_parts")).get("conversation_parts") or []
    for part in reversed(parts):
        if isinstance(part, dict) and part.get("part_type") == part_type:
            return part
    return None


def _role(author: Mapping[str, Any]) -> Role:
    kind = author.get("type")
    if kind in _CUSTOMERS:
        return "customer"
    if kind == "admin":
        return "agent"
    return "system"  # bots (Fin), teams, workflows


def _first(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """A conversation's first message: `source` (API 2.x), or `conversation_message` in
    workspaces still on the 1.x payload shape (same `id`, `body` and `author`)."""
    return as_mapping(item.get("source")) or as_mapping(item.get("conversation_message"))


def _message(part: Mapping[str, Any], item: Mapping[str, Any]) -> HelpdeskMessage:
    created = part.get("created_at", item.get("created_at"))
    return HelpdeskMessage(
        id=str(part.get("id")),
        text=str(part.get("body")),
        content_type="html",
        author_role=_role(as_mapping(part.get("author"))),
        public=part.get("part_type") != "note",
        created_at=str(created) if created is not None else None,
    )


def _article(item: Mapping[str, Any], locale: str) -> Article | None:
    if "id" not in item:
        return None
    content: Mapping[str, Any] = item
    if locale and locale != item.get("default_locale", locale):
        content = as_mapping(as_mapping(item.get("translated_content")).get(locale))
        if not content:
            return None
    updated = content.get("updated_at")
    return Article(
        id=str(item["id"]),
        title=str(content.get("title") or ""),
        body=str(content.get("body") or ""),
        locale=locale or str(item.get("default_locale") or ""),
        updated_at=str(updated) if updated is not None else None,
        source_id=str(item["id"]),
    )


def _paragraphs(text: str) -> str:
    # Intercom bodies are HTML, documented as `<p>` blocks: plain text becomes escaped
    # paragraphs, not the `<br>` lines of `text_to_html`, so the messenger spaces them as such.
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line.strip())


def _error_detail(response: httpx.Response) -> str:
    errors = error_body(response).get("errors")
    if not isinstance(errors, list):
        return ""
    parts = [
        ": ".join(str(part) for part in (error.get("code"), error.get("message")) if part)
        for error in errors
        if isinstance(error, dict)
    ]
    return "; ".join(part for part in parts if part)[:300]
