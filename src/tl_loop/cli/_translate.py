"""`tl-loop translate` and `tl-loop detect`: text in, translation (or language) out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from tl_loop._errors import ConfigurationError, UnsupportedLanguageError
from tl_loop._loop import Loop
from tl_loop._models import Translation
from tl_loop.cli._common import Commands, add_command, language_tag, load_config
from tl_loop.text._language import LanguageDetector

__all__ = ["add_detect_parser", "add_translate_parser", "run_detect", "run_translate"]


def add_translate_parser(commands: Commands) -> None:
    """Add `translate` to a `tl-loop` subcommand set."""
    translate = add_command(commands, "translate", help="translate text")
    translate.add_argument(
        "--from", dest="source", type=language_tag, help="source language (detected)"
    )
    translate.add_argument(
        "--to", dest="target", type=language_tag, required=True, help="target language"
    )
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


def add_detect_parser(commands: Commands) -> None:
    """Add `detect` to a `tl-loop` subcommand set."""
    detect = add_command(commands, "detect", help="detect the language of a text")
    detect.add_argument("--json", action="store_true")
    detect.add_argument("text", help="text, or - for stdin")


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


def run_translate(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Run `tl-loop translate`; returns the exit status."""
    config = load_config(args)
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


def run_detect(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    """Run `tl-loop detect`; returns the exit status."""
    detector = LanguageDetector(load_config(args).detection_languages())
    detection = detector.detect(_read(args.text, stdin))
    if args.json:
        print(json.dumps(detection.model_dump(mode="json"), ensure_ascii=False), file=stdout)
    else:
        print(f"{detection.language or 'unknown'}\t{detection.confidence:.2f}", file=stdout)
    return 0
