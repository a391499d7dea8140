"""Fixtures for the relay: a real loopback helpdesk, its adapter, a loop on the FakeEngine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from relay_hooks import Webhooks

from tl_loop import LanguageDetector, Loop
from tl_loop.relay import Relay, RelaySettings
from tl_loop.testing import FakeEngine, MemoryHelpdesk, MemoryHelpdeskServer

SECRET = "relay-test-secret"

# Believable translations, so review checks pass and decisions are plain `send`.
TRANSLATIONS = {
    "Hola, mi pedido no ha llegado todavía.": "Hello, my order has not arrived yet.",
    "¿Pueden ayudarme, por favor?": "Can you help me, please?",
    "Your order ships today.": "Su pedido se envía hoy.",
    "Thank you for your patience.": "Gracias por su paciencia.",
}


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
def make_relay(
    tmp_path: Path, adapter: MemoryHelpdesk, detector: LanguageDetector
) -> Iterator[Callable[..., Relay]]:
    relays: list[Relay] = []

    def make(**settings: object) -> Relay:
        options: dict[str, object] = {"queue_path": tmp_path / "queue.sqlite3"}
        options.update(settings)
        relay = Relay(
            loop=Loop(engines=[FakeEngine(TRANSLATIONS)], detector=detector),
            adapters={"memory": adapter},
            settings=RelaySettings.model_validate(options),
        )
        relays.append(relay)
        return relay

    yield make
    for relay in relays:
        relay.close()


@pytest.fixture
def webhooks(make_relay: Callable[..., Relay], adapter: MemoryHelpdesk) -> Callable[..., Webhooks]:
    def make(**settings: object) -> Webhooks:
        return Webhooks(make_relay(**settings), adapter)

    return make
