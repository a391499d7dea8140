"""`tl-loop relay status [--config FILE]`: the relay's queue at a glance.

Jobs per state and the ones that need a look: waiting for a helpdesk that is down, failed, and
dead (given up after the outage limit). Reads the queue the configuration names (`queue_url`
or `queue_path`); the relay need not be running. Exit status 0 when nothing is dead, failed or
waiting, 1 otherwise (for monitoring scripts).
"""

from __future__ import annotations

import argparse
from typing import TextIO

from tl_loop.cli._common import Commands, add_command, load_relay_config
from tl_loop.relay import relay_status

__all__ = ["add_relay_parser", "run_relay"]


def add_relay_parser(commands: Commands) -> None:
    """Add `relay status` to a `tl-loop` subcommand set."""
    relay = add_command(commands, "relay", help="the relay's queue: waiting, failed, dead jobs")
    actions = relay.add_subparsers(dest="relay_command", required=True, metavar="ACTION")
    add_command(actions, "status", help="jobs per state, and the ones that need a look")


def run_relay(args: argparse.Namespace, stdout: TextIO) -> int:
    """Print the queue's status; 1 when a job is dead, failed or waiting.

    Raises:
        ConfigurationError: no configuration file, or a bad one.
        ServiceUnavailableError: the shared queue's PostgreSQL cannot be reached.
    """
    settings = load_relay_config(args, needed_by="tl-loop relay status").relay
    status = relay_status(settings)
    print(status.render(), file=stdout)
    return 0 if status.healthy else 1
