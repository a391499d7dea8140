"""What an emulated helpdesk holds: conversations, their messages, ratings and KB articles.

One neutral model for all platforms; each emulator renders it in its platform's JSON shapes.
Every write the relay makes (a note, a reply, a language change, a KB translation) is also kept
as a `Write`, so tests and the `python -m tl_loop.testing.emulators` console can show it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

__all__ = [
    "Author",
    "EmulatedArticle",
    "EmulatedConversation",
    "EmulatedMessage",
    "EmulatorStore",
    "Rating",
    "Write",
    "iso",
]

T = TypeVar("T")
Author = Literal["customer", "agent", "system"]
WriteKind = Literal["note", "reply", "language", "article"]


def iso(moment: float) -> str:
    """`2026-12-06T07:50:00Z`: the UTC timestamp format most helpdesk APIs use."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class EmulatedMessage:
    """One message of a conversation: a customer message, an agent reply or an internal note.

    `body` is HTML when `content_type` is `html`, plain text (or Markdown) otherwise.
    """

    id: int
    body: str
    author: Author
    public: bool
    content_type: Literal["html", "text"] = "html"
    created_at: float = field(default_factory=time.time)

    @property
    def note(self) -> bool:
        """True for an internal note (agents only)."""
        return not self.public


@dataclass
class Rating:
    """A customer satisfaction rating: `score` on the platform's scale, with a comment."""

    id: int
    score: int
    comment: str = ""
    created_at: float = field(default_factory=time.time)


@dataclass
class EmulatedConversation:
    """A ticket or conversation, with its customer, messages and fields."""

    id: int
    subject: str
    customer_id: int
    customer_name: str
    customer_email: str
    agent_id: int
    channel: Literal["email", "chat"] = "email"
    status: str = "open"
    messages: list[EmulatedMessage] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    ratings: list[Rating] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    solved_at: float | None = None


@dataclass
class EmulatedArticle:
    """A knowledge-base article in one locale; translations share `source_id`."""

    id: int
    title: str
    body: str
    locale: str
    source_id: int | None = None
    draft: bool = False
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Write:
    """A write the emulator received: a note, a reply, a language change or a KB translation.

    `body` is what the platform stored (for a language change: the value written); `payload`
    is the request's JSON as sent.
    """

    kind: WriteKind
    conversation_id: str
    body: str
    content_type: str = ""
    payload: Any = None


class EmulatorStore:
    """Thread-safe state of one emulated helpdesk, with ids counting up like a real one's."""

    def __init__(self, *, first_id: int = 1001) -> None:
        self.lock = threading.Condition()
        self.conversations: dict[int, EmulatedConversation] = {}
        self.articles: dict[int, EmulatedArticle] = {}
        self.writes: list[Write] = []
        self._next = first_id

    def next_id(self) -> int:
        """A fresh id (call with `lock` held or not: it takes it)."""
        with self.lock:
            self._next += 1
            return self._next

    # -- conversations -----------------------------------------------------------------------

    def open_conversation(
        self,
        *,
        subject: str = "Order status",
        customer_name: str = "Lucía Pérez",
        customer_email: str = "lucia@example.com",
        channel: Literal["email", "chat"] = "email",
        id: int | None = None,
        customer_id: int | None = None,
    ) -> EmulatedConversation:
        """A new open conversation with no messages yet; `id` and `customer_id` pick the ids
        (to replay a captured webhook about conversation 71447), else fresh ones are used."""
        with self.lock:
            if id is not None and id in self.conversations:
                raise ValueError(f"conversation {id} already exists")
            conversation = EmulatedConversation(
                id=self.next_id() if id is None else id,
                subject=subject,
                customer_id=self.next_id() if customer_id is None else customer_id,
                customer_name=customer_name,
                customer_email=customer_email,
                agent_id=self.next_id(),
                channel=channel,
            )
            self.conversations[conversation.id] = conversation
            return conversation

    def conversation(self, conversation_id: object) -> EmulatedConversation | None:
        """The conversation with this id (given as int or str), if any."""
        try:
            key = int(str(conversation_id))
        except ValueError:
            return None
        with self.lock:
            return self.conversations.get(key)

    def add_message(
        self,
        conversation: EmulatedConversation,
        body: str,
        *,
        author: Author,
        public: bool,
        content_type: Literal["html", "text"] = "html",
    ) -> EmulatedMessage:
        """Append a message and bump the conversation's `updated_at`."""
        with self.lock:
            message = EmulatedMessage(
                id=self.next_id(),
                body=body,
                author=author,
                public=public,
                content_type=content_type,
            )
            conversation.messages.append(message)
            conversation.updated_at = message.created_at
            self.lock.notify_all()
            return message

    def rate(self, conversation: EmulatedConversation, score: int, comment: str = "") -> Rating:
        """Record a customer satisfaction rating and mark the conversation solved."""
        with self.lock:
            rating = Rating(id=self.next_id(), score=score, comment=comment)
            conversation.ratings.append(rating)
            conversation.status = "solved"
            conversation.solved_at = conversation.solved_at or rating.created_at
            return rating

    # -- knowledge base ----------------------------------------------------------------------

    def add_article(
        self, title: str, body: str, *, locale: str = "en", source_id: int | None = None
    ) -> EmulatedArticle:
        """A published article (or, with `source_id`, a translation of one)."""
        with self.lock:
            article = EmulatedArticle(
                id=self.next_id(), title=title, body=body, locale=locale, source_id=source_id
            )
            self.articles[article.id] = article
            return article

    def translation(self, source_id: int, locale: str) -> EmulatedArticle | None:
        """The translation of article `source_id` into `locale`, if one exists."""
        with self.lock:
            for article in self.articles.values():
                if article.source_id == source_id and article.locale == locale:
                    return article
            return None

    # -- what was received -------------------------------------------------------------------

    def record(self, write: Write) -> None:
        """Keep a received write and wake anyone waiting for it."""
        with self.lock:
            self.writes.append(write)
            self.lock.notify_all()

    def wait_for(self, condition: Callable[[], T], *, timeout: float = 10.0) -> T:
        """Wait until `condition()` is truthy (re-checked on every change); return its value.

        Raises:
            TimeoutError: still falsy after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                value = condition()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"condition still false after {timeout} s")
                self.lock.wait(min(left, 0.1))
