"""Help Scout payload shapes: HAL threads and error bodies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from tl_loop.helpdesk import (
    as_mapping,
    error_body,
)

__all__ = ["created", "embedded_threads", "error_detail"]


def embedded_threads(container: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The threads in a HAL `_embedded.threads`, or none."""
    # HAL omits `_embedded` altogether when there are no threads.
    threads = as_mapping(container.get("_embedded")).get("threads")
    return [t for t in threads if isinstance(t, Mapping)] if isinstance(threads, list) else []


def created(thread: Mapping[str, Any]) -> str:
    """A thread's `createdAt` (ISO 8601, so it sorts by time), or "" to sort first."""
    value = thread.get("createdAt")
    return value if isinstance(value, str) else ""


def error_detail(response: httpx.Response) -> str | None:
    """The `vnd.error` message, field errors and logRef of an error response, if any."""
    data = error_body(response)
    parts: list[str] = []
    if isinstance(data.get("message"), str):
        parts.append(data["message"])
    errors: Sequence[Any] = as_mapping(data.get("_embedded")).get("errors") or []
    for item in errors if isinstance(errors, list) else []:
        item = as_mapping(item)
        path, message = item.get("path"), item.get("message")
        if isinstance(message, str):
            parts.append(f"{path}: {message}" if isinstance(path, str) else message)
    if isinstance(data.get("logRef"), str):
        parts.append(f"logRef {data['logRef']}")
    return "; ".join(parts) or None
