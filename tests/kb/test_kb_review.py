"""Flagged knowledge-base translations in the review queue; decisions gate and shape publishing."""

from __future__ import annotations

import io
import json
from pathlib import Path

from kb_support import fake_config, write_samples
from pytest_httpx import HTTPXMock
from test_kb_publish import BASE, TinyAdapter

from tl_loop import Loop, TlLoopConfig
from tl_loop.cli import main
from tl_loop.kb import kb_publish, kb_status, translate_folder
from tl_loop.review import ReviewItem, ReviewState, SQLiteReviewQueue, check_releasable
from tl_loop.stores import SQLiteTranslationMemory
from tl_loop.testing import FakeEngine

# The fake engine copies the source's words ("[es] ..."); with the default checks both the
# title and the body of this article are flagged, the other sample articles too.
ARTICLE = """---
id: 7
title: Go to the sign-in page to reset your password
tags: [account]
---
Go to the sign-in page and click the button.
"""
STRICT = TlLoopConfig(engines=["fake"])


def _job(tmp_path: Path) -> tuple[Path, Path]:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "reset.md").write_text(ARTICLE, encoding="utf-8")
    return src, out


def _items(queue: SQLiteReviewQueue) -> dict[str, ReviewItem]:
    return {item.conversation_id or "": item for item in queue.list(state=None)}


def test_flagged_fields_become_held_kb_items_once(tmp_path: Path) -> None:
    src, out = _job(tmp_path)
    with SQLiteReviewQueue(tmp_path / "review.sqlite3") as queue:
        summary = translate_folder(
            src, out_dir=out, targets=["es"], config=STRICT, workers=0, review_queue=queue
        )
        items = _items(queue)
        assert summary.flagged == 1
        assert summary.review_items == 2
        assert sorted(items) == ["kb:reset.md:es:body", "kb:reset.md:es:front:title"]
        title = items["kb:reset.md:es:front:title"]
        assert title.held
        assert title.channel == "kb"
        assert title.adapter is None
        assert title.state == ReviewState.PENDING
        assert title.original == "Go to the sign-in page to reset your password"
        assert title.draft == "[es] Go to the sign-in page to reset your password"
        assert (title.source_language, title.target_language) == ("en", "es")
        assert title.content_type == "text"
        assert title.engine == "fake"
        assert "untranslated" in title.flag_codes
        body = items["kb:reset.md:es:body"]
        assert body.content_type == "markdown"
        assert body.draft == "[es] Go to the sign-in page and click the button.\n"

        translate_folder(  # up to date: nothing queued again
            src, out_dir=out, targets=["es"], config=STRICT, workers=0, review_queue=queue
        )
        (out / ".tl-loop-kb" / "job.sqlite3").unlink()  # even a full re-run adds nothing
        translate_folder(
            src, out_dir=out, targets=["es"], config=STRICT, workers=0, review_queue=queue
        )
        assert queue.counts()["pending"] == 2
        # The report still lists the article, and names its items.
        report = json.loads((out / "review.jsonl").read_text(encoding="utf-8"))
        assert set(report["review_items"]) == {"body", "front:title"}


def test_a_job_flagged_before_the_queue_existed_is_queued_on_the_next_run(tmp_path: Path) -> None:
    src, out = _job(tmp_path)
    translate_folder(src, out_dir=out, targets=["es"], config=STRICT, workers=0)
    with SQLiteReviewQueue(tmp_path / "review.sqlite3") as queue:
        summary = translate_folder(
            src, out_dir=out, targets=["es"], config=STRICT, workers=0, review_queue=queue
        )
        assert summary.engine_segments == 0  # assembled again from stored segments
        assert queue.counts()["pending"] == 2


def test_approve_and_edit_make_it_publishable_and_publish_sends_the_edit(
    tmp_path: Path, httpx_mock: HTTPXMock
) -> None:
    src, out = _job(tmp_path)
    with SQLiteReviewQueue(tmp_path / "review.sqlite3") as queue:
        translate_folder(
            src, out_dir=out, targets=["es"], config=STRICT, workers=0, review_queue=queue
        )
        items = _items(queue)
        queue.decide(items["kb:reset.md:es:front:title"].id, state=ReviewState.APPROVED,
                     reviewer="ana")  # fmt: skip
        [status] = kb_status(src, out_dir=out, review_queue=queue)
        assert status.state == "flagged"
        assert status.review == {"pending": 1, "approved": 1, "edited": 0, "rejected": 0}

        # Still English enough to be flagged again: the next run must not ask for it again.
        edited = "[es] Go to the sign-in page and then click the blue button.\n"
        queue.decide(items["kb:reset.md:es:body"].id, state=ReviewState.EDITED, reviewer="ana",
                     final=edited)  # fmt: skip
        [status] = kb_status(src, out_dir=out, review_queue=queue)
        assert status.state == "approved"
        assert kb_status(src, out_dir=out)[0].state == "flagged"  # without the queue: as before

        httpx_mock.add_response(method="POST", url=f"{BASE}/articles/7/es", json={})
        memory = SQLiteTranslationMemory(out / ".tl-loop-kb" / "memory.sqlite3")
        try:
            report = kb_publish(
                out, adapter=TinyAdapter(), review_queue=queue, memory=memory,
                config=STRICT,
            )  # fmt: skip
        finally:
            memory.close()
        assert report.published == [("reset.md", "es")]
        assert report.held == []
        assert report.learned >= 2
        sent = json.loads(httpx_mock.get_requests()[0].content)
        assert sent["title"] == "[es] Go to the sign-in page to reset your password"
        assert sent["body"] == edited
        written = (out / "es" / "reset.md").read_text(encoding="utf-8")
        assert written.endswith("---\n" + edited)  # the file matches what was published
        assert "tags: [account]" in written

        # The next run takes the reviewer's wording from the memory, without the engine.
        summary = translate_folder(
            src, out_dir=out, targets=["es"], config=STRICT, workers=0, review_queue=queue
        )
        assert summary.engine_segments == 0
        assert summary.flagged == 1
        assert (out / "es" / "reset.md").read_text(encoding="utf-8").endswith(edited)
        assert queue.counts() == {"pending": 0, "approved": 1, "edited": 1, "rejected": 0}
        assert kb_status(src, out_dir=out, review_queue=queue)[0].state == "approved"


def test_a_rejected_or_pending_item_holds_the_article_back(
    tmp_path: Path, httpx_mock: HTTPXMock
) -> None:
    src, out = _job(tmp_path)
    with SQLiteReviewQueue(tmp_path / "review.sqlite3") as queue:
        translate_folder(
            src, out_dir=out, targets=["es"], config=STRICT, workers=0, review_queue=queue
        )
        before = (out / "es" / "reset.md").read_bytes()
        report = kb_publish(out, adapter=TinyAdapter(), review_queue=queue)
        assert report.published == []
        assert [(a, loc) for a, loc, _ in report.held] == [("reset.md", "es")]
        assert "2 pending" in report.held[0][2]

        items = _items(queue)
        queue.decide(items["kb:reset.md:es:front:title"].id, state=ReviewState.APPROVED,
                     reviewer="ana")  # fmt: skip
        queue.decide(items["kb:reset.md:es:body"].id, state=ReviewState.REJECTED, reviewer="bo")
        [status] = kb_status(src, out_dir=out, review_queue=queue)
        assert status.state == "rejected"
        report = kb_publish(out, adapter=TinyAdapter(), review_queue=queue)
        assert report.published == []
        assert "1 rejected" in report.held[0][2]
        assert (out / "es" / "reset.md").read_bytes() == before
    assert httpx_mock.get_requests() == []


def test_without_a_queue_the_review_report_is_unchanged(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_samples(src, count=1)
    config = fake_config(translations={"Contact ⟦0⟧our team⟦1⟧ any day.": "Contacto."})
    summary = translate_folder(src, out_dir=out, targets=["es"], config=config, workers=0)
    assert summary.review_items == 0
    lines = [json.loads(line) for line in (out / "review.jsonl").read_text().splitlines()]
    assert [(line["article"], line["status"]) for line in lines] == [
        ("guides/reset-0.md", "flagged"), ("refunds.html", "flagged")
    ]  # fmt: skip
    assert all(set(line) == {"article", "locale", "status", "output", "flags"} for line in lines)


def _strict_toml(tmp_path: Path, relay: str = "") -> Path:
    toml = tmp_path / "tl-loop.toml"
    toml.write_text(f'engines = ["fake"]\n{relay}', encoding="utf-8")
    return toml


def test_the_commands_take_the_queue_from_the_option_or_the_relay_config(tmp_path: Path) -> None:
    src, out = _job(tmp_path)
    queue_path = tmp_path / "review.sqlite3"
    stdout = io.StringIO()
    argv = ["kb", "translate", str(src), "--to", "es", "--out", str(out), "--workers", "0",
            "--no-progress", "--review-queue", str(queue_path)]  # fmt: skip
    strict = ["--config", str(_strict_toml(tmp_path))]
    assert main([*strict, *argv], stdout=stdout, stderr=io.StringIO()) == 0
    assert "2 review items queued" in stdout.getvalue()

    toml = _strict_toml(tmp_path, '[relay]\nreview_path = "review.sqlite3"\n')
    stdout = io.StringIO()
    argv = ["kb", "status", str(src), "--out", str(out), "--json", "--config", str(toml)]
    assert main(argv, stdout=stdout) == 0
    [row] = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert row["state"] == "flagged"
    assert row["review"] == {"pending": 2, "approved": 0, "edited": 0, "rejected": 0}


def test_a_kb_item_can_be_decided_where_no_adapter_is_configured() -> None:
    item = ReviewItem.from_translation(
        Loop(engines=[FakeEngine()]).translate("Open the dashboard.", source="en", target="es"),
        held=True,
        channel="kb",
    )

    check_releasable(item, ReviewState.APPROVED, adapters=[])  # nothing to post: no refusal
    assert not item.decided(state=ReviewState.APPROVED, reviewer="r", final=None).releasable
