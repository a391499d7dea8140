"""The relay speaks the helpdesk's language to agents: how to set an unknown customer language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from relay_hooks import Webhooks

from tl_loop.testing import MemoryHelpdesk, MemoryHelpdeskServer

MakeWebhooks = Callable[..., Webhooks]


class TaggedHelpdesk(MemoryHelpdesk):
    def language_help(self) -> str:
        return "add the tag lang-xx to the ticket (e.g. lang-es)"


@pytest.fixture
def adapter(server: MemoryHelpdeskServer) -> MemoryHelpdesk:
    return TaggedHelpdesk(base_url=server.url, webhook_secret="words-secret")


def test_an_unknown_customer_language_is_explained_in_helpdesk_words(
    webhooks: MakeWebhooks, server: MemoryHelpdeskServer
) -> None:
    hooks = webhooks()
    assert hooks.agent("n1", "#tl Your order ships today.", conversation="c9").status_code == 202
    hooks.relay.drain()
    [note] = server.notes("c9")
    assert "NOT sent" in note.body
    assert "add the tag lang-xx to the ticket (e.g. lang-es)" in note.body
    assert "send your note again" in note.body
    assert "override_customer_language" not in note.body  # library words, not the agent's
    assert server.replies() == []
