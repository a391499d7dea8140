"""`RelaySettings`: the `[relay]` and `[adapters.<name>]` tables of the loop's TOML file.

```toml
engines = ["apertium"]              # the loop itself: see TlLoopConfig

[relay]
host = "0.0.0.0"
port = 8080
queue_path = "relay.sqlite3"        # relative to this file
review_path = "review.sqlite3"      # held and flagged replies (or review_url: PostgreSQL)
workers = 2
trigger = "#tl"
preview_trigger = "#tl?"
disclosure = true

[adapters.zendesk]                  # the table name is the webhook path: /webhooks/zendesk
subdomain = "acme"
email = "bot@acme.example"
api_token_env = "ZENDESK_API_TOKEN" # `<option>_env`: read the option from this variable
webhook_secret_env = "ZENDESK_WEBHOOK_SECRET"
```

An adapter table may list the client addresses allowed to post its webhooks, as addresses or
networks: `allow_from = ["203.0.113.0/24"]` (others get 403). Use it for platforms whose webhooks
carry a shared secret instead of a signature (Freshdesk).

An adapter table may name its class with `type = "<entry point>"` (default: the table name) or
`class = "package.module:ClassName"`, or say `from_env = true` to build it with the adapter's own
`from_env()`. Secrets belong in the environment, never in the file.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from tl_loop._config import TlLoopConfig, load_config
from tl_loop._errors import ConfigurationError
from tl_loop._relay_settings import RelaySettings
from tl_loop.helpdesk._adapter import HelpdeskAdapter, load_adapter_class

__all__ = ["RelaySettings", "build_adapters", "load_config_file"]

_RESERVED = frozenset({"type", "class", "from_env", "agent_languages", "allow_from"})


def load_config_file(path: str | os.PathLike[str]) -> tuple[TlLoopConfig, RelaySettings]:
    """Read one TOML file into the loop's configuration and the relay's settings.

    The same as `load_config(path)`, whose `relay` attribute is the second value: the
    environment overlays the file, relative paths are taken from the file's folder.

    Raises:
        ConfigurationError: the file is missing, not TOML, or has a wrong key or value.
    """
    config = load_config(path)
    return config, config.relay


def _adapter_class(name: str, table: Mapping[str, Any]) -> type[HelpdeskAdapter]:
    spec = table.get("class")
    if spec is None:
        return load_adapter_class(str(table.get("type", name)))
    module_name, _, attribute = str(spec).partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ConfigurationError(
            f"adapters.{name}.class = {spec!r} cannot be imported ({error}); "
            "write it as 'package.module:ClassName'"
        ) from error
    if not (isinstance(found, type) and issubclass(found, HelpdeskAdapter)):
        raise ConfigurationError(f"adapters.{name}.class = {spec!r} is not a HelpdeskAdapter")
    return found


def _options(name: str, table: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key, value in table.items():
        if key in _RESERVED:
            continue
        if key.endswith("_env"):
            variable = str(value)
            if variable not in env:
                raise ConfigurationError(
                    f"adapters.{name}.{key}: environment variable {variable} is not set; "
                    f"export it with the value for {key[:-4]!r}"
                )
            options[key[:-4]] = env[variable]
        else:
            options[key] = value
    return options


def build_adapters(
    settings: RelaySettings, environ: Mapping[str, str] | None = None
) -> dict[str, HelpdeskAdapter]:
    """Build each configured adapter, credentials read from the environment.

    Raises:
        ConfigurationError: an unknown adapter, a missing variable, or options it refuses.
    """
    env = os.environ if environ is None else environ
    adapters: dict[str, HelpdeskAdapter] = {}
    for name, table in settings.adapters.items():
        cls = _adapter_class(name, table)
        try:
            if table.get("from_env"):
                from_env = getattr(cls, "from_env", None)
                if from_env is None:
                    raise ConfigurationError(f"adapters.{name}: {cls.__name__} has no from_env()")
                adapters[name] = from_env(env)
            else:
                adapters[name] = cls(**_options(name, table, env))
        except (TypeError, KeyError) as error:
            raise ConfigurationError(
                f"adapters.{name}: {cls.__name__} refused the options ({error}); "
                "check the option names in its documentation"
            ) from error
    return adapters


def adapter_agent_languages(settings: RelaySettings, name: str) -> list[str] | None:
    """The agent languages for one adapter: its own table's, else the relay's, else None."""
    table = settings.adapters.get(name, {})
    value = table.get("agent_languages")
    return list(value) if value else settings.agent_languages


def adapter_allow_from(settings: RelaySettings, name: str) -> list[str] | None:
    """The networks allowed to post this adapter's webhooks (`allow_from`), or None for any.

    Raises:
        ConfigurationError: `allow_from` is not a list of addresses or networks.
    """
    value = settings.adapters.get(name, {}).get("allow_from")
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, list):
        raise ConfigurationError(
            f'adapters.{name}.allow_from must be a list, e.g. ["203.0.113.0/24"]'
        )
    return [str(entry) for entry in value]
