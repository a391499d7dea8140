"""`tl-loop`: the parser of every subcommand, and the one place errors become exit statuses.

The command line is a stable contract (scripts and later tools parse its `--json` output).
Errors are one line on stderr and a non-zero exit: 2 for bad input or configuration, 1 when the
work could not be done.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from tl_loop._errors import ConfigurationError, GlossaryError, TlLoopError, UnsupportedLanguageError
from tl_loop._version import __version__
from tl_loop.cli._common import add_command, add_config_option, load_config
from tl_loop.cli._demo import run_demo
from tl_loop.cli._engines import add_engines_parser, add_models_parser, run_engines, run_models
from tl_loop.cli._kb import add_kb_parser, run_kb
from tl_loop.cli._relay import add_relay_parser, run_relay
from tl_loop.cli._review import add_review_parser, run_review
from tl_loop.cli._serve import add_serve_parser, run_serve
from tl_loop.cli._stats import add_glossary_parser, add_stats_parser, run_glossary, run_stats
from tl_loop.cli._translate import (
    add_detect_parser,
    add_translate_parser,
    run_detect,
    run_translate,
)

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tl-loop", description="Translation in the loop of customer support."
    )
    parser.add_argument("--version", action="version", version=f"tl-loop {__version__}")
    add_config_option(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_translate_parser(commands)
    add_detect_parser(commands)
    add_engines_parser(commands)
    add_models_parser(commands)
    add_kb_parser(commands)
    add_review_parser(commands)
    add_stats_parser(commands)
    add_glossary_parser(commands)
    add_serve_parser(commands)
    add_relay_parser(commands)
    demo = add_command(commands, "demo", help="a scripted support conversation through the loop")
    demo.add_argument("--glossary", type=Path, help="glossary (default: the sample brand glossary)")
    return parser


def _run(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    command = args.command
    if command == "translate":
        return run_translate(args, stdin, stdout, stderr)
    if command == "detect":
        return run_detect(args, stdin, stdout)
    if command == "engines":
        return run_engines(args, stdout)
    if command == "models":
        return run_models(args, stdout, stderr)
    if command == "serve":
        return run_serve(args)
    if command == "relay":
        return run_relay(args, stdout)
    if command == "review":
        return run_review(args, stdout)
    if command == "stats":
        return run_stats(args, stdout, stderr)
    if command == "glossary":
        return run_glossary(args, stdout, stderr)
    if command == "kb":
        return run_kb(args, stdout, stderr)
    return run_demo(load_config(args), glossary=args.glossary, out=stdout)


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
        return _run(args, stdin, stdout, stderr)
    except (ConfigurationError, GlossaryError, UnsupportedLanguageError) as error:
        print(f"tl-loop: error: {error}", file=stderr)
        return 2
    except TlLoopError as error:
        print(f"tl-loop: error: {error}", file=stderr)
        return 1
