"""`tl-loop stats` and `tl-loop glossary suggest|check`: the command-line side of the figures.

Both read the stores named in the relay's TOML file (`[relay]` `audit_path`/`audit_url` and
`review_path`/`review_url`), so they show what a running relay recorded. Errors are raised as
`TlLoopError`s; `main` turns them into one line on stderr and an exit status.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from tl_loop._glossary import Glossary
from tl_loop._relay_settings import RelaySettings
from tl_loop.cli._common import Commands, add_command, load_relay_config
from tl_loop.helpdesk import HelpdeskClient
from tl_loop.relay import OutcomesCollector, build_adapters
from tl_loop.review import (
    AuditLog,
    ReviewItem,
    ReviewQueue,
    open_audit_log,
    open_review_queue,
    render_outcomes_table,
)
from tl_loop.review._stats import compute_stats, render_table
from tl_loop.review._suggest import (
    suggest_glossary_entries,
    suggestions_to_csv,
    suggestions_to_json,
    suggestions_to_tsv,
)

__all__ = ["add_glossary_parser", "add_stats_parser", "run_glossary", "run_stats"]

_ALL_ITEMS = 1_000_000_000  # ReviewQueue.list needs a limit; --since bounds the read instead


def _days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of days") from None
    if not days > 0:
        raise argparse.ArgumentTypeError(f"--since takes a positive number of days, not {value}")
    return days


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"--min-count must be 1 or more, not {count}")
    return count


def add_stats_parser(commands: Commands) -> None:
    """Add `stats [--since DAYS] [--json]` to a `tl-loop` subcommand set."""
    stats = add_command(
        commands, "stats", help="volume, cost, review rate, post-edit effort, time to approval"
    )
    stats.add_argument(
        "--since", type=_days, metavar="DAYS", help="only the last DAYS days (default: all)"
    )
    stats.add_argument("--json", action="store_true", help="one JSON object (docs/metrics.md)")
    stats.add_argument(
        "--wide", action="store_true", help="every figure (chrF, TER, percentiles): 140 columns"
    )
    stats.add_argument(
        "--outcomes", action="store_true",
        help="customer outcomes per language from the helpdesks (docs/outcomes.md)",
    )  # fmt: skip


def add_glossary_parser(commands: Commands) -> None:
    """Add `glossary suggest [--min-count N] [--format tsv|csv|json]` and `glossary check FILE`."""
    glossary = add_command(commands, "glossary", help="glossaries: suggest entries, check a file")
    actions = glossary.add_subparsers(dest="glossary_command", required=True, metavar="ACTION")
    suggest = add_command(actions, "suggest", help="terms reviewers correct repeatedly")
    suggest.add_argument(
        "--min-count", type=_count, default=3, metavar="N",
        help="propose corrections made in at least N items (default 3)",
    )  # fmt: skip
    suggest.add_argument("--format", choices=["tsv", "csv", "json"], default="tsv")
    suggest.add_argument(
        "--since", type=_days, metavar="DAYS", help="only items of the last DAYS days"
    )
    suggest.add_argument(
        "--glossary", type=Path, help="skip corrections it has (default: the configured one)"
    )
    check = add_command(actions, "check", help="validate a glossary file")
    check.add_argument("file", type=Path, help="a .tsv, .csv or .tbx glossary")
    check.add_argument("--from", dest="source", help="TSV only: source language")
    check.add_argument("--to", dest="target", help="TSV only: target language")


def run_stats(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run a parsed `tl-loop stats`; returns the exit status.

    Raises:
        ConfigurationError: no configuration file, or a bad key in it.
        MissingDependencyError: an item was edited and sacrebleu is not installed.
        ServiceError: a store could not be read.
    """
    settings = load_relay_config(args, needed_by="tl-loop stats").relay
    if args.outcomes:
        return _outcomes(settings, stdout)
    since = _since(args.since)
    with _audit_log(settings) as audit, _review_queue(settings) as queue:
        rows = list(audit.rows(since=since)) if audit else []
        stats = compute_stats(rows, _items(queue, since), since=since)
    print(stats.to_json() if args.json else render_table(stats, wide=args.wide), file=stdout)
    if not stats.groups:
        # The stores open empty where nothing was recorded, so say where we looked.
        print(
            "tl-loop: nothing recorded in this window; the relay records translations when "
            "relay.audit is on (the default) into relay.audit_path or audit_url, and review "
            "items into relay.review_path or review_url",
            file=stderr,
        )
    return 0


def _outcomes(settings: RelaySettings, stdout: TextIO) -> int:
    adapters = build_adapters(settings)
    clients = {name: HelpdeskClient(adapter) for name, adapter in adapters.items()}
    try:
        with _audit_log(settings) as audit, _review_queue(settings) as queue:
            collector = OutcomesCollector(audit=audit, review=queue, clients=clients, ttl=0)
            print(render_outcomes_table(collector.groups()), file=stdout)
    finally:
        for client in clients.values():
            client.close()
    return 0


def run_glossary(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run a parsed `tl-loop glossary suggest|check`; returns the exit status.

    Raises:
        GlossaryError: the checked (or configured) glossary is invalid.
        ConfigurationError: `suggest` without a configuration file, or a bad key in it.
        ServiceError: the review queue could not be read.
    """
    if args.glossary_command == "check":
        return _check(args, stdout)
    config = load_relay_config(args, needed_by="tl-loop glossary suggest")
    settings = config.relay
    glossary_path = args.glossary or config.glossary
    glossary = Glossary.load(glossary_path) if glossary_path else None
    with _review_queue(settings) as queue:
        items = _items(queue, _since(args.since))
    suggestions = suggest_glossary_entries(items, min_count=args.min_count, glossary=glossary)
    if args.format == "json":
        print(suggestions_to_json(suggestions), file=stdout)
    elif args.format == "tsv":
        stdout.write(suggestions_to_tsv(suggestions))
    else:
        text, left_out = suggestions_to_csv(suggestions)
        stdout.write(text)
        if left_out:
            print(
                f"tl-loop: {left_out} suggestion(s) left out (no source term found, or a term "
                "already in its column); see them with --format json",
                file=stderr,
            )
    if not suggestions:
        print(
            f"tl-loop: no correction was made in {args.min_count} or more edited items",
            file=stderr,
        )
    return 0


def _check(args: argparse.Namespace, stdout: TextIO) -> int:
    glossary = Glossary.load(args.file, source=args.source, target=args.target)
    dnt = sum(1 for entry in glossary.entries if entry.do_not_translate)
    languages = ", ".join(sorted(glossary.languages))
    print(
        f"{args.file}: {len(glossary)} entries ({dnt} do-not-translate), "
        f"languages {languages}, version {glossary.version}",
        file=stdout,
    )
    return 0


# --- configuration and stores ---------------------------------------------------------------


def _since(days: float | None) -> datetime | None:
    return None if days is None else datetime.now(UTC) - timedelta(days=days)


def _items(queue: ReviewQueue, since: datetime | None) -> list[ReviewItem]:
    return queue.list(state=None, limit=_ALL_ITEMS, since=since)


@contextlib.contextmanager
def _audit_log(settings: RelaySettings) -> Iterator[AuditLog | None]:
    log = open_audit_log(settings)
    try:
        yield log
    finally:
        if log is not None:
            log.close()


@contextlib.contextmanager
def _review_queue(settings: RelaySettings) -> Iterator[ReviewQueue]:
    queue = open_review_queue(settings)
    try:
        yield queue
    finally:
        queue.close()
