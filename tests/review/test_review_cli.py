"""`tl-loop review ...` against the queue a relay's TOML file names; decisions made here are
carried out by the relay (its job queue file), which posts to a real loopback helpdesk."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest
from review_support import DOUBTFUL, SPANISH, MakeRelay

from tl_loop.cli import main
from tl_loop.relay import Relay
from tl_loop.review import ReviewItem, ReviewState
from tl_loop.testing import MemoryHelpdesk, MemoryHelpdeskServer

EDITED = "Su pedido sale hoy y el mensajero le llamará antes del mediodía."


def write_config(directory: Path) -> Path:
    config = directory / "tl-loop.toml"
    config.write_text(
        """
engines = ["fake"]

[relay]
queue_path = "queue.sqlite3"

[adapters.memory]
class = "tl_loop.testing._memory_helpdesk:MemoryHelpdesk"
base_url = "http://127.0.0.1:9"
webhook_secret_env = "UNUSED_BY_THE_CLI"
""",
        encoding="utf-8",
    )
    return config


def cli(config: Path | None, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    options = ["--config", str(config)] if config is not None else []
    code = main([*options, "review", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def relay(make_relay: MakeRelay, config: Path) -> Relay:
    # The relay's queue is the one the file names: tmp_path / "queue.sqlite3".
    return make_relay()


def hold(
    relay: Relay, adapter: MemoryHelpdesk, event: str = "e2", reply: str = DOUBTFUL
) -> ReviewItem:
    for event_id, kind, text in (("e1", "customer_message", SPANISH),
                                 (event, "agent_note", f"#tl {reply}")):  # fmt: skip
        body = MemoryHelpdesk.event_body(
            event_id=event_id,
            conversation_id="c1",
            text=text,
            kind=kind,  # type: ignore[arg-type]
        )
        relay.accept("memory", body, adapter.sign(body))
    relay.drain()
    return relay.review.list()[0]


def test_list_and_show_the_pending_items(
    config: Path, relay: Relay, adapter: MemoryHelpdesk
) -> None:
    item = hold(relay, adapter)
    code, out, _ = cli(config, "list", "--json")
    assert code == 0
    [listed] = [json.loads(line) for line in out.splitlines()]
    assert (listed["id"], listed["state"], listed["held"]) == (item.id, "pending", True)
    assert listed["flags"][0]["code"] in item.flag_codes

    code, out, _ = cli(config, "list")
    assert out.startswith(f"{item.id}\tpending\theld\ten→es\t")

    code, out, _ = cli(config, "show", item.id)
    assert code == 0
    assert f"original:\n{DOUBTFUL}" in out
    assert f"draft:\n{item.draft}" in out
    assert "wrong_language" in out

    assert cli(config, "list", "--language", "fr")[1] == ""
    assert cli(config, "list", "--state", "approved")[1] == ""


def test_an_edit_from_the_cli_is_released_by_the_relay_once(
    config: Path, relay: Relay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    item = hold(relay, adapter)
    code, out, _ = cli(config, "edit", item.id, "--text", EDITED, "--reviewer", "ana")
    assert code == 0
    assert "edited by ana" in out
    assert "will send the reply" in out
    relay.drain()
    assert [reply.body for reply in server.replies("c1")] == [EDITED]

    code, _, err = cli(config, "approve", item.id, "--reviewer", "bo")
    assert code == 1
    assert "already edited by ana" in err
    relay.drain()
    assert len(server.replies("c1")) == 1


def test_edit_reads_the_text_from_a_file_and_approve_keeps_the_draft(
    config: Path,
    relay: Relay,
    adapter: MemoryHelpdesk,
    server: MemoryHelpdeskServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = hold(relay, adapter)
    (tmp_path / "final.txt").write_text(EDITED + "\n", encoding="utf-8")
    assert cli(config, "edit", first.id, "--file", str(tmp_path / "final.txt"))[0] == 0
    # Another reply: the first one's wording is now in the memory and would not be held.
    second = hold(relay, adapter, event="e3", reply="The parcel leaves the warehouse this evening.")
    monkeypatch.setenv("TL_LOOP_REVIEWER", "carla")
    # The fake engine's draft reads as English (wrong_language): approving it takes --anyway.
    assert cli(config, "approve", second.id, "--anyway")[0] == 0
    relay.drain()
    assert [reply.body for reply in server.replies("c1")] == [EDITED, second.draft]
    assert relay.review.get(second.id).decided_by == "carla"


def test_reject_posts_nothing(
    config: Path, relay: Relay, adapter: MemoryHelpdesk, server: MemoryHelpdeskServer
) -> None:
    item = hold(relay, adapter)
    code, out, _ = cli(config, "reject", item.id)
    assert code == 0
    assert "nothing was sent" in out
    relay.drain()
    assert server.replies() == []
    assert relay.review.get(item.id).state == ReviewState.REJECTED


def test_errors_are_one_line_with_an_exit_status(config: Path, relay: Relay) -> None:
    code, _, err = cli(config, "approve", "0" * 32)
    assert (code, err.count("\n")) == (1, 1)
    assert "no review item" in err
    code, _, err = cli(None, "list")
    assert code == 2
    assert "TL_LOOP_CONFIG" in err
    code, _, err = cli(config.with_name("missing.toml"), "list")
    assert code == 2
    assert "not found" in err


def test_a_unique_prefix_of_the_id_is_enough(
    config: Path, relay: Relay, adapter: MemoryHelpdesk
) -> None:
    item = hold(relay, adapter)
    code, out, _ = cli(config, "show", item.id[:8])  # what the review page shows
    assert code == 0
    assert f"id:           {item.id}" in out
    code, _, _ = cli(config, "approve", item.id[:8], "--anyway")  # an English draft
    assert code == 0
    assert relay.review.get(item.id).state == ReviewState.APPROVED


def test_approving_an_english_draft_for_a_greek_customer_needs_anyway(
    config: Path, relay: Relay, adapter: MemoryHelpdesk
) -> None:
    held = hold(relay, adapter)
    greek = dataclasses.replace(
        held, id="e1" * 16, target_language="el", draft=held.original, flags=()
    )
    relay.review.add(greek)
    code, _, err = cli(config, "approve", greek.id[:8])
    assert code == 2
    assert "This draft is not in el, the customer's language" in err
    assert "the draft is the agent's en text unchanged" in err
    assert "--anyway" in err
    assert relay.review.get(greek.id).state == ReviewState.PENDING
    code, _, _ = cli(config, "approve", greek.id[:8], "--anyway")
    assert code == 0
    assert relay.review.get(greek.id).state == ReviewState.APPROVED
