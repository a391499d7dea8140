"""The relay's job types: a tagged union, one handler each (see `_worker.JobRunner`).

- `CustomerMessage`: a customer wrote (or opened a ticket); the agent gets the translation as
  an internal note.
- `AgentNote`: an agent wrote an internal note; one starting with the trigger becomes a public
  reply in the customer's language (or a preview note).
- `ReviewRelease`: a reviewer decided on a review item; release the held reply, tell the agent
  about a rejection, learn from an edit.
- `DeadLetterNotice`: a job gave up after the helpdesk stayed down past the outage limit; tell
  the agent in the conversation once the helpdesk answers again.

Each type knows its dedupe key (unique per adapter: a redelivered webhook or a second request
for the same decision is queued once) and the conversation whose order it keeps. A job is
stored as its `kind` and a JSON payload; `decode` turns them back into the type.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

from tl_loop.helpdesk._adapter import HelpdeskEvent

__all__ = [
    "JOB_STATES",
    "AgentNote",
    "CustomerMessage",
    "DeadLetterNotice",
    "Job",
    "JobKind",
    "JobSummary",
    "JobWork",
    "ReviewRelease",
    "StepState",
    "decode",
    "encode",
    "work_for_event",
]

JobKind = Literal["customer_message", "agent_note", "review", "notice"]
"""The tag of a job type, stored with the job."""

StepState = Literal["new", "done", "uncertain", "lost"]
"""What the journal knows of a write step: never tried, done, or tried without an answer;
`lost` when the job is no longer the caller's (the shared queue checks it in the same
transaction that journals the step)."""

JOB_STATES = ("queued", "waiting", "running", "done", "failed", "dead")
"""What a job can be: due or soon due, waiting for a helpdesk that is down, being handled,
done, failed (told to the agent where one waits), dead (gave up after the outage limit)."""


@dataclass(frozen=True, slots=True)
class JobSummary:
    """A stored job as an operator sees it (`tl-loop relay status`, `/metrics`)."""

    id: int
    adapter: str
    key: str
    conversation_id: str
    kind: str
    reason: str
    attempts: int
    created_at: float
    waiting_since: float | None


def _event_payload(event: HelpdeskEvent) -> dict[str, Any]:
    data = asdict(event)
    data.pop("raw", None)  # the parsed fields are enough, and payloads can be large
    return data


@dataclass(frozen=True, slots=True)
class _EventJob:
    """A job that carries one helpdesk event: keyed by its event id, ordered by its conversation."""

    event: HelpdeskEvent

    @property
    def key(self) -> str:
        """The dedupe key: the helpdesk's event id."""
        return self.event.event_id

    @property
    def conversation_id(self) -> str | None:
        """The conversation whose order this job keeps."""
        return self.event.conversation_id

    def payload(self) -> dict[str, Any]:
        """The JSON-ready fields to store."""
        return _event_payload(self.event)


@dataclass(frozen=True, slots=True)
class CustomerMessage(_EventJob):
    """A customer's message (or a new ticket) to translate into a note for the agent."""

    kind: ClassVar[Literal["customer_message"]] = "customer_message"


@dataclass(frozen=True, slots=True)
class AgentNote(_EventJob):
    """An agent's internal note: a trigger makes it a translated reply (or a preview)."""

    kind: ClassVar[Literal["agent_note"]] = "agent_note"


@dataclass(frozen=True, slots=True)
class ReviewRelease:
    """Carry out a reviewer's decision on review item `item_id`.

    Runs in its conversation's order (after the jobs queued before the decision); an item with
    no conversation (a KB segment) is ordered on its own.
    """

    item_id: str
    conversation_id: str | None = None
    kind: ClassVar[Literal["review"]] = "review"

    @property
    def key(self) -> str:
        """The dedupe key: one release per review item."""
        return f"review-release/{self.item_id}"

    def payload(self) -> dict[str, Any]:
        """The JSON-ready fields to store."""
        return {"item_id": self.item_id, "conversation_id": self.conversation_id}


@dataclass(frozen=True, slots=True)
class DeadLetterNotice:
    """Tell the agent that job `job_id` gave up while the helpdesk was down, and why."""

    job_id: int
    conversation_id: str
    what: str
    reason: str
    kind: ClassVar[Literal["notice"]] = "notice"

    @property
    def key(self) -> str:
        """The dedupe key: one notice per dead job."""
        return f"dead-letter-notice/{self.job_id}"

    def payload(self) -> dict[str, Any]:
        """The JSON-ready fields to store."""
        return {
            "job_id": self.job_id,
            "conversation_id": self.conversation_id,
            "what": self.what,
            "reason": self.reason,
        }


JobWork = CustomerMessage | AgentNote | ReviewRelease | DeadLetterNotice
"""What a job carries out: one of the job types."""


def work_for_event(event: HelpdeskEvent) -> CustomerMessage | AgentNote:
    """The job type for a parsed webhook.

    Raises:
        ValueError: an `ignored` event (the relay answers those without queueing them).
    """
    if event.kind == "agent_note":
        return AgentNote(event)
    if event.kind in ("customer_message", "ticket_created"):
        return CustomerMessage(event)
    raise ValueError(f"an {event.kind!r} event is not queued")


def encode(work: JobWork) -> tuple[str, str]:
    """The job's stored form: its kind and its JSON payload."""
    return work.kind, json.dumps(work.payload())


def decode(kind: str, payload: str) -> JobWork:
    """The job type from its stored form (queue files older than job types included)."""
    data = json.loads(payload)
    if kind in ("customer_message", "agent_note", "event"):
        return work_for_event(HelpdeskEvent(**data))
    if kind == "review":
        if "item_id" not in data:  # queued before job types, as a disguised agent note
            return ReviewRelease(item_id=data["message_id"], conversation_id=None)
        return ReviewRelease(item_id=data["item_id"], conversation_id=data["conversation_id"])
    if kind == "notice":
        return DeadLetterNotice(**data)
    raise ValueError(f"unknown job kind {kind!r} in the queue; is a newer relay writing to it?")


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed job: what to carry out, and the lease token that proves the claim.

    `waiting_since` is when the helpdesk first failed to take this job's work (None while it
    has not): the outage limit counts from there.
    """

    id: int
    adapter: str
    work: JobWork
    attempts: int
    token: str
    created_at: float
    waiting_since: float | None = None

    @property
    def kind(self) -> JobKind:
        """The job type's tag."""
        return self.work.kind

    @property
    def event(self) -> HelpdeskEvent:
        """The webhook of a customer message or agent note job.

        Raises:
            TypeError: the job is of another type (it carries no webhook).
        """
        if isinstance(self.work, CustomerMessage | AgentNote):
            return self.work.event
        raise TypeError(f"a {self.work.kind} job carries no helpdesk event")

    @property
    def conversation_id(self) -> str | None:
        """The conversation the job writes to, if any."""
        return self.work.conversation_id

    @property
    def review_item(self) -> str:
        """The review item id of a `review` job.

        Raises:
            TypeError: the job is of another type.
        """
        if isinstance(self.work, ReviewRelease):
            return self.work.item_id
        raise TypeError(f"a {self.work.kind} job carries no review item")
