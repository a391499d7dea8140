"""Review fixtures: a loopback helpdesk, and relays whose loop has a translation memory and a
review policy that holds doubtful replies (the PostgreSQL server comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from review_support import HOLD_WARNINGS, SECRET, TRANSLATIONS, MakeRelay

from tl_loop import LanguageDetector, Loop, ReviewPolicy
from tl_loop.relay import Relay, RelaySettings
from tl_loop.stores import InMemoryTranslationMemory
from tl_loop.testing import FakeEngine, MemoryHelpdesk, MemoryHelpdeskServer


@pytest.fixture(scope="session")
def detector() -> LanguageDetector:
    return LanguageDetector(["en", "es"])


@pytest.fixture
def server() -> Iterator[MemoryHelpdeskServer]:
    with MemoryHelpdeskServer() as running:
        yield running


@pytest.fixture
def adapter(server: MemoryHelpdeskServer) -> MemoryHelpdesk:
    return MemoryHelpdesk(base_url=server.url, webhook_secret=SECRET)


@pytest.fixture
def memory() -> InMemoryTranslationMemory:
    return InMemoryTranslationMemory()


@pytest.fixture
def make_relay(
    tmp_path: Path,
    adapter: MemoryHelpdesk,
    detector: LanguageDetector,
    memory: InMemoryTranslationMemory,
) -> Iterator[MakeRelay]:
    """Relays on one queue directory; each call is a new relay (as after a restart)."""
    relays: list[Relay] = []

    def make(*, policy: ReviewPolicy = HOLD_WARNINGS, **settings: object) -> Relay:
        options: dict[str, object] = {"queue_path": tmp_path / "queue.sqlite3"}
        options.update(settings)
        loop = Loop(
            engines=[FakeEngine(TRANSLATIONS)],
            detector=detector,
            policy=policy,
            memory=memory,
        )
        relay = Relay(
            loop=loop,
            adapters={"memory": adapter},
            settings=RelaySettings.model_validate(options),
        )
        relays.append(relay)
        return relay

    yield make
    for relay in relays:
        relay.close()
