"""The relay with a review queue, against a real loopback helpdesk: held replies wait, a decision
releases them exactly once, rejections post nothing, and the memory learns from reviewers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from review_support import DOUBTFUL, SPANISH, MakeRelay

from tl_loop import ConfigurationError, ReviewPolicy
from tl_loop.relay import Relay
from tl_loop.review import ReviewConflictError, ReviewItem, ReviewState
from tl_loop.stores import InMemoryTranslationMemory
from tl_loop.testing import MemoryHelpdesk, MemoryHelpdeskServer

EDITED = "Su pedido sale hoy y el mensajero le llamará antes del mediodía."


def post(relay: Relay, adapter: MemoryHelpdesk, event_id: str, text: str, **kw: object) -> None:
    body = MemoryHelpdesk.event_body(
        event_id=event_id,
        conversation_id=str(kw.pop("conversation", "c1")),
        text=text,
        **kw,  # type: ignore[arg-type]
    )
    assert relay.accept("memory", body, adapter.sign(body)).status == 202


def hold_a_reply(relay: Relay, adapter: MemoryHelpdesk) -> ReviewItem:
    post(relay, adapter, "e1", SPANISH)
    post(relay, adapter, "e2", f"#tl {DOUBTFUL}", kind="agent_note")
    relay.drain()
    [item] = relay.review.list()
    return item


def test_a_held_reply_waits_in_the_queue_and_the_agent_gets_its_link(
    make_relay: MakeRelay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    relay = make_relay(public_url="https://relay.example/")
    item = hold_a_reply(relay, adapter)
    assert server.replies() == []
    assert (item.held, item.direction, item.state) == (True, "outbound", ReviewState.PENDING)
    assert (item.adapter, item.conversation_id) == ("memory", "c1")
    assert (item.source_language, item.target_language) == ("en", "es")
    assert item.original == DOUBTFUL
    assert item.draft == f"[es] {DOUBTFUL}"
    assert "wrong_language" in item.flag_codes
    note = server.notes("c1")[-1].body
    assert "NOT sent" in note
    assert item.id in note
    assert f"https://relay.example/review/{item.id}" in note


def test_without_a_public_url_the_note_gives_the_review_path(
    make_relay: MakeRelay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    item = hold_a_reply(make_relay(note_format="text"), adapter)
    assert f"Review it at /review/{item.id}" in server.notes("c1")[-1].body


def test_approving_releases_the_draft_exactly_once(
    make_relay: MakeRelay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    relay = make_relay()
    item = hold_a_reply(relay, adapter)
    decided = relay.decide(item.id, ReviewState.APPROVED, "ana")
    assert decided.final == item.draft
    with pytest.raises(ReviewConflictError):
        relay.decide(item.id, ReviewState.APPROVED, "bo")
    job = relay.queue.claim()
    assert job is not None
    assert job.kind == "review"
    assert relay.runner.run(job) == "done"
    relay.runner.run(job)  # the same job run again (as by a worker that lost its lease)
    relay.drain()
    [reply] = server.replies("c1")
    assert reply.body == item.draft
    assert relay.review.get(item.id).released


def test_a_second_release_job_for_a_released_item_posts_nothing(
    make_relay: MakeRelay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    relay = make_relay()
    item = hold_a_reply(relay, adapter)
    relay.decide(item.id, "edited", "ana", EDITED)
    relay.drain()
    # Another relay (its own job queue, the same review queue) is asked to carry it out too.
    directory = relay.settings.queue_path.parent
    other = make_relay(
        queue_path=directory / "other.sqlite3", review_path=directory / "queue-review.sqlite3"
    )
    assert other.queue.enqueue_review(item.id, adapter="memory", conversation_id="c1")
    other.drain()
    assert [reply.body for reply in server.replies("c1")] == [EDITED]


def test_editing_releases_the_edited_text(
    make_relay: MakeRelay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    relay = make_relay()
    item = hold_a_reply(relay, adapter)
    relay.decide(item.id, ReviewState.EDITED, "ana", final=EDITED)
    relay.drain()
    [reply] = server.replies("c1")
    assert reply.body == EDITED


def test_a_release_keeps_the_disclosure_with_the_agents_original(
    make_relay: MakeRelay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    relay = make_relay(disclosure=True)
    item = hold_a_reply(relay, adapter)
    relay.decide(item.id, ReviewState.EDITED, "ana", final=EDITED)
    relay.drain()
    [reply] = server.replies("c1")
    assert reply.body.startswith(EDITED)
    assert DOUBTFUL in reply.body


def test_rejecting_posts_nothing_and_tells_the_agent(
    make_relay: MakeRelay,
    adapter: MemoryHelpdesk,
    server: MemoryHelpdeskServer,
    memory: InMemoryTranslationMemory,
) -> None:
    relay = make_relay()
    item = hold_a_reply(relay, adapter)
    notes = len(server.notes("c1"))
    relay.decide(item.id, ReviewState.REJECTED, "ana")
    relay.drain()
    assert server.replies() == []
    assert len(server.notes("c1")) == notes + 1
    note = server.notes("c1")[-1].body
    assert "ana rejected" in note
    assert "NOT sent" in note
    assert item.id in note
    assert len(memory) == 0


def test_the_next_identical_reply_is_served_from_memory_with_the_reviewers_wording(
    make_relay: MakeRelay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    relay = make_relay()
    item = hold_a_reply(relay, adapter)
    relay.decide(item.id, ReviewState.EDITED, "ana", final=EDITED)
    relay.drain()
    post(relay, adapter, "e3", f"#tl {DOUBTFUL}", kind="agent_note")
    relay.drain()
    assert [reply.body for reply in server.replies("c1")] == [EDITED, EDITED]
    assert relay.review.list() == []  # not held again
    assert relay.audit is not None
    last = list(relay.audit.rows())[-1]
    assert (last.direction, last.decision, last.memory_hits) == ("outbound", "send", 1)
    assert last.characters_sent == 0


def test_a_reply_sent_with_flags_is_queued_for_review_afterwards(
    make_relay: MakeRelay,
    adapter: MemoryHelpdesk,
    server: MemoryHelpdeskServer,
    memory: InMemoryTranslationMemory,
) -> None:
    relay = make_relay(policy=ReviewPolicy())  # warnings flag a reply, do not hold it
    post(relay, adapter, "e1", SPANISH)
    post(relay, adapter, "e2", f"#tl {DOUBTFUL}", kind="agent_note")
    relay.drain()
    [sent] = server.replies("c1")
    [item] = relay.review.list()
    assert (item.held, item.draft) == (False, sent.body)
    relay.decide(item.id, ReviewState.EDITED, "ana", final=EDITED)
    relay.drain()
    assert len(server.replies("c1")) == 1  # reviewed afterwards: nothing is sent again
    assert not relay.review.get(item.id).released
    assert [entry.target_text for entry in memory.entries()] == [EDITED]


def test_flagged_replies_stay_out_of_the_queue_when_configured(
    make_relay: MakeRelay, adapter: MemoryHelpdesk
) -> None:
    relay = make_relay(policy=ReviewPolicy(), review_flagged=False)
    post(relay, adapter, "e1", SPANISH)
    post(relay, adapter, "e2", f"#tl {DOUBTFUL}", kind="agent_note")
    relay.drain()
    assert relay.review.counts()["pending"] == 0


def test_every_translation_is_recorded_in_the_audit_log(
    make_relay: MakeRelay, adapter: MemoryHelpdesk
) -> None:
    relay = make_relay()
    hold_a_reply(relay, adapter)
    assert relay.audit is not None
    rows = list(relay.audit.rows())
    assert [(r.direction, r.decision) for r in rows] == [("inbound", "send"), ("outbound", "hold")]
    assert {(r.adapter, r.conversation_id) for r in rows} == {("memory", "c1")}
    assert rows[1].engine == "fake"
    assert rows[1].characters_sent == len(DOUBTFUL)


def test_the_audit_log_can_be_turned_off(make_relay: MakeRelay, adapter: MemoryHelpdesk) -> None:
    relay = make_relay(audit=False)
    hold_a_reply(relay, adapter)
    assert relay.audit is None


def test_a_held_reply_for_an_adapter_this_relay_lacks_stays_pending(
    make_relay: MakeRelay, adapter: MemoryHelpdesk
) -> None:
    relay = make_relay()
    item = hold_a_reply(relay, adapter)
    foreign = replace(item, id="a" * 32, adapter="zendesk")
    relay.review.add(foreign)
    with pytest.raises(ConfigurationError, match="zendesk"):
        relay.decide(foreign.id, ReviewState.APPROVED, "ana")
    assert relay.review.get(foreign.id).state == ReviewState.PENDING
    relay.decide(foreign.id, ReviewState.REJECTED, "ana")  # rejecting needs no adapter


def test_a_decision_survives_a_relay_restart_before_its_job_ran(
    make_relay: MakeRelay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    relay = make_relay()
    item = hold_a_reply(relay, adapter)
    relay.decide(item.id, ReviewState.APPROVED, "ana")
    relay.close()
    restarted = make_relay()
    restarted.drain()
    assert [reply.body for reply in server.replies("c1")] == [item.draft]
