"""Routing rules: which engines to prefer for which language pair.

```python
rules = [
    RoutingRule(source="fa", engines=("argos",)),          # Persian → Argos first
    RoutingRule(target="de", engines=("deepl",)),          # anything → German: DeepL first
]
```

The first rule that matches a pair puts its engines first, in its order; the chain's other
engines follow as fallbacks unless the rule is `exclusive`. A pair no rule matches uses the
chain's own order. Languages match on the base tag too: a rule for `pt` covers `pt-BR`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tl_loop._models import normalize_tag
from tl_loop.engines._base import Engine

__all__ = ["RoutingRule", "order_engines"]


def _matches(pattern: str, tag: str) -> bool:
    return pattern == "*" or pattern == tag or pattern == tag.split("-")[0]


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """Prefer `engines` (by name) for pairs matching `source` → `target` (`*` matches any).

    Args:
        source: source language, or `*`.
        target: target language, or `*`.
        engines: engine names in order of preference.
        exclusive: use only these engines for the pair: no fallback to the others.
    """

    source: str = "*"
    target: str = "*"
    engines: tuple[str, ...] = ()
    exclusive: bool = False

    def __post_init__(self) -> None:
        for field_name in ("source", "target"):
            value = getattr(self, field_name)
            if value != "*":
                object.__setattr__(self, field_name, normalize_tag(value))
        object.__setattr__(self, "engines", tuple(self.engines))

    def matches(self, source: str, target: str) -> bool:
        """Whether the rule applies to this pair."""
        return _matches(self.source, source) and _matches(self.target, target)


def order_engines(
    engines: Sequence[Engine], rules: Sequence[RoutingRule], source: str, target: str
) -> list[Engine]:
    """The engines in the order to try for this pair."""
    rule = next((rule for rule in rules if rule.matches(source, target)), None)
    if rule is None:
        return list(engines)
    preferred = [engine for name in rule.engines for engine in engines if engine.name == name]
    if rule.exclusive:
        return preferred
    return preferred + [engine for engine in engines if engine not in preferred]
