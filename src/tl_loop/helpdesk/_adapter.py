"""The helpdesk adapter interface: webhooks in, notes and replies out, knowledge base both ways.

An adapter is pure: it verifies and parses webhooks, builds `httpx.Request`s and parses
`httpx.Response`s. `HelpdeskClient` sends them. Adapters live outside the core (top-level
`adapters/`, one package each) and register under the entry-point group `tl_loop.adapters`:

```toml
[project.entry-points."tl_loop.adapters"]
zendesk = "tl_loop_zendesk:ZendeskAdapter"
```

Writes to a helpdesk are not idempotent (a note posted twice shows twice), so the client retries
a write only when the request surely never arrived (the connection was refused), and never after
a timeout or a 5xx. Reads are retried like engine calls.
"""

from __future__ import annotations

import abc
import base64
import hashlib
import hmac
import html
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar, Literal, Self

import httpx

from tl_loop._errors import (
    ConfigurationError,
    ServiceError,
    WebhookAuthError,
)
from tl_loop._models import Channel, ContentType
from tl_loop.helpdesk._outcomes import Rating
from tl_loop.helpdesk._settings import AdapterSettings
from tl_loop.http import TokenProvider, error_for_status, retry_after_seconds
from tl_loop.text._repair import repair_text

__all__ = [
    "OWN_NOTE_MARKER",
    "PATH_SECRET_HEADER",
    "PEER_HEADER",
    "Article",
    "EventKind",
    "HelpdeskAdapter",
    "HelpdeskEvent",
    "HelpdeskMessage",
    "WebhookReply",
    "adapter_names",
    "body_event_id",
    "carries_own_marker",
    "hmac_digest",
    "load_adapter_class",
    "verify_signature",
]

OWN_NOTE_MARKER = "— tl_loop"
"""Ends every note tl_loop posts; adapters classify a note carrying it as `ignored`, so our own
writes never loop back through the webhook (helpdesks fire webhooks for them too). Test for it
with `carries_own_marker`, which also finds it in the forms helpdesks store it in."""

PEER_HEADER = "x-tl-loop-peer"
"""Set by the relay on every webhook to the sender's address (a header of that name sent from
outside is dropped), so adapters can check an allow-list of networks."""

PATH_SECRET_HEADER = "x-tl-loop-path-secret"
"""Set by the relay to the last path segment of `/webhooks/<adapter>/<secret>`, for platforms
that can neither send a header nor sign a body and put a shared secret in the endpoint URL."""

EventKind = Literal["customer_message", "agent_note", "ticket_created", "ignored"]
"""What a webhook means to the loop; `ignored` covers our own writes and other events."""


@dataclass(frozen=True, slots=True)
class HelpdeskEvent:
    """A webhook, parsed: what happened, where, and the text if the payload carries it.

    `text` may be None or partial (`complete=False`) when the platform's payload is
    admin-defined or truncated; the relay then fetches the authoritative message.
    `channel` is how the conversation travels (`chat` or `email`) when the payload says so,
    else None; it selects the review policy (`PolicyRule.channel`).
    """

    kind: EventKind
    event_id: str
    conversation_id: str
    message_id: str | None = None
    text: str | None = None
    content_type: ContentType = "text"
    author_id: str | None = None
    customer_language: str | None = None
    complete: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    channel: Channel | None = None

    def __post_init__(self) -> None:
        _repair_fields(self)


@dataclass(frozen=True, slots=True)
class WebhookReply:
    """The HTTP answer a platform expects to a webhook, when "received" is not enough.

    Front checks a new application webhook by sending `X-Front-Challenge` and wants the value
    echoed; Salesforce outbound messages want a SOAP acknowledgement. The relay sends this
    answer as it is (status, content type, body).

    Attributes:
        body: the response body.
        content_type: its media type.
        status: the HTTP status.
        process: False for a verification request: answered, nothing parsed or queued.
            True: the webhook is also parsed and queued as usual, and this is the answer
            when the relay accepted it (queued, duplicate or ignored); a refusal is still
            answered with the relay's own error.
    """

    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    status: int = 200
    process: bool = False

    @classmethod
    def json(cls, value: object, *, status: int = 200, process: bool = False) -> WebhookReply:
        """A JSON answer."""
        body = json.dumps(value, separators=(",", ":")).encode()
        return cls(body=body, content_type="application/json", status=status, process=process)


@dataclass(frozen=True, slots=True)
class HelpdeskMessage:
    """One message of a conversation as the helpdesk stores it."""

    id: str
    text: str
    content_type: ContentType
    author_role: Literal["customer", "agent", "system"]
    public: bool
    created_at: str | None = None

    def __post_init__(self) -> None:
        _repair_fields(self)


@dataclass(frozen=True, slots=True)
class Article:
    """A knowledge-base article (or its translation) as the helpdesk stores it."""

    id: str
    title: str
    body: str
    locale: str
    content_type: ContentType = "html"
    updated_at: str | None = None
    source_id: str | None = None

    def __post_init__(self) -> None:
        _repair_fields(self)


def _repair_fields(record: object) -> None:
    """Repair every text field of a frozen record where text enters tl_loop (see
    `text/_repair.py`): a broken emoji in a message must not stop its note."""
    for name in getattr(record, "__slots__", ()):
        value = getattr(record, name)
        if isinstance(value, str):
            repaired = repair_text(value)
            if repaired is not value:
                object.__setattr__(record, name, repaired)


def carries_own_marker(text: str) -> bool:
    """Whether `text` is a note tl_loop wrote: it carries `OWN_NOTE_MARKER`, also as a helpdesk
    stores or renders it (`&mdash;&nbsp;tl_loop`, `&#8212; tl_loop`, Markdown's `tl\\_loop`,
    a line break or several spaces between the dash and the name)."""
    if OWN_NOTE_MARKER in text:
        return True
    plain = html.unescape(text).replace("\\_", "_")
    return OWN_NOTE_MARKER in " ".join(plain.split())


def hmac_digest(secret: str | bytes, message: bytes, *, algorithm: str, encoding: str) -> str:
    """HMAC of `message` as `hex` or `base64`, the two encodings helpdesks use."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, message, getattr(hashlib, algorithm))
    if encoding == "hex":
        return digest.hexdigest()
    return base64.b64encode(digest.digest()).decode()


def body_event_id(body: bytes) -> str:
    """A dedupe key from the raw (signed) body: `body:` and 32 hex digits of its SHA-256. A
    retried delivery resends the same body, so it gets the same key; a replay cannot vary it."""
    return "body:" + hashlib.sha256(body).hexdigest()[:32]


def verify_signature(
    expected: str,
    received: str | None,
    *,
    service: str,
    timestamp: str | None = None,
    window: float | None = None,
    now: float | None = None,
) -> None:
    """Compare signatures in constant time and check the timestamp window.

    Raises:
        WebhookAuthError: the signature is missing or wrong, or the timestamp is stale.
    """
    if not received:
        raise WebhookAuthError(f"{service}: the webhook carries no signature")
    if not hmac.compare_digest(expected.encode(), received.strip().encode()):
        raise WebhookAuthError(f"{service}: the webhook signature does not match")
    if window is not None:
        try:
            sent = float(timestamp or "")
        except ValueError:
            raise WebhookAuthError(f"{service}: the webhook timestamp is missing") from None
        age = (time.time() if now is None else now) - sent
        if abs(age) > window:
            raise WebhookAuthError(
                f"{service}: the webhook is {age:.0f} s old, outside the {window:.0f} s window "
                "(replayed, or a clock is wrong)"
            )


class HelpdeskAdapter(abc.ABC):
    """A helpdesk platform: pure webhook handling and request building.

    Subclasses set `name`, implement the abstract methods, and usually extend `error_for`.
    Builders return `httpx.Request`s against `base_url`; nothing here does I/O.
    """

    name: ClassVar[str]
    base_url: str
    supports_kb: ClassVar[bool] = False
    max_note_chars: int | None = None
    """The most characters the platform stores in one note, when it has a limit; the relay
    splits or shortens longer notes rather than have them refused."""
    token_provider: TokenProvider | None = None
    """Set by platforms that authenticate with OAuth: `HelpdeskClient` then puts a token on
    every request (fetched on first use, renewed before expiry and after a 401), and the
    adapter's builders leave the `Authorization` header out."""
    lists_notes: ClassVar[bool] = False
    """Whether `parse_messages` returns internal notes too. The relay then reads a conversation
    back after a note write that may have arrived (timeout, 5xx) and posts it only if absent.
    A platform whose conversations differ (cases and chat sessions) overrides
    `lists_notes_of` instead."""

    settings: ClassVar[AdapterSettings | None] = None
    """The adapter's options, declared once (`AdapterSettings`): they give `from_env`, the
    required-option check with where to find each value, and the documented variables."""

    def lists_notes_of(self, conversation_id: str) -> bool:
        """Whether reading this conversation returns its internal notes (`lists_notes` by
        default), so an uncertain note can be looked for before it is posted again."""
        return self.lists_notes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Build the adapter from its environment variables, `<PLATFORM>_<OPTION>` for each of
        its `settings` (unset ones keep the constructor's default).

        Raises:
            ConfigurationError: a required variable is missing or a value is not of its
                kind (the message names the variable).
        """
        if cls.settings is None:
            raise ConfigurationError(
                f"the {cls.__name__} adapter cannot be configured from the environment; "
                "construct it with keyword arguments"
            )
        return cls(**cls.settings.from_env(environ))

    # -- webhooks ----------------------------------------------------------------------------

    @abc.abstractmethod
    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        """Check the webhook is authentic (raw body, constant time, timestamp window).

        Raises:
            WebhookAuthError: forged, unsigned or stale.
        """

    def webhook_reply(self, body: bytes, headers: Mapping[str, str]) -> WebhookReply | None:
        """The answer the platform expects to this (verified) webhook, if it expects one.

        Called after `verify_webhook` and before `parse_event`. Return a reply with
        `process=False` for a verification request (a challenge to echo), or with
        `process=True` for an acknowledgement the platform wants for every delivery. None
        (the default) lets the relay answer with its own JSON.
        """
        return None

    @abc.abstractmethod
    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        """Parse a verified webhook into an event.

        Raises:
            InvalidRequestError: the body is not a payload this adapter understands.
        """

    def parse_events(self, body: bytes, headers: Mapping[str, str]) -> list[HelpdeskEvent]:
        """Every event a verified webhook carries: most platforms send one (the default), some
        batch several (Salesforce: up to 100 notifications in one Outbound Message). The relay
        queues each on its own.

        Raises:
            InvalidRequestError: the body is not a payload this adapter understands.
        """
        return [self.parse_event(body, headers)]

    def replay_key(self, event: HelpdeskEvent, body: bytes, headers: Mapping[str, str]) -> str:
        """The dedupe key of a verified webhook, built from what its signature covers only.

        The relay handles each key once. A delivery header the signature does not cover
        (`X-Zammad-Delivery`, `X-Chatwoot-Delivery`, Zendesk's invocation id) is no key: anyone
        who captured one signed webhook could replay it with a new header and post again.

        The default: the message's id (from the signed body) with the event's kind and
        conversation, so a message is handled once however often it is delivered; without a
        message id, a hash of the signed body. Override where the platform signs an event id,
        or where the event's kind comes from an unsigned header.
        """
        if event.message_id:
            return f"{event.kind}:{event.conversation_id}:{event.message_id}"
        return body_event_id(body)

    def signed_at(
        self, event: HelpdeskEvent, body: bytes, headers: Mapping[str, str]
    ) -> float | None:
        """When the event happened, in seconds since the epoch, from signed material only;
        None when the payload does not say.

        The relay refuses events older than its replay window (`replay_window_hours`), so a
        webhook captured long ago cannot be replayed after its dedupe key is forgotten.
        Platforms that sign a timestamp header check it in `verify_webhook` already.
        """
        return None

    # -- conversations -----------------------------------------------------------------------

    @abc.abstractmethod
    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        """The request that reads a conversation's messages (first page)."""

    @abc.abstractmethod
    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        """The messages in a response to `build_get_messages` (or a later page)."""

    def next_page(self, response: httpx.Response) -> httpx.Request | None:
        """The request for the next page after `response`, if there is one."""
        return None

    @abc.abstractmethod
    def build_post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """The request that adds an internal note, visible to agents only."""

    @abc.abstractmethod
    def build_post_reply(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """The request that sends a public reply to the customer."""

    def build_set_language(self, conversation_id: str, language: str) -> httpx.Request | None:
        """The request that records the customer language on the ticket, if the platform can."""
        return None

    def language_help(self) -> str:
        """How an agent records the customer's language in this helpdesk, in its words.

        The relay shows it when a reply cannot be translated because the customer's language
        is unknown; it completes "the customer's language is not known yet: …". Adapters say
        which field, tag or label they read (and write), with an example value.
        """
        return (
            "it is learnt from the customer's next message (this helpdesk has no place tl_loop "
            "reads it from)"
        )

    def ticket_url(self, conversation_id: str) -> str | None:
        """Where an agent opens this conversation in the helpdesk's own interface, or None
        when the platform's address for it cannot be built from what the adapter knows.

        The reviewer page links the conversation id to it. Adapters whose agent-interface
        address is documented override this (Zendesk: `/agent/tickets/<id>`).
        """
        return None

    def build_language_read(self, conversation_id: str) -> httpx.Request | None:
        """The read the language write needs first, or None (most platforms).

        For platforms whose write replaces a whole set (Chatwoot's custom attributes): the
        client sends this read, then `build_set_language_from` with its answer, so the other
        values are written back unchanged (read-modify-write).
        """
        return None

    def build_set_language_from(
        self, conversation_id: str, language: str, current: httpx.Response
    ) -> httpx.Request | None:
        """`build_set_language`, knowing the conversation as `build_language_read` returned it;
        None when nothing needs writing (the language is already there)."""
        return self.build_set_language(conversation_id, language)

    # -- knowledge base ----------------------------------------------------------------------

    def build_list_articles(self, locale: str) -> httpx.Request:
        """The request that lists knowledge-base articles in `locale` (first page)."""
        raise NotImplementedError(f"{self.name} has no knowledge-base support in tl_loop")

    def parse_articles(self, response: httpx.Response) -> list[Article]:
        """The articles in a response to `build_list_articles`."""
        raise NotImplementedError(f"{self.name} has no knowledge-base support in tl_loop")

    def build_article_bodies(self, response: httpx.Response) -> httpx.Request | None:
        """The request that reads the bodies of the articles a listing page names without
        them, else None (the default: the listing carries them).

        `response` answers `build_list_articles` (or a later page). Where a platform lists
        titles only (Zammad's knowledge-base overview), `kb_pull` sends this request and
        parses the articles from its answer with `parse_articles` instead.
        """
        return None

    def build_publish_translation(
        self, article: Article, *, locale: str, title: str, body: str, draft: bool = True
    ) -> httpx.Request:
        """The request that stores a translation of `article` (as a draft where possible)."""
        raise NotImplementedError(f"{self.name} has no knowledge-base support in tl_loop")

    # -- outcomes ----------------------------------------------------------------------------

    def build_list_ratings(self) -> httpx.Request | None:
        """The request for the first page of customer satisfaction ratings; None when the
        platform has no ratings API tl_loop reads (pages follow `next_page`)."""
        return None

    def parse_ratings(self, response: httpx.Response) -> list[Rating]:
        """The ratings in a response to `build_list_ratings` (or a later page)."""
        return []

    def rating_in_messages(self, conversation_id: str, response: httpx.Response) -> Rating | None:
        """A rating the conversation itself carries, read from the first page of
        `build_get_messages` (Intercom's `conversation_rating`); None by default."""
        return None

    # -- errors ------------------------------------------------------------------------------

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """Map a failed response to an error; extend for the platform's own bodies."""
        return error_for_status(response, service=self.name, retry_after=self.retry_after(response))

    def retry_after(self, response: httpx.Response) -> float | None:
        """Seconds the platform asks us to wait (`Retry-After`, delta or HTTP date); override
        for a platform's own header. Always within [0, one day] or None."""
        return retry_after_seconds(response)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={getattr(self, 'base_url', '?')!r}>"


_GROUP = "tl_loop.adapters"


def adapter_names() -> list[str]:
    """Every adapter installed here, by its entry-point name."""
    return sorted(ep.name for ep in entry_points(group=_GROUP))


def load_adapter_class(name: str) -> type[HelpdeskAdapter]:
    """The adapter class registered as `name` under the `tl_loop.adapters` entry points.

    Raises:
        ConfigurationError: no adapter has that name (the message lists the installed ones).
    """
    for ep in entry_points(group=_GROUP):
        if ep.name == name:
            adapter_class: type[HelpdeskAdapter] = ep.load()
            return adapter_class
    installed = ", ".join(adapter_names()) or "none"
    raise ConfigurationError(f"unknown helpdesk adapter {name!r}; installed: {installed}")
