"""Chatwoot: account webhooks in, private notes and outgoing messages out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import httpx

from tl_loop import (
    Channel,
    ContentType,
    InvalidRequestError,
    ServiceError,
    ServiceResponseError,
    WebhookAuthError,
)
from tl_loop.helpdesk import (
    AdapterSettings,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    Rating,
    Setting,
    as_id,
    as_mapping,
    carries_own_marker,
    error_body,
    header,
    hmac_digest,
    html_to_markdown,
    iso_timestamp,
    json_body,
    language_from_labels,
    language_hint,
    next_page_request,
    parse_time,
    path_segment,
    response_array,
    response_object,
    verify_signature,
    with_detail,
)

__all__ = ["ChatwootAdapter"]

# Chatwoot's enum order (app/models/message.rb); REST and nested webhook messages send the int.
_MESSAGE_TYPES = ("incoming", "outgoing", "activity", "template")
# The messages endpoint returns at most this many messages, newest last; older ones via `before`.
_CSAT_PAGE = 25  # Chatwoot's CSAT list page size
_PAGE_SIZE = 20
# The inbox's channel type. `Channel::Api` inboxes are whatever the integrator built: None.
_CHANNEL_TYPES: dict[str, Channel] = {
    "Channel::Email": "email",
    **{
        f"Channel::{name}": "chat"
        for name in (
            "WebWidget", "Whatsapp", "FacebookPage", "Instagram", "Telegram", "Line", "Sms",
            "TwilioSms", "TwitterProfile",
        )
    },
}  # fmt: skip


def _message_type(value: object) -> str:
    """`incoming`/`outgoing`/… whether Chatwoot sent the name or the enum int (both happen)."""
    if isinstance(value, bool):
        return "unknown"
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int):
        return _MESSAGE_TYPES[value] if 0 <= value < len(_MESSAGE_TYPES) else "unknown"
    return value.strip().lower() if isinstance(value, str) else "unknown"


class ChatwootAdapter(HelpdeskAdapter):
    """Chatwoot (cloud or self-hosted), through its application API and account webhooks.

    Args:
        base_url: the installation, e.g. `https://app.chatwoot.com` or your own host.
        account_id: the account the conversations belong to (the number in dashboard URLs).
        api_access_token: a user or agent-bot access token (Profile settings → Access token).
        webhook_secret: the secret Chatwoot shows for the webhook (v4.12 and later sign with it).
        allow_unsigned: accept webhooks without a signature, for Chatwoot before v4.12; only
            behind a private network or a secret URL, since anyone can then post events.
        timestamp_window: seconds a signed webhook stays acceptable (replay protection).
        language_attribute: the conversation custom attribute that holds the customer language.
        language_label_prefix: labels such as `lang-es` also give the language (read only).
        write_language: let `build_set_language` write `language_attribute`. Off by default,
            because Chatwoot replaces all of a conversation's custom attributes on that call.
    """

    name: ClassVar[str] = "chatwoot"
    settings: ClassVar[AdapterSettings] = AdapterSettings(
        "chatwoot",
        Setting("base_url", required=True, where="e.g. https://app.chatwoot.com"),
        Setting("account_id", required=True, where="the number in /app/accounts/N"),
        Setting("api_access_token", required=True, secret=True,
                where="Chatwoot → Profile settings → Access token"),
        Setting("webhook_secret", secret=True, where="Settings → Integrations → Webhooks"),
        Setting("allow_unsigned", kind="bool", default=False),
        Setting("timestamp_window", kind="float", default=300.0),
        Setting("language_attribute", default="language"),
        Setting("language_label_prefix", default="lang-"),
        Setting("write_language", kind="bool", default=False),
    )  # fmt: skip
    max_note_chars = 150_000  # Message `content` length validation (422 above it)
    lists_notes = True  # its conversation listing includes internal notes

    def __init__(
        self,
        *,
        base_url: str,
        account_id: int | str,
        api_access_token: str,
        webhook_secret: str | None = None,
        allow_unsigned: bool = False,
        timestamp_window: float = 300.0,
        language_attribute: str = "language",
        language_label_prefix: str = "lang-",
        write_language: bool = False,
    ) -> None:
        self.settings.check(
            base_url=base_url, api_access_token=api_access_token, account_id=as_id(account_id)
        )
        self.base_url = base_url.rstrip("/")
        self._account_id = str(account_id)
        self._token = api_access_token
        self._secret = webhook_secret or None
        self._allow_unsigned = allow_unsigned
        self._window = timestamp_window
        self._language_attribute = language_attribute
        self._label_prefix = language_label_prefix
        self._write_language = write_language

    # -- webhooks ----------------------------------------------------------------------------

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        """Check `X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(secret, "<ts>.<body>")>`.

        Raises:
            WebhookAuthError: unsigned, forged, or `X-Chatwoot-Timestamp` outside the window.
        """
        if self._secret is None:
            if self._allow_unsigned:
                return
            raise WebhookAuthError(
                "chatwoot: no webhook secret is configured; set webhook_secret "
                "(CHATWOOT_WEBHOOK_SECRET), or allow_unsigned=True for Chatwoot before v4.12"
            )
        received = header(headers, "x-chatwoot-signature")
        timestamp = header(headers, "x-chatwoot-timestamp")
        if received and not timestamp:
            raise WebhookAuthError("chatwoot: the webhook carries no X-Chatwoot-Timestamp header")
        if received and not received.strip().startswith("sha256="):
            received = "sha256=" + received.strip()
        signed = (timestamp or "").encode() + b"." + body
        expected = "sha256=" + hmac_digest(self._secret, signed, algorithm="sha256", encoding="hex")
        verify_signature(
            expected, received, service=self.name, timestamp=timestamp, window=self._window, now=now
        )

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        """Classify `message_created` (incoming → customer message, private → agent note) and
        `conversation_created` (ticket created); everything else is ignored.

        Raises:
            InvalidRequestError: the body is not JSON or lacks `event` or the conversation id.
        """
        payload = json_body(body, service=self.name)
        event = payload.get("event")
        if not isinstance(event, str) or not event:
            raise self._invalid('the webhook body has no "event" field (is it a Chatwoot webhook?)')
        delivery = header(headers, "x-chatwoot-delivery")
        if event == "message_created":
            return self._message_created(payload, delivery)
        if event == "conversation_created":
            return self._conversation_created(payload, delivery)
        conversation = as_mapping(payload.get("conversation")) or payload
        return HelpdeskEvent(
            kind="ignored",
            event_id=delivery or f"{event}:{as_id(payload.get('id')) or ''}",
            conversation_id=_conversation_id(conversation) or "",
            raw=payload,
        )

    def _message_created(self, payload: Mapping[str, Any], delivery: str | None) -> HelpdeskEvent:
        conversation = as_mapping(payload.get("conversation"))
        conversation_id = _conversation_id(conversation) or as_id(payload.get("conversation_id"))
        if conversation_id is None:
            raise self._invalid("message_created carries no conversation.id or display_id")
        message_id = as_id(payload.get("id"))
        message_type = _message_type(payload.get("message_type"))
        private = payload.get("private") is True
        content = payload.get("content")
        text = content if isinstance(content, str) else ""
        kind: Literal["customer_message", "agent_note", "ignored"] = "ignored"
        if message_type == "incoming" and not private:
            kind = "customer_message"
        elif message_type == "outgoing" and private and not carries_own_marker(text):
            kind = "agent_note"
        return HelpdeskEvent(
            kind=kind,
            event_id=delivery or f"message_created:{message_id or ''}",
            conversation_id=conversation_id,
            message_id=message_id,
            text=text,
            # Customers type plain text; the agent's editor writes Markdown.
            content_type="markdown" if kind == "agent_note" else "text",
            author_id=as_id(as_mapping(payload.get("sender")).get("id")),
            customer_language=self._language(conversation),
            complete=True,
            raw=payload,
            channel=_channel(conversation, payload),
        )

    def _conversation_created(
        self, payload: Mapping[str, Any], delivery: str | None
    ) -> HelpdeskEvent:
        conversation_id = _conversation_id(payload)
        if conversation_id is None:
            raise self._invalid("conversation_created carries no id or display_id")
        messages = payload.get("messages")
        first = next(
            (
                as_mapping(message)
                for message in (messages if isinstance(messages, list) else [])
                if _message_type(as_mapping(message).get("message_type")) == "incoming"
            ),
            None,
        )
        content = first.get("content") if first else None
        return HelpdeskEvent(
            kind="ticket_created",
            event_id=delivery or f"conversation_created:{conversation_id}",
            conversation_id=conversation_id,
            message_id=as_id(first.get("id")) if first else None,
            text=content if isinstance(content, str) else None,
            customer_language=self._language(payload),
            complete=isinstance(content, str),
            raw=payload,
            channel=_channel(payload, payload),
        )

    def _language(self, conversation: Mapping[str, Any]) -> str | None:
        """Custom attribute first, then Chatwoot's own detection, then a `lang-xx` label."""
        custom = as_mapping(conversation.get("custom_attributes"))
        additional = as_mapping(conversation.get("additional_attributes"))
        for candidate in (
            custom.get(self._language_attribute),
            additional.get("conversation_language"),
        ):
            if (tag := language_hint(candidate)) is not None:
                return tag
        return language_from_labels(conversation.get("labels"), prefix=self._label_prefix)

    # -- conversations -----------------------------------------------------------------------

    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        """`GET …/conversations/{id}/messages`: the newest 20 messages, oldest first."""
        return self._request("GET", f"conversations/{path_segment(conversation_id)}/messages")

    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        """The messages in a messages response (`payload`), oldest first.

        Raises:
            ServiceError: the response is an error, or not the documented shape.
        """
        return [self._message(item) for item in self._payload(response)]

    def next_page(self, response: httpx.Response) -> httpx.Request | None:
        """The page of *older* messages (`before=<oldest id>`), while pages come back full;
        for CSAT responses, the next `page` while pages come back full (25)."""
        if response.request.url.path.endswith("/csat_survey_responses"):
            if len(response_array(response, service=self.name)) < _CSAT_PAGE:
                return None
            page = int(response.request.url.params.get("page", 1)) + 1
            return next_page_request(response, params={"page": page}, headers=self._headers())
        ids = [
            int(str(item.get("id")))
            for item in self._payload(response)
            if str(item.get("id", "")).isdigit()
        ]
        if len(ids) < _PAGE_SIZE:
            return None
        return next_page_request(
            response, params={"before": str(min(ids))}, headers=self._headers()
        )

    def _message(self, item: Mapping[str, Any]) -> HelpdeskMessage:
        message_type = _message_type(item.get("message_type"))
        role: Literal["customer", "agent", "system"] = "system"
        if message_type == "incoming":
            role = "customer"
        elif message_type == "outgoing":
            role = "agent"
        content = item.get("content")
        return HelpdeskMessage(
            id=as_id(item.get("id")) or "",
            text=content if isinstance(content, str) else "",
            content_type="text",
            author_role=role,
            public=item.get("private") is not True,
            # REST gives epoch seconds, webhooks ISO strings: the relay gets ISO 8601 (UTC).
            created_at=iso_timestamp(item.get("created_at")),
        )

    def build_post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`POST …/messages` with `"private": true`: a note only agents see."""
        return self._post_message(conversation_id, text, content_type, private=True)

    def build_post_reply(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`POST …/messages` with `"message_type": "outgoing", "private": false`."""
        return self._post_message(conversation_id, text, content_type, private=False)

    def _post_message(
        self, conversation_id: str, text: str, content_type: ContentType, *, private: bool
    ) -> httpx.Request:
        # Chatwoot shows Markdown, not HTML: convert so agents and customers see no tags.
        content = html_to_markdown(text) if content_type == "html" else text
        body = {
            "content": content,
            "message_type": "outgoing",
            "private": private,
            "content_type": "text",
        }
        path = f"conversations/{path_segment(conversation_id)}/messages"
        return self._request("POST", path, json=body)

    def build_set_language(
        self,
        conversation_id: str,
        language: str,
        *,
        custom_attributes: Mapping[str, Any] | None = None,
    ) -> httpx.Request | None:
        """`POST …/conversations/{id}/custom_attributes` setting `language_attribute`, when
        `write_language` is on (else None).

        Chatwoot replaces the whole custom-attribute set, so pass the conversation's current
        `custom_attributes` to keep them.
        """
        if not self._write_language:
            return None
        attributes = {**(custom_attributes or {}), self._language_attribute: language}
        path = f"conversations/{path_segment(conversation_id)}/custom_attributes"
        return self._request("POST", path, json={"custom_attributes": attributes})

    def language_help(self) -> str:
        """Chatwoot: the `lang-xx` label or the language custom attribute."""
        return (
            f"add the label {self._label_prefix}xx to the conversation, where xx is the "
            f"customer's language code (e.g. {self._label_prefix}es for Spanish), or set its "
            f"custom attribute “{self._language_attribute}” to that code"
        )

    def ticket_url(self, conversation_id: str) -> str | None:
        """The conversation in Chatwoot's dashboard,
        `<base_url>/app/accounts/<account>/conversations/<display id>`."""
        account, conversation = path_segment(self._account_id), path_segment(conversation_id)
        return f"{self.base_url}/app/accounts/{account}/conversations/{conversation}"

    def build_language_read(self, conversation_id: str) -> httpx.Request | None:
        """`GET …/conversations/{id}`, whose `custom_attributes` the language write keeps
        (when `write_language` is on, else None)."""
        if not self._write_language:
            return None
        return self._request("GET", f"conversations/{path_segment(conversation_id)}")

    def build_set_language_from(
        self, conversation_id: str, language: str, current: httpx.Response
    ) -> httpx.Request | None:
        """`build_set_language` with the conversation's current `custom_attributes` kept;
        None when the attribute already holds `language`.

        Raises:
            ServiceError: `current` is an error, or not a conversation object.
        """
        error = self.error_for(current)
        if error is not None:
            raise error
        conversation = response_object(current, service=self.name)
        attributes = as_mapping(conversation.get("custom_attributes"))
        if language_hint(attributes.get(self._language_attribute)) == language:
            return None
        return self.build_set_language(conversation_id, language, custom_attributes=attributes)

    # -- errors ------------------------------------------------------------------------------

    # -- outcomes ----------------------------------------------------------------------------

    def build_list_ratings(self) -> httpx.Request:
        """`GET …/csat_survey_responses?page=1` (25 a page)."""
        return self._request("GET", "csat_survey_responses?page=1")

    def parse_ratings(self, response: httpx.Response) -> list[Rating]:
        """Chatwoot's CSAT survey rates 1–5; 4 and 5 count as satisfied (CSAT's usual cut)."""
        ratings = []
        for item in response_array(response, service=self.name):
            item = as_mapping(item)
            value = item.get("rating")
            conversation = as_mapping(item.get("conversation"))
            number = conversation.get("display_id") or item.get("conversation_id")
            if not isinstance(value, int) or number is None:
                continue
            ratings.append(
                Rating(
                    conversation_id=str(number),
                    score=(min(max(value, 1), 5) - 1) / 4,
                    raw=str(value),
                    satisfied=value >= 4,
                    created_at=parse_time(item.get("created_at")),
                )
            )
        return ratings

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """The base mapping, with Chatwoot's `error` / `message` / `errors` text added."""
        error = super().error_for(response)
        return None if error is None else with_detail(error, response, _error_detail(response))

    # -- helpers -----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"api_access_token": self._token, "Accept": "application/json"}

    def _request(
        self, method: str, path: str, *, json: Mapping[str, Any] | None = None
    ) -> httpx.Request:
        url = f"{self.base_url}/api/v1/accounts/{path_segment(self._account_id)}/{path}"
        return httpx.Request(method, url, json=json, headers=self._headers())

    def _payload(self, response: httpx.Response) -> Sequence[Mapping[str, Any]]:
        error = self.error_for(response)
        if error is not None:
            raise error
        items = response_object(response, service=self.name).get("payload")
        if not isinstance(items, list):
            raise ServiceResponseError(
                'the messages response has no "payload" list', service=self.name
            )
        return [item for item in items if isinstance(item, Mapping)]

    def _invalid(self, problem: str) -> InvalidRequestError:
        return InvalidRequestError(problem, service=self.name)


def _channel(conversation: Mapping[str, Any], payload: Mapping[str, Any]) -> Channel | None:
    """The conversation's `channel` (else the inbox's `channel_type`) as a channel, else None."""
    kind = conversation.get("channel") or as_mapping(payload.get("inbox")).get("channel_type")
    return _CHANNEL_TYPES.get(kind) if isinstance(kind, str) else None


def _error_detail(response: httpx.Response) -> str | None:
    data = error_body(response)
    for key in ("error", "message", "errors"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value:
            return "; ".join(str(item) for item in value)
    return None


def _conversation_id(conversation: Mapping[str, Any]) -> str | None:
    """The id the API paths take. Chatwoot's webhooks send it as `id` (the conversation's
    `display_id`, numbered per account); its published sample carries only `display_id`."""
    return as_id(conversation.get("id")) or as_id(conversation.get("display_id"))
