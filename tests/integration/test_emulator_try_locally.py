"""The "Try it locally" set-up from docs/helpdesks/ as a new user runs it: the documented
`tl-loop.toml` (fake engine, the emulator's printed adapter table) served by the real relay
process, `python -m tl_loop.relay`, with an emulator sending it webhooks over loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tl_loop.testing.emulators import EMULATORS, EmulatorServer

DOCUMENTED = """engines = ["fake"]
agent_languages = ["en"]

[relay]
queue_path = "relay.sqlite3"

"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(
    params=["helpscout"]
)  # OAuth, the longest path; all tables load in test_platform_rules
def emulator_and_relay(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmulatorServer]:
    port = _free_port()
    relay_url = f"http://127.0.0.1:{port}"
    platform: str = request.param
    with EMULATORS[platform](webhook_url=f"{relay_url}/webhooks/{platform}") as emulator:
        config = tmp_path / "tl-loop.toml"
        config.write_text(DOCUMENTED + emulator.relay_table(), encoding="utf-8")
        log = (tmp_path / "relay.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "tl_loop.relay", "--config", str(config), "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, (tmp_path / "relay.log").read_text()
                assert time.monotonic() < deadline, "the relay did not become ready"
                try:
                    if httpx.get(f"{relay_url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            yield emulator
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.close()


def test_the_documented_setup_translates_and_replies(emulator_and_relay: EmulatorServer) -> None:
    emulator = emulator_and_relay
    conversation = emulator.open_conversation()
    assert emulator.send(emulator.customer_message(conversation, "Hola, ¿dónde está mi pedido?"))
    [note] = emulator.wait_for(lambda: emulator.notes(conversation.id), timeout=30)
    assert "[en] Hola, ¿dónde está mi pedido?" in note.body
    assert emulator.send(emulator.agent_note(conversation, "#tl It ships today.")).is_success
    [reply, *_] = emulator.wait_for(lambda: emulator.replies(conversation.id), timeout=30)
    assert "[es] It ships today." in reply.body
