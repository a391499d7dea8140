"""The review queue and audit log: one contract, run against SQLite and a real PostgreSQL server.

PostgreSQL is the private cluster of tests/servers.py (Debian's binaries); those
tests skip with the reason when it is not installed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tl_loop import (
    ConfigurationError,
    Decision,
    LanguageDetector,
    Loop,
    Message,
    NotFoundError,
    ReviewPolicy,
    Severity,
    Translation,
)
from tl_loop.review import (
    AuditLog,
    PostgresAuditLog,
    PostgresReviewQueue,
    ReviewConflictError,
    ReviewItem,
    ReviewQueue,
    ReviewState,
    SQLiteAuditLog,
    SQLiteReviewQueue,
)
from tl_loop.testing import FakeEngine

OpenQueue = Callable[[], ReviewQueue]


@pytest.fixture(scope="module")
def translations() -> dict[str, Translation]:
    """Real translations from a loop: a held outbound reply and a flagged inbound message."""
    loop = Loop(
        engines=[FakeEngine({"Gracias.": "Thanks."})],
        detector=LanguageDetector(["en", "es"]),
        policy=ReviewPolicy(hold_at=Severity.WARNING),
    )
    conversation = loop.conversation("c1")
    conversation.override_customer_language("es")
    held = loop.outbound("Your order ships today, and the courier calls first.", conversation)
    inbound = loop.inbound(
        Message(text="Hola, mi pedido no ha llegado todavía y necesito ayuda.", language="es"),
        loop.conversation("c2"),
    )
    portuguese = conversation.model_copy()
    portuguese.override_customer_language("pt-BR")
    brazil = loop.outbound("Your order ships today, and the courier calls first.", portuguese)
    return {"held": held, "inbound": inbound, "brazil": brazil}


def make_item(translation: Translation, **options: object) -> ReviewItem:
    defaults: dict[str, object] = {"held": True, "adapter": "memory", "conversation_id": "c1"}
    defaults.update(options)
    return ReviewItem.from_translation(translation, **defaults)  # type: ignore[arg-type]


class ReviewQueueContract:
    """What every `ReviewQueue` must do. Subclasses provide `open_queue`: each call opens
    another handle on the same store (as another thread's or process's would be)."""

    @pytest.fixture
    def queue(self, open_queue: OpenQueue) -> Iterator[ReviewQueue]:
        with open_queue() as queue:
            yield queue

    def test_an_added_item_comes_back_whole(
        self, queue: ReviewQueue, translations: dict[str, Translation]
    ) -> None:
        item = make_item(translations["held"])
        queue.add(item)
        stored = queue.get(item.id)
        assert stored == item
        assert stored.state == ReviewState.PENDING
        assert stored.draft == translations["held"].translated
        assert stored.flag_codes == translations["held"].flag_codes
        assert stored.created_at.tzinfo is not None

    def test_adding_the_same_id_twice_keeps_one_item(
        self, queue: ReviewQueue, translations: dict[str, Translation]
    ) -> None:
        item = make_item(translations["held"])
        queue.add(item)
        queue.add(item)
        assert [found.id for found in queue.list()] == [item.id]

    def test_an_unknown_id_is_not_found(self, queue: ReviewQueue) -> None:
        with pytest.raises(NotFoundError, match="no review item"):
            queue.get("0" * 32)
        with pytest.raises(NotFoundError):
            queue.decide("0" * 32, state=ReviewState.APPROVED, reviewer="ana")

    def test_approving_stores_the_draft_as_final_with_who_and_when(
        self, queue: ReviewQueue, translations: dict[str, Translation]
    ) -> None:
        item = make_item(translations["held"])
        queue.add(item)
        before = datetime.now(UTC) - timedelta(seconds=5)
        decided = queue.decide(item.id, state=ReviewState.APPROVED, reviewer="ana")
        assert (decided.state, decided.final, decided.decided_by) == (
            ReviewState.APPROVED,
            item.draft,
            "ana",
        )
        assert decided.decided_at is not None
        assert decided.decided_at > before
        assert queue.get(item.id) == decided

    def test_editing_stores_the_reviewers_text(
        self, queue: ReviewQueue, translations: dict[str, Translation]
    ) -> None:
        item = make_item(translations["held"])
        queue.add(item)
        queue.decide(item.id, state=ReviewState.EDITED, reviewer="ana", final="Su pedido sale hoy.")
        assert queue.get(item.id).final == "Su pedido sale hoy."

    def test_rejecting_stores_no_final(
        self, queue: ReviewQueue, translations: dict[str, Translation]
    ) -> None:
        item = make_item(translations["held"])
        queue.add(item)
        decided = queue.decide(item.id, state=ReviewState.REJECTED, reviewer="ana", final="x")
        assert (decided.state, decided.final) == (ReviewState.REJECTED, None)

    @pytest.mark.parametrize(
        ("state", "final", "message"),
        [
            (ReviewState.EDITED, None, "needs the corrected text"),
            (ReviewState.EDITED, "  ", "needs the corrected text"),
            (ReviewState.APPROVED, "Other text", "decide EDITED"),
            (ReviewState.PENDING, None, "not pending"),
            ("maybe", None, "not one of"),
        ],
    )
    def test_invalid_decisions_are_refused_and_leave_the_item_pending(
        self,
        queue: ReviewQueue,
        translations: dict[str, Translation],
        state: ReviewState,
        final: str | None,
        message: str,
    ) -> None:
        item = make_item(translations["held"])
        queue.add(item)
        with pytest.raises(ConfigurationError, match=message):
            queue.decide(item.id, state=state, reviewer="ana", final=final)
        with pytest.raises(ConfigurationError, match="reviewer"):
            queue.decide(item.id, state=ReviewState.APPROVED, reviewer=" ")
        assert queue.get(item.id).state == ReviewState.PENDING

    @pytest.mark.parametrize("second", [ReviewState.APPROVED, ReviewState.REJECTED])
    def test_only_a_pending_item_can_be_decided(
        self, queue: ReviewQueue, translations: dict[str, Translation], second: ReviewState
    ) -> None:
        item = make_item(translations["held"])
        queue.add(item)
        queue.decide(item.id, state=ReviewState.EDITED, reviewer="ana", final="Sale hoy.")
        with pytest.raises(ReviewConflictError, match="already edited by ana") as caught:
            queue.decide(item.id, state=second, reviewer="bo")
        assert caught.value.item.decided_by == "ana"
        assert queue.get(item.id).final == "Sale hoy."

    def test_concurrent_decisions_exactly_one_wins(
        self, open_queue: OpenQueue, translations: dict[str, Translation]
    ) -> None:
        handles = [open_queue() for _ in range(4)]
        try:
            items = [make_item(translations["held"]) for _ in range(5)]
            for item in items:
                handles[0].add(item)
            wins: list[tuple[str, str]] = []
            conflicts: list[str] = []
            start = threading.Barrier(8)

            def reviewer(number: int) -> None:
                queue = handles[number % len(handles)]
                start.wait()
                for item in items:
                    try:
                        queue.decide(item.id, state=ReviewState.APPROVED, reviewer=f"r{number}")
                    except ReviewConflictError:
                        conflicts.append(item.id)
                    else:
                        wins.append((item.id, f"r{number}"))

            threads = [threading.Thread(target=reviewer, args=(n,)) for n in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(item_id for item_id, _ in wins) == sorted(item.id for item in items)
            assert len(conflicts) == 5 * 7
            for item_id, winner in wins:
                assert handles[0].get(item_id).decided_by == winner
        finally:
            for handle in handles:
                handle.close()

    def test_listing_is_newest_first_and_filters_by_state_and_language(
        self, queue: ReviewQueue, translations: dict[str, Translation]
    ) -> None:
        now = datetime.now(UTC)
        old = make_item(translations["held"])
        old = replace(old, created_at=now - timedelta(hours=2))
        new = make_item(translations["inbound"], held=False)
        brazil = make_item(translations["brazil"])
        brazil = replace(brazil, created_at=now - timedelta(hours=1))
        for item in (old, new, brazil):
            queue.add(item)
        queue.decide(brazil.id, state=ReviewState.REJECTED, reviewer="ana")

        assert [i.id for i in queue.list()] == [new.id, old.id]
        assert [i.id for i in queue.list(state=None)] == [new.id, brazil.id, old.id]
        assert [i.id for i in queue.list(state=ReviewState.REJECTED)] == [brazil.id]
        assert [i.id for i in queue.list(state=None, language="pt")] == [brazil.id]
        assert [i.id for i in queue.list(state=None, language="pt-BR")] == [brazil.id]
        assert queue.list(state=None, language="pt-PT") == []
        assert {i.id for i in queue.list(language="es")} == {new.id, old.id}
        assert [i.id for i in queue.list(state=None, limit=1)] == [new.id]
        since = now - timedelta(minutes=90)
        assert [i.id for i in queue.list(state=None, since=since)] == [new.id, brazil.id]
        with pytest.raises(ConfigurationError, match="language"):
            queue.list(language="español")
        with pytest.raises(ConfigurationError, match="limit"):
            queue.list(limit=0)

    def test_counts_per_state(
        self, queue: ReviewQueue, translations: dict[str, Translation]
    ) -> None:
        assert queue.counts() == {"pending": 0, "approved": 0, "edited": 0, "rejected": 0}
        items = [make_item(translations["held"]) for _ in range(3)]
        for item in items:
            queue.add(item)
        queue.decide(items[0].id, state=ReviewState.APPROVED, reviewer="ana")
        queue.decide(items[1].id, state=ReviewState.REJECTED, reviewer="ana")
        assert queue.counts() == {"pending": 1, "approved": 1, "edited": 0, "rejected": 1}

    def test_only_approved_or_edited_items_are_marked_released(
        self, queue: ReviewQueue, translations: dict[str, Translation]
    ) -> None:
        approved, pending = make_item(translations["held"]), make_item(translations["held"])
        queue.add(approved)
        queue.add(pending)
        queue.decide(approved.id, state=ReviewState.APPROVED, reviewer="ana")
        queue.mark_released(approved.id)
        assert queue.get(approved.id).released
        with pytest.raises(ReviewConflictError):
            queue.mark_released(pending.id)
        with pytest.raises(NotFoundError):
            queue.mark_released("f" * 32)
        assert not queue.get(pending.id).released


class AuditLogContract:
    """What every `AuditLog` must do; subclasses provide `log`."""

    def test_a_recorded_translation_becomes_a_row_without_its_text(
        self, log: AuditLog, translations: dict[str, Translation]
    ) -> None:
        held = translations["held"]
        log.record(held, adapter="memory", conversation_id="c1", channel="chat")
        [row] = list(log.rows())
        assert (row.direction, row.source_language, row.target_language) == ("outbound", "en", "es")
        assert row.engine == "fake"
        assert row.decision == Decision.HOLD.value
        assert row.flag_codes == held.flag_codes
        assert row.characters_sent == held.audit.characters_sent > 0
        assert row.segments == held.audit.segments
        assert row.latency_ms == pytest.approx(sum(held.audit.timings_ms.values()), abs=0.01)
        assert (row.adapter, row.conversation_id, row.channel) == ("memory", "c1", "chat")
        assert row.created_at == held.audit.created_at
        assert held.original not in repr(row)

    def test_rows_come_oldest_first_and_since_filters(
        self, log: AuditLog, translations: dict[str, Translation]
    ) -> None:
        for name in ("held", "inbound", "brazil"):
            log.record(translations[name])
        rows = list(log.rows())
        assert [row.target_language for row in rows] == ["es", "en", "pt-BR"]
        assert rows[1].detection_confidence is None  # the language was given, not detected
        late = datetime.now(UTC) + timedelta(seconds=1)
        assert list(log.rows(since=late)) == []
        assert len(list(log.rows(since=rows[0].created_at))) == 3


class TestSQLiteReviewQueue(ReviewQueueContract):
    @pytest.fixture
    def open_queue(self, tmp_path: Path) -> OpenQueue:
        return lambda: SQLiteReviewQueue(tmp_path / "review.sqlite3")


class TestSQLiteAuditLog(AuditLogContract):
    @pytest.fixture
    def log(self, tmp_path: Path) -> Iterator[AuditLog]:
        with SQLiteAuditLog(tmp_path / "audit.sqlite3") as log:
            yield log


@pytest.fixture
def table() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.mark.postgres
class TestPostgresReviewQueue(ReviewQueueContract):
    @pytest.fixture
    def open_queue(self, postgres_url: str, table: str) -> OpenQueue:
        pytest.importorskip("psycopg")
        return lambda: PostgresReviewQueue(postgres_url, table=table)


@pytest.mark.postgres
class TestPostgresAuditLog(AuditLogContract):
    @pytest.fixture
    def log(self, postgres_url: str, table: str) -> Iterator[AuditLog]:
        pytest.importorskip("psycopg")
        with PostgresAuditLog(postgres_url, table=table) as log:
            yield log


def test_a_sqlite_queue_keeps_its_items_after_a_restart(
    tmp_path: Path, translations: dict[str, Translation]
) -> None:
    item = make_item(translations["held"])
    with SQLiteReviewQueue(tmp_path / "q.sqlite3") as queue:
        queue.add(item)
        queue.decide(item.id, state=ReviewState.EDITED, reviewer="ana", final="Sale hoy.")
    with SQLiteReviewQueue(tmp_path / "q.sqlite3") as queue:
        assert queue.get(item.id).final == "Sale hoy."


def test_a_bad_postgres_table_name_is_refused_before_connecting() -> None:
    with pytest.raises(ConfigurationError, match="bad table name"):
        PostgresReviewQueue("postgresql://nobody@127.0.0.1:1/x", table="drop table;")
