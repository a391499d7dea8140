"""`tl-loop`: translate, detect, engines, demo.

The command line is a stable contract (scripts and later tools parse its `--json` output).
Errors are one line on stderr and a non-zero exit: 2 for bad input or configuration, 1 when the
work could not be done.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from tl_loop._config import TlLoopConfig
from tl_loop._errors import ConfigurationError, GlossaryError, TlLoopError, UnsupportedLanguageError
from tl_loop._loop import Loop
from tl_loop._models import Translation, normalize_tag
from tl_loop.cli._demo import run_demo
from tl_loop.engines._base import Engine
from tl_loop.engines._guard import EngineGuard
from tl_loop.kb import add_kb_parser, run_kb
from tl_loop.review import add_review_parser, run_review
from tl_loop.review._stats_cli import (
    add_glossary_parser,
    add_stats_parser,
    run_glossary,
    run_stats,
)
from tl_loop.text._language import LanguageDetector

__all__ = ["main"]


def _tag(value: str) -> str:
    try:
        return normalize_tag(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tl-loop", description="Translation in the loop of customer support."
    )
    parser.add_argument(
        "--config", type=Path, help="TOML configuration file (default: $TL_LOOP_CONFIG)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    translate = commands.add_parser("translate", help="translate text")
    translate.add_argument("--from", dest="source", type=_tag, help="source language (detected)")
    translate.add_argument("--to", dest="target", type=_tag, required=True, help="target language")
    translate.add_argument(
        "--engine", action="append", dest="engines", metavar="NAME",
        help="engine to use; repeat for a failover chain (default: configured engines)",
    )  # fmt: skip
    translate.add_argument("--glossary", type=Path, help="glossary file (.csv, .tsv, .tbx)")
    translate.add_argument(
        "--format", dest="content_type", choices=["text", "html", "markdown"], default="text"
    )
    translate.add_argument("--json", action="store_true", help="one JSON object per message")
    translate.add_argument("--lines", action="store_true", help="each input line is a message")
    translate.add_argument("text", nargs="?", default="-", help="text, or - for stdin (default)")

    detect = commands.add_parser("detect", help="detect the language of a text")
    detect.add_argument("--json", action="store_true")
    detect.add_argument("text", help="text, or - for stdin")

    engines = commands.add_parser("engines", help="engines: health, pairs and breaker state")
    engines.add_argument("--json", action="store_true")
    engines.add_argument(
        "--no-probe", dest="probe", action="store_false", help="skip the test translation"
    )

    models = commands.add_parser("models", help="Argos Translate models: install, list")
    model_commands = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    install = model_commands.add_parser("install", help="install a .argosmodel package file")
    install.add_argument("path", type=Path, help="the .argosmodel file")
    listing = model_commands.add_parser("list", help="installed models")
    listing.add_argument("--json", action="store_true")

    add_kb_parser(commands)
    add_review_parser(commands)
    add_stats_parser(commands)
    add_glossary_parser(commands)

    serve = commands.add_parser("serve", help="run the webhook relay (needs tl-loop[serve])")
    serve.add_argument("--host", help="address to listen on (default from [relay])")
    serve.add_argument("--port", type=int, help="port to listen on (default from [relay])")

    demo = commands.add_parser("demo", help="a scripted support conversation through the loop")
    demo.add_argument("--glossary", type=Path, help="glossary (default: the sample brand glossary)")
    return parser


def _config(args: argparse.Namespace) -> TlLoopConfig:
    if args.config is not None:
        return TlLoopConfig.load(args.config)
    return TlLoopConfig.from_env()


def _translation_json(translation: Translation) -> dict[str, Any]:
    return {
        "translation": translation.translated,
        "original": translation.original,
        "source_language": translation.source_language,
        "target_language": translation.target_language,
        "engine": translation.engine,
        "flags": [flag.model_dump(mode="json") for flag in translation.flags],
        "decision": translation.decision.value,
        "audit": translation.audit.model_dump(mode="json"),
    }


def _read(text: str, stdin: TextIO) -> str:
    return stdin.read() if text == "-" else text


def _check_available(loop: Loop) -> None:
    engines = loop.chain.engines
    if not any(engine.is_available() for engine in engines):
        hints = "; ".join(
            f"{engine.name}: {engine.install_hint or 'not available'}" for engine in engines
        )
        raise ConfigurationError(f"no engine is available here ({hints})")


def _translate(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    config = _config(args)
    updates: dict[str, Any] = {}
    if args.engines:
        updates["engines"] = args.engines
    if args.glossary:
        updates["glossary"] = args.glossary
    config = config.model_copy(update=updates)
    text = _read(args.text, stdin)
    messages = text.splitlines() if args.lines else [text.rstrip("\n")]
    with Loop.from_config(config) as loop:
        _check_available(loop)
        if args.source and not loop.chain.supports(args.source, args.target):
            raise UnsupportedLanguageError(
                args.source,
                args.target,
                available=sorted(loop.chain.pairs()),
                hint=_more_pairs_hint(loop),
            )
        for message in messages:
            if args.lines and not message.strip():
                continue
            translation = loop.translate(
                message, source=args.source, target=args.target, content_type=args.content_type
            )
            if args.json:
                print(json.dumps(_translation_json(translation), ensure_ascii=False), file=stdout)
            else:
                print(translation.translated, file=stdout)
                for flag in translation.flags:
                    print(f"flag {flag.code} ({flag.severity.value}): {flag.detail}", file=stderr)
    return 0


def _more_pairs_hint(loop: Loop) -> str:
    hints = [engine.install_hint for engine in loop.chain.engines if engine.install_hint]
    return "To add pairs: " + "; ".join(hints) if hints else ""


def _detect(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    detector = LanguageDetector(_config(args).detection.languages)
    detection = detector.detect(_read(args.text, stdin))
    if args.json:
        print(json.dumps(detection.model_dump(mode="json"), ensure_ascii=False), file=stdout)
    else:
        print(f"{detection.language or 'unknown'}\t{detection.confidence:.2f}", file=stdout)
    return 0


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


def _engines(args: argparse.Namespace, stdout: TextIO) -> int:
    chain = _config(args).build_chain()
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


def _models(args: argparse.Namespace, stdout: TextIO) -> int:
    from tl_loop.engines._argos import install_model, list_models  # only this command needs it

    packages_dir = _config(args).engine.get("argos", {}).get("packages_dir")
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


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the `tl-loop` command line; returns the exit status."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        if args.command == "translate":
            return _translate(args, stdin, stdout, stderr)
        if args.command == "detect":
            return _detect(args, stdin, stdout)
        if args.command == "engines":
            return _engines(args, stdout)
        if args.command == "models":
            return _models(args, stdout)
        if args.command == "serve":
            from tl_loop.relay import run_serve  # the relay's dependencies are an extra

            return run_serve(args.config, args.host, args.port)
        if args.command == "review":
            return run_review(args, config_path=args.config, stdout=stdout, stderr=stderr)
        if args.command == "stats":
            return run_stats(args, config_path=args.config, stdout=stdout, stderr=stderr)
        if args.command == "glossary":
            return run_glossary(args, config_path=args.config, stdout=stdout, stderr=stderr)
        if args.command == "kb":
            return run_kb(args, config=_config(args), stdout=stdout, stderr=stderr)
        return run_demo(_config(args), glossary=args.glossary, out=stdout)
    except (ConfigurationError, GlossaryError, UnsupportedLanguageError) as error:
        print(f"tl-loop: error: {error}", file=stderr)
        return 2
    except TlLoopError as error:
        print(f"tl-loop: error: {error}", file=stderr)
        return 1
