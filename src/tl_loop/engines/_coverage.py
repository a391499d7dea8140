"""What would serve a language pair no configured engine serves: the hint of every
"no engine translates X→Y" message.

Cloud engines' documented languages are read from their modules by import string, as the
registry loads engines, so naming a pair never imports an engine that is not configured until
a message needs the hint.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from tl_loop._models import primary_language

__all__ = ["cloud_engines_for", "pair_hint"]

# engine name → (module, attribute): the languages each cloud engine documents.
_CLOUD_LANGUAGES = {
    "deepl": ("tl_loop.engines._deepl", "_SOURCES"),
    "google": ("tl_loop.engines._google", "GOOGLE_LANGUAGES"),
    "azure": ("tl_loop.engines._azure", "AZURE_LANGUAGES"),
    "amazon": ("tl_loop.engines._amazon", "AMAZON_LANGUAGES"),
}
# The variable each one reads its key from (docs/engines-<name>.md shows the TOML).
_CLOUD_KEYS = {
    "deepl": "DEEPL_AUTH_KEY",
    "google": "GOOGLE_TRANSLATE_API_KEY",
    "azure": "AZURE_TRANSLATOR_KEY",
    "amazon": "AWS credentials",
}


def _languages(name: str) -> frozenset[str]:
    module, attribute = _CLOUD_LANGUAGES[name]
    codes: Iterable[str] = getattr(importlib.import_module(module), attribute)
    return frozenset(primary_language(code.lower()) for code in codes)


def cloud_engines_for(source: str, target: str) -> list[str]:
    """The cloud engines whose documented languages include both of the pair's."""
    wanted = {primary_language(source), primary_language(target)}
    return [name for name in _CLOUD_LANGUAGES if wanted <= _languages(name)]


def pair_hint(source: str, target: str, configured: Iterable[str]) -> str:
    """How to get `source`→`target` served here: an Argos model, a cloud engine, the config."""
    src, tgt = primary_language(source), primary_language(target)
    configured = list(configured)
    steps = [
        f"offline: tl-loop models install {src} {tgt} (the Argos package translate-{src}_{tgt}, "
        "or two packages through English; see docs/engines-argos.md)"
        + ("" if "argos" in configured else ', then add "argos" to engines')
    ]
    cloud = cloud_engines_for(source, target)
    if cloud:
        listed = ", ".join(f"{name} ({_CLOUD_KEYS[name]})" for name in cloud)
        example = ", ".join(f'"{name}"' for name in [*configured, cloud[0]])
        steps.append(f"cloud engines that translate it: {listed}, e.g. engines = [{example}]")
    return "To add it — " + "; ".join(steps)
