"""The shared relay queue on a real PostgreSQL: the queue's rules across connections, then
three relay processes on one database with webhooks spread round-robin, duplicates sent to
different replicas, and one replica killed with -9 in the middle of the burst."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from relay_processes import ENV, SECRET, RelayProcess, write_config

from tl_loop import HelpdeskEvent, Loop, TlLoopError
from tl_loop.relay import DeadLetterNotice, PostgresJobQueue, Relay, RelaySettings, relay_status
from tl_loop.review import ReviewItem, ReviewState
from tl_loop.testing import FakeEngine, MemoryHelpdesk, MemoryHelpdeskServer


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def event(event_id: str, conversation: str = "c1") -> HelpdeskEvent:
    return HelpdeskEvent(
        kind="customer_message", event_id=event_id, conversation_id=conversation, text="Hola",
        complete=True,
    )  # fmt: skip


@pytest.fixture
def prefix() -> str:
    return f"relay_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_queue(postgres_url: str, prefix: str) -> Iterator[Callable[..., PostgresJobQueue]]:
    queues: list[PostgresJobQueue] = []

    def make(**options: object) -> PostgresJobQueue:
        queue = PostgresJobQueue(postgres_url, table_prefix=prefix, **options)  # type: ignore[arg-type]
        queues.append(queue)
        return queue

    yield make
    for queue in queues:
        queue.close()


def test_replicas_share_dedupe_order_and_expired_leases(
    make_queue: Callable[..., PostgresJobQueue],
) -> None:
    clock = Clock()
    one, two = make_queue(lease_seconds=30, clock=clock), make_queue(lease_seconds=30, clock=clock)
    assert one.enqueue("memory", event("e1", "c1")) is not None
    assert two.enqueue("memory", event("e1", "c1")) is None  # a redelivery to another replica
    two.enqueue("memory", event("e2", "c1"))
    two.enqueue("memory", event("e3", "c2"))
    first, other = one.claim(), two.claim()
    assert first is not None
    assert other is not None
    assert (first.event.event_id, other.event.event_id) == ("e1", "e3")
    assert one.claim() is None
    assert two.claim() is None
    clock.now += 31  # replica one died holding e1
    taken_over = two.claim()
    assert taken_over is not None
    assert taken_over.event.event_id == "e1"
    assert one.begin_step(first, "note") == "lost"  # the old holder cannot journal a write
    assert two.begin_step(taken_over, "note") == "new"
    two.finish_step(taken_over, "note")
    assert two.complete(taken_over)
    following = one.claim()
    assert following is not None
    assert following.event.event_id == "e2"


def test_a_dead_job_and_its_notice_are_one_transaction(
    make_queue: Callable[..., PostgresJobQueue], postgres_url: str, prefix: str
) -> None:

    queue = make_queue()
    queue.enqueue("memory", event("e1", "c1"))
    job = queue.claim()
    assert job is not None
    assert queue.wait_later(job, 0, "cannot connect")
    job = queue.claim()
    assert job is not None
    assert job.waiting_since is not None
    notice = DeadLetterNotice(job.id, "c1", "a customer message", "down for 24 h")
    assert queue.dead_letter(job, "down for 24 h", notice)
    assert not queue.dead_letter(job, "again", notice)  # no longer ours: nothing queued twice
    assert queue.overview()["dead"] == 1
    told = queue.claim()
    assert told is not None
    assert told.kind == "notice"
    status = relay_status(RelaySettings(queue_url=postgres_url, queue_table_prefix=prefix))
    assert [job.key for job in status.dead] == ["e1"]
    assert "dead (gave up after the outage limit" in status.render()


def test_a_decision_whose_release_was_never_queued_is_released_once(
    postgres_url: str, prefix: str, tmp_path: Path
) -> None:
    with MemoryHelpdeskServer() as helpdesk:
        adapter = MemoryHelpdesk(base_url=helpdesk.url, webhook_secret=SECRET)
        settings = RelaySettings(
            queue_url=postgres_url, queue_table_prefix=prefix,
            review_path=tmp_path / "review.sqlite3", audit=False,
        )  # fmt: skip
        with Relay(loop=Loop(engines=[FakeEngine()]), adapters={"memory": adapter},
                   settings=settings) as relay:  # fmt: skip
            item = held_reply()
            relay.review.add(item)
            # The decision is recorded, then the relay dies before queueing the release.
            relay.review.decide(item.id, state=ReviewState.APPROVED, reviewer="ana")
            assert relay.queue.overview()["queued"] == 0
            assert relay.queue_unreleased() == 1
            assert relay.queue_unreleased() == 0  # already queued: the dedupe key holds
            relay.drain()
            assert [reply.body for reply in helpdesk.replies("c1")] == ["Su pedido se envía hoy."]
            assert relay.review.get(item.id).released
            assert relay.queue_unreleased() == 0


def test_a_decision_and_its_release_in_one_database_commit_together(
    postgres_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with MemoryHelpdeskServer() as helpdesk:
        adapter = MemoryHelpdesk(base_url=helpdesk.url, webhook_secret=SECRET)
        settings = RelaySettings(
            queue_url=postgres_url, queue_table_prefix=prefix, review_url=postgres_url,
            audit=False,
        )  # fmt: skip
        with Relay(loop=Loop(engines=[FakeEngine()]), adapters={"memory": adapter},
                   settings=settings) as relay:  # fmt: skip
            item = held_reply()
            relay.review.add(item)
            queue = relay.queue
            assert isinstance(queue, PostgresJobQueue)
            queue_release = queue.enqueue_review_within

            def fail_midway(connection: object, *args: object, **kwargs: object) -> None:
                # The release's insert fails after the decision's update ran in the same
                # transaction (what a relay killed between the two writes leaves behind).
                connection.execute("SELECT 1 / 0")  # type: ignore[attr-defined]

            monkeypatch.setattr(queue, "enqueue_review_within", fail_midway)
            with pytest.raises(TlLoopError):
                relay.decide(item.id, ReviewState.APPROVED, "ana")
            assert relay.review.get(item.id).state is ReviewState.PENDING  # rolled back
            assert queue.overview()["queued"] == 0

            monkeypatch.setattr(queue, "enqueue_review_within", queue_release)
            relay.decide(item.id, ReviewState.APPROVED, "ana")  # the reviewer clicks again
            assert relay.queue_unreleased() == 0  # nothing to sweep in one database
            relay.drain()
            assert [reply.body for reply in helpdesk.replies("c1")] == ["Su pedido se envía hoy."]


def held_reply() -> ReviewItem:
    return ReviewItem(
        id=uuid.uuid4().hex, created_at=datetime.now(UTC), state=ReviewState.PENDING,
        held=True, direction="outbound", channel="chat", source_language="en",
        target_language="es", original="Your order ships today.",
        draft="Su pedido se envía hoy.", final=None, flags=(), engine="fake",
        content_type="text", adapter="memory", conversation_id="c1",
        glossary_version=None,
    )  # fmt: skip


# -- three relay processes ---------------------------------------------------------------------

CONVERSATIONS = 12
MESSAGES = 6


def spanish(number: int) -> str:
    return f"Hola, este es el mensaje número {number} de la conversación."


@pytest.fixture
def replicas(
    tmp_path: Path, postgres_url: str, prefix: str
) -> Iterator[tuple[list[RelayProcess], MemoryHelpdeskServer]]:
    with MemoryHelpdeskServer() as helpdesk:
        processes = []
        for number in range(3):
            directory = tmp_path / f"replica{number}"
            directory.mkdir()
            relay = (
                f'queue_url = "{postgres_url}"\nqueue_table_prefix = "{prefix}"\n'
                'audit = false\nreview_path = "review.sqlite3"'
            )
            processes.append(RelayProcess(write_config(directory, helpdesk.url, relay), env=ENV))
        try:
            for process in processes:
                process.start()
            yield processes, helpdesk
        finally:
            for process in processes:
                process.stop()
                process.kill()


def test_three_replicas_lose_nothing_double_nothing_and_keep_order_through_a_kill_9(
    replicas: tuple[list[RelayProcess], MemoryHelpdeskServer],
) -> None:
    processes, helpdesk = replicas
    adapter = MemoryHelpdesk(base_url=helpdesk.url, webhook_secret=SECRET)
    bodies = [
        MemoryHelpdesk.event_body(event_id=f"c{c}-m{m}", conversation_id=f"c{c}", text=spanish(m))
        for m in range(MESSAGES)
        for c in range(CONVERSATIONS)
    ]
    bodies += [
        MemoryHelpdesk.event_body(
            event_id=f"c{c}-reply", conversation_id=f"c{c}", text="#tl Your order ships today.",
            kind="agent_note",
        )
        for c in range(CONVERSATIONS)
    ]  # fmt: skip
    turn = itertools.cycle(range(3))
    killed = False
    duplicates = 0
    for index, body in enumerate(bodies):
        if index == len(bodies) // 3:
            processes[1].kill()  # mid-burst: some of its jobs are claimed or queued
            killed = True
        first = next(turn)
        answered = deliver(processes, first, adapter, body)
        assert answered.status_code == 202, answered.text
        if index % 4 == 0:  # the helpdesk redelivers, and the balancer picks another replica
            again = deliver(processes, first + 1, adapter, body)
            assert (again.status_code, again.json()["status"]) == (200, "duplicate")
            duplicates += 1
    assert killed
    assert duplicates > 10

    def delivered() -> bool:
        return all(
            len(helpdesk.notes(f"c{c}")) >= MESSAGES and helpdesk.replies(f"c{c}")
            for c in range(CONVERSATIONS)
        )

    helpdesk.wait_for(delivered, timeout=90)  # the dead replica's jobs wait out their lease
    time.sleep(1.0)  # time for a double to show up
    for c in range(CONVERSATIONS):
        notes = helpdesk.notes(f"c{c}")
        order = [next(m for m in range(MESSAGES) if spanish(m) in note.body) for note in notes]
        assert order == list(range(MESSAGES)), (c, order)
        assert len(helpdesk.replies(f"c{c}")) == 1


def deliver(
    processes: list[RelayProcess], first: int, adapter: MemoryHelpdesk, body: bytes
) -> httpx.Response:
    """Post to replica `first`, or the next live one (what a load balancer does)."""
    for offset in range(len(processes)):
        process = processes[(first + offset) % len(processes)]
        try:
            return process.post(adapter, body)
        except httpx.TransportError:
            continue
    raise AssertionError("no replica answered")
