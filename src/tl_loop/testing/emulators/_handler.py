"""The stdlib HTTP handler that turns sockets into `EmulatorRequest`s for an emulator."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from tl_loop.testing.emulators._wire import EmulatorRequest, EmulatorResponse

__all__ = ["Emulator", "handler_for"]


class Emulator(Protocol):
    """What the handler needs of an emulator."""

    @property
    def url(self) -> str: ...

    def handle(self, request: EmulatorRequest) -> EmulatorResponse: ...


def handler_for(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # tests read `requests` and the store, not an access log

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            host = self.headers.get("host") or emulator.url.removeprefix("http://")
            request = EmulatorRequest(
                method=self.command,
                path=split.path,
                query=parse_qs(split.query, keep_blank_values=True),
                headers={key.lower(): value for key, value in self.headers.items()},
                body=body,
                base_url=f"http://{host}",
            )
            try:
                response = emulator.handle(request)
            except Exception as error:  # a bug in an emulator must not hang the client
                response = EmulatorResponse(500, {"error": f"emulator bug: {error!r}"})
            self._answer(response)

        def _answer(self, response: EmulatorResponse) -> None:
            if response.raw is not None:
                data = response.raw
            elif response.payload is None and response.status in (201, 202, 204):
                data = b""
            else:
                data = json.dumps(response.payload).encode()
            try:
                self.send_response(response.status)
                if data:
                    self.send_header("content-type", response.content_type)
                self.send_header("content-length", str(len(data)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client went away mid-answer

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
