"""Zendesk webhook bodies → events: Zendesk event webhooks and admin-defined trigger bodies."""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal

from tl_loop import (
    Channel,
    ContentType,
    InvalidRequestError,
)
from tl_loop.helpdesk import (
    HelpdeskEvent,
    as_id,
    as_mapping,
    body_event_id,
    carries_own_marker,
    header,
    html_to_markdown,
    language_hint,
)

SERVICE = "zendesk"
log = logging.getLogger("tl_loop.adapters.zendesk")
COMMENT_ADDED = "zen:event-type:ticket.comment_added"
TICKET_CREATED = "zen:event-type:ticket.created"
TRIGGER_EVENTS = ("agent_note", "customer_message", "ticket_created")

Kind = Literal["customer_message", "agent_note", "ticket_created", "ignored"]

# Zendesk's `via.channel` names (and the `{{ticket.via}}` text, lower-cased) → our channels.
# Web form, API, voice and the rest say nothing certain about how the reply travels: None.
_CHANNELS: dict[str, Channel] = {
    "email": "email",
    "mail": "email",
    "chat": "chat",
    "native_messaging": "chat",
    "messaging": "chat",
}


def via_channel(value: object) -> Channel | None:
    """The channel a Zendesk `via.channel` value (or `{{ticket.via}}` text) means, else None."""
    if not isinstance(value, str):
        return None
    return _CHANNELS.get(value.strip().lower().replace(" ", "_"))


def comment_text(comment: Mapping[str, Any]) -> tuple[str | None, ContentType]:
    """A comment's text: its `html_body` (the customer's formatting) when that says the same
    as its plain `body`, else the `body` as text.

    The relay sanitises HTML before it shows it to anyone. The check guards against bodies
    whose `html_body` was trimmed or templated away (captured payloads show `<div>...</div>`).
    """
    body, html_body = comment.get("body"), comment.get("html_body")
    text = body if isinstance(body, str) else None
    usable = isinstance(html_body, str) and bool(html_body.strip())
    if usable and (text is None or _says_the_same(str(html_body), text)):
        return str(html_body), "html"
    return text, "text"


def _says_the_same(html_body: str, body: str) -> bool:
    # Compare letters and digits only: Zendesk renders links, lists and breaks differently
    # in the two copies, but the words are the same.
    shown = Counter(c for c in html_to_markdown(html_body).casefold() if c.isalnum())
    plain = Counter(c for c in body.casefold() if c.isalnum())
    total = sum(plain.values())
    return total == 0 or sum((shown & plain).values()) >= 0.9 * total


def parse(payload: dict[str, Any], headers: Mapping[str, str], body: bytes) -> HelpdeskEvent:
    """The event a Zendesk webhook means, from an event webhook or a tl_loop trigger body.

    Raises:
        InvalidRequestError: neither an event webhook nor a trigger body with `ticket_id`.
    """
    event_type = payload.get("type")
    if isinstance(event_type, str) and event_type.startswith("zen:event-type:"):
        return _parse_event_webhook(payload, event_type)
    if "ticket_id" in payload:
        return _parse_trigger(payload, headers, body)
    raise InvalidRequestError(
        "the webhook body has neither a Zendesk event `type` nor a `ticket_id`; use the trigger "
        'body from the tl_loop docs, e.g. {"ticket_id": "{{ticket.id}}", "event": ...}',
        service=SERVICE,
    )


def _required(mapping: Mapping[str, Any], key: str, where: str) -> str:
    value = mapping.get(key)
    if value is None or value == "":
        raise InvalidRequestError(f"the webhook has no `{where}{key}`", service=SERVICE)
    return str(value)


def _parse_event_webhook(payload: dict[str, Any], event_type: str) -> HelpdeskEvent:
    event_id = _required(payload, "id", "")
    detail = payload.get("detail")
    if not isinstance(detail, dict):
        raise InvalidRequestError("the event webhook has no `detail` object", service=SERVICE)
    ticket_id = _required(detail, "id", "detail.")
    event = as_mapping(payload.get("event"))
    channel = via_channel(as_mapping(detail.get("via")).get("channel"))
    if event_type == TICKET_CREATED:
        description = detail.get("description")
        return HelpdeskEvent(
            kind="ticket_created",
            event_id=event_id,
            conversation_id=ticket_id,
            text=description if isinstance(description, str) and description else None,
            author_id=as_id(detail.get("requester_id")),
            complete=False,  # the description is plain text; the comment holds the HTML
            raw=payload,
            channel=channel,
        )
    if event_type != COMMENT_ADDED or not isinstance(event.get("comment"), dict):
        return HelpdeskEvent(kind="ignored", event_id=event_id, conversation_id=ticket_id)
    comment = as_mapping(event["comment"])
    author = as_mapping(comment.get("author"))
    author_id = as_id(author.get("id"))
    text, content_type = comment_text(comment)
    public = comment.get("is_public") is not False
    staff = author.get("is_staff")
    if not isinstance(staff, bool):  # older bodies: the requester is the customer
        staff = author_id is None or author_id != as_id(detail.get("requester_id"))
    kind: Kind
    if text is not None and carries_own_marker(text):
        kind = "ignored"
    elif public and not staff:
        kind = "customer_message"
    elif not public and staff:
        kind = "agent_note"
    else:
        kind = "ignored"  # public agent replies, and private comments by end users
    return HelpdeskEvent(
        kind=kind,
        event_id=event_id,
        conversation_id=ticket_id,
        message_id=as_id(comment.get("id")),
        text=text,
        content_type=content_type,
        author_id=author_id,
        complete=text is not None,
        raw=payload,
        channel=channel,
    )


def _parse_trigger(
    payload: dict[str, Any], headers: Mapping[str, str], body: bytes
) -> HelpdeskEvent:
    ticket_id = _required(payload, "ticket_id", "")
    event = payload.get("event", "")
    if event not in ("customer_message", "agent_note", "ticket_created"):
        raise InvalidRequestError(
            f"the trigger body's `event` is {event!r}; set it to one of "
            f"{', '.join(TRIGGER_EVENTS)} in the trigger's JSON body",
            service=SERVICE,
        )
    comment = payload.get("comment")
    text = comment if isinstance(comment, str) and comment.strip() else None
    # Retried attempts of one invocation share its id; without it, identical bodies dedupe.
    event_id = header(headers, "x-zendesk-webhook-invocation-id") or body_event_id(body)
    kind: Kind = "ignored" if text is not None and carries_own_marker(text) else event
    if kind in ("customer_message", "agent_note") and not payload.get("updated_at"):
        _say_update_time_missing()
    return HelpdeskEvent(
        kind=kind,
        event_id=event_id,
        conversation_id=ticket_id,
        text=text,
        content_type="html" if payload.get("comment_format") == "html" else "text",
        author_id=as_id(payload.get("author_id")),
        customer_language=language_hint(payload.get("requester_locale")),
        complete=False,  # placeholders are admin-defined and may be truncated: re-fetch
        raw=payload,
        channel=via_channel(payload.get("channel")),
    )


@functools.cache
def _say_update_time_missing() -> None:
    """Once a process: a trigger body without the ticket's update time loses identical
    comments (its body's hash is its dedupe key)."""
    log.warning(
        'zendesk: the trigger\'s webhook body has no "updated_at": '
        '"{{ticket.updated_at_with_timestamp}}"; without it two identical comments on one '
        'ticket (a customer writing "Thanks" twice) look like one delivery and the second is '
        "not translated. Add it to the trigger's JSON (docs/helpdesks/zendesk.md)."
    )
