"""The `tl-loop` command line: every subcommand lives here, and nothing imports this package."""

from tl_loop.cli._main import main

__all__ = ["main"]
