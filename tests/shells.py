"""Run the sync `Loop` or the `AsyncLoop` behind one blocking interface, for parametrized tests."""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio

from tl_loop import AsyncLoop, Conversation, Loop, Message, Translation


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
