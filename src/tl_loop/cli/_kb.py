"""`tl-loop kb translate|status|publish|export|import`: a knowledge base from the command line.

`translate`, `status` and `publish` use a review queue when one is named: `--review-queue PATH`
(SQLite), else the `[relay]` `review_path` or `review_url` of the configuration file.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from tl_loop._config import TlLoopConfig
from tl_loop._errors import ConfigurationError, MissingDependencyError
from tl_loop._glossary import Glossary
from tl_loop.cli._common import Commands, add_command, load_config
from tl_loop.helpdesk._adapter import HelpdeskAdapter, load_adapter_class
from tl_loop.kb import (
    KbPaths,
    KbSummary,
    Progress,
    RichProgress,
    kb_export_xliff,
    kb_import_xliff,
    kb_publish,
    kb_pull,
    kb_status,
    translate_folder,
)
from tl_loop.review import ReviewQueue, SQLiteReviewQueue, open_review_queue
from tl_loop.stores import SQLiteTranslationMemory

__all__ = ["add_kb_parser", "run_kb"]


def _locales(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _review_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--review-queue",
        type=Path,
        default=None,
        metavar="PATH",
        help="SQLite review queue for flagged translations (default: the [relay] review_path "
        "or review_url of --config, else none: review.jsonl only)",
    )


def add_kb_parser(commands: Commands) -> None:
    """Add `kb translate|status|publish|export|import` to a `tl-loop` subcommand set."""
    kb = add_command(commands, "kb", help="translate a knowledge base (folders or help centers)")
    actions = kb.add_subparsers(dest="kb_command", required=True, metavar="ACTION")

    translate = add_command(actions, "translate", help="translate articles and macros")
    translate.add_argument("src", help="folder of .html/.md/.txt/.json files, or adapter:NAME")
    translate.add_argument("--to", dest="targets", type=_locales, required=True, help="es,fr,de")
    translate.add_argument("--out", type=Path, required=True, help="output folder")
    translate.add_argument("--from", dest="source", default="en", help="source language")
    translate.add_argument("--engine", action="append", dest="engines", metavar="NAME")
    translate.add_argument("--glossary", type=Path)
    translate.add_argument("--workers", type=int, default=None, help="default: one per CPU")
    translate.add_argument("--executor", choices=["local", "ray"], default="local")
    translate.add_argument("--ray-address", default=None, help="Ray cluster (default: local)")
    translate.add_argument(
        "--keys", type=_locales, default=["title", "description"], help="front-matter keys"
    )
    translate.add_argument("--no-progress", dest="progress", action="store_false")
    _review_option(translate)

    status = add_command(actions, "status", help="list outdated, flagged and missing translations")
    status.add_argument("src", type=Path)
    status.add_argument("--out", type=Path, required=True)
    status.add_argument("--to", dest="targets", type=_locales, default=None)
    status.add_argument("--all", action="store_true", help="also list current translations")
    status.add_argument("--json", action="store_true")
    _review_option(status)

    publish = add_command(actions, "publish", help="push approved translations as drafts")
    publish.add_argument("--out", type=Path, required=True)
    publish.add_argument("--adapter", required=True, help="helpdesk adapter name, e.g. zendesk")
    publish.add_argument("--from", dest="source", default="en")
    publish.add_argument("--to", dest="targets", type=_locales, default=None)
    publish.add_argument("--force", action="store_true", help="push again what was pushed")
    _review_option(publish)

    export = add_command(actions, "export", help="flagged (or all) segments as XLIFF")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--to", dest="target", required=True, help="the locale to export")
    export.add_argument("--from", dest="source", default="en")
    export.add_argument("--all", action="store_true", help="every machine-translated segment")
    export.add_argument("--xliff-version", choices=["2.1", "1.2"], default="2.1")
    export.add_argument("file", type=Path, help="the .xlf file to write")

    imported = add_command(actions, "import", help="a translator's XLIFF into the memory")
    imported.add_argument("--out", type=Path, required=True)
    imported.add_argument("--author", default=None)
    imported.add_argument("file", type=Path, help="the .xlf file to read")


def _adapter(name: str) -> HelpdeskAdapter:
    adapter_class = load_adapter_class(name)
    from_env = getattr(adapter_class, "from_env", None)
    if from_env is None:
        raise ConfigurationError(f"adapter {name!r} cannot be configured from the environment")
    adapter: HelpdeskAdapter = from_env()
    return adapter


def run_kb(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run a parsed `tl-loop kb ...` command; returns the exit status.

    Raises:
        TlLoopError: as the other commands do; `main` maps it to an exit status.
    """
    config = load_config(args)
    if args.kb_command in ("translate", "status", "publish"):
        queue = _review_queue(args, config)
        try:
            return _reviewed_command(args, config, queue, stdout, stderr)
        finally:
            if queue is not None:
                queue.close()
    glossary_version = _glossary_version(config)
    if args.kb_command == "export":
        data, count = kb_export_xliff(
            args.out, locale=args.target, source=args.source,
            include="all" if args.all else "flagged", version=args.xliff_version,
        )  # fmt: skip
        args.file.write_bytes(data)
        print(f"exported {count} segments to {args.file}", file=stdout)
        return 0
    imported = kb_import_xliff(
        args.file.read_bytes(), out_dir=args.out, glossary_version=glossary_version,
        author=args.author,
    )  # fmt: skip
    for unit, problem in imported.rejected:
        print(f"rejected\t{unit}\t{problem}", file=stderr)
    line = f"stored {imported.stored} translations in the memory"
    if imported.empty:
        line += f"; {imported.empty} units had no translation and were left out"
    if imported.drafts:
        line += (
            f"; {imported.drafts} units not marked reviewed or final were left as drafts "
            "(confirm them in your tool, which sets XLIFF state 'final' or approved='yes')"
        )
    print(line, file=stdout)
    return 0


def _reviewed_command(
    args: argparse.Namespace,
    config: TlLoopConfig,
    queue: ReviewQueue | None,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    """`kb translate`, `kb status` or `kb publish`, with the review queue (or None)."""
    if args.kb_command == "translate":
        return _translate(args, config, queue, stdout, stderr)
    if args.kb_command == "status":
        rows = kb_status(args.src, out_dir=args.out, locales=args.targets, review_queue=queue)
        shown = [row for row in rows if args.all or row.state != "current"]
        for row in shown:
            if args.json:
                print(json.dumps(asdict(row), ensure_ascii=False), file=stdout)
            else:
                detail = f"\t{row.detail}" if row.detail else ""
                print(f"{row.state}\t{row.locale}\t{row.article}{detail}", file=stdout)
        return 0
    return _publish(args, config, queue, stdout, stderr)


def _publish(
    args: argparse.Namespace,
    config: TlLoopConfig,
    queue: ReviewQueue | None,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    # Decisions are learned into the job's own memory, which the next run consults first.
    memory = SQLiteTranslationMemory(KbPaths(args.out).memory) if queue is not None else None
    try:
        report = kb_publish(
            args.out, adapter=_adapter(args.adapter), source=args.source, locales=args.targets,
            force=args.force, review_queue=queue, memory=memory, config=config,
        )  # fmt: skip
    finally:
        if memory is not None:
            memory.close()
    for article, locale, problem in report.failed:
        print(f"failed\t{locale}\t{article}\t{problem}", file=stderr)
    for article, locale, problem in report.held:
        print(f"held\t{locale}\t{article}\t{problem}", file=stderr)
    line = f"published {len(report.published)}, skipped {len(report.skipped)}"
    if queue is not None:
        line += f", held for review {len(report.held)}, learned {report.learned} memory entries"
    print(line, file=stdout)
    return 1 if report.failed else 0


def _glossary_version(config: TlLoopConfig) -> str | None:
    if config.glossary is None:
        return None
    return Glossary.load(config.glossary).version


def _translate(
    args: argparse.Namespace,
    config: TlLoopConfig,
    queue: ReviewQueue | None,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    updates: dict[str, object] = {}
    if args.engines:
        updates["engines"] = args.engines
    if args.glossary:
        updates["glossary"] = args.glossary
    config = config.model_copy(update=updates)
    source_dir = Path(args.src)
    if args.src.startswith("adapter:"):
        source_dir = args.out / ".tl-loop-kb" / "source"
        count = kb_pull(_adapter(args.src.partition(":")[2]), locale=args.source, dest=source_dir)
        print(f"pulled {count} articles", file=stderr)
    summary = translate_folder(
        source_dir, out_dir=args.out, targets=args.targets, source=args.source, config=config,
        keys=args.keys, workers=args.workers, executor=args.executor,
        ray_address=args.ray_address,
        progress=_progress(args.progress, stderr), review_queue=queue,
    )  # fmt: skip
    print(
        f"written {summary.translated}, up to date {summary.up_to_date}, flagged "
        f"{summary.flagged}, failed {summary.failed}, unreadable {len(summary.errors)}; "
        f"{summary.engine_segments} segments sent to engines "
        f"(reuse {summary.reuse_rate:.0%})"
        + (f"; {summary.review_items} review items queued" if queue is not None else ""),
        file=stdout,
    )
    return 1 if summary.failed else 0


class _PlainProgress:
    """Progress as a few plain lines: for pipes, logs, and installs without rich."""

    def __init__(self, file: TextIO) -> None:
        self._file = file
        self._articles = self._done = 0

    def start(self, *, segments: int, articles: int) -> None:
        self._articles = articles
        print(f"translating {articles} articles ({segments} segments to the engines)",
              file=self._file)  # fmt: skip

    def segments_done(self, count: int) -> None:
        return None

    def article_done(self, *, reused: int, total: int) -> None:
        self._done += 1
        # About ten lines per run, whatever its size.
        if self._done == self._articles or self._done % max(1, self._articles // 10) == 0:
            print(f"articles {self._done}/{self._articles}", file=self._file)

    def finish(self, summary: KbSummary) -> None:
        print(f"{summary.engine_segments} segments sent to engines "
              f"(reuse {summary.reuse_rate:.0%})", file=self._file)  # fmt: skip


def _progress(wanted: bool, stderr: TextIO) -> Progress | None:
    """Rich bars on a terminal when rich is installed; plain lines otherwise."""
    if not wanted:
        return None
    if stderr.isatty():
        try:
            return RichProgress(file=stderr)
        except MissingDependencyError:
            pass  # rich is in the kb extra; the plain lines say the same
    return _PlainProgress(stderr)


def _review_queue(args: argparse.Namespace, config: TlLoopConfig) -> ReviewQueue | None:
    """`--review-queue PATH` (SQLite), else the `[relay]` `review_path` or `review_url` of the
    configuration file, else None.

    Raises:
        ConfigurationError: the TOML file is missing or invalid.
    """
    if args.review_queue is not None:
        return SQLiteReviewQueue(Path(args.review_queue))
    settings = config.relay
    if not {"review_path", "review_url"} & settings.model_fields_set:
        return None  # the relay's default queue is not a choice the user made for the KB
    return open_review_queue(settings)
