"""Where the relay keeps its review queue and audit log, and a review queue shared in PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_support import DOUBTFUL, SPANISH, MakeRelay

from tl_loop import ConfigurationError
from tl_loop.relay import Relay, RelaySettings, load_config_file
from tl_loop.review import (
    PostgresAuditLog,
    PostgresReviewQueue,
    ReviewConflictError,
    ReviewState,
    SQLiteAuditLog,
    SQLiteReviewQueue,
    open_audit_log,
    open_review_queue,
)
from tl_loop.testing import MemoryHelpdesk, MemoryHelpdeskServer


def test_by_default_both_stores_sit_beside_the_job_queue(tmp_path: Path) -> None:
    settings = RelaySettings(queue_path=tmp_path / "relay.sqlite3")
    with open_review_queue(settings) as queue, open_audit_log(settings) as log:  # type: ignore[union-attr]
        assert isinstance(queue, SQLiteReviewQueue)
        assert isinstance(log, SQLiteAuditLog)
        assert Path(queue.path) == tmp_path / "relay-review.sqlite3"
        assert Path(log.path) == tmp_path / "relay-audit.sqlite3"
    assert open_audit_log(RelaySettings(queue_path=tmp_path / "q", audit=False)) is None


def test_relative_paths_are_taken_from_the_configuration_file(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "tl-loop.toml"
    config.parent.mkdir()
    config.write_text(
        'engines = ["fake"]\n[memory]\npath = "tm.sqlite3"\n'
        '[relay]\nreview_path = "data/review.sqlite3"\naudit_path = "/abs/audit.sqlite3"\n',
        encoding="utf-8",
    )
    loop_config, settings = load_config_file(config)
    assert settings.review_path == tmp_path / "conf" / "data" / "review.sqlite3"
    assert settings.audit_path == Path("/abs/audit.sqlite3")
    assert loop_config.memory.path == tmp_path / "conf" / "tm.sqlite3"


def test_a_path_and_a_url_for_one_store_are_refused() -> None:
    data = {"relay": {"review_path": "r.sqlite3", "review_url": "postgresql://db/x"}}
    with pytest.raises(ConfigurationError, match=r"review_path and relay\.review_url"):
        RelaySettings.from_mapping(data)


@pytest.mark.postgres
def test_relays_sharing_a_postgres_review_queue_release_a_reply_once(
    make_relay: MakeRelay,
    adapter: MemoryHelpdesk,
    server: MemoryHelpdeskServer,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    pytest.importorskip("psycopg")
    shared = {"review_url": postgres_url, "audit_url": postgres_url}
    first = make_relay(**shared)
    second = make_relay(queue_path=tmp_path / "second.sqlite3", **shared)
    assert isinstance(first.review, PostgresReviewQueue)
    assert isinstance(first.audit, PostgresAuditLog)
    _post(first, adapter, "e1", SPANISH)
    _post(first, adapter, "e2", f"#tl {DOUBTFUL}", kind="agent_note")
    first.drain()
    [item] = second.review.list(language="es")
    second.decide(item.id, ReviewState.APPROVED, "ana")  # a reviewer on the other relay
    with pytest.raises(ReviewConflictError, match="already approved"):
        first.decide(item.id, ReviewState.REJECTED, "bo")
    second.drain()
    first.drain()
    assert [reply.body for reply in server.replies("c1")] == [item.draft]
    assert first.review.get(item.id).released
    assert any(row.conversation_id == "c1" for row in second.audit.rows())  # type: ignore[union-attr]


def _post(relay: Relay, adapter: MemoryHelpdesk, event_id: str, text: str, **kw: str) -> None:
    body = MemoryHelpdesk.event_body(
        event_id=event_id,
        conversation_id="c1",
        text=text,
        **kw,  # type: ignore[arg-type]
    )
    relay.accept("memory", body, adapter.sign(body))
