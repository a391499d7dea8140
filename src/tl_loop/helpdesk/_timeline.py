"""How a conversation was resolved, read from the messages every adapter already fetches.

First-contact resolution, resolution time and reopens then need no platform-specific report
API: the same rules apply to every helpdesk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tl_loop.helpdesk._adapter import HelpdeskMessage
from tl_loop.helpdesk._outcomes import parse_time

__all__ = ["Timeline", "chronological", "timeline"]


@dataclass(frozen=True, slots=True)
class Timeline:
    """What a conversation's messages say about how it was resolved.

    `resolved_at` is the last public agent reply not followed by a customer message; `reopened`
    means the customer wrote again more than the reopen gap after an agent reply; first-contact
    resolution means one public agent reply answered it.
    """

    conversation_id: str
    opened_at: datetime | None
    resolved_at: datetime | None
    agent_replies: int
    reopened: bool

    @property
    def first_contact_resolution(self) -> bool:
        """Resolved by the first public agent reply, with no reopen."""
        return self.resolved_at is not None and self.agent_replies == 1 and not self.reopened

    @property
    def resolution_hours(self) -> float | None:
        """Hours from the customer's first message to the resolving reply."""
        if self.opened_at is None or self.resolved_at is None:
            return None
        return (self.resolved_at - self.opened_at).total_seconds() / 3600


def chronological(messages: Sequence[HelpdeskMessage]) -> list[HelpdeskMessage]:
    """A conversation's messages oldest first, whatever order the platform lists them in.

    Platforms differ: Front and Help Scout list newest first, Chatwoot pages backwards through
    time, the rest list oldest first. Sorted by `created_at` when every message has one;
    messages of the same second by their ids where all are numbers (the platforms number them
    as they come), else in their listed order (adapters give each page oldest first).
    Otherwise left as listed.
    """
    moments = [parse_time(message.created_at) for message in messages]
    known = [moment for moment in moments if moment is not None]
    if len(known) != len(messages):  # one without a time: its place is unknown
        return list(messages)
    numbered = all(message.id.isdigit() for message in messages)
    order = sorted(
        range(len(messages)),
        key=lambda i: (known[i], int(messages[i].id) if numbered else i),
    )
    return [messages[index] for index in order]


def timeline(
    conversation_id: str,
    messages: Sequence[HelpdeskMessage],
    *,
    reopen_after: timedelta = timedelta(hours=24),
) -> Timeline:
    """The timeline of one conversation from its messages (internal notes are ignored)."""
    public = sorted(
        (
            (moment, message.author_role)
            for message in messages
            if message.public and (moment := parse_time(message.created_at)) is not None
        ),
        key=lambda pair: pair[0],
    )
    customer = [moment for moment, role in public if role == "customer"]
    agent = [moment for moment, role in public if role == "agent"]
    opened = customer[0] if customer else None
    resolved = agent[-1] if agent and (not customer or agent[-1] >= customer[-1]) else None
    reopened = any(
        later - reply > reopen_after
        for reply in agent
        for later in customer
        if later > reply and not any(reply < other < later for other in customer)
    )
    return Timeline(conversation_id, opened, resolved, len(agent), reopened)
