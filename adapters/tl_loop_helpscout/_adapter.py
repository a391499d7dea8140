"""Help Scout (Inbox API 2.0): conversation webhooks in, notes and replies out."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Literal

import httpx

from tl_loop import (
    Channel,
    ConfigurationError,
    ContentType,
    InvalidRequestError,
    ServiceError,
)
from tl_loop.helpdesk import (
    AccessToken,
    AdapterSettings,
    ClientCredentialsGrant,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    Rating,
    Setting,
    TokenProvider,
    as_id,
    as_mapping,
    body_event_id,
    carries_own_marker,
    epoch_seconds,
    header,
    hmac_digest,
    json_body,
    language_hint,
    next_page_request,
    numeric_id,
    parse_time,
    path_segment,
    response_object,
    retry_after_from,
    text_to_html,
    verify_signature,
    with_detail,
)
from tl_loop_helpscout._shapes import created, embedded_threads, error_detail

__all__ = ["HelpScoutAdapter"]

_Kind = Literal["customer_message", "agent_note", "ticket_created"]
_EventKind = Literal["customer_message", "agent_note", "ticket_created", "ignored"]
_EVENT_KINDS: Mapping[str, _Kind] = MappingProxyType(
    {
        "convo.customer.reply.created": "customer_message",
        "convo.note.created": "agent_note",
        "convo.created": "ticket_created",
    }
)
# Which thread type an event is about.
_THREAD_TYPES: Mapping[str, str] = MappingProxyType(
    {"customer_message": "customer", "agent_note": "note", "ticket_created": "customer"}
)
# The conversation `type` → channel; `phone` conversations say nothing about the reply (None).
_CONVERSATION_TYPES: Mapping[str, Channel] = MappingProxyType({"email": "email", "chat": "chat"})
_PUBLIC_THREADS = frozenset({"customer", "reply", "message", "chat", "phone", "forwardparent"})
# Enough conversations for replies the relay sends right after the webhook it parsed.
_CUSTOMER_MEMORY = 4096


class HelpScoutAdapter(HelpdeskAdapter):
    """Help Scout Inbox (Mailbox API 2.0) with an OAuth2 client-credentials app.

    The access token comes from the app's client credentials (`token_provider`):
    `HelpdeskClient` fetches it on first use, shares it between workers, and renews it before
    it expires (Help Scout tokens live two days) and after a 401. Requests built here carry
    no `Authorization` header; the client adds it.

    Args:
        app_id: the OAuth2 app's App ID (Your Profile → My Apps → Create My App).
        app_secret: that app's App Secret.
        webhook_secret: the secret key of the webhook (Manage → Apps → Webhooks).
        base_url: the API host.
        access_token: a token you already hold (used until it expires or is refused).
        token_expires_at: when `access_token` expires (epoch seconds); None means unknown.
        user_id: the Help Scout user that notes and replies are attributed to.
        language_field_id: the conversation custom field holding the customer language; when
            None, a field named "Language" is read (and none is written).
    """

    name: ClassVar[str] = "helpscout"
    settings: ClassVar[AdapterSettings] = AdapterSettings(
        "helpscout",
        Setting("app_id", required=True, where="Help Scout → Your Profile → My Apps"),
        Setting("app_secret", required=True, secret=True, where="Your Profile → My Apps"),
        Setting("webhook_secret", required=True, secret=True, where="Manage → Apps → Webhooks"),
        Setting("base_url", default="https://api.helpscout.net"),
        Setting("user_id"),
        Setting("language_field_id", kind="int"),
    )
    lists_notes = True  # its conversation listing includes internal notes

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        webhook_secret: str,
        base_url: str = "https://api.helpscout.net",
        access_token: str | None = None,
        token_expires_at: float | None = None,
        user_id: int | str | None = None,
        language_field_id: int | None = None,
    ) -> None:
        self.settings.check(app_id=app_id, app_secret=app_secret, webhook_secret=webhook_secret)
        self.base_url = base_url.rstrip("/")
        self._secret = webhook_secret
        grant = ClientCredentialsGrant(
            token_url=f"{self.base_url}/v2/oauth2/token",
            client_id=app_id,
            client_secret=app_secret,
            service=self.name,
            hint="check HELPSCOUT_APP_ID and HELPSCOUT_APP_SECRET (Your Profile → My Apps)",
        )
        held = AccessToken(access_token, expires_at=token_expires_at) if access_token else None
        self.token_provider = TokenProvider(grant, token=held)
        self._user_id = as_id(user_id)
        self._language_field_id = language_field_id
        self._customers: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    # -- webhooks ----------------------------------------------------------------------------

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        """Check `X-HelpScout-Signature` = base64(HMAC-SHA1(secret, body)); no timestamp is sent.

        Raises:
            WebhookAuthError: unsigned or forged.
        """
        expected = hmac_digest(self._secret, body, algorithm="sha1", encoding="base64")
        received = header(headers, "x-helpscout-signature")
        verify_signature(expected, received, service=self.name)

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        """Classify by `X-HelpScout-Event`; the body is the conversation with its threads.

        Raises:
            InvalidRequestError: no event header, a body that is not a JSON object, or no id.
        """
        event = header(headers, "x-helpscout-event")
        if not event:
            raise self._invalid("the webhook has no X-HelpScout-Event header")
        payload = json_body(body, service=self.name)
        conversation_id = as_id(payload.get("id"))
        kind = _EVENT_KINDS.get(event)
        if kind is None:
            return HelpdeskEvent(
                kind="ignored",
                event_id=f"{event}:{conversation_id or ''}:{payload.get('userUpdatedAt') or ''}",
                conversation_id=conversation_id or "",
                raw=payload,
            )
        if conversation_id is None:
            raise self._invalid(f"{event} carries no conversation id")
        self._remember_customer(conversation_id, as_mapping(payload.get("primaryCustomer")))
        thread = self._thread_for(kind, payload)
        body_text = thread.get("body") if thread else None
        text = body_text if isinstance(body_text, str) else None
        kind_out = _classify(kind, payload, text)
        thread_id = as_id(thread.get("id")) if thread else None
        stamp = thread_id or payload.get("userUpdatedAt") or ""
        return HelpdeskEvent(
            kind=kind_out,
            event_id=f"{event}:{conversation_id}:{stamp}",
            conversation_id=conversation_id,
            message_id=thread_id,
            text=text,
            content_type="html",
            author_id=as_id(as_mapping(thread.get("createdBy")).get("id")) if thread else None,
            customer_language=self._language(payload),
            complete=text is not None,
            raw=payload,
            channel=_CONVERSATION_TYPES.get(str(payload.get("type"))),
        )

    def language_help(self) -> str:
        """Help Scout: the conversation's Language custom field."""
        field = (
            f"custom field {self._language_field_id}"
            if self._language_field_id is not None
            else "custom field “Language”"
        )
        return (
            f"fill the conversation's {field} with the customer's language code (e.g. es for "
            "Spanish)"
        )

    def ticket_url(self, conversation_id: str) -> str | None:
        """The conversation in Help Scout's web app, `https://secure.helpscout.net/conversation/<id>`
        (the number after the id in its own links is optional)."""
        return f"https://secure.helpscout.net/conversation/{path_segment(conversation_id)}"

    def _thread_for(self, kind: str, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
        wanted = _THREAD_TYPES[kind]
        threads = sorted(
            (t for t in embedded_threads(payload) if t.get("type") == wanted), key=created
        )
        if not threads:
            return None
        # The event is about the newest such thread; a new conversation, about its first.
        return threads[0] if kind == "ticket_created" else threads[-1]

    def _language(self, conversation: Mapping[str, Any]) -> str | None:
        fields = conversation.get("customFields")
        for field in fields if isinstance(fields, list) else []:
            field = as_mapping(field)
            if self._language_field_id is not None:
                matches = as_id(field.get("id")) == str(self._language_field_id)
            else:
                matches = str(field.get("name", "")).strip().lower() == "language"
            if not matches:
                continue
            for candidate in (field.get("value"), field.get("text")):
                if (tag := language_hint(candidate)) is not None:
                    return tag
        return None

    def _remember_customer(self, conversation_id: str, customer: Mapping[str, Any]) -> None:
        customer_id = as_id(customer.get("id"))
        if customer_id is None:
            return
        with self._lock:
            self._customers[conversation_id] = customer_id
            self._customers.move_to_end(conversation_id)
            while len(self._customers) > _CUSTOMER_MEMORY:
                self._customers.popitem(last=False)

    def replay_key(self, event: HelpdeskEvent, body: bytes, headers: Mapping[str, str]) -> str:
        """The thread's id, without the event kind: `X-HelpScout-Event` is not signed, so a
        replay naming another event must still find the same key."""
        if event.message_id:
            return f"thread:{event.conversation_id}:{event.message_id}"
        return body_event_id(body)

    def signed_at(
        self, event: HelpdeskEvent, body: bytes, headers: Mapping[str, str]
    ) -> float | None:
        """The thread's `createdAt`, else (no such thread, or one without it) the
        conversation's `userUpdatedAt`."""
        for thread in embedded_threads(event.raw):
            if as_id(thread.get("id")) == event.message_id:
                created = epoch_seconds(thread.get("createdAt"))
                if created is not None:
                    return created
        return epoch_seconds(event.raw.get("userUpdatedAt"))

    # -- conversations -----------------------------------------------------------------------

    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        """`GET /v2/conversations/{id}/threads` (first page; Help Scout lists newest first)."""
        return self._request("GET", f"/v2/conversations/{path_segment(conversation_id)}/threads")

    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        """The threads of one page, oldest first.

        Raises:
            ServiceError: the response is an error, or not a JSON object.
        """
        data = self._json(response)
        conversation_id = response.request.url.path.rstrip("/").split("/")[-2]
        messages = []
        for thread in sorted(embedded_threads(data), key=created):
            thread_type = str(thread.get("type", ""))
            creator = as_mapping(thread.get("createdBy")).get("type")
            if thread_type == "customer":
                self._remember_customer(conversation_id, as_mapping(thread.get("customer")))
            role: Literal["customer", "agent", "system"] = "agent"
            if creator == "customer" or thread_type == "customer":
                role = "customer"
            elif thread_type == "lineitem":
                role = "system"
            body = thread.get("body")
            messages.append(
                HelpdeskMessage(
                    id=as_id(thread.get("id")) or "",
                    text=body if isinstance(body, str) else "",
                    content_type="html",
                    author_role=role,
                    public=thread_type in _PUBLIC_THREADS,
                    created_at=created(thread) or None,
                )
            )
        return messages

    def next_page(self, response: httpx.Response) -> httpx.Request | None:
        """`_links.next` when present, else the next `page` while `page.number < totalPages`."""
        data = self._json(response)
        page_number, pages = data.get("page"), data.get("pages")
        if isinstance(page_number, int) and isinstance(pages, int):  # the reports' paging
            if page_number >= pages:
                return None
            return next_page_request(
                response, params={"page": str(page_number + 1)}, headers=self._headers()
            )
        href = as_mapping(as_mapping(data.get("_links")).get("next")).get("href")
        page = as_mapping(data.get("page"))
        number, total = page.get("number"), page.get("totalPages")
        after = None
        if isinstance(number, int) and isinstance(total, int) and number < total:
            after = {"page": str(number + 1)}
        return next_page_request(response, link=href, params=after, headers=self._headers())

    def build_post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`POST /v2/conversations/{id}/notes` `{"text": …}` (HTML; plain text is escaped)."""
        body: dict[str, Any] = {"text": text_to_html(text, content_type)}
        if self._user_id is not None:
            body["user"] = numeric_id(self._user_id)
        path = f"/v2/conversations/{path_segment(conversation_id)}/notes"
        return self._request("POST", path, json=body)

    def build_post_reply(
        self,
        conversation_id: str,
        text: str,
        *,
        content_type: ContentType = "html",
        customer_id: int | str | None = None,
        draft: bool = False,
    ) -> httpx.Request:
        """`POST /v2/conversations/{id}/reply` `{"customer": {"id": …}, "text": …}`.

        Help Scout needs the customer: pass `customer_id`, or let the adapter use the one it
        saw in this conversation's webhook or threads.

        Raises:
            ConfigurationError: no customer is known for the conversation.
        """
        known = as_id(customer_id)
        if known is None:
            with self._lock:
                known = self._customers.get(conversation_id)
        if known is None:
            raise ConfigurationError(
                f"helpscout: no customer known for conversation {conversation_id}; pass "
                "customer_id=, or parse its webhook or threads first"
            )
        body: dict[str, Any] = {
            "customer": {"id": numeric_id(known)},
            "text": text_to_html(text, content_type),
        }
        if draft:
            body["draft"] = True
        if self._user_id is not None:
            body["user"] = numeric_id(self._user_id)
        path = f"/v2/conversations/{path_segment(conversation_id)}/reply"
        return self._request("POST", path, json=body)

    def build_set_language(self, conversation_id: str, language: str) -> httpx.Request | None:
        """`PUT /v2/conversations/{id}/fields` with the language field, if one is configured."""
        if self._language_field_id is None:
            return None
        body = {"fields": [{"id": self._language_field_id, "value": language}]}
        path = f"/v2/conversations/{path_segment(conversation_id)}/fields"
        return self._request("PUT", path, json=body)

    # -- errors ------------------------------------------------------------------------------

    # -- outcomes ----------------------------------------------------------------------------

    def build_list_ratings(self) -> httpx.Request:
        """`GET /v2/reports/happiness/ratings` (the Happiness report's ratings, by page)."""
        return self._request("GET", "/v2/reports/happiness/ratings?page=1")

    def parse_ratings(self, response: httpx.Response) -> list[Rating]:
        """Help Scout rates 1 great, 2 okay, 3 not good; only great counts as satisfied."""
        ratings = []
        for item in self._json(response).get("results") or []:
            item = as_mapping(item)
            value = item.get("ratingId")
            if value not in (1, 2, 3) or item.get("conversationId") is None:
                continue
            ratings.append(
                Rating(
                    conversation_id=str(item["conversationId"]),
                    score={1: 1.0, 2: 0.5, 3: 0.0}[value],
                    raw=str(item.get("ratingName") or value),
                    satisfied=value == 1,
                    created_at=parse_time(item.get("ratingCreatedAt")),
                )
            )
        return ratings

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """The base mapping, with Help Scout's `vnd.error` message and field errors added."""
        error = super().error_for(response)
        return None if error is None else with_detail(error, response, error_detail(response))

    def retry_after(self, response: httpx.Response) -> float | None:
        """`X-RateLimit-Retry-After` (seconds), else `Retry-After`."""
        return retry_after_from(response.headers, "x-ratelimit-retry-after", "retry-after")

    # -- helpers -----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}  # the token: see `token_provider`

    def _request(
        self, method: str, path: str, *, json: Mapping[str, Any] | None = None
    ) -> httpx.Request:
        return httpx.Request(method, f"{self.base_url}{path}", json=json, headers=self._headers())

    def _json(self, response: httpx.Response) -> Mapping[str, Any]:
        error = self.error_for(response)
        if error is not None:
            raise error
        return response_object(response, service=self.name)

    def _invalid(self, problem: str) -> InvalidRequestError:
        return InvalidRequestError(problem, service=self.name)


def _classify(kind: _Kind, payload: Mapping[str, Any], text: str | None) -> _EventKind:
    if kind == "agent_note" and text is not None and carries_own_marker(text):
        return "ignored"  # our own note, echoed back by the webhook
    if kind == "ticket_created" and as_mapping(payload.get("createdBy")).get("type") != "customer":
        return "ignored"  # an agent started it: there is no customer text to translate
    return kind
