"""A small HTTP server on 127.0.0.1 standing in for a cloud endpoint (AWS's container and
instance metadata services, Google's token endpoint and API) in tests.

Routes map `"METHOD /path"` (query string left out) to a function of the request that returns
`(status, body)` or `(status, body, headers)`; an unrouted request gets 404. Every request is
recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


Route = Callable[[Request], tuple[int, str] | tuple[int, str, dict[str, str]]]


class Loopback:
    """A threaded server on a free loopback port; `url` is its base address."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[Request] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                owner.requests.append(request)
                route = owner.routes.get(f"{self.command} {self.path.split('?', 1)[0]}")
                status, body, *more = route(request) if route else (404, "not found")
                data = body.encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **dict(*more)}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback() -> Iterator[Callable[[dict[str, Route]], Loopback]]:
    """Start servers with `loopback(routes)`; all are stopped after the test."""
    servers: list[Loopback] = []

    def start(routes: dict[str, Route]) -> Loopback:
        servers.append(Loopback(routes))
        return servers[-1]

    yield start
    for server in servers:
        server.close()
