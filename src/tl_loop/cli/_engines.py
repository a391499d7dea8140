"""`tl-loop engines` (health, pairs, breakers, language graph) and `tl-loop models` (Argos
Translate models)."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from tl_loop._errors import ConfigurationError, TlLoopError
from tl_loop._models import same_language
from tl_loop.cli._common import Commands, add_command, language_tag, load_config
from tl_loop.cli._language_graph import language_graph, print_graph
from tl_loop.engines._argos_index import (
    download_package,
    index_url,
    packages_for_pair,
    read_index,
)
from tl_loop.engines._argos_packages import install_model, list_models
from tl_loop.engines._base import Engine
from tl_loop.engines._guard import EngineGuard
from tl_loop.text import LanguageDetector

__all__ = ["add_engines_parser", "add_models_parser", "run_engines", "run_models"]


def add_engines_parser(commands: Commands) -> None:
    """Add `engines` to a `tl-loop` subcommand set."""
    engines = add_command(commands, "engines", help="engines: health, pairs and breaker state")
    engines.add_argument("--json", action="store_true")
    engines.add_argument(
        "--no-probe", dest="probe", action="store_false", help="skip the test translation"
    )
    engines.add_argument(
        "--hub", type=language_tag, metavar="LANG",
        help="the language the graph shows routes to and from (default: the first agent language)",
    )  # fmt: skip
    engines.add_argument(
        "--graph", action="store_true",
        help="only the language graph (with --json: the graph as one object)",
    )  # fmt: skip


def add_models_parser(commands: Commands) -> None:
    """Add `models install|list` to a `tl-loop` subcommand set."""
    models = add_command(
        commands, "models", help="Argos Translate models: install, list, available"
    )
    model_commands = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    install = add_command(
        model_commands, "install", help="install the model for a pair (from the index) or a file"
    )
    install.add_argument(
        "what", nargs="+", metavar="FROM TO | FILE",
        help="two languages (en el: downloads translate-en_el, or two packages through English)"
        " or a .argosmodel file",
    )  # fmt: skip
    _index_option(install)
    listing = add_command(model_commands, "list", help="installed models")
    listing.add_argument("--json", action="store_true")
    available = add_command(model_commands, "available", help="models the index offers")
    available.add_argument("--json", action="store_true")
    available.add_argument("--from", dest="source", type=language_tag, help="only from LANG")
    available.add_argument("--to", dest="target", type=language_tag, help="only into LANG")
    _index_option(available)


def _index_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index", metavar="URL",
        help="the package index (a URL or file; default: $TL_LOOP_ARGOS_INDEX, else the Argos "
        "project's)",
    )  # fmt: skip


def _probe(engine: Engine, guard: EngineGuard) -> dict[str, Any]:
    """Translate one short sentence on one of the engine's pairs, as a health check."""
    pairs = sorted(engine.pairs())
    pair = ("en", "es") if engine.supports("en", "es") else (pairs[0] if pairs else None)
    if pair is None:
        return {"ok": False, "error": "no language pairs"}
    started = time.perf_counter()
    try:
        engine.translate_batch(["Thank you for your patience."], source=pair[0], target=pair[1])
    except TlLoopError as error:
        guard.record(error)
        return {"ok": False, "pair": "-".join(pair), "error": str(error)}
    guard.record(None)
    latency = round((time.perf_counter() - started) * 1000, 1)
    return {"ok": True, "pair": "-".join(pair), "latency_ms": latency}


def run_engines(args: argparse.Namespace, stdout: TextIO) -> int:
    """Run `tl-loop engines`; returns the exit status."""
    config = load_config(args)
    chain = config.build_chain()
    hub = args.hub or config.agent_languages[0]
    rows: list[dict[str, Any]] = []
    with contextlib.closing(chain):
        graph = language_graph(chain, hub, LanguageDetector.detectable_languages())
        for engine in [] if args.graph else chain.engines:
            available = engine.is_available()
            guard = chain.guard(engine)
            probe = _probe(engine, guard) if available and args.probe else None
            status = guard.status()
            rows.append(
                {
                    "name": engine.name,
                    "available": available,
                    "version": engine.version if available else None,
                    "pairs": [f"{s}-{t}" for s, t in sorted(engine.pairs())],
                    "probe": probe,
                    "breaker": status.state.value,
                    "breaker_shared": status.shared,
                    "paused_seconds": round(status.paused_seconds, 1),
                    "max_concurrency": status.max_concurrency,
                    "install": engine.install_hint,
                    # Installed but left out as unfit (Apertium's skip_modes).
                    "skipped": list(getattr(engine, "skipped_modes", tuple)()),
                }
            )
    if args.json:
        print(json.dumps(graph.as_json() if args.graph else rows, ensure_ascii=False), file=stdout)
        return 0
    for row in rows:
        if not row["available"]:
            print(f"{row['name']}: not available ({row['install']})", file=stdout)
            continue
        probe = row["probe"]
        health = (
            "not probed"
            if probe is None
            else f"healthy ({probe['latency_ms']} ms on {probe['pair']})"
            if probe["ok"]
            else f"failing: {probe['error']}"
        )
        breaker = f"breaker {row['breaker']}" + (" (shared)" if row["breaker_shared"] else "")
        if row["paused_seconds"]:
            breaker += f"; rate limited, paused {row['paused_seconds']:.0f} s more"
        print(f"{row['name']} {row['version']}: {health}; {breaker}", file=stdout)
        print(f"  pairs ({len(row['pairs'])}): " + ", ".join(row["pairs"]), file=stdout)
        if row["skipped"]:
            print(f"  installed, left out as unfit (skip_modes): {', '.join(row['skipped'])}",
                  file=stdout)  # fmt: skip
    print_graph(graph, stdout)
    return 0


def run_models(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run `tl-loop models install|list|available`; returns the exit status."""
    packages_dir = load_config(args).engine.get("argos", {}).get("packages_dir")
    if args.models_command == "install":
        return _install(args, packages_dir, stdout, stderr)
    if args.models_command == "available":
        return _available(args, stdout)
    models = list_models(packages_dir=packages_dir)
    if args.json:
        rows = [
            {"code": m.code, "source": m.source, "target": m.target, "version": m.version,
             "path": str(m.path)}
            for m in models
        ]  # fmt: skip
        print(json.dumps(rows, ensure_ascii=False), file=stdout)
    elif not models:
        print("no Argos models installed; install one with: tl-loop models install en es",
              file=stdout)  # fmt: skip
    for model in [] if args.json else models:
        print(f"{model.code}\t{model.source} → {model.target}\t{model.version}", file=stdout)
    return 0


def _install(
    args: argparse.Namespace, packages_dir: str | None, stdout: TextIO, stderr: TextIO
) -> int:
    if len(args.what) == 1:
        archives = [Path(args.what[0])]
    elif len(args.what) == 2:
        archives = _download_pair(args, *args.what, stderr=stderr)
    else:
        raise ConfigurationError("models install takes two languages (en el) or one file")
    for archive in archives:
        model = install_model(archive, packages_dir=packages_dir)
        print(f"installed {model.code} {model.version} ({model.source} → {model.target})",
              file=stdout)  # fmt: skip
    return 0


def _download_pair(
    args: argparse.Namespace, source: str, target: str, *, stderr: TextIO
) -> list[Path]:
    source, target = language_tag(source), language_tag(target)
    url = index_url(args.index)
    offered = read_index(url)
    chosen = packages_for_pair(offered, source, target)
    if not chosen:
        languages = sorted({p.source for p in offered} | {p.target for p in offered})
        raise ConfigurationError(
            f"the index {url} has no package for {source}→{target}, directly or through "
            f"English; it covers: {', '.join(languages) or 'nothing'}"
        )
    folder = Path(tempfile.mkdtemp(prefix="tl-loop-models-"))
    archives = []
    try:
        for package in chosen:
            print(f"downloading {package.code} {package.version} from {package.links[0]}",
                  file=stderr)  # fmt: skip
            archives.append(download_package(package, folder))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return archives


def _available(args: argparse.Namespace, stdout: TextIO) -> int:
    packages = [
        p for p in read_index(index_url(args.index))
        if (args.source is None or same_language(p.source, args.source))
        and (args.target is None or same_language(p.target, args.target))
    ]  # fmt: skip
    if args.json:
        rows = [{"code": p.code, "source": p.source, "target": p.target, "version": p.version,
                 "size": p.size} for p in packages]  # fmt: skip
        print(json.dumps(rows, ensure_ascii=False), file=stdout)
        return 0
    for package in packages:
        size = f"{package.size / 1e6:.1f} MB" if package.size else "-"
        print(f"{package.code}\t{package.source} → {package.target}\t{package.version}\t{size}",
              file=stdout)  # fmt: skip
    return 0
