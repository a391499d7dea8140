"""Pagination as the platforms do it: opaque cursors and numbered pages over a list."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import TypeVar
from urllib.parse import urlencode

from tl_loop.testing.emulators._server import EmulatorRequest, Refusal

__all__ = ["cursor_for", "offset_of", "page_slice", "url_with"]

T = TypeVar("T")


def cursor_for(offset: int) -> str:
    """An opaque cursor (base64 JSON, like Zendesk's and Intercom's) for a list position."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def offset_of(cursor: str | None) -> int:
    """The list position a cursor stands for; a cursor we never issued is refused with 400."""
    if not cursor:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"]
    except (ValueError, KeyError, TypeError):
        raise Refusal(400, f"invalid cursor {cursor!r}") from None
    if not isinstance(offset, int) or offset < 0:
        raise Refusal(400, f"invalid cursor {cursor!r}")
    return offset


def page_slice(items: Sequence[T], page: int, size: int) -> tuple[list[T], int]:
    """Page `page` (from 1) of `items` in pages of `size`, and the number of pages (>= 1)."""
    pages = max(1, -(-len(items) // size))
    return list(items[(page - 1) * size : page * size]), pages


def url_with(request: EmulatorRequest, params: Mapping[str, str | int]) -> str:
    """The request's own URL with some query parameters replaced (for `next` links)."""
    query = {key: values[0] for key, values in request.query.items() if values}
    query.update({key: str(value) for key, value in params.items()})
    return f"{request.base_url}{request.path}?{urlencode(query)}"
