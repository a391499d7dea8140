"""Local emulators of the helpdesk platforms: try the relay, or test an adapter, without an account.

Each emulator is a real HTTP server on loopback speaking the subset of the platform's API its
adapter uses: the real paths and JSON shapes, the platform's auth (OAuth token endpoints
included), pagination, rate-limit headers and limits such as the longest note. It holds
conversations and knowledge-base articles, records every note, reply and language write it
receives, and sends webhooks in the platform's real shape, signed as the platform signs them.

```python
from tl_loop.testing import ZendeskEmulator

with ZendeskEmulator() as zendesk:
    adapter = zendesk.adapter()                  # the installed ZendeskAdapter, pointed here
    ticket = zendesk.open_conversation()
    webhook = zendesk.customer_message(ticket, "Hola, mi pedido no ha llegado.")
    # POST webhook.body with webhook.headers to the relay, or zendesk.send(webhook, url=...)
```

From a shell, `python -m tl_loop.testing.emulators zendesk --relay http://127.0.0.1:8080`
runs one interactively (see docs/helpdesks/).

To emulate another platform, subclass `EmulatorServer`: register routes in `routes()`, check
credentials in `authenticate`, render the store in the platform's shapes and sign its webhooks.
"""

from __future__ import annotations

from tl_loop._errors import ConfigurationError
from tl_loop.testing.emulators._chatwoot import ChatwootEmulator
from tl_loop.testing.emulators._freshdesk import FreshdeskEmulator
from tl_loop.testing.emulators._front import FrontEmulator
from tl_loop.testing.emulators._helpscout import HelpScoutEmulator
from tl_loop.testing.emulators._intercom import IntercomEmulator
from tl_loop.testing.emulators._oauth import TokenIssuer
from tl_loop.testing.emulators._salesforce import SalesforceEmulator
from tl_loop.testing.emulators._server import (
    EmulatorRequest,
    EmulatorResponse,
    EmulatorServer,
    Refusal,
    Webhook,
)
from tl_loop.testing.emulators._store import (
    EmulatedArticle,
    EmulatedConversation,
    EmulatedMessage,
    EmulatorStore,
    Rating,
    Write,
)
from tl_loop.testing.emulators._zammad import ZammadEmulator
from tl_loop.testing.emulators._zendesk import ZendeskEmulator

__all__ = [
    "EMULATORS",
    "ChatwootEmulator",
    "EmulatedArticle",
    "EmulatedConversation",
    "EmulatedMessage",
    "EmulatorRequest",
    "EmulatorResponse",
    "EmulatorServer",
    "EmulatorStore",
    "FreshdeskEmulator",
    "FrontEmulator",
    "HelpScoutEmulator",
    "IntercomEmulator",
    "Rating",
    "Refusal",
    "SalesforceEmulator",
    "TokenIssuer",
    "Webhook",
    "Write",
    "ZammadEmulator",
    "ZendeskEmulator",
    "emulator_class",
]

EMULATORS: dict[str, type[EmulatorServer]] = {
    cls.platform: cls
    for cls in (
        ZendeskEmulator,
        FreshdeskEmulator,
        IntercomEmulator,
        ZammadEmulator,
        ChatwootEmulator,
        HelpScoutEmulator,
        FrontEmulator,
        SalesforceEmulator,
    )
}
"""Every built-in emulator by its adapter's name."""


def emulator_class(platform: str) -> type[EmulatorServer]:
    """The emulator for the adapter named `platform` (e.g. `zendesk`).

    Raises:
        ConfigurationError: no emulator has that name (the message lists them).
    """
    try:
        return EMULATORS[platform]
    except KeyError:
        raise ConfigurationError(
            f"no emulator for {platform!r}; emulators: {', '.join(sorted(EMULATORS))}"
        ) from None
