"""Front (Core API): rule or application webhooks in, comments and replies out."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx

from tl_loop import (
    Channel,
    ConfigurationError,
    ContentType,
    InvalidRequestError,
    NotFoundError,
    ServiceError,
    ServiceResponseError,
    WebhookAuthError,
    normalize_tag,
)
from tl_loop.helpdesk import (
    AdapterSettings,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    Setting,
    WebhookReply,
    as_id,
    as_mapping,
    carries_own_marker,
    epoch_seconds,
    error_body,
    header,
    hmac_digest,
    html_to_markdown,
    iso_timestamp,
    json_body,
    language_from_labels,
    language_hint,
    next_page_request,
    path_segment,
    response_object,
    seconds_until,
    text_to_html,
    verify_signature,
    with_detail,
)

__all__ = ["FrontAdapter"]

WebhookKind = Literal["rule", "app"]

# Application webhooks name events differently from rule webhooks and the Events API.
_APP_EVENT_TYPES: Mapping[str, str] = MappingProxyType(
    {"inbound_received": "inbound", "new_comment_added": "comment", "outbound_sent": "outbound"}
)
# A message's `type` → channel. Custom channels, calls, public tweets and reviews: None.
_MESSAGE_TYPES: Mapping[str, Channel] = MappingProxyType(
    {
        "email": "email",
        **dict.fromkeys(
            ("front_chat", "intercom", "sms", "whatsapp", "yalo_wha", "facebook", "tweet_dm"),
            "chat",
        ),
    }
)
# Millisecond timestamps are past this many seconds (the year 5138), second ones are not.
_MILLISECONDS = 1e11


class FrontAdapter(HelpdeskAdapter):
    """Front, through its Core API and either rule webhooks or application webhooks.

    Args:
        api_token: a Core API token (Settings → Developers → API tokens), sent as Bearer.
        webhook_secret: rule webhooks: the company API secret; application webhooks: the
            app's signing secret.
        webhook_kind: `"rule"` (base64 HMAC-SHA1 of the body, no timestamp) or `"app"`
            (base64 HMAC-SHA256 of `"<timestamp>:<body>"`, with `X-Front-Request-Timestamp`).
        base_url: the API host.
        timestamp_window: seconds an application webhook stays acceptable.
        author_id: the teammate (`tea_…`) that comments and replies are written as.
        channel_id: the channel (`cha_…`) replies are sent from; Front picks one when None.
        language_field: the conversation custom field holding the customer language (read).
        language_tag_prefix: tags such as `lang-es` also give the language (read).
        language_tag_ids: language → tag id (`tag_…`) to add with `build_set_language`; Front
            replaces every custom field on update, so the language is written as a tag.
    """

    name: ClassVar[str] = "front"
    lists_notes = True  # its conversation read includes the comments (internal notes)
    settings: ClassVar[AdapterSettings] = AdapterSettings(
        "front",
        Setting("api_token", required=True, secret=True,
                where="Front → Settings → Developers → API tokens"),
        Setting("webhook_secret", required=True, secret=True,
                where="the API secret for rule webhooks, the app's signing secret for "
                "application webhooks"),
        Setting("webhook_kind", default="rule", choices=("rule", "app")),
        Setting("base_url", default="https://api2.frontapp.com"),
        Setting("timestamp_window", kind="float", default=300.0),
        Setting("author_id"),
        Setting("channel_id"),
        Setting("language_field", default="Language"),
        Setting("language_tag_prefix", default="lang-"),
        Setting("language_tag_ids", kind="mapping"),
    )  # fmt: skip

    def __init__(
        self,
        *,
        api_token: str,
        webhook_secret: str,
        webhook_kind: WebhookKind = "rule",
        base_url: str = "https://api2.frontapp.com",
        timestamp_window: float = 300.0,
        author_id: str | None = None,
        channel_id: str | None = None,
        language_field: str = "Language",
        language_tag_prefix: str = "lang-",
        language_tag_ids: Mapping[str, str] | None = None,
    ) -> None:
        self.settings.check(
            api_token=api_token, webhook_secret=webhook_secret, webhook_kind=webhook_kind
        )
        self.base_url = base_url.rstrip("/")
        self._token = api_token
        self._secret = webhook_secret
        self._webhook_kind = webhook_kind
        self._window = timestamp_window
        self._author_id = author_id
        self._channel_id = channel_id
        self._language_field = language_field
        self._tag_prefix = language_tag_prefix
        try:
            tag_ids = {normalize_tag(k): v for k, v in (language_tag_ids or {}).items()}
        except ValueError as exc:
            raise ConfigurationError(f"front: language_tag_ids: {exc}") from None
        self._tag_ids = MappingProxyType(tag_ids)

    # -- webhooks ----------------------------------------------------------------------------

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        """Check `X-Front-Signature` by the configured webhook kind.

        Application webhooks send `X-Front-Request-Timestamp` in milliseconds (seconds are
        accepted too) and must fall within `timestamp_window`.

        Raises:
            WebhookAuthError: unsigned, forged, or stale.
        """
        received = header(headers, "x-front-signature")
        if self._webhook_kind == "rule":
            expected = hmac_digest(self._secret, body, algorithm="sha1", encoding="base64")
            verify_signature(expected, received, service=self.name)
            return
        timestamp = header(headers, "x-front-request-timestamp")
        if received and not timestamp:
            raise WebhookAuthError("front: the webhook carries no X-Front-Request-Timestamp header")
        signed = (timestamp or "").encode() + b":" + body
        expected = hmac_digest(self._secret, signed, algorithm="sha256", encoding="base64")
        verify_signature(
            expected,
            received,
            service=self.name,
            timestamp=_seconds(timestamp),
            window=self._window,
            now=now,
        )

    def webhook_reply(self, body: bytes, headers: Mapping[str, str]) -> WebhookReply | None:
        """Echo the `X-Front-Challenge` of an application webhook's validation request.

        Front sends it (signed, with a `sync` body) whenever the webhook is saved and keeps
        the webhook only if the answer is HTTP 200 with the challenge in the body; the relay
        answers `{"challenge": <value>}` and queues nothing.
        """
        challenge = header(headers, "x-front-challenge")
        return WebhookReply.json({"challenge": challenge}) if challenge else None

    def language_help(self) -> str:
        """Front: the `lang-xx` tag or the language custom field."""
        return (
            f"tag the conversation {self._tag_prefix}xx, where xx is the customer's language "
            f"code (e.g. {self._tag_prefix}es for Spanish), or fill its “{self._language_field}” "
            "custom field with that code"
        )

    def ticket_url(self, conversation_id: str) -> str | None:
        """Front's link that opens a conversation, `https://app.frontapp.com/open/<cnv_…>`."""
        return f"https://app.frontapp.com/open/{path_segment(conversation_id)}"

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        """Classify `inbound` (customer message) and `comment` (agent note) events; the rest,
        including `outbound` replies and the application `sync` ping, are ignored.

        Accepts a rule webhook's event (full or preview) and an application webhook's
        `{"type", "authorization", "payload"}` envelope.

        Raises:
            InvalidRequestError: the body is not JSON, has no event type, or an event lacks
                its conversation id.
        """
        envelope = json_body(body, service=self.name)
        event = as_mapping(envelope.get("payload")) or envelope
        event_type = str(event.get("type") or envelope.get("type") or "")
        if not event_type:
            raise self._invalid('the webhook body has no event "type" (is it a Front event?)')
        event_type = _APP_EVENT_TYPES.get(event_type, event_type)
        conversation = as_mapping(event.get("conversation"))
        data = as_mapping(as_mapping(event.get("target")).get("data"))
        event_id = as_id(event.get("id")) or f"{event_type}:{as_id(data.get('id')) or ''}"
        conversation_id = as_id(conversation.get("id"))
        if event_type not in ("inbound", "comment"):
            return HelpdeskEvent(
                kind="ignored",
                event_id=event_id,
                conversation_id=conversation_id or "",
                raw=envelope,
            )
        if conversation_id is None:
            raise self._invalid(f"the {event_type} event carries no conversation.id")
        # A preview event carries only ids and links: the relay then fetches the message.
        body_html = data.get("body")
        text = body_html if isinstance(body_html, str) else None
        if event_type == "inbound":
            kind: Literal["customer_message", "agent_note", "ignored"] = "customer_message"
            content_type: ContentType = "html"
        else:
            kind = "ignored" if text is not None and carries_own_marker(text) else "agent_note"
            content_type = "markdown"
        return HelpdeskEvent(
            kind=kind,
            event_id=event_id,
            conversation_id=conversation_id,
            message_id=as_id(data.get("id")),
            text=text,
            content_type=content_type,
            author_id=as_id(as_mapping(data.get("author")).get("id")),
            customer_language=self._language(conversation),
            complete=text is not None,
            raw=envelope,
            # Comments have no type: an agent note takes the conversation's channel in the relay.
            channel=_MESSAGE_TYPES.get(str(data.get("type"))),
        )

    def _language(self, conversation: Mapping[str, Any]) -> str | None:
        """The language custom field, else a `lang-xx` tag."""
        fields = as_mapping(conversation.get("custom_fields"))
        if (tag := language_hint(fields.get(self._language_field))) is not None:
            return tag
        tags = conversation.get("tags")
        names = [as_mapping(item).get("name") for item in tags] if isinstance(tags, list) else []
        return language_from_labels(names, prefix=self._tag_prefix)

    def replay_key(self, event: HelpdeskEvent, body: bytes, headers: Mapping[str, str]) -> str:
        """The event's `id`, from the signed body."""
        return f"event:{event.event_id}"

    def signed_at(
        self, event: HelpdeskEvent, body: bytes, headers: Mapping[str, str]
    ) -> float | None:
        """The event's `emitted_at` (rule webhooks sign no timestamp header)."""
        envelope = json_body(body, service=self.name)
        event_body = as_mapping(envelope.get("payload")) or envelope
        return epoch_seconds(event_body.get("emitted_at"))

    # -- conversations -----------------------------------------------------------------------

    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        """`GET /conversations/{id}/messages?limit=100`; after the last page of messages,
        `next_page` reads the comments (`GET /conversations/{id}/comments`), where agents
        write `#tl` notes."""
        path = f"/conversations/{path_segment(conversation_id)}/messages"
        return self._request("GET", path, params={"limit": "100"})

    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        """The messages (or comments) in `_results`, oldest first: inbound messages are the
        customer's, drafts are not public, comments are internal notes by teammates. Front
        lists both newest first, so each page is turned round (`HelpdeskClient.get_messages`
        orders the pages by time).

        Raises:
            NotFoundError: the conversation was merged into another (HTTP 301), or is gone.
            ServiceError: any other failure, or a response without `_results`.
        """
        results = self._json(response).get("_results")
        if not isinstance(results, list):
            raise ServiceResponseError('the response has no "_results" list', service=self.name)
        items = reversed([r for r in results if isinstance(r, Mapping)])
        if _is_comments(response):
            return [_comment(item) for item in items]
        messages = []
        for item in items:
            body, plain = item.get("body"), item.get("text")
            text = body if isinstance(body, str) else plain if isinstance(plain, str) else ""
            messages.append(
                HelpdeskMessage(
                    id=as_id(item.get("id")) or "",
                    text=text,
                    content_type="html" if isinstance(body, str) else "text",
                    author_role="customer" if item.get("is_inbound") is True else "agent",
                    public=not item.get("draft_mode"),
                    # Front sends epoch seconds as floats; the relay gets ISO 8601 (UTC).
                    created_at=iso_timestamp(item.get("created_at")),
                )
            )
        return messages

    def next_page(self, response: httpx.Response) -> httpx.Request | None:
        """`_pagination.next` (a full URL with `page_token`), while there is one; after the
        last page of messages, the conversation's comments."""
        following = as_mapping(self._json(response).get("_pagination")).get("next")
        if following or _is_comments(response):
            return next_page_request(response, link=following, headers=self._headers())
        url = response.request.url
        comments = url.copy_with(path=url.path.removesuffix("/messages") + "/comments", query=None)
        return httpx.Request("GET", comments, headers=self._headers())

    def build_post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`POST /conversations/{id}/comments` `{"body": <Markdown>}`; answers 201."""
        body: dict[str, Any] = {"body": html_to_markdown(text) if content_type == "html" else text}
        if self._author_id:
            body["author_id"] = self._author_id
        path = f"/conversations/{path_segment(conversation_id)}/comments"
        return self._request("POST", path, json=body)

    def build_post_reply(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`POST /conversations/{id}/messages` `{"body": <HTML>}`; answers 202, sent later.

        Pass the response to `accepted_message_uid` and read the message back with
        `build_get_message(f"alt:uid:{uid}")` to see whether it went out.
        """
        body: dict[str, Any] = {"body": text_to_html(text, content_type)}
        if self._author_id:
            body["author_id"] = self._author_id
        if self._channel_id:
            body["channel_id"] = self._channel_id
        path = f"/conversations/{path_segment(conversation_id)}/messages"
        return self._request("POST", path, json=body)

    def accepted_message_uid(self, response: httpx.Response) -> str:
        """The `message_uid` of a reply Front accepted (HTTP 202) for sending.

        Raises:
            ServiceError: the reply was refused, or the answer has no `message_uid`.
        """
        uid = self._json(response).get("message_uid")
        if not isinstance(uid, str) or not uid:
            raise ServiceResponseError("the reply answer has no message_uid", service=self.name)
        return uid

    def build_get_message(self, message_id: str) -> httpx.Request:
        """`GET /messages/{id}`; `alt:uid:<message_uid>` finds a reply accepted with 202."""
        return self._request("GET", f"/messages/{quote(message_id, safe=':')}")

    def build_set_language(self, conversation_id: str, language: str) -> httpx.Request | None:
        """`POST /conversations/{id}/tags` adding the tag mapped to `language`, if any."""
        try:
            tag_id = self._tag_ids.get(normalize_tag(language))
        except ValueError:
            return None
        if tag_id is None:
            return None
        path = f"/conversations/{path_segment(conversation_id)}/tags"
        return self._request("POST", path, json={"tag_ids": [tag_id]})

    def merged_into(self, response: httpx.Response) -> str | None:
        """The conversation id a 301 answer points to (the conversation was merged)."""
        if response.status_code != 301:
            return None
        location = response.headers.get("location", "").rstrip("/")
        return location.rsplit("/", 1)[-1] or None

    # -- errors ------------------------------------------------------------------------------

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """The base mapping plus Front's `_error` text; a 301 (merged) is a NotFoundError."""
        if response.status_code == 301:
            request = response.request
            target = self.merged_into(response) or "another conversation"
            return NotFoundError(
                f"the conversation was merged into {target} (HTTP 301 from {request.method} "
                f"{request.url.path}); use that id",
                service=self.name,
                status_code=301,
            )
        error = super().error_for(response)
        return None if error is None else with_detail(error, response, _error_detail(response))

    def retry_after(self, response: httpx.Response) -> float | None:
        """`Retry-After` on 429, else the wait until `X-RateLimit-Reset` once none remain (by
        the server's `Date` when it sends one)."""
        waited = super().retry_after(response)
        if waited is not None:
            return waited
        if response.headers.get("x-ratelimit-remaining") != "0":
            return None
        return seconds_until(response.headers, "x-ratelimit-reset")

    # -- helpers -----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        url = f"{self.base_url}{path}"
        return httpx.Request(method, url, params=params, json=json, headers=self._headers())

    def _json(self, response: httpx.Response) -> Mapping[str, Any]:
        error = self.error_for(response)
        if error is not None:
            raise error
        return response_object(response, service=self.name)

    def _invalid(self, problem: str) -> InvalidRequestError:
        return InvalidRequestError(problem, service=self.name)


def _is_comments(response: httpx.Response) -> bool:
    return response.request.url.path.rstrip("/").endswith("/comments")


def _comment(item: Mapping[str, Any]) -> HelpdeskMessage:
    """A comment: a teammate's internal note, in Markdown."""
    body = item.get("body")
    return HelpdeskMessage(
        id=as_id(item.get("id")) or "",
        text=body if isinstance(body, str) else "",
        content_type="markdown",
        author_role="agent",
        public=False,
        created_at=iso_timestamp(item.get("posted_at")),
    )


def _seconds(timestamp: str | None) -> str | None:
    """Front's millisecond timestamp as seconds, for the replay window."""
    try:
        value = float(timestamp or "")
    except ValueError:
        return timestamp
    return str(value / 1000 if value > _MILLISECONDS else value)


def _error_detail(response: httpx.Response) -> str | None:
    error = as_mapping(error_body(response).get("_error"))
    parts = [str(error[key]) for key in ("title", "message") if isinstance(error.get(key), str)]
    details = error.get("details")
    if isinstance(details, list):
        parts.extend(str(item) for item in details)
    return "; ".join(parts) or None
