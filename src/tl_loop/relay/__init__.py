"""`tl-loop serve`: the webhook relay between helpdesks and the translation loop.

Helpdesks post webhooks to `POST /webhooks/<adapter>`; the relay verifies and queues them
durably (SQLite), acknowledges at once, and worker threads translate and write back: customer
messages become internal notes for the agent, agent notes starting with `#tl` become public
replies in the customer's language. Needs the `serve` extra: `pip install 'tl-loop[serve]'`.

```python
from tl_loop import Loop
from tl_loop.relay import RelaySettings, create_app, serve
from tl_loop.testing import FakeEngine, MemoryHelpdesk

app = create_app(
    loop=Loop(engines=[FakeEngine()]),
    adapters={"memory": MemoryHelpdesk(base_url="http://127.0.0.1:9000", webhook_secret="s")},
    settings=RelaySettings(queue_path="relay.sqlite3"),
)
serve(app, host="127.0.0.1", port=8080)
```

The names below load their modules on first use, so importing this package needs nothing
beyond tl_loop itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tl_loop._errors import MissingDependencyError

if TYPE_CHECKING:
    from tl_loop.relay._app import create_app
    from tl_loop.relay._jobs import DeadLetterNotice, Job
    from tl_loop.relay._notes import NoteComposer, Trigger, parse_trigger
    from tl_loop.relay._outcomes_page import OutcomesCollector
    from tl_loop.relay._queue import JobQueue
    from tl_loop.relay._queue_pg import PostgresJobQueue
    from tl_loop.relay._relay import Accepted, Relay
    from tl_loop.relay._serve import (
        configure_logging,
        run_relay,
        run_serve,
        serve,
        uvicorn_config,
    )
    from tl_loop.relay._settings import RelaySettings, build_adapters, load_config_file
    from tl_loop.relay._status import RelayStatus, relay_status

__all__ = [
    "Accepted",
    "DeadLetterNotice",
    "Job",
    "JobQueue",
    "NoteComposer",
    "OutcomesCollector",
    "PostgresJobQueue",
    "Relay",
    "RelaySettings",
    "RelayStatus",
    "Trigger",
    "build_adapters",
    "configure_logging",
    "create_app",
    "load_config_file",
    "parse_trigger",
    "relay_status",
    "require_serve_dependencies",
    "run_relay",
    "run_serve",
    "serve",
    "uvicorn_config",
]

_LAZY = {
    "create_app": "_app",
    "Relay": "_relay",
    "Accepted": "_relay",
    "Job": "_jobs",
    "DeadLetterNotice": "_jobs",
    "PostgresJobQueue": "_queue_pg",
    "JobQueue": "_queue",
    "RelaySettings": "_settings",
    "build_adapters": "_settings",
    "load_config_file": "_settings",
    "NoteComposer": "_notes",
    "OutcomesCollector": "_outcomes_page",
    "Trigger": "_notes",
    "parse_trigger": "_notes",
    "configure_logging": "_serve",
    "RelayStatus": "_status",
    "relay_status": "_status",
    "run_relay": "_serve",
    "run_serve": "_serve",
    "serve": "_serve",
    "uvicorn_config": "_serve",
}

_SERVE_PACKAGES = ("starlette", "uvicorn", "prometheus_client", "nh3")
_INSTALL = "pip install 'tl-loop[serve]'"


def require_serve_dependencies() -> None:
    """Check the `serve` extra is installed.

    Raises:
        MissingDependencyError: a package of the extra is missing (names the install command).
    """
    for package in _SERVE_PACKAGES:
        try:
            importlib.import_module(package)
        except ImportError as error:
            raise MissingDependencyError(
                f"the relay needs {package}, which is not installed", install=_INSTALL
            ) from error


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tl_loop.relay' has no attribute {name!r}")
    try:
        loaded = importlib.import_module(f"tl_loop.relay.{module}")
    except ImportError as error:
        if error.name in _SERVE_PACKAGES:
            raise MissingDependencyError(
                f"tl_loop.relay.{name} needs {error.name}", install=_INSTALL
            ) from error
        raise
    return getattr(loaded, name)
