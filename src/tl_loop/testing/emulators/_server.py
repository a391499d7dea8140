"""`EmulatorServer`: the shared base of the helpdesk emulators.

A real HTTP server on loopback (stdlib `http.server`, one thread per connection) with:

- routing by method and path pattern to the platform module's handlers;
- authentication, checked by the platform's `authenticate` before any handler runs;
- a request budget per window with the platform's rate-limit headers on every answer and a 429
  (with `Retry-After` and the platform's own headers) once it is spent;
- fault injection (`fail_next`) to exercise a client's write rules;
- a store of conversations and articles (`EmulatorStore`) and a record of every write;
- signed webhooks in the platform's shape, sent to `webhook_url` (the relay).

A platform module subclasses it: registers its routes in `routes()`, renders the store in its
JSON shapes, and builds and signs its webhooks. See `tl_loop.testing.emulators` for the list.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, ClassVar, Literal, Self, TypeVar

import httpx

from tl_loop._errors import ConfigurationError
from tl_loop.helpdesk._adapter import HelpdeskAdapter, load_adapter_class
from tl_loop.testing.emulators._handler import handler_for
from tl_loop.testing.emulators._store import (
    EmulatedConversation,
    EmulatedMessage,
    EmulatorStore,
    Write,
)
from tl_loop.testing.emulators._wire import EmulatorRequest, EmulatorResponse, Refusal, Webhook

__all__ = ["EmulatorRequest", "EmulatorResponse", "EmulatorServer", "Refusal", "Webhook"]

T = TypeVar("T")
Handler = Callable[["EmulatorRequest", dict[str, str]], "EmulatorResponse"]
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class _Budget:
    limit: int
    window: float
    used: int = 0
    started: float = field(default_factory=time.time)

    def take(self, cost: int) -> tuple[bool, int, float]:
        """(allowed, remaining, reset epoch) for one more request costing `cost`."""
        now = time.time()
        if now - self.started >= self.window:
            self.started, self.used = now, 0
        reset = self.started + self.window
        if self.used + cost > self.limit:
            return False, max(0, self.limit - self.used), reset
        self.used += cost
        return True, self.limit - self.used, reset


class EmulatorServer:
    """Base of every platform emulator; use it as a context manager.

    ```python
    from tl_loop.testing import ZendeskEmulator

    with ZendeskEmulator(webhook_url="http://127.0.0.1:8080/webhooks/zendesk") as zendesk:
        adapter = zendesk.adapter()                    # the real adapter, pointed here
        ticket = zendesk.open_conversation()
        zendesk.send(zendesk.customer_message(ticket, "Hola, mi pedido no llegó."))
        note = zendesk.wait_for(lambda: zendesk.notes(ticket.id))
    ```

    Args:
        webhook_url: where `send` posts webhooks (the relay's `/webhooks/<name>`).
        rate_limit: requests allowed per `rate_window` seconds (default: the platform's);
            the next one gets 429 with the platform's headers.
        rate_window: the length of the rate-limit window in seconds.
        host: address to listen on (loopback by default).
        port: port to listen on (0: any free port).
    """

    platform: ClassVar[str]
    """The adapter's entry-point name, e.g. `zendesk`."""
    default_rate_limit: ClassVar[int] = 700
    max_note_chars: ClassVar[int | None] = None
    """The platform's cap on a note's or reply's length; longer writes are refused."""
    max_page_size: ClassVar[int] = 100

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.webhook_url = webhook_url
        self.store = EmulatorStore()
        self.requests: list[tuple[str, str]] = []
        self.answered: list[tuple[str, str, int]] = []
        self._budget = _Budget(rate_limit or self.default_rate_limit, rate_window)
        self._failures: list[int] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        self._server = ThreadingHTTPServer((host, port), handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.routes()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The API root, e.g. `http://127.0.0.1:54321` (give it to the adapter as base_url)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Serve in a background thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{self.platform}-emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} url={self.url!r}>"

    # -- what a platform module provides -----------------------------------------------------

    def routes(self) -> None:
        """Register the platform's endpoints with `route`."""
        raise NotImplementedError

    def route(self, method: str, pattern: str, handler: Handler, *, public: bool = False) -> None:
        """Serve `method pattern` (a regex with named groups, matched on the whole path).

        `public` routes (OAuth token endpoints) skip `authenticate` and the rate budget.
        """
        self._routes.append((method, re.compile(pattern + r"\Z"), handler, public))

    def authenticate(self, request: EmulatorRequest) -> None:
        """Refuse (raise `Refusal(401)`) a request without the platform's credentials."""

    def rate_limit_headers(self, limit: int, remaining: int, reset: float) -> dict[str, str]:
        """The platform's rate-limit headers for every answer (`reset`: epoch seconds)."""
        return {}

    def request_cost(self, request: EmulatorRequest) -> int:
        """How much of the rate budget a request uses (Help Scout counts writes twice)."""
        return 1

    def rate_limited(self, reset: float) -> EmulatorResponse:
        """The platform's 429 answer; `Retry-After` in seconds by default."""
        wait = max(1, round(reset - time.time()))
        return EmulatorResponse(
            429, self.error_payload(429, "rate limit exceeded"), {"Retry-After": str(wait)}
        )

    def error_payload(self, status: int, message: str) -> Any:
        """The platform's error body."""
        return {"error": message}

    def adapter_options(self) -> dict[str, Any]:
        """Keyword arguments that point the platform's adapter at this emulator."""
        raise NotImplementedError

    def customer_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        """The signed webhook the platform sends when a customer writes `message`."""
        raise NotImplementedError

    def agent_note_webhook(
        self, conversation: EmulatedConversation, message: EmulatedMessage
    ) -> Webhook:
        """The signed webhook the platform sends when an agent adds the internal note."""
        raise NotImplementedError

    def sign(self, body: bytes, *, event: str = "") -> dict[str, str]:
        """The headers the platform sends with webhook `body`: its signature, timestamp and
        delivery headers (`event` names the event where the platform says it in a header)."""
        raise NotImplementedError

    # -- using it ----------------------------------------------------------------------------

    def webhook(self, payload: Any, *, event: str = "") -> Webhook:
        """Any webhook body (bytes, or JSON to encode) with the platform's signature headers,
        e.g. a payload captured from the real platform."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return Webhook(event, body, self.sign(body, event=event))

    def adapter(self, **overrides: Any) -> HelpdeskAdapter:
        """The platform's installed adapter, configured for this emulator."""
        cls = load_adapter_class(self.platform)
        return cls(**{**self.adapter_options(), **overrides})

    def relay_table(self, name: str | None = None) -> str:
        """The `[adapters.<name>]` TOML table for a relay config file pointing here.

        The credentials are the emulator's fixed test values; real ones belong in the
        environment (`<option>_env = "VARIABLE"`).
        """
        lines = [f"[adapters.{name or self.platform}]"]
        if name and name != self.platform:
            lines.append(f'type = "{self.platform}"')
        lines += [f"{key} = {_toml(value)}" for key, value in self.adapter_options().items()]
        return "\n".join(lines) + "\n"

    def conversation_key(self, conversation: EmulatedConversation) -> str:
        """The id the platform's API and webhooks use for `conversation`."""
        return str(conversation.id)

    def open_conversation(self, **details: Any) -> EmulatedConversation:
        """A new conversation (ticket) with a customer; see `EmulatorStore.open_conversation`."""
        return self.store.open_conversation(**details)

    def customer_message(
        self,
        conversation: EmulatedConversation,
        text: str,
        *,
        content_type: Literal["html", "text"] = "text",
    ) -> Webhook:
        """Store a customer message and return the webhook announcing it (not yet sent)."""
        message = self.store.add_message(
            conversation, text, author="customer", public=True, content_type=content_type
        )
        return self.customer_webhook(conversation, message)

    def agent_note(self, conversation: EmulatedConversation, text: str) -> Webhook:
        """Store an agent's internal note (e.g. `#tl …`) and return its webhook."""
        message = self.store.add_message(
            conversation, text, author="agent", public=False, content_type="text"
        )
        return self.agent_note_webhook(conversation, message)

    def send(
        self, webhook: Webhook, *, url: str | None = None, timeout: float = 10.0
    ) -> httpx.Response:
        """POST a webhook to `url` (default: `webhook_url`) with its signature headers.

        Raises:
            ConfigurationError: no `url` and no `webhook_url`.
        """
        target = url or self.webhook_url
        if not target:
            raise ConfigurationError(
                f"{self.platform} emulator: no webhook_url; give it to the emulator or to send()"
            )
        return httpx.post(target, content=webhook.body, headers=webhook.headers, timeout=timeout)

    def fail_next(self, *statuses: int) -> None:
        """Answer the next writes with these statuses (writes answered >= 500 are stored)."""
        with self.store.lock:
            self._failures.extend(statuses)

    # -- what it received --------------------------------------------------------------------

    def writes(self, conversation_id: object = None, *, kind: str | None = None) -> list[Write]:
        """Writes received, oldest first, filtered by conversation and kind."""
        with self.store.lock:
            return [
                write
                for write in self.store.writes
                if (conversation_id is None or write.conversation_id == str(conversation_id))
                and (kind is None or write.kind == kind)
            ]

    def notes(self, conversation_id: object = None) -> list[Write]:
        """Internal notes received."""
        return self.writes(conversation_id, kind="note")

    def replies(self, conversation_id: object = None) -> list[Write]:
        """Public replies received."""
        return self.writes(conversation_id, kind="reply")

    def wait_for(self, condition: Callable[[], T], *, timeout: float = 10.0) -> T:
        """Wait until `condition()` is truthy (re-checked on every write); return its value.

        Raises:
            TimeoutError: still falsy after `timeout` seconds.
        """
        return self.store.wait_for(condition, timeout=timeout)

    # -- helpers for platform modules --------------------------------------------------------

    def find_conversation(self, conversation_id: str) -> EmulatedConversation:
        """The conversation, or a 404 in the platform's shape."""
        conversation = self.store.conversation(conversation_id)
        if conversation is None:
            raise Refusal(404, f"conversation {conversation_id} not found")
        return conversation

    def check_length(self, text: str) -> None:
        """Refuse a note or reply over the platform's `max_note_chars` with 422."""
        if self.max_note_chars is not None and len(text) > self.max_note_chars:
            raise Refusal(
                422,
                f"content is too long ({len(text)} characters; the maximum is "
                f"{self.max_note_chars})",
            )

    def write_message(
        self,
        conversation: EmulatedConversation,
        text: str,
        *,
        public: bool,
        content_type: Literal["html", "text"],
        payload: Any,
    ) -> EmulatedMessage:
        """Store an agent's note or reply sent through the API, and record the write."""
        self.check_length(text)
        message = self.store.add_message(
            conversation, text, author="agent", public=public, content_type=content_type
        )
        kind: Literal["note", "reply"] = "reply" if public else "note"
        self.store.record(Write(kind, str(conversation.id), text, content_type, payload))
        return message

    def record_language(self, conversation: EmulatedConversation, value: str, payload: Any) -> None:
        """Record a language write (the value as the platform stored it)."""
        self.store.record(Write("language", str(conversation.id), value, "", payload))

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        """Route one request through auth, budget, faults and its handler; `requests` and
        `answered` (with the status) record it."""
        with self.store.lock:
            self.requests.append((request.method, request.path))
        response = self._dispatch(request)
        with self.store.lock:
            self.answered.append((request.method, request.path, response.status))
        return response

    def _dispatch(self, request: EmulatorRequest) -> EmulatorResponse:
        allowed_methods: set[str] = set()
        for method, pattern, handler, public in self._routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            allowed_methods.add(method)
            if method != request.method:
                continue
            if public:
                return self._run(handler, request, match.groupdict())
            return self._guarded(handler, request, match.groupdict())
        if allowed_methods:
            return self._error(405, f"{request.method} is not allowed on {request.path}")
        return self._error(404, f"no such endpoint: {request.method} {request.path}")

    def _guarded(
        self, handler: Handler, request: EmulatorRequest, groups: dict[str, str]
    ) -> EmulatorResponse:
        try:
            self.authenticate(request)
        except Refusal as refusal:
            return self._refused(refusal)
        with self.store.lock:
            allowed, remaining, reset = self._budget.take(self.request_cost(request))
            limit = self._budget.limit
            failure = None
            if allowed and request.method in _WRITE_METHODS and self._failures:
                failure = self._failures.pop(0)
        headers = self.rate_limit_headers(limit, remaining, reset)
        if not allowed:
            response = self.rate_limited(reset)
        elif failure is not None and failure < 500:
            response = self._error(failure, f"injected failure {failure}")
        else:
            response = self._run(handler, request, groups)
            if failure is not None:  # stored, then answered with an error: outcome unknown
                response = self._error(failure, f"injected failure {failure}")
        response.headers = {**headers, **response.headers}
        return response

    def _run(
        self, handler: Handler, request: EmulatorRequest, groups: dict[str, str]
    ) -> EmulatorResponse:
        try:
            return handler(request, groups)
        except Refusal as refusal:
            return self._refused(refusal)

    def _refused(self, refusal: Refusal) -> EmulatorResponse:
        payload = refusal.payload
        if payload is None:
            payload = self.error_payload(refusal.status, refusal.message)
        return EmulatorResponse(refusal.status, payload, refusal.headers)

    def _error(self, status: int, message: str) -> EmulatorResponse:
        return EmulatorResponse(status, self.error_payload(status, message))


def _toml(value: object) -> str:
    """A TOML value: JSON's strings, numbers and booleans are TOML too; tables are not."""
    if isinstance(value, Mapping):
        return (
            "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(value)
