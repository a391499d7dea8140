"""A helpdesk for tests: `MemoryHelpdesk` (an adapter) and `MemoryHelpdeskServer` (its API).

The server is a real HTTP server on loopback (stdlib `http.server` in a thread), so the relay
talks to it over real sockets. It stores conversations, records every note, reply and language
change it receives, and can be made slow or failing to exercise the relay's write rules.

```python
from tl_loop.testing import MemoryHelpdesk, MemoryHelpdeskServer

with MemoryHelpdeskServer() as server:
    adapter = MemoryHelpdesk(base_url=server.url, webhook_secret="s3cret")
    body = MemoryHelpdesk.event_body(event_id="e1", conversation_id="c1", text="Hola")
    headers = adapter.sign(body)           # what the helpdesk would send with the webhook
    ...                                    # POST body + headers to the relay
    server.wait_for(lambda: server.notes("c1"))
```

Webhook body (JSON): `{"id", "type": "customer_message" | "agent_note" | "ticket_created",
"conversation_id", "message": {"id", "text", "content_type", "author"}, "complete",
"customer_language", "channel"}` (`channel`: `chat`, `email` or null), signed with
`X-Memory-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>` and
`X-Memory-Timestamp`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self, TypeVar, cast

import httpx

from tl_loop._errors import InvalidRequestError, ServiceResponseError
from tl_loop._models import Channel, ContentType
from tl_loop.helpdesk._adapter import (
    EventKind,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    carries_own_marker,
    hmac_digest,
    verify_signature,
)
from tl_loop.helpdesk._payload import json_body, path_segment

__all__ = ["MemoryHelpdesk", "MemoryHelpdeskServer", "Posted"]

_KINDS = ("customer_message", "agent_note", "ticket_created")
_CHANNELS = ("chat", "email")
T = TypeVar("T")


class MemoryHelpdesk(HelpdeskAdapter):
    """The adapter for `MemoryHelpdeskServer` (and a model for writing real ones).

    Args:
        base_url: the server's address, e.g. `MemoryHelpdeskServer.url`.
        webhook_secret: the shared HMAC secret for webhooks.
        api_token: sent as a bearer token on API calls.
        window: seconds a webhook timestamp may be off.
        page_size: messages per page when reading a conversation.
    """

    name = "memory"
    lists_notes = True

    def __init__(
        self,
        *,
        base_url: str,
        webhook_secret: str,
        api_token: str = "memory-token",
        window: float = 300.0,
        page_size: int = 50,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._secret = webhook_secret
        self._token = api_token
        self.window = window
        self.page_size = page_size

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MemoryHelpdesk:
        """Read `MEMORY_HELPDESK_URL` and `MEMORY_HELPDESK_SECRET`."""
        import os

        env = os.environ if environ is None else environ
        return cls(
            base_url=env["MEMORY_HELPDESK_URL"], webhook_secret=env["MEMORY_HELPDESK_SECRET"]
        )

    # -- webhooks ----------------------------------------------------------------------------

    def sign(self, body: bytes, *, timestamp: float | None = None) -> dict[str, str]:
        """The headers the helpdesk sends with `body` (for tests and load generators)."""
        stamp = str(int(time.time() if timestamp is None else timestamp))
        digest = hmac_digest(
            self._secret, stamp.encode() + b"." + body, algorithm="sha256", encoding="hex"
        )
        return {
            "content-type": "application/json",
            "x-memory-timestamp": stamp,
            "x-memory-signature": f"sha256={digest}",
        }

    @staticmethod
    def event_body(
        *,
        event_id: str,
        conversation_id: str,
        text: str | None,
        kind: EventKind = "customer_message",
        message_id: str | None = None,
        content_type: ContentType = "text",
        complete: bool = True,
        customer_language: str | None = None,
        channel: Channel | None = None,
    ) -> bytes:
        """A webhook body as the memory helpdesk sends it; `channel` is the conversation's."""
        author = "agent" if kind == "agent_note" else "customer"
        payload = {
            "id": event_id,
            "type": kind,
            "conversation_id": conversation_id,
            "message": {
                "id": message_id or f"m-{event_id}",
                "text": text,
                "content_type": content_type,
                "author": author,
            },
            "complete": complete,
            "customer_language": customer_language,
            "channel": channel,
        }
        return json.dumps(payload).encode()

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        """HMAC-SHA256 over `timestamp.body`, compared in constant time, within `window`."""
        lower = {key.lower(): value for key, value in headers.items()}
        stamp = lower.get("x-memory-timestamp", "")
        expected = "sha256=" + hmac_digest(
            self._secret, stamp.encode() + b"." + body, algorithm="sha256", encoding="hex"
        )
        verify_signature(
            expected,
            lower.get("x-memory-signature"),
            service=self.name,
            timestamp=stamp,
            window=self.window,
            now=now,
        )

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        """Parse the JSON body; our own notes (carrying the marker) are `ignored`."""
        try:
            payload = json_body(body, service=self.name)  # repairs invalid UTF-8, like adapters
            kind = payload["type"]
            message = payload.get("message") or {}
            event_id = str(payload["id"])
            conversation_id = str(payload["conversation_id"])
        except (InvalidRequestError, ValueError, KeyError, TypeError) as error:
            raise InvalidRequestError(
                f"webhook body is not a memory helpdesk event ({error!r}); expected JSON with "
                "id, type, conversation_id and message",
                service=self.name,
            ) from error
        text = message.get("text")
        channel = payload.get("channel")
        if kind not in _KINDS or (text and carries_own_marker(text)):
            kind = "ignored"
        return HelpdeskEvent(
            kind=kind,
            event_id=event_id,
            conversation_id=conversation_id,
            message_id=message.get("id"),
            text=text,
            content_type=message.get("content_type") or "text",
            author_id=message.get("author"),
            customer_language=payload.get("customer_language"),
            complete=bool(payload.get("complete", True)) and text is not None,
            raw=payload,
            channel=channel if channel in _CHANNELS else None,
        )

    def replay_key(self, event: HelpdeskEvent, body: bytes, headers: Mapping[str, str]) -> str:
        """The event's `id`: it is inside the signed body, so a replay cannot vary it."""
        return event.event_id

    # -- API ---------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self._token}"}

    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        """`GET /conversations/{id}/messages?page=1&per_page=N`."""
        return httpx.Request(
            "GET",
            f"{self.base_url}/conversations/{path_segment(conversation_id)}/messages",
            params={"page": 1, "per_page": self.page_size},
            headers=self._headers(),
        )

    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        """`{"messages": [{"id", "text", "content_type", "author", "public"}], "next_page"}`."""
        try:
            return [
                HelpdeskMessage(
                    id=str(item["id"]),
                    text=item["text"],
                    content_type=item.get("content_type", "text"),
                    author_role=item.get("author", "customer"),
                    public=bool(item.get("public", True)),
                )
                for item in response.json()["messages"]
            ]
        except (ValueError, KeyError, TypeError) as error:
            raise ServiceResponseError(
                f"unexpected messages body: {error!r}", service=self.name
            ) from error

    def next_page(self, response: httpx.Response) -> httpx.Request | None:
        """The page named by `next_page`, if any."""
        page = response.json().get("next_page")
        if not page:
            return None
        params = dict(response.request.url.params)
        params["page"] = str(page)
        return httpx.Request(
            "GET", response.request.url.copy_with(params=params), headers=self._headers()
        )

    def build_post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`POST /conversations/{id}/notes` `{"body", "content_type"}`."""
        return httpx.Request(
            "POST",
            f"{self.base_url}/conversations/{path_segment(conversation_id)}/notes",
            json={"body": text, "content_type": content_type},
            headers=self._headers(),
        )

    def build_post_reply(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`POST /conversations/{id}/replies` `{"body", "content_type"}`."""
        return httpx.Request(
            "POST",
            f"{self.base_url}/conversations/{path_segment(conversation_id)}/replies",
            json={"body": text, "content_type": content_type},
            headers=self._headers(),
        )

    def build_set_language(self, conversation_id: str, language: str) -> httpx.Request:
        """`PUT /conversations/{id}/language` `{"language"}`."""
        return httpx.Request(
            "PUT",
            f"{self.base_url}/conversations/{path_segment(conversation_id)}/language",
            json={"language": language},
            headers=self._headers(),
        )

    def ticket_url(self, conversation_id: str) -> str | None:
        """`{base_url}/conversations/{id}`, where the reviewer page links the conversation."""
        return f"{self.base_url}/conversations/{path_segment(conversation_id)}"

    def __repr__(self) -> str:
        return f"<MemoryHelpdesk base_url={self.base_url!r}>"


@dataclass(frozen=True, slots=True)
class Posted:
    """A note, reply or language change the server received."""

    conversation_id: str
    kind: str
    body: str
    content_type: str
    received_at: float = field(default_factory=time.time)


class _State:
    """Everything the server holds, behind one lock (handler threads share it)."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.posted: list[Posted] = []
        self.languages: dict[str, str] = {}
        self.write_delay = 0.0
        self.fail_writes: list[tuple[int, bool]] = []
        self.connections: set[socket.socket] = set()


class MemoryHelpdeskServer:
    """A real HTTP server on loopback that plays the helpdesk API of `MemoryHelpdesk`.

    Args:
        host: the address to bind (loopback by default).
        port: the port; 0 picks a free one (read it back from `url`).
        write_delay: seconds to wait, after storing a write, before answering it (to hold a
            relay mid-write).
    """

    API_TOKEN: ClassVar[str] = "memory-token"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, write_delay: float = 0.0) -> None:
        self._state = _State()
        self._state.write_delay = write_delay
        self._server = self._listen(host, port)
        self._thread: threading.Thread | None = None

    def _listen(self, host: str, port: int) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer((host, port), _handler(self._state))
        server.daemon_threads = True
        return server

    @property
    def url(self) -> str:
        """The server's base URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="memory-helpdesk",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def go_down(self) -> None:
        """An outage: stop listening and drop open connections, so clients are refused.

        What the helpdesk holds is kept for `come_back`.
        """
        self.stop()
        with self._state.lock:
            for connection in self._state.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def come_back(self) -> None:
        """End an outage started by `go_down`: listen again on the same address."""
        host, port = self._server.server_address[:2]
        self._server = self._listen(str(host), int(port))
        self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: str,
        text: str,
        *,
        id: str | None = None,
        author: str = "customer",
        content_type: ContentType = "text",
        public: bool = True,
    ) -> str:
        """Store a message in a conversation (what a re-fetch will read); returns its id."""
        with self._state.lock:
            items = self._state.messages.setdefault(conversation_id, [])
            message_id = id or f"{conversation_id}-{len(items) + 1}"
            items.append(
                {"id": message_id, "text": text, "content_type": content_type,
                 "author": author, "public": public}
            )  # fmt: skip
            return message_id

    def set_write_delay(self, seconds: float) -> None:
        """Wait this long before answering each write (it is stored first)."""
        with self._state.lock:
            self._state.write_delay = seconds

    def fail_next_writes(self, *statuses: int, stored: bool = True) -> None:
        """Answer the next writes with these statuses (stored anyway when >= 500, unless
        `stored` is False: a proxy's 502 for a request that never reached the helpdesk)."""
        with self._state.lock:
            self._state.fail_writes.extend((status, stored) for status in statuses)

    # -- what it received --------------------------------------------------------------------

    def posted(
        self, conversation_id: str | None = None, *, kind: str | None = None
    ) -> list[Posted]:
        """Writes received, oldest first, filtered by conversation and kind."""
        with self._state.lock:
            return [
                item
                for item in self._state.posted
                if (conversation_id is None or item.conversation_id == conversation_id)
                and (kind is None or item.kind == kind)
            ]

    def notes(self, conversation_id: str | None = None) -> list[Posted]:
        """Internal notes received."""
        return self.posted(conversation_id, kind="note")

    def replies(self, conversation_id: str | None = None) -> list[Posted]:
        """Public replies received."""
        return self.posted(conversation_id, kind="reply")

    def language(self, conversation_id: str) -> str | None:
        """The customer language recorded on a conversation, if any."""
        with self._state.lock:
            return self._state.languages.get(conversation_id)

    def wait_for(self, condition: Callable[[], T], *, timeout: float = 10.0) -> T:
        """Wait until `condition()` is truthy (re-checked on every write); return its value.

        Raises:
            TimeoutError: it was still falsy after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._state.lock:
            while True:
                value = condition()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"condition still false after {timeout} s")
                self._state.lock.wait(min(left, 0.1))


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests read what was received, not an access log

        def setup(self) -> None:
            super().setup()
            with state.lock:
                state.connections.add(self.connection)

        def finish(self) -> None:
            with state.lock:
                state.connections.discard(self.connection)
            super().finish()

        def _reply(self, status: int, payload: object) -> None:
            body = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client went away (a relay killed mid-write): nothing to answer

        def _route(self) -> tuple[str, str] | None:
            parts = self.path.split("?")[0].strip("/").split("/")
            if len(parts) == 3 and parts[0] == "conversations":
                return parts[1], parts[2]
            return None

        def _authorized(self) -> bool:
            if self.headers.get("authorization", "").startswith("Bearer "):
                return True
            self._reply(401, {"error": "missing bearer token"})
            return False

        def do_GET(self) -> None:
            route = self._route()
            if not self._authorized():
                return
            if route is None or route[1] != "messages":
                self._reply(404, {"error": "no such resource"})
                return
            query = httpx.URL(self.path).params
            page, per_page = int(query.get("page", "1")), int(query.get("per_page", "50"))
            with state.lock:
                # Like a real helpdesk, the conversation lists the notes and replies it took.
                items = list(state.messages.get(route[0], [])) + [
                    {"id": f"posted-{number}", "text": item.body, "author": "agent",
                     "content_type": item.content_type or "text", "public": item.kind == "reply"}
                    for number, item in enumerate(state.posted)
                    if item.conversation_id == route[0] and item.kind != "language"
                ]  # fmt: skip
            chunk = items[(page - 1) * per_page : page * per_page]
            more = page * per_page < len(items)
            self._reply(200, {"messages": chunk, "next_page": page + 1 if more else None})

        def _write(self) -> None:
            route = self._route()
            length = int(self.headers.get("content-length", "0"))
            payload = cast(dict[str, Any], json.loads(self.rfile.read(length) or b"{}"))
            if not self._authorized():
                return
            kinds = {"notes": "note", "replies": "reply", "language": "language"}
            if route is None or route[1] not in kinds:
                self._reply(404, {"error": "no such resource"})
                return
            with state.lock:
                status, stored = state.fail_writes.pop(0) if state.fail_writes else (201, True)
                if status < 400 or (status >= 500 and stored):  # stored despite the error
                    kind = kinds[route[1]]
                    body = payload.get("language") if kind == "language" else payload.get("body")
                    state.posted.append(
                        Posted(route[0], kind, str(body), str(payload.get("content_type", "")))
                    )
                    if kind == "language":
                        state.languages[route[0]] = str(body)
                    state.lock.notify_all()
                delay = state.write_delay
            if delay:
                time.sleep(delay)
            self._reply(status, {"ok": status < 400})

        do_POST = _write
        do_PUT = _write

    return Handler
