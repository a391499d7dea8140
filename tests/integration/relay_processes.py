"""The integration tests' relay: a configuration file for `python -m tl_loop.relay` with the
fake engine and the memory helpdesk, and the environment holding its webhook secret. The
process itself is `relay_servers.RelayProcess` (shared with the other tests and `bench/`):

```python
relay = RelayProcess(write_config(tmp_path, helpdesk.url), env=ENV).start()
```
"""

from __future__ import annotations

import json
from pathlib import Path

from relay_servers import RelayProcess

SECRET = "e2e-webhook-secret"
ENV = {"TL_E2E_WEBHOOK_SECRET": SECRET}  # what the configuration's webhook_secret_env names
SPANISH = "Hola, mi pedido no ha llegado todavía."
TRANSLATIONS = {
    SPANISH: "Hello, my order has not arrived yet.",
    "Your order ships today.": "Su pedido se envía hoy.",
    "Thank you for your patience.": "Gracias por su paciencia.",
}


def write_config(
    directory: Path,
    helpdesk_url: str,
    relay: str = "",
    name: str = "tl-loop",
    *,
    engines: tuple[str, ...] = ("fake",),
    tables: str = "",
) -> Path:
    """A relay configuration file; `relay` adds lines to (or overrides) the `[relay]` table,
    `engines` is the chain (the fake engine serves the translations below), `tables` adds
    whole TOML tables (an engine's options, `[breaker]`)."""
    translations = "\n".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in TRANSLATIONS.items())
    config = directory / f"{name}.toml"
    config.write_text(
        f"""
engines = {json.dumps(list(engines))}
agent_languages = ["en"]

[engine.fake.translations]
{translations}

[detection]
languages = ["en", "es"]

[relay]
{relay or 'queue_path = "queue.sqlite3"'}
workers = 2
poll_seconds = 0.1
http_timeout = 3
lease_seconds = 12

[adapters.memory]
class = "tl_loop.testing._memory_helpdesk:MemoryHelpdesk"
base_url = "{helpdesk_url}"
webhook_secret_env = "TL_E2E_WEBHOOK_SECRET"
{tables}""",
        encoding="utf-8",
    )
    return config


__all__ = ["ENV", "SECRET", "SPANISH", "TRANSLATIONS", "RelayProcess", "write_config"]
