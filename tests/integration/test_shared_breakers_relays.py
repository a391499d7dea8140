"""Two relay processes on one PostgreSQL share what they learn about an engine: a 429 with a
wait that one replica received keeps the other replica from calling the engine at all.

The engine is LibreTranslate's real client against a loopback server that answers every
translation 429 with `Retry-After: 120` (what a self-hosted LibreTranslate does to a client
over its `--req-limit`); a second engine serves, so no message waits.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from relay_processes import ENV, SECRET, SPANISH, RelayProcess, write_config

from tl_loop.testing import MemoryHelpdesk, MemoryHelpdeskServer

pytestmark = pytest.mark.postgres

LANGUAGES = [{"code": "en", "targets": ["es"]}, {"code": "es", "targets": ["en"]}]


class _Busy(BaseHTTPRequestHandler):
    translations = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        self._answer(200, LANGUAGES)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _Busy.lock:
            _Busy.translations += 1
        self._answer(429, {"error": "Slowdown: 10 per 1 minute"}, {"Retry-After": "120"})

    def _answer(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def busy_libretranslate() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_429_one_relay_received_keeps_every_relay_off_the_engine(
    tmp_path: Path, postgres_url: str, busy_libretranslate: str
) -> None:
    prefix = f"relay_{uuid.uuid4().hex[:10]}"
    with MemoryHelpdeskServer() as helpdesk:
        relays = []
        for number in range(2):
            directory = tmp_path / f"replica{number}"
            directory.mkdir()
            config = write_config(
                directory,
                helpdesk.url,
                f'queue_url = "{postgres_url}"\nqueue_table_prefix = "{prefix}"\naudit = false\n'
                'review_path = "review.sqlite3"',
                engines=("libretranslate", "fake"),
                tables=f'[engine.libretranslate]\nbase_url = "{busy_libretranslate}"\n'
                f'[breaker]\nbackend = "postgres"\nurl = "{postgres_url}"\n'
                f'table = "{prefix}_breakers"\n',
            )
            relays.append(RelayProcess(config, env=ENV))
        try:
            for relay in relays:
                relay.start()
            adapter = MemoryHelpdesk(base_url=helpdesk.url, webhook_secret=SECRET)

            first = MemoryHelpdesk.event_body(event_id="a1", conversation_id="c0", text=SPANISH)
            assert relays[0].post(adapter, first).status_code == 202
            helpdesk.wait_for(lambda: helpdesk.notes("c0"), timeout=30)
            seen = _Busy.translations  # relay 0's call, and the start-up readiness probes

            for number in range(1, 4):
                body = MemoryHelpdesk.event_body(
                    event_id=f"b{number}", conversation_id=f"c{number}", text=SPANISH
                )
                assert relays[1].post(adapter, body).status_code == 202
            helpdesk.wait_for(lambda: all(helpdesk.notes(f"c{n}") for n in range(1, 4)), timeout=30)

            assert _Busy.translations == seen  # relay 1 never asked the engine that said wait
            for conversation in ("c0", "c1", "c2", "c3"):
                [note] = helpdesk.notes(conversation)
                assert "Hello, my order has not arrived yet." in note.body  # nothing lost
        finally:
            for relay in relays:
                relay.stop()
                relay.kill()
