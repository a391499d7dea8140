"""`tl-loop serve [--config FILE] [--host H] [--port P]`: the webhook relay, logging to stderr."""

from __future__ import annotations

import argparse

from tl_loop import relay
from tl_loop.cli._common import Commands, add_command, load_relay_config

__all__ = ["add_serve_parser", "run_serve"]


def add_serve_parser(commands: Commands) -> None:
    """Add `serve` to a `tl-loop` subcommand set."""
    serve = add_command(commands, "serve", help="run the webhook relay (needs tl-loop[serve])")
    serve.add_argument("--host", help="address to listen on (default from [relay])")
    serve.add_argument("--port", type=int, help="port to listen on (default from [relay])")


def run_serve(args: argparse.Namespace) -> int:
    """Run the relay until interrupted; returns the exit status.

    Raises:
        MissingDependencyError: the `serve` extra is not installed.
        ConfigurationError: no configuration file, or a bad one.
    """
    relay.require_serve_dependencies()
    config = load_relay_config(args, needed_by="tl-loop serve")
    relay.configure_logging()
    return relay.run_relay(config, config.relay, host=args.host, port=args.port)
