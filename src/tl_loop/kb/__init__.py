"""Knowledge-base translation at scale: folders or help centers, incremental, resumable.

```python
from tl_loop import TlLoopConfig
from tl_loop.kb import kb_status, translate_folder

summary = translate_folder("articles/", out_dir="translated/", targets=["es", "fr"],
                           config=TlLoopConfig(engines=["apertium"]))
print(summary.engine_segments, summary.reuse_rate)
outdated = [s for s in kb_status("articles/", out_dir="translated/") if s.state == "outdated"]
```

`add_kb_parser` and `run_kb` give the `tl-loop kb` command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from tl_loop._config import TlLoopConfig
from tl_loop._errors import ConfigurationError
from tl_loop.helpdesk._adapter import HelpdeskAdapter, load_adapter_class
from tl_loop.kb._articles import ARTICLE_SUFFIXES, ArticleError, Field, SourceArticle, parse_article
from tl_loop.kb._executors import LoopSpec
from tl_loop.kb._jobs import ArticleRecord, JobStore
from tl_loop.kb._manage import (
    ArticleStatus,
    ImportReport,
    PublishReport,
    kb_export_xliff,
    kb_import_xliff,
    kb_publish,
    kb_pull,
    kb_status,
)
from tl_loop.kb._progress import KbSummary, NullProgress, Progress, RichProgress
from tl_loop.kb._review import configured_review_queue, review_item_id
from tl_loop.kb._runner import KbPaths, translate_folder
from tl_loop.review import ReviewQueue
from tl_loop.stores import SQLiteTranslationMemory

__all__ = [
    "ARTICLE_SUFFIXES",
    "ArticleError",
    "ArticleRecord",
    "ArticleStatus",
    "Field",
    "ImportReport",
    "JobStore",
    "KbPaths",
    "KbSummary",
    "LoopSpec",
    "NullProgress",
    "Progress",
    "PublishReport",
    "RichProgress",
    "SourceArticle",
    "add_kb_parser",
    "kb_export_xliff",
    "kb_import_xliff",
    "kb_publish",
    "kb_pull",
    "kb_status",
    "parse_article",
    "review_item_id",
    "run_kb",
    "translate_folder",
]


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


def add_kb_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `kb translate|status|publish|export|import` to a `tl-loop` subcommand set."""
    kb = commands.add_parser("kb", help="translate a knowledge base (folders or help centers)")
    actions = kb.add_subparsers(dest="kb_command", required=True, metavar="ACTION")

    translate = actions.add_parser("translate", help="translate articles and macros")
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

    status = actions.add_parser("status", help="list outdated, flagged and missing translations")
    status.add_argument("src", type=Path)
    status.add_argument("--out", type=Path, required=True)
    status.add_argument("--to", dest="targets", type=_locales, default=None)
    status.add_argument("--all", action="store_true", help="also list current translations")
    status.add_argument("--json", action="store_true")
    _review_option(status)

    publish = actions.add_parser("publish", help="push approved translations as drafts")
    publish.add_argument("--out", type=Path, required=True)
    publish.add_argument("--adapter", required=True, help="helpdesk adapter name, e.g. zendesk")
    publish.add_argument("--from", dest="source", default="en")
    publish.add_argument("--to", dest="targets", type=_locales, default=None)
    publish.add_argument("--force", action="store_true", help="push again what was pushed")
    _review_option(publish)

    export = actions.add_parser("export", help="flagged (or all) segments as XLIFF")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--to", dest="target", required=True, help="the locale to export")
    export.add_argument("--from", dest="source", default="en")
    export.add_argument("--all", action="store_true", help="every machine-translated segment")
    export.add_argument("--xliff-version", choices=["2.1", "1.2"], default="2.1")
    export.add_argument("file", type=Path, help="the .xlf file to write")

    imported = actions.add_parser("import", help="a translator's XLIFF into the memory")
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


def run_kb(
    args: argparse.Namespace,
    *,
    config: TlLoopConfig,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run a parsed `tl-loop kb ...` command; returns the exit status.

    Raises:
        TlLoopError: as the other commands do; the CLI maps it to an exit status.
    """
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    if args.kb_command in ("translate", "status", "publish"):
        config_file = getattr(args, "config", None) or os.environ.get("TL_LOOP_CONFIG")
        queue = configured_review_queue(args.review_queue, config_file)
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
    from tl_loop._glossary import Glossary

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
        progress=RichProgress(file=stderr) if args.progress else None, review_queue=queue,
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
