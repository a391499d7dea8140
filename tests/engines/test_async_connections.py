"""`AsyncLoop` keeps one HTTP client per engine: 50 messages reuse one TCP connection to a real
loopback server instead of opening 50, and `aclose` closes it."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tl_loop import AsyncLoop, Conversation, LanguageDetector, Message
from tl_loop.engines import LibreTranslateEngine


class Counting(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as LibreTranslate behind a real server

    def setup(self) -> None:
        super().setup()
        server: Any = self.server
        server.connections += 1

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        texts = [f"[{body['target']}] {text}" for text in body["q"]]
        payload = json.dumps({"translatedText": texts}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def server() -> Iterator[Counting]:
    running = Counting(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield running
    running.shutdown()
    running.server_close()
    thread.join()


def test_fifty_messages_share_one_connection(server: Counting) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}"

    async def run() -> list[str]:
        loop = AsyncLoop(
            engines=[LibreTranslateEngine(base_url=url)],
            detector=LanguageDetector(["en", "es"]),
        )
        conversation = Conversation(agent_languages=("en",), customer_language="es")
        replies = []
        for number in range(50):
            message = Message(text=f"Your order {number} ships today.")
            replies.append((await loop.outbound(message, conversation)).translated)
        await loop.aclose()
        return replies

    replies = asyncio.run(run())
    assert replies[7] == "[es] Your order 7 ships today."
    assert server.connections == 1
