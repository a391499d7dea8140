"""Real customer webhooks, captured from the platforms, go through the relay into the emulators.

Each real case whose webhook is a customer message is signed with the emulator's secret (as
the platform would sign it), accepted by the relay, and the relay's translation note must land
in the emulator over real HTTP, on the conversation the real payload names (Help Scout's case
also fetches its OAuth token from the emulator first).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from relay_servers import event_time
from tl_loop import OWN_NOTE_MARKER, LanguageDetector, Loop
from tl_loop.relay import Relay, RelaySettings
from tl_loop.testing import FakeEngine
from tl_loop.testing.emulators import EMULATORS

ROOT = Path(__file__).resolve().parents[2]
REALWORLD = Path(os.environ.get("TL_LOOP_REALWORLD") or ROOT.parent / "shared" / "realworld")
CASES = REALWORLD / "helpdesk"


def _manifest(case: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((case / "manifest.json").read_text(encoding="utf-8"))
    return found


def _customer_cases() -> list[Any]:
    if not CASES.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no real cases at {CASES}"))]
    found = []
    for case in sorted(CASES.iterdir()):
        manifest = _manifest(case)
        is_customer = manifest["kind"] == "webhook" and (
            manifest["expect"].get("kind") == "customer_message"
        )
        if is_customer or (manifest["kind"] == "relay" and "body_from" in manifest):
            found.append(pytest.param(case, id=case.name))
    return found


@pytest.mark.parametrize("case", _customer_cases())
def test_a_real_customer_webhook_becomes_a_note_in_the_emulator(case: Path, tmp_path: Path) -> None:
    manifest = _manifest(case)
    source = CASES / manifest["body_from"] if "body_from" in manifest else case
    body = (source / "body.json").read_bytes()
    conversation_id = _manifest(source)["expect"]["conversation_id"]
    headers = {key.lower(): value for key, value in manifest.get("headers", {}).items()}
    with EMULATORS[manifest["platform"]]() as emulator:
        emulator.open_conversation(id=int(conversation_id))
        signed = {**headers, **emulator.sign(body, event=headers.get("x-helpscout-event", ""))}
        loop = Loop(engines=[FakeEngine()], detector=LanguageDetector(["en", "es", "de"]))
        agents = manifest.get("agent_languages") or ["de"]
        settings = RelaySettings(queue_path=tmp_path / "queue.sqlite3", agent_languages=agents)
        adapter = emulator.adapter()
        relay = Relay(loop=loop, adapters={emulator.platform: adapter}, settings=settings)
        # The captured body keeps its real (old) time: accepted as when it was fresh.
        happened = event_time(adapter, body, signed)
        try:
            now = None if happened is None else happened + 60
            assert relay.accept(emulator.platform, body, signed, now=now).status == 202
            relay.drain()
        finally:
            relay.close()
        [note, *_] = emulator.notes(conversation_id)
        assert OWN_NOTE_MARKER in note.body
        assert "could not" not in note.body
        text = _manifest(source)["expect"].get("text")
        if text:
            assert text in note.body
