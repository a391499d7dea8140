"""`tl-loop review list|show|approve|edit|reject`: the review queue from the command line.

The commands work on the review queue that the relay's TOML file names (`review_path` or
`review_url` in `[relay]`). A decision is carried out by the relay: it is queued in the relay's
job queue file (`queue_path`), so a running relay posts an approved reply within a poll, and
a stopped one when it starts.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from pathlib import Path
from typing import TextIO

from tl_loop._errors import ConfigurationError
from tl_loop.cli._common import Commands, add_command, language_tag, load_relay_config
from tl_loop.relay._decisions import record_decision
from tl_loop.relay._queue import open_job_queue
from tl_loop.review import (
    ReviewItem,
    ReviewQueue,
    ReviewState,
    language_problem,
    open_review_queue,
)
from tl_loop.review._items import check_releasable

__all__ = ["add_review_parser", "run_review"]

_PREVIEW = 60


def _reviewer_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reviewer",
        default=None,
        help="who decides (default: $TL_LOOP_REVIEWER, else your user name)",
    )


def add_review_parser(commands: Commands) -> None:
    """Add `review list|show|approve|edit|reject` to a `tl-loop` subcommand set."""
    review = add_command(commands, "review", help="the review queue: list, show, decide")
    actions = review.add_subparsers(dest="review_command", required=True, metavar="ACTION")

    listing = add_command(actions, "list", help="items, newest first (default: pending)")
    listing.add_argument(
        "--state",
        choices=[*(state.value for state in ReviewState), "all"],
        default="pending",
        help="only items in this state (default: pending)",
    )
    listing.add_argument(
        "--language", type=language_tag, help="only items to or from this language"
    )
    listing.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")

    show = add_command(actions, "show", help="one item: original, draft, flags, decision")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")

    approve = add_command(actions, "approve", help="approve the draft (a held reply is sent)")
    approve.add_argument("id")
    approve.add_argument(
        "--anyway", action="store_true",
        help="approve a draft that is not in the customer's language (the translation failed)",
    )  # fmt: skip
    _reviewer_option(approve)

    edit = add_command(actions, "edit", help="replace the draft (a held reply is sent edited)")
    edit.add_argument("id")
    text = edit.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the corrected translation")
    text.add_argument("--file", type=Path, help="read the corrected translation from a file")
    _reviewer_option(edit)

    reject = add_command(actions, "reject", help="reject (a held reply is not sent)")
    reject.add_argument("id")
    _reviewer_option(reject)


def run_review(args: argparse.Namespace, stdout: TextIO) -> int:
    """Run a parsed `tl-loop review ...` command; returns the exit status.

    Raises:
        ConfigurationError: no configuration file, or a bad one (exit 2).
        TlLoopError: the item is unknown, was already decided, or the store cannot be reached.
    """
    settings = load_relay_config(args, needed_by="tl-loop review").relay
    with open_review_queue(settings) as queue:
        command = args.review_command
        if command == "list":
            return _list(queue, args, stdout)
        item_id = _full_id(queue, args.id)
        if command == "show":
            return _show(queue.get(item_id), args.json, stdout)
        state = {
            "approve": ReviewState.APPROVED,
            "edit": ReviewState.EDITED,
            "reject": ReviewState.REJECTED,
        }[command]
        final = _final_text(args) if command == "edit" else None
        item = queue.get(item_id)
        check_releasable(item, state, settings.adapters)
        pending = item.state == ReviewState.PENDING  # a decided one is refused below
        problem = language_problem(item) if command == "approve" and pending else None
        if problem and not args.anyway:
            raise ConfigurationError(
                f"review item {item.id[:8]} was not approved. {problem} Write it in "
                f"{item.target_language} (tl-loop review edit {item.id[:8]} --text …), reject "
                "it, or pass --anyway if this customer reads "
                f"{item.source_language}."
            )
        with open_job_queue(settings) as jobs:
            decided, queued = record_decision(
                queue, jobs, item_id, state=state, reviewer=_reviewer(args), final=final
            )
        print(_outcome(decided, queued=queued), file=stdout)
        return 0


_ID_LENGTH = 32


def _full_id(queue: ReviewQueue, given: str) -> str:
    """The item id a unique prefix stands for (the page shows 8 characters).

    Raises:
        ConfigurationError: the prefix matches several items (they are listed).
    """
    given = given.strip().lower()
    if len(given) >= _ID_LENGTH:
        return given
    matches = [i.id for i in queue.list(state=None, limit=1_000_000_000) if i.id.startswith(given)]
    if len(matches) > 1:
        raise ConfigurationError(
            f"{given!r} matches {len(matches)} review items ({', '.join(matches[:5])}); "
            "give more characters of the id"
        )
    return matches[0] if matches else given  # unknown: get() says so


def _reviewer(args: argparse.Namespace) -> str:
    if args.reviewer:
        return str(args.reviewer)
    configured = os.environ.get("TL_LOOP_REVIEWER")
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container: still say it came from here
        return "cli"


def _final_text(args: argparse.Namespace) -> str:
    if args.text is not None:
        return str(args.text)
    try:
        return str(args.file.read_text(encoding="utf-8")).rstrip("\n")
    except OSError as error:
        raise ConfigurationError(f"cannot read {args.file}: {error.strerror}") from None


def _outcome(item: ReviewItem, *, queued: bool) -> str:
    what = f"{item.id}: {item.state.value} by {item.decided_by}"
    if item.releasable:
        return f"{what}; the relay will send the reply to conversation {item.conversation_id}"
    if item.state == ReviewState.REJECTED and queued:
        return f"{what}; nothing was sent, the agent is told in a note"
    if queued:
        return f"{what}; the translation memory learns from it"
    return f"{what}; nothing was sent"


def _list(queue: ReviewQueue, args: argparse.Namespace, stdout: TextIO) -> int:
    state = None if args.state == "all" else ReviewState(args.state)
    items = queue.list(state=state, language=args.language, limit=args.limit)
    for item in items:
        if args.json:
            print(json.dumps(item.to_dict(), ensure_ascii=False), file=stdout)
            continue
        draft = " ".join(item.draft.split())
        if len(draft) > _PREVIEW:
            draft = draft[: _PREVIEW - 1] + "…"
        row = [
            item.id,
            item.state.value,
            "held" if item.held else "sent",
            f"{item.source_language}→{item.target_language}",
            item.created_at.isoformat(timespec="seconds"),
            ",".join(item.flag_codes) or "-",
            draft,
        ]
        print("\t".join(row), file=stdout)
    return 0


def _show(item: ReviewItem, as_json: bool, stdout: TextIO) -> int:
    if as_json:
        print(json.dumps(item.to_dict(), ensure_ascii=False, indent=2), file=stdout)
        return 0
    status = "held (not sent)" if item.held else "sent with flags"
    lines = [
        f"id:           {item.id}",
        f"state:        {item.state.value}" + (" (released)" if item.released else ""),
        f"reply:        {status}, {item.direction}, {item.content_type}",
        f"languages:    {item.source_language} → {item.target_language}",
        f"engine:       {item.engine or '-'}",
        f"conversation: {item.adapter or '-'} {item.conversation_id or '-'}",
        f"created:      {item.created_at.isoformat(timespec='seconds')}",
    ]
    if item.decided_at is not None:
        lines.append(f"decided:      {item.decided_at.isoformat(timespec='seconds')} "
                     f"by {item.decided_by}")  # fmt: skip
    lines.append("flags:")
    lines += [f"  - {f.severity.value} {f.code}: {f.detail}" for f in item.flags] or ["  none"]
    lines += ["", "original:", item.original, "", "draft:", item.draft]
    if item.final is not None and item.final != item.draft:
        lines += ["", "final:", item.final]
    print("\n".join(lines), file=stdout)
    return 0
