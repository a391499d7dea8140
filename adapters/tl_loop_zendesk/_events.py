"""Zendesk webhook bodies → events: Zendesk event webhooks and admin-defined trigger bodies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from tl_loop import OWN_NOTE_MARKER, HelpdeskEvent, InvalidRequestError, normalize_tag

SERVICE = "zendesk"
COMMENT_ADDED = "zen:event-type:ticket.comment_added"
TICKET_CREATED = "zen:event-type:ticket.created"
TRIGGER_EVENTS = ("agent_note", "customer_message", "ticket_created")

Kind = Literal["customer_message", "agent_note", "ticket_created", "ignored"]


def load_object(body: bytes) -> dict[str, Any]:
    """The JSON object in `body`.

    Raises:
        InvalidRequestError: the body is not a JSON object.
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequestError(
            "the webhook body is not JSON; set the webhook's request format to JSON",
            service=SERVICE,
        ) from None
    if not isinstance(payload, dict):
        raise InvalidRequestError("the webhook body is not a JSON object", service=SERVICE)
    return payload


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


def _language(value: Any) -> str | None:
    # Zendesk locales look like "es" or "pt-br"; anything unparseable is simply not a hint.
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return normalize_tag(value)
    except ValueError:
        return None


def _parse_event_webhook(payload: dict[str, Any], event_type: str) -> HelpdeskEvent:
    event_id = _required(payload, "id", "")
    detail = payload.get("detail")
    if not isinstance(detail, dict):
        raise InvalidRequestError("the event webhook has no `detail` object", service=SERVICE)
    ticket_id = _required(detail, "id", "detail.")
    event = _object(payload.get("event"))
    if event_type == TICKET_CREATED:
        description = detail.get("description")
        return HelpdeskEvent(
            kind="ticket_created",
            event_id=event_id,
            conversation_id=ticket_id,
            text=description if isinstance(description, str) and description else None,
            author_id=_str_or_none(detail.get("requester_id")),
            complete=False,  # the description is plain text; the comment holds the HTML
            raw=payload,
        )
    if event_type != COMMENT_ADDED or not isinstance(event.get("comment"), dict):
        return HelpdeskEvent(kind="ignored", event_id=event_id, conversation_id=ticket_id)
    comment = _object(event["comment"])
    author = _object(comment.get("author"))
    author_id = _str_or_none(author.get("id"))
    body = comment.get("body")
    text = body if isinstance(body, str) else None
    public = comment.get("is_public") is not False
    from_requester = author_id is not None and author_id == _str_or_none(detail.get("requester_id"))
    kind: Kind
    if text is not None and OWN_NOTE_MARKER in text:
        kind = "ignored"
    elif public and from_requester:
        kind = "customer_message"
    elif not public and not from_requester:
        kind = "agent_note"
    else:
        kind = "ignored"  # public agent replies, and private comments by the requester
    return HelpdeskEvent(
        kind=kind,
        event_id=event_id,
        conversation_id=ticket_id,
        message_id=_str_or_none(comment.get("id")),
        text=text,
        author_id=author_id,
        complete=text is not None,
        raw=payload,
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
    event_id = headers.get("x-zendesk-webhook-invocation-id") or (
        "body:" + hashlib.sha256(body).hexdigest()[:32]
    )
    kind: Kind = "ignored" if text is not None and OWN_NOTE_MARKER in text else event
    return HelpdeskEvent(
        kind=kind,
        event_id=event_id,
        conversation_id=ticket_id,
        text=text,
        content_type="html" if payload.get("comment_format") == "html" else "text",
        author_id=_str_or_none(payload.get("author_id")),
        customer_language=_language(payload.get("requester_locale")),
        complete=False,  # placeholders are admin-defined and may be truncated: re-fetch
        raw=payload,
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
