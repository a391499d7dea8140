"""Salesforce records → relay events: which object means a customer message, which an agent note.

Conversations are the records messages hang off: a `Case` (id prefix `500`) for e-mail and
portal conversations, a `MessagingSession` (`0Mw`) for Messaging for In-App and Web. Objects:

- `EmailMessage` with `Incoming` true: the customer's e-mail (HTML body when there is one);
  outgoing ones are our replies or the agents' own, and ignored.
- `CaseComment`: published is a customer's comment (the org's rule sends only the customer's
  published comments, see the docs); not published is an agent's internal note.
- `FeedItem` (Case Feed): an internal `TextPost` (visibility `InternalUsers`) is an agent note,
  on a case or on a messaging session; everything else in the feed is ignored.
- `ConversationEntry` from the end user: a chat message; agents' and bots' entries are ignored.
- `Case`: a new case (`ticket_created`), its `Description` the customer's first words.

Anything carrying `OWN_NOTE_MARKER`, or created by the integration user, is ours and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from tl_loop import Channel, ContentType
from tl_loop.helpdesk import HelpdeskEvent, as_id, carries_own_marker, language_hint
from tl_loop_salesforce._inbound import Notification

__all__ = ["CASE_PREFIX", "SESSION_PREFIX", "channel_of", "is_session", "to_event"]

CASE_PREFIX = "500"
SESSION_PREFIX = "0Mw"

Kind = Literal["customer_message", "agent_note", "ticket_created", "ignored"]

_ORIGIN_CHANNELS: Mapping[str, Channel] = {
    "email": "email",
    "chat": "chat",
    "messaging": "chat",
    "web": "email",  # Web-to-Case answers go out by e-mail
}


def is_session(conversation_id: str) -> bool:
    """Whether the conversation is a Messaging session (else a case), by its key prefix."""
    return conversation_id.startswith(SESSION_PREFIX)


def channel_of(conversation_id: str) -> Channel | None:
    """How a conversation travels, from its record's key prefix."""
    if is_session(conversation_id):
        return "chat"
    if conversation_id.startswith(CASE_PREFIX):
        return "email"
    return None


def flag(value: object) -> bool | None:
    """A checkbox field: SOAP sends `true`/`false` text, JSON sends booleans."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def to_event(
    notification: Notification,
    *,
    integration_user_id: str | None,
    language_field: str | None,
) -> HelpdeskEvent:
    """The event one notification means."""
    fields = notification.fields
    reader = _READERS.get(notification.object_type)
    if reader is None:
        return _ignored(notification, as_id(fields.get("Id")) or "")
    kind, parent, text, content_type = reader(fields)
    if parent is None or channel_of(parent) is None:
        return _ignored(notification, parent or "")
    creator = as_id(fields.get("CreatedById"))
    ours = text is not None and carries_own_marker(text)
    if ours or (integration_user_id and creator and creator[:15] == integration_user_id[:15]):
        kind = "ignored"
    language = language_hint(fields.get(language_field)) if language_field else None
    return HelpdeskEvent(
        kind=kind,
        event_id=notification.event_id,
        conversation_id=parent,
        message_id=as_id(fields.get("Id")),
        text=text,
        content_type=content_type,
        author_id=creator,
        customer_language=language,
        complete=text is not None,
        raw={"object": notification.object_type, "fields": dict(fields)},
        channel=_channel(notification.object_type, parent, fields),
    )


_Read = tuple[Kind, str | None, str | None, ContentType]


def _email_message(fields: Mapping[str, Any]) -> _Read:
    html, text = fields.get("HtmlBody"), fields.get("TextBody")
    kind: Kind = "customer_message" if flag(fields.get("Incoming")) else "ignored"
    parent = as_id(fields.get("ParentId"))
    if isinstance(html, str) and html.strip():
        return kind, parent, html, "html"
    return kind, parent, text if isinstance(text, str) and text.strip() else None, "text"


def _case_comment(fields: Mapping[str, Any]) -> _Read:
    published = flag(fields.get("IsPublished"))
    kind: Kind = "customer_message" if published else "agent_note"
    body = fields.get("CommentBody")
    text = body if isinstance(body, str) and body.strip() else None
    return kind, as_id(fields.get("ParentId")), text, "text"


def _feed_item(fields: Mapping[str, Any]) -> _Read:
    internal = fields.get("Visibility") in (None, "InternalUsers")
    text_post = fields.get("Type") in (None, "TextPost")
    kind: Kind = "agent_note" if internal and text_post else "ignored"
    body = fields.get("Body")
    text = body if isinstance(body, str) and body.strip() else None
    rich = flag(fields.get("IsRichText"))
    return kind, as_id(fields.get("ParentId")), text, "text" if rich is False else "html"


def _conversation_entry(fields: Mapping[str, Any]) -> _Read:
    from_customer = fields.get("ActorType") == "EndUser"
    is_text = fields.get("EntryType") in (None, "Text")
    kind: Kind = "customer_message" if from_customer and is_text else "ignored"
    message = fields.get("Message")
    text = message if isinstance(message, str) and message.strip() else None
    return kind, as_id(fields.get("ConversationId")), text, "text"


def _case(fields: Mapping[str, Any]) -> _Read:
    description = fields.get("Description")
    text = description if isinstance(description, str) and description.strip() else None
    return "ticket_created", as_id(fields.get("Id")), text, "text"


_READERS = {
    "EmailMessage": _email_message,
    "CaseComment": _case_comment,
    "FeedItem": _feed_item,
    "ConversationEntry": _conversation_entry,
    "Case": _case,
}


def _channel(object_type: str, parent: str, fields: Mapping[str, Any]) -> Channel | None:
    if object_type == "Case":
        origin = fields.get("Origin")
        if isinstance(origin, str) and origin.strip().lower() in _ORIGIN_CHANNELS:
            return _ORIGIN_CHANNELS[origin.strip().lower()]
    return channel_of(parent)


def _ignored(notification: Notification, conversation_id: str) -> HelpdeskEvent:
    return HelpdeskEvent(
        kind="ignored", event_id=notification.event_id, conversation_id=conversation_id
    )
