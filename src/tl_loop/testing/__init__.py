"""Test doubles and contract suites for code built on tl_loop.

`FakeEngine` is a deterministic engine you can script and break. `EngineContract` is a pytest
suite every engine must pass: subclass it in your tests and provide two fixtures.

```python
from tl_loop import Loop
from tl_loop.testing import EngineContract, FakeEngine

engine = FakeEngine({"Hola": "Hello"})
loop = Loop(engines=[engine])


class TestMyEngineContract(EngineContract):
    @pytest.fixture
    def contract_engine(self):
        return MyEngine(...)

    @pytest.fixture
    def contract_pair(self):
        return ("en", "es")
```
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from tl_loop._errors import ServiceError, UnsupportedLanguageError
from tl_loop.engines._base import (
    NO_OPTIONS,
    TOKEN_PATTERN,
    Capabilities,
    Engine,
    SegmentResult,
    TranslateOptions,
)

if TYPE_CHECKING:
    from tl_loop.testing._contracts import AdapterContract, EngineContract
    from tl_loop.testing._memory_helpdesk import MemoryHelpdesk, MemoryHelpdeskServer
    from tl_loop.testing.emulators import (
        ChatwootEmulator,
        EmulatorServer,
        FreshdeskEmulator,
        FrontEmulator,
        HelpScoutEmulator,
        IntercomEmulator,
        SalesforceEmulator,
        Webhook,
        Write,
        ZammadEmulator,
        ZendeskEmulator,
        emulator_class,
    )

__all__ = [
    "AdapterContract",
    "ChatwootEmulator",
    "EmulatorServer",
    "EngineContract",
    "FakeEngine",
    "FreshdeskEmulator",
    "FrontEmulator",
    "HelpScoutEmulator",
    "IntercomEmulator",
    "MemoryHelpdesk",
    "MemoryHelpdeskServer",
    "SalesforceEmulator",
    "Webhook",
    "Write",
    "ZammadEmulator",
    "ZendeskEmulator",
    "emulator_class",
]

# The helpdesk emulators (tl_loop.testing.emulators), loaded on first use.
_EMULATOR_NAMES = frozenset(
    {
        "ChatwootEmulator",
        "EmulatorServer",
        "FreshdeskEmulator",
        "FrontEmulator",
        "HelpScoutEmulator",
        "IntercomEmulator",
        "SalesforceEmulator",
        "Webhook",
        "Write",
        "ZammadEmulator",
        "ZendeskEmulator",
        "emulator_class",
    }
)


def _tag_target(segment: str, source: str, target: str) -> str:
    # Visibly "translated" yet reversible by eye, and every token is left where it was.
    return f"[{target}] {segment}"


class FakeEngine(Engine):
    """A deterministic engine for tests. Safe to share between threads.

    Args:
        translations: exact segment → translation lookups, tried first.
        pairs: the (source, target) pairs it claims; by default every pair.
        transform: how to translate a segment with no lookup entry; by default `[es] text`.
        fail_with: raise this error on every call (an outage), or on the first `failures` calls.
        failures: how many calls fail before the engine recovers; None means every call.
        unknown_words: words to report as unknown when a segment contains them.
        name: the engine's name in flags, audit records and cache keys.
        capabilities: what it claims it can do (e.g. `trusted=False` to exercise PII masking).
        latency: seconds each call takes, to stand for a remote engine (0: none).

    Every call is recorded in `calls` as `(source, target, segments)`, and its options in
    `options`.
    """

    name = "fake"

    def __init__(
        self,
        translations: Mapping[str, str] | None = None,
        *,
        pairs: Iterable[tuple[str, str]] | None = None,
        transform: Callable[[str, str, str], str] = _tag_target,
        fail_with: ServiceError | None = None,
        failures: int | None = None,
        unknown_words: Iterable[str] = (),
        name: str = "fake",
        version: str = "1",
        capabilities: Capabilities | None = None,
        latency: float = 0.0,
    ) -> None:
        self.latency = latency
        self.name = name  # type: ignore[misc]  # an instance may rename itself, for chains of fakes
        self._translations = dict(translations or {})
        self._pairs = frozenset((s, t) for s, t in pairs) if pairs is not None else None
        self._transform = transform
        self._fail_with = fail_with
        self._failures_left = failures
        self._unknown = tuple(unknown_words)
        self._version = version
        if capabilities is not None:
            self.capabilities = capabilities
        self._lock = threading.Lock()
        self.calls: list[tuple[str, str, tuple[str, ...]]] = []
        self.options: list[TranslateOptions] = []

    @property
    def version(self) -> str:
        """The version given at construction."""
        return self._version

    def pairs(self) -> frozenset[tuple[str, str]]:
        """The pairs given at construction, or an empty set meaning "any pair"."""
        return self._pairs or frozenset()

    def supports(self, source: str, target: str) -> bool:
        """Any pair unless `pairs` was given."""
        return self._pairs is None or (source, target) in self._pairs

    def is_available(self) -> bool:
        """Always available."""
        return True

    @property
    def segments_sent(self) -> int:
        """How many segments all calls together asked to translate."""
        return sum(len(segments) for _, _, segments in self.calls)

    def translate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> list[SegmentResult]:
        """Translate by lookup, else by `transform`; fail as scripted."""
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            self.calls.append((source, target, tuple(segments)))
            self.options.append(options)
            if self._fail_with is not None and self._failures_left != 0:
                if self._failures_left is not None:
                    self._failures_left -= 1
                raise self._fail_with
        if not self.supports(source, target):
            raise UnsupportedLanguageError(source, target, available=sorted(self.pairs()))
        return [self._translate_one(segment, source, target) for segment in segments]

    def _translate_one(self, segment: str, source: str, target: str) -> SegmentResult:
        text = self._translations.get(segment)
        if text is None:
            text = self._transform(segment, source, target)
        words = TOKEN_PATTERN.sub(" ", segment).split()
        unknown = tuple(word for word in words if word.strip(".,!?") in self._unknown)
        return SegmentResult(text=text, unknown_words=unknown, billed_characters=len(segment))


def __getattr__(name: str) -> object:
    # The contract suites need pytest, which tl_loop does not depend on: load them on demand.
    if name == "EngineContract":
        from tl_loop.testing._contracts import EngineContract

        return EngineContract
    if name == "AdapterContract":
        from tl_loop.testing._contracts import AdapterContract

        return AdapterContract
    if name in ("MemoryHelpdesk", "MemoryHelpdeskServer"):
        from tl_loop.testing import _memory_helpdesk

        return getattr(_memory_helpdesk, name)
    if name in _EMULATOR_NAMES:
        from tl_loop.testing import emulators

        return getattr(emulators, name)
    raise AttributeError(f"module 'tl_loop.testing' has no attribute {name!r}")
