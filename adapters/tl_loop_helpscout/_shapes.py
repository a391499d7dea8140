"""Help Scout payload shapes: HAL threads, ids, error bodies."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from tl_loop import ContentType

__all__ = [
    "as_html",
    "created",
    "embedded_threads",
    "error_detail",
    "id_of",
    "mapping",
    "number",
    "oauth_error",
]


def mapping(value: object) -> Mapping[str, Any]:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def id_of(value: object) -> str | None:
    """An id (int or string in Help Scout payloads) as a string; None when absent."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    return str(value) if isinstance(value, int | str) else None


def embedded_threads(container: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The threads in a HAL `_embedded.threads`, or none."""
    # HAL omits `_embedded` altogether when there are no threads.
    threads = mapping(container.get("_embedded")).get("threads")
    return [t for t in threads if isinstance(t, Mapping)] if isinstance(threads, list) else []


def created(thread: Mapping[str, Any]) -> str:
    """A thread's `createdAt` (ISO 8601, so it sorts by time), or "" to sort first."""
    value = thread.get("createdAt")
    return value if isinstance(value, str) else ""


def as_html(text: str, content_type: ContentType) -> str:
    """`text` as HTML for a thread: plain text and Markdown are escaped, line breaks kept."""
    # Help Scout threads are HTML; plain text would lose its line breaks.
    if content_type == "html":
        return text
    return html.escape(text).replace("\n", "<br>")


def number(value: str) -> int | str:
    """A numeric id as an int, as Help Scout expects in JSON bodies."""
    # Help Scout ids are integers in JSON; keep anything else as given.
    return int(value) if value.isdigit() else value


def oauth_error(response: httpx.Response) -> str | None:
    """The OAuth2 `error` (and `error_description`) of a token response, if any."""
    try:
        data = response.json()
    except ValueError:
        return None
    if not isinstance(data, Mapping) or not isinstance(data.get("error"), str):
        return None
    description = data.get("error_description")
    return f"{data['error']}: {description}" if isinstance(description, str) else data["error"]


def error_detail(response: httpx.Response) -> str | None:
    """The `vnd.error` message, field errors and logRef of an error response, if any."""
    try:
        data = response.json()
    except ValueError:
        return None
    if not isinstance(data, Mapping):
        return None
    parts: list[str] = []
    if isinstance(data.get("message"), str):
        parts.append(data["message"])
    errors: Sequence[Any] = mapping(data.get("_embedded")).get("errors") or []
    for item in errors if isinstance(errors, list) else []:
        item = mapping(item)
        path, message = item.get("path"), item.get("message")
        if isinstance(message, str):
            parts.append(f"{path}: {message}" if isinstance(path, str) else message)
    if isinstance(data.get("logRef"), str):
        parts.append(f"logRef {data['logRef']}")
    return "; ".join(parts) or None
