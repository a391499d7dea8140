"""`tl-loop relay status`: the queue at a glance, and an exit status for monitoring."""

from __future__ import annotations

import io
from pathlib import Path

from tl_loop import HelpdeskEvent
from tl_loop.cli import main
from tl_loop.relay import JobQueue


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdin=io.StringIO(), stdout=out, stderr=io.StringIO())
    return code, out.getvalue()


def config(tmp_path: Path) -> Path:
    path = tmp_path / "tl-loop.toml"
    path.write_text(
        'engines = ["fake"]\n[relay]\nqueue_path = "queue.sqlite3"\n'
        "[adapters.memory]\n"
        'class = "tl_loop.testing._memory_helpdesk:MemoryHelpdesk"\n'
        'base_url = "http://127.0.0.1:9"\nwebhook_secret = "s"\n',
        encoding="utf-8",
    )
    return path


def test_an_empty_queue_is_healthy(tmp_path: Path) -> None:
    code, out = run("relay", "status", "--config", str(config(tmp_path)))
    assert code == 0
    assert "queued 0, waiting 0, running 0, done 0, failed 0, dead 0" in out


def test_waiting_and_dead_jobs_are_listed_with_their_reasons(tmp_path: Path) -> None:
    path = config(tmp_path)
    with JobQueue(tmp_path / "queue.sqlite3") as queue:
        for event_id in ("e1", "e2"):
            queue.enqueue(
                "memory", HelpdeskEvent("customer_message", event_id, event_id, text="Hola")
            )
        first, second = queue.claim(), queue.claim()
        assert first is not None
        assert second is not None
        queue.wait_later(first, 60, "memory: cannot connect to the helpdesk")
        queue.dead_letter(second, "memory: cannot connect to the helpdesk (still after 24.0 h)")
    code, out = run("relay", "status", "--config", str(path))
    assert code == 1
    assert "waiting 1" in out
    assert "dead 1" in out
    assert "waiting for the helpdesk:\n  job 1 memory customer_message e1" in out
    assert "still after 24.0 h" in out
