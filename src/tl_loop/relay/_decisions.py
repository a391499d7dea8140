"""Recording a reviewer's decision and queueing its release, together.

A decision lives in the review queue and its release in the job queue. When both are tables of
one PostgreSQL database, the two writes are one transaction: a relay that dies in between
leaves either both or neither. Otherwise (SQLite files, or two databases) they are two writes,
and `Relay.queue_unreleased` sweeps for approved replies whose release was never queued.
"""

from __future__ import annotations

from tl_loop.relay._queue import JobStore
from tl_loop.relay._queue_pg import PostgresJobQueue
from tl_loop.review import PostgresReviewQueue, ReviewItem, ReviewQueue, ReviewState

__all__ = ["record_decision", "shares_a_transaction"]


def shares_a_transaction(review: ReviewQueue, queue: JobStore) -> bool:
    """Whether the decision and its release can be written in one transaction."""
    return _one_database(review, queue) is not None


def _one_database(
    review: ReviewQueue, queue: JobStore
) -> tuple[PostgresReviewQueue, PostgresJobQueue] | None:
    if (
        isinstance(review, PostgresReviewQueue)
        and isinstance(queue, PostgresJobQueue)
        and review.database == queue.database
    ):
        return review, queue
    return None


def record_decision(
    review: ReviewQueue,
    queue: JobStore,
    item_id: str,
    *,
    state: ReviewState,
    reviewer: str,
    final: str | None,
) -> tuple[ReviewItem, bool]:
    """Decide the item and queue its follow-up; returns the item and whether a job was queued.

    Raises:
        NotFoundError: no such item.
        ReviewConflictError: the item was already decided; nothing is queued.
    """
    shared = _one_database(review, queue)
    if shared is not None:
        review_table, jobs = shared
        with jobs.transaction() as connection:
            decided = review_table.decide_within(
                connection, item_id, state=state, reviewer=reviewer, final=final
            )
            if decided.needs_follow_up:
                jobs.enqueue_review_within(
                    connection, decided.id, adapter=decided.adapter,
                    conversation_id=decided.conversation_id,
                )  # fmt: skip
            return decided, decided.needs_follow_up
    decided = review.decide(item_id, state=state, reviewer=reviewer, final=final)
    if decided.needs_follow_up:
        queue.enqueue_review(
            decided.id, adapter=decided.adapter, conversation_id=decided.conversation_id
        )
    return decided, decided.needs_follow_up
