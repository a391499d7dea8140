"""Shared fixtures: a loop under either shell, fake engines, the sample glossary."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest

from tl_loop import AsyncLoop, Conversation, Glossary, Loop, Message, Translation

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def sample_glossary() -> Glossary:
    return Glossary.load(ROOT / "glossaries" / "acme.csv")


class Shell:
    """Runs the sync `Loop` or the `AsyncLoop` behind one blocking interface, for parametrizing."""

    def __init__(self, kind: str, **options: Any) -> None:
        self.kind = kind
        self.loop: Loop | AsyncLoop = Loop(**options) if kind == "sync" else AsyncLoop(**options)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Translation:
        method = getattr(self.loop, name)
        if self.kind == "sync":
            result: Translation = method(*args, **kwargs)
            return result
        return anyio.run(partial(method, *args, **kwargs))

    def inbound(self, text: str | Message, conversation: Conversation) -> Translation:
        return self._call("inbound", text, conversation)

    def outbound(self, text: str | Message, conversation: Conversation) -> Translation:
        return self._call("outbound", text, conversation)

    def translate(self, text: str, **kwargs: Any) -> Translation:
        return self._call("translate", text, **kwargs)


@pytest.fixture(params=["sync", "async"])
def make_loop(request: pytest.FixtureRequest) -> Callable[..., Shell]:
    """Build a loop under the sync or the async shell; tests run once with each."""
    return partial(Shell, request.param)
