"""The durable queue: dedupe, leases, order per conversation, resume after a crash, the journal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tl_loop import HelpdeskEvent
from tl_loop.relay import JobQueue


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def event(event_id: str, conversation: str = "c1", text: str = "Hola") -> HelpdeskEvent:
    return HelpdeskEvent(
        kind="customer_message", event_id=event_id, conversation_id=conversation, text=text,
        complete=True,
    )  # fmt: skip


def test_a_redelivered_event_is_queued_once(tmp_path: Path) -> None:
    with JobQueue(tmp_path / "q.sqlite3") as queue:
        first = queue.enqueue("zendesk", event("e1"))
        again = queue.enqueue("zendesk", event("e1"))
        other_adapter = queue.enqueue("intercom", event("e1"))
        assert first is not None
        assert again is None
        assert other_adapter is not None  # event ids are per helpdesk
        assert queue.counts()["queued"] == 2


def test_a_claimed_job_carries_the_event_back(tmp_path: Path) -> None:
    with JobQueue(tmp_path / "q.sqlite3") as queue:
        queue.enqueue("memory", event("e1", text="¿Dónde está mi pedido?"))
        job = queue.claim()
        assert job is not None
        assert job.event.text == "¿Dónde está mi pedido?"
        assert job.event.event_id == "e1"
        assert job.attempts == 1
        assert queue.claim() is None  # nothing else is due


def test_an_expired_lease_lets_another_worker_take_the_job_over(tmp_path: Path) -> None:
    clock = Clock()
    with JobQueue(tmp_path / "q.sqlite3", lease_seconds=30, clock=clock) as queue:
        queue.enqueue("memory", event("e1"))
        crashed = queue.claim()
        assert crashed is not None
        clock.now += 29
        assert queue.claim() is None  # still leased
        clock.now += 2
        taken_over = queue.claim()
        assert taken_over is not None
        assert taken_over.id == crashed.id
        assert taken_over.attempts == 2
        # The first worker woke up late: it no longer owns the job and cannot settle it.
        assert not queue.complete(crashed)
        assert not queue.renew(crashed)
        assert queue.complete(taken_over)
        assert queue.counts()["done"] == 1


def test_jobs_of_one_conversation_run_one_at_a_time_in_order(tmp_path: Path) -> None:
    with JobQueue(tmp_path / "q.sqlite3") as queue:
        queue.enqueue("memory", event("e1", "c1"))
        queue.enqueue("memory", event("e2", "c1"))
        queue.enqueue("memory", event("e3", "c2"))
        first = queue.claim()
        other = queue.claim()
        assert first is not None
        assert other is not None
        assert (first.event.event_id, other.event.event_id) == ("e1", "e3")
        assert queue.claim() is None  # e2 waits for e1
        queue.complete(first)
        second = queue.claim()
        assert second is not None
        assert second.event.event_id == "e2"


def test_a_retry_waits_for_its_delay(tmp_path: Path) -> None:
    clock = Clock()
    with JobQueue(tmp_path / "q.sqlite3", clock=clock) as queue:
        queue.enqueue("memory", event("e1"))
        job = queue.claim()
        assert job is not None
        assert queue.retry_later(job, 10, "helpdesk unreachable")
        assert queue.claim() is None
        clock.now += 11
        again = queue.claim()
        assert again is not None
        assert again.attempts == 2


def test_a_failed_job_keeps_its_reason(tmp_path: Path) -> None:
    with JobQueue(tmp_path / "q.sqlite3") as queue:
        queue.enqueue("memory", event("e1"))
        job = queue.claim()
        assert job is not None
        queue.fail(job, "reply may have been delivered")
        assert queue.failed_jobs() == [(job.id, "memory", "e1", "reply may have been delivered")]
        assert queue.claim() is None


def test_jobs_survive_a_crash_and_resume_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    clock = Clock()
    crashed = JobQueue(path, lease_seconds=30, clock=clock)
    crashed.enqueue("memory", event("e1"))
    crashed.enqueue("memory", event("e2", "c2"))
    assert crashed.claim() is not None  # in flight when the process "dies"
    crashed.close()

    clock.now += 31
    with JobQueue(path, lease_seconds=30, clock=clock) as restarted:
        resumed = {job.event.event_id for job in iter(restarted.claim, None)}
        assert resumed == {"e1", "e2"}
        assert restarted.enqueue("memory", event("e1")) is None  # still a duplicate


def test_a_dead_process_jobs_are_resumed_without_waiting_for_the_lease(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    host = JobQueue(path).owner.split(":")[0]
    with JobQueue(path, lease_seconds=3600, owner=f"{host}:{dead.stdout.strip()}:old") as old:
        old.enqueue("memory", event("e1"))
        assert old.claim() is not None
    with JobQueue(path, lease_seconds=3600) as restarted:
        assert restarted.claim() is None  # leased for an hour...
        assert restarted.recover_orphans() == 1  # ...by a process that no longer exists
        job = restarted.claim()
        assert job is not None
        assert job.event.event_id == "e1"


def test_the_write_journal_never_repeats_an_interrupted_write(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    clock = Clock()
    with JobQueue(path, lease_seconds=10, clock=clock) as queue:
        queue.enqueue("memory", event("e1"))
        job = queue.claim()
        assert job is not None
        assert queue.begin_step(job, "note") == "new"
        queue.finish_step(job, "note")
        assert queue.begin_step(job, "language") == "new"
        # ...the process dies while the language write is in flight.
    clock.now += 11
    with JobQueue(path, lease_seconds=10, clock=clock) as queue:
        job = queue.claim()
        assert job is not None
        assert queue.begin_step(job, "note") == "done"
        assert queue.begin_step(job, "language") == "uncertain"


def test_a_write_that_surely_did_not_arrive_may_be_tried_again(tmp_path: Path) -> None:
    with JobQueue(tmp_path / "q.sqlite3") as queue:
        queue.enqueue("memory", event("e1"))
        job = queue.claim()
        assert job is not None
        assert queue.begin_step(job, "reply") == "new"
        queue.forget_step(job, "reply")
        assert queue.begin_step(job, "reply") == "new"


def test_conversation_state_is_stored_per_adapter(tmp_path: Path) -> None:
    with JobQueue(tmp_path / "q.sqlite3") as queue:
        queue.save_conversation("zendesk", "42", {"customer_language": "es"})
        assert queue.load_conversation("zendesk", "42") == {"customer_language": "es"}
        assert queue.load_conversation("intercom", "42") is None


def test_prune_forgets_old_finished_jobs_only(tmp_path: Path) -> None:
    clock = Clock()
    with JobQueue(tmp_path / "q.sqlite3", clock=clock) as queue:
        queue.enqueue("memory", event("old"))
        job = queue.claim()
        assert job is not None
        queue.complete(job)
        clock.now += 100
        queue.enqueue("memory", event("pending"))
        assert queue.prune(older_than=50) == 1
        assert queue.counts() == {"queued": 1, "running": 0, "done": 0, "failed": 0}
        assert queue.enqueue("memory", event("old")) is not None  # past the dedupe window


def test_each_job_type_comes_back_as_itself(tmp_path: Path) -> None:
    with JobQueue(tmp_path / "q.sqlite3") as queue:
        queue.enqueue("memory", event("e1", "c1"))
        agent = HelpdeskEvent(kind="agent_note", event_id="e2", conversation_id="c2", text="#tl Hi")
        queue.enqueue("memory", agent)
        assert queue.enqueue_review("item-1", adapter="memory", conversation_id="c3")
        assert queue.enqueue_review("item-1", adapter="memory", conversation_id="c3") is None
        jobs = {job.kind: job for job in iter(queue.claim, None)}
        assert sorted(jobs) == ["agent_note", "customer_message", "review"]
        assert jobs["agent_note"].event.text == "#tl Hi"
        assert jobs["review"].review_item == "item-1"
        assert jobs["review"].conversation_id == "c3"
        with pytest.raises(TypeError):
            jobs["review"].event  # noqa: B018 - a review job carries no webhook


def test_an_ignored_event_is_not_queued(tmp_path: Path) -> None:
    with (
        JobQueue(tmp_path / "q.sqlite3") as queue,
        pytest.raises(ValueError, match="not queued"),
    ):
        queue.enqueue("memory", HelpdeskEvent("ignored", "e1", "c1"))
