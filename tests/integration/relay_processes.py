"""Relay processes for the integration tests: `python -m tl_loop.relay` under uvicorn in a
subprocess on loopback, its configuration file, and signed webhooks to it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tl_loop.testing import MemoryHelpdesk

SECRET = "e2e-webhook-secret"
SPANISH = "Hola, mi pedido no ha llegado todavía."
TRANSLATIONS = {
    SPANISH: "Hello, my order has not arrived yet.",
    "Your order ships today.": "Su pedido se envía hoy.",
    "Thank you for your patience.": "Gracias por su paciencia.",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(
    directory: Path, helpdesk_url: str, relay: str = "", name: str = "tl-loop"
) -> Path:
    """A relay configuration file; `relay` adds lines to (or overrides) the `[relay]` table."""
    translations = "\n".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in TRANSLATIONS.items())
    config = directory / f"{name}.toml"
    config.write_text(
        f"""
engines = ["fake"]
agent_languages = ["en"]

[engine.fake.translations]
{translations}

[detection]
languages = ["en", "es"]

[relay]
{relay or 'queue_path = "queue.sqlite3"'}
workers = 2
poll_seconds = 0.1
http_timeout = 3
lease_seconds = 12

[adapters.memory]
class = "tl_loop.testing._memory_helpdesk:MemoryHelpdesk"
base_url = "{helpdesk_url}"
webhook_secret_env = "TL_E2E_WEBHOOK_SECRET"
""",
        encoding="utf-8",
    )
    return config


class RelayProcess:
    """`python -m tl_loop.relay` in a subprocess; always killed in teardown."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = config.parent / f"{config.stem}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "TL_E2E_WEBHOOK_SECRET": SECRET}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tl_loop.relay", "--config", str(self.config),
                 "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"relay exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"relay not ready after 60 s:\n{self.log.read_text()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def post(self, adapter: MemoryHelpdesk, body: bytes) -> httpx.Response:
        return httpx.post(
            f"{self.url}/webhooks/memory", content=body, headers=adapter.sign(body), timeout=5
        )

    def metric(self, line_prefix: str) -> float:
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith(line_prefix)]  # fmt: skip
        return sum(values)
