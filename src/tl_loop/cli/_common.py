"""What every `tl-loop` subcommand shares: the `--config` option, language tags, the config."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, TypeAlias

from tl_loop._config import TlLoopConfig
from tl_loop._config import load_config as load_config_file
from tl_loop._errors import ConfigurationError
from tl_loop._models import normalize_tag

__all__ = [
    "Commands",
    "add_command",
    "add_config_option",
    "config_path",
    "language_tag",
    "load_config",
    "load_relay_config",
]

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

_CONFIG_HELP = "TOML configuration file (default: $TL_LOOP_CONFIG)"


def _config_option() -> argparse.ArgumentParser:
    """`--config` for a subcommand: SUPPRESS keeps a value given before the subcommand."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=_CONFIG_HELP)
    return options


def add_command(commands: Commands, name: str, **options: Any) -> argparse.ArgumentParser:
    """A subcommand that also takes `--config FILE` after its name, as users write it."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name, parents=[_config_option()], **options
    )
    return parser


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """`--config` before the subcommand: `tl-loop --config FILE COMMAND`."""
    parser.add_argument("--config", type=Path, default=None, help=_CONFIG_HELP)


def language_tag(value: str) -> str:
    """An argparse type: a BCP-47 language tag, normalised."""
    try:
        return normalize_tag(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def config_path(args: argparse.Namespace) -> Path | None:
    """The file `--config` (before or after the subcommand) or `$TL_LOOP_CONFIG` names."""
    path = getattr(args, "config", None) or os.environ.get("TL_LOOP_CONFIG")
    return Path(path) if path else None


def load_config(args: argparse.Namespace) -> TlLoopConfig:
    """The configuration: `--config`, else `$TL_LOOP_CONFIG`, else the defaults; the
    environment over it either way."""
    return load_config_file(config_path(args))


def load_relay_config(args: argparse.Namespace, *, needed_by: str) -> TlLoopConfig:
    """The configuration (`config.relay` for the relay's part), from a file that must be named.

    Raises:
        ConfigurationError: no file was named (says how to name one), or a bad file.
    """
    path = config_path(args)
    if path is None:
        raise ConfigurationError(
            f"{needed_by} reads the relay's configuration file: pass --config FILE or set "
            "TL_LOOP_CONFIG"
        )
    return load_config_file(path)
