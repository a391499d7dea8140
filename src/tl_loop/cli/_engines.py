"""`tl-loop engines` (health, pairs, breakers) and `tl-loop models` (Argos Translate models)."""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from pathlib import Path
from typing import Any, TextIO

from tl_loop._errors import TlLoopError
from tl_loop.cli._common import Commands, add_command, load_config
from tl_loop.engines._argos_packages import install_model, list_models
from tl_loop.engines._base import Engine
from tl_loop.engines._guard import EngineGuard

__all__ = ["add_engines_parser", "add_models_parser", "run_engines", "run_models"]


def add_engines_parser(commands: Commands) -> None:
    """Add `engines` to a `tl-loop` subcommand set."""
    engines = add_command(commands, "engines", help="engines: health, pairs and breaker state")
    engines.add_argument("--json", action="store_true")
    engines.add_argument(
        "--no-probe", dest="probe", action="store_false", help="skip the test translation"
    )


def add_models_parser(commands: Commands) -> None:
    """Add `models install|list` to a `tl-loop` subcommand set."""
    models = add_command(commands, "models", help="Argos Translate models: install, list")
    model_commands = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    install = add_command(model_commands, "install", help="install a .argosmodel package file")
    install.add_argument("path", type=Path, help="the .argosmodel file")
    listing = add_command(model_commands, "list", help="installed models")
    listing.add_argument("--json", action="store_true")


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
    chain = load_config(args).build_chain()
    rows: list[dict[str, Any]] = []
    with contextlib.closing(chain):
        for engine in chain.engines:
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
                    "max_concurrency": status.max_concurrency,
                    "install": engine.install_hint,
                }
            )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False), file=stdout)
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
        print(f"{row['name']} {row['version']}: {health}; breaker {row['breaker']}", file=stdout)
        print(f"  pairs ({len(row['pairs'])}): " + ", ".join(row["pairs"]), file=stdout)
    return 0


def run_models(args: argparse.Namespace, stdout: TextIO) -> int:
    """Run `tl-loop models install|list`; returns the exit status."""
    packages_dir = load_config(args).engine.get("argos", {}).get("packages_dir")
    if args.models_command == "install":
        model = install_model(args.path, packages_dir=packages_dir)
        print(
            f"installed {model.code} {model.version} ({model.source} → {model.target})", file=stdout
        )
        return 0
    models = list_models(packages_dir=packages_dir)
    if args.json:
        rows = [
            {"code": m.code, "source": m.source, "target": m.target, "version": m.version,
             "path": str(m.path)}
            for m in models
        ]  # fmt: skip
        print(json.dumps(rows, ensure_ascii=False), file=stdout)
    elif not models:
        print("no Argos models installed; install one with: tl-loop models install FILE.argosmodel",
              file=stdout)  # fmt: skip
    for model in [] if args.json else models:
        print(f"{model.code}\t{model.source} → {model.target}\t{model.version}", file=stdout)
    return 0
