"""The language graph of `tl-loop engines`: which languages reach the agents' language (the hub)
and back, directly or through a pivot, and how many of the detectable languages that covers.

Routes are asked of the chain itself (`EngineChain.routes`), so the graph shows what a message
would really take, pivots and one-way pairs included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from tl_loop._models import primary_language, same_language
from tl_loop.engines._chain import EngineChain, Route

__all__ = ["LanguageGraph", "language_graph", "print_graph"]


@dataclass(frozen=True, slots=True)
class _Link:
    """How one language reaches another: `direct`, `via es`, or nothing."""

    route: Route | None

    def describe(self) -> str:
        if self.route is None:
            return "—"
        engines = "+".join(dict.fromkeys(hop.engine.name for hop in self.route.hops))
        middle = self.route.languages[1:-1]
        return f"via {' → '.join(middle)} ({engines})" if middle else f"direct ({engines})"

    def as_json(self) -> dict[str, Any] | None:
        if self.route is None:
            return None
        return {"via": list(self.route.languages[1:-1]), "engines": self.route.engine_name}


@dataclass(frozen=True, slots=True)
class LanguageGraph:
    """Routes between the hub and each language the engines know, and coverage figures."""

    hub: str
    rows: tuple[tuple[str, _Link, _Link], ...]  # language, language → hub, hub → language
    detectable: tuple[str, ...]

    def coverage(self) -> dict[str, list[str]]:
        """The detectable languages other than the hub, by the directions they are served."""
        served = {language: (into.route, out.route) for language, into, out in self.rows}
        groups: dict[str, list[str]] = {"both": [], "into": [], "from": [], "none": []}
        for language in self.detectable:
            if same_language(language, self.hub):
                continue
            into, out = served.get(language, (None, None))
            key = "both" if into and out else "into" if into else "from" if out else "none"
            groups[key].append(language)
        return groups

    def as_json(self) -> dict[str, Any]:
        """The graph for `--json`: a row per language and the coverage groups."""
        return {
            "hub": self.hub,
            "languages": [
                {"language": language, "to_hub": into.as_json(), "from_hub": out.as_json()}
                for language, into, out in self.rows
            ],
            "detectable": len(self.detectable),
            "coverage": self.coverage(),
        }


def language_graph(chain: EngineChain, hub: str, detectable: Iterable[str]) -> LanguageGraph:
    """Ask the chain for the best route between `hub` and every language it or detection knows.

    Languages are compared by their primary subtag (`sr-Latn` is listed as `sr`): a row says
    whether a customer writing the language can be read and answered.
    """
    detectable = tuple(detectable)
    known = {primary_language(tag) for pair in chain.pairs() for tag in pair} | set(detectable)
    rows = []
    for language in sorted(known):
        if same_language(language, hub):
            continue
        into = _Link(_best(chain.routes(language, hub)))
        out = _Link(_best(chain.routes(hub, language)))
        if into.route or out.route:
            rows.append((language, into, out))
    return LanguageGraph(hub=hub, rows=tuple(rows), detectable=detectable)


def _best(routes: list[Route]) -> Route | None:
    return routes[0] if routes else None


def print_graph(graph: LanguageGraph, stdout: TextIO) -> None:
    """The graph as a table, then the coverage of the detectable languages."""
    hub = graph.hub
    width = max([len(f"{hub} → xx"), *(len(into.describe()) for _, into, _ in graph.rows)])
    print(f"\nroutes to and from {hub} (direct, or via a pivot language):", file=stdout)
    print(f"  {'language':<9} {'→ ' + hub:<{width}}  {hub} →", file=stdout)
    for language, into, out in graph.rows:
        print(f"  {language:<9} {into.describe():<{width}}  {out.describe()}", file=stdout)
    groups = graph.coverage()
    print(
        f"\nof the {len(graph.detectable)} languages lingua detects, with {hub}: "
        f"{_listed(groups['both'])} both ways; {_listed(groups['into'])} into {hub} only; "
        f"{_listed(groups['from'])} from {hub} only; {len(groups['none'])} not served",
        file=stdout,
    )


def _listed(languages: list[str]) -> str:
    return f"{len(languages)} ({', '.join(languages)})" if languages else "0"
