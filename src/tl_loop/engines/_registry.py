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
import inspect
import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from tl_loop._errors import ConfigurationError
from tl_loop.engines._base import Engine

__all__ = ["build_engine", "create_engine", "engine_names", "load_engine_class"]

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
# Constructor options that are objects, not values a TOML file can hold.
_NOT_IN_FILES = ("client", "retry", "transport")


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
    return build_engine(name, options)


def build_engine(
    name: str, options: Mapping[str, Any], *, environ: Mapping[str, str] | None = None
) -> Engine:
    """Build an engine from its `[engine.<name>]` table, secrets read from the environment.

    `<option>_env = "VARIABLE"` reads that option from the variable. When a required option
    (an API key) is not in the table, or `from_env = true`, the engine's own `from_env()` reads
    the vendor's conventional variables (`DEEPL_AUTH_KEY`, `AZURE_TRANSLATOR_KEY`, the AWS
    variables, `OPENAI_API_KEY`/`OPENAI_BASE_URL`, ...), the table's options passed along.

    Raises:
        ConfigurationError: an unknown engine or option (the message lists the known ones), a
            variable that is not set, or a value the engine refuses.
    """
    env = os.environ if environ is None else environ
    engine_class = load_engine_class(name)
    table = dict(options)
    use_env = bool(table.pop("from_env", False))
    values = _resolve(name, table, env)
    parameters = inspect.signature(engine_class).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        unknown = sorted(set(values) - set(parameters))
        if unknown:
            known = ", ".join(
                n for n, p in parameters.items()
                if p.kind is p.KEYWORD_ONLY and not n.endswith(_NOT_IN_FILES)
            )  # fmt: skip
            raise ConfigurationError(
                f"unknown option {', '.join(unknown)} for {name}; known: {known} "
                "(and <option>_env to read one from a variable)"
            )
    required = [
        n for n, p in parameters.items()
        if p.default is p.empty and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]  # fmt: skip
    from_env = getattr(engine_class, "from_env", None)
    try:
        if from_env is not None and (use_env or any(n not in values for n in required)):
            engine: Engine = from_env(env, **values)
            return engine
        return engine_class(**values)
    except TypeError as error:
        raise ConfigurationError(
            f"engine {name!r}: bad options {sorted(values)}: {error}"
        ) from error


def _resolve(name: str, table: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if not key.endswith("_env"):
            values[key] = value
            continue
        variable = str(value)
        if not env.get(variable):
            raise ConfigurationError(
                f"engine.{name}.{key}: the environment variable {variable} is not set; "
                f"export it with the value for {key.removesuffix('_env')!r}"
            )
        values[key.removesuffix("_env")] = env[variable]
    return values
