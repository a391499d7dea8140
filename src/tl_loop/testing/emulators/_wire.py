"""What passes between a client and an emulator: requests, answers, refusals and webhooks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EmulatorRequest", "EmulatorResponse", "Refusal", "Webhook"]


@dataclass(frozen=True)
class EmulatorRequest:
    """One API request as the emulator received it; header names are lower-case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def param(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter `name`."""
        values = self.query.get(name)
        return values[0] if values else default

    def int_param(self, name: str, default: int, *, low: int = 1, high: int = 10**9) -> int:
        """A positive integer query parameter, refused with 400 when malformed or out of range."""
        raw = self.param(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise Refusal(400, f"query parameter {name}={raw!r} is not an integer") from None
        if not low <= value <= high:
            raise Refusal(400, f"query parameter {name}={value} must be {low}..{high}")
        return value

    def json(self) -> Any:
        """The body as JSON; a malformed body is refused with 400, as the platforms do."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise Refusal(400, "the request body is not valid JSON") from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (400 otherwise)."""
        payload = self.json()
        if not isinstance(payload, dict):
            raise Refusal(400, "the request body must be a JSON object")
        return payload


@dataclass
class EmulatorResponse:
    """What a handler answers: a status, a JSON payload (or raw bytes) and extra headers."""

    status: int = 200
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"


class Refusal(Exception):
    """Raised by a handler to answer an error; the server renders it in the platform's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        payload: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.payload = payload
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Webhook:
    """A signed webhook as the platform sends it: the raw body and its headers."""

    event: str
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.body)
