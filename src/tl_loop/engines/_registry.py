"""Engine names → engine classes, loaded lazily; third parties register by entry point.

Built-in engines are import strings, so naming an engine never imports the others (or their
heavy dependencies). A package adds its own engine under the entry-point group
`tl_loop.engines`:

```toml
[project.entry-points."tl_loop.engines"]
myengine = "my_package.engine:MyEngine"
```
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from tl_loop._errors import ConfigurationError
from tl_loop.engines._base import Engine

__all__ = ["create_engine", "engine_names", "load_engine_class"]

_BUILTIN = {
    "amazon": "tl_loop.engines._amazon:AmazonEngine",
    "apertium": "tl_loop.engines._apertium:ApertiumEngine",
    "apertium-apy": "tl_loop.engines._apy:APyEngine",
    "argos": "tl_loop.engines._argos:ArgosEngine",
    "azure": "tl_loop.engines._azure:AzureEngine",
    "deepl": "tl_loop.engines._deepl:DeepLEngine",
    "fake": "tl_loop.testing:FakeEngine",
    "google": "tl_loop.engines._google:GoogleTranslateEngine",
    "google-v3": "tl_loop.engines._google_v3:GoogleTranslateV3Engine",
    "libretranslate": "tl_loop.engines._libretranslate:LibreTranslateEngine",
    "llm": "tl_loop.engines._llm:LLMEngine",
}
_GROUP = "tl_loop.engines"


def _targets() -> dict[str, str]:
    found = {ep.name: ep.value for ep in entry_points(group=_GROUP)}
    return {**found, **_BUILTIN}  # built-in names cannot be hijacked by a plug-in


def engine_names() -> list[str]:
    """Every engine name known here: built-in and registered by entry point."""
    return sorted(_targets())


def load_engine_class(name: str) -> type[Engine]:
    """The engine class registered under `name`.

    Raises:
        ConfigurationError: no engine has that name (the message lists the known names).
    """
    target = _targets().get(name)
    if target is None:
        raise ConfigurationError(
            f"unknown engine {name!r}; known engines: {', '.join(engine_names())}"
        )
    module_name, _, attribute = target.partition(":")
    engine_class: type[Engine] = getattr(importlib.import_module(module_name), attribute)
    return engine_class


def create_engine(name: str, **options: Any) -> Engine:
    """Build the engine registered under `name` with keyword options from configuration.

    Raises:
        ConfigurationError: unknown name, or options the engine does not take.
    """
    engine_class = load_engine_class(name)
    try:
        return engine_class(**options)
    except TypeError as error:
        raise ConfigurationError(
            f"engine {name!r}: bad options {sorted(options)}: {error}"
        ) from error
