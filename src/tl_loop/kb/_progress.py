"""What a job reports while it runs and when it ends: rich progress bars, or nothing.

`RichProgress` shows two bars (engine segments, articles) with the reuse rate and an ETA, and
prints a summary table at the end; `NullProgress` is silent (the default for library calls).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from tl_loop._errors import MissingDependencyError

__all__ = ["KbSummary", "NullProgress", "Progress", "RichProgress"]


@dataclass
class KbSummary:
    """What a run did.

    Args:
        articles: article × locale units in the job.
        translated: units written this run (translated, or re-assembled after a change).
        up_to_date: units skipped because nothing they depend on changed.
        flagged: units written but held back from publishing (see `review_file`).
        failed: units not written because the engines failed (retried by the next run).
        errors: articles that could not be read: path → problem.
        segments: segment occurrences in the units written this run.
        unique_segments: distinct segments among them, per locale.
        from_memory: distinct segments served by the translation memory (approved).
        from_store: distinct segments translated by an earlier run (or killed run).
        engine_segments: distinct segments sent to the engines this run.
        seconds: wall time of the run.
        review_file: the report of flagged and failed translations.
        review_items: review items queued (or found already queued) for the units written
            this run; 0 without a review queue.
    """

    articles: int = 0
    translated: int = 0
    up_to_date: int = 0
    flagged: int = 0
    failed: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    segments: int = 0
    unique_segments: int = 0
    from_memory: int = 0
    from_store: int = 0
    engine_segments: int = 0
    seconds: float = 0.0
    review_file: Path | None = None
    review_items: int = 0

    @property
    def reuse_rate(self) -> float:
        """Share of segment occurrences written this run that no engine had to translate."""
        return 1 - self.engine_segments / self.segments if self.segments else 0.0


class Progress(Protocol):
    """Receives a run's progress; implement it to feed your own display or metrics."""

    def start(self, *, segments: int, articles: int) -> None:
        """The run will send `segments` to engines and write `articles` units."""
        ...

    def segments_done(self, count: int) -> None:
        """`count` more segments came back from the engines."""
        ...

    def article_done(self, *, reused: int, total: int) -> None:
        """One more unit was written; `reused` of its `total` segments were not sent."""
        ...

    def finish(self, summary: KbSummary) -> None:
        """The run ended."""
        ...


class NullProgress:
    """Reports nothing."""

    def start(self, *, segments: int, articles: int) -> None:
        """Nothing to show."""

    def segments_done(self, count: int) -> None:
        """Nothing to show."""

    def article_done(self, *, reused: int, total: int) -> None:
        """Nothing to show."""

    def finish(self, summary: KbSummary) -> None:
        """Nothing to show."""


class RichProgress:
    """Progress bars for segments and articles (reuse rate, ETA), then a summary table.

    Args:
        file: where to draw (stderr by default, so stdout stays machine-readable).

    Raises:
        MissingDependencyError: rich is not installed.
    """

    def __init__(self, *, file: IO[str] | None = None) -> None:
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bars
        except ImportError as error:
            raise MissingDependencyError(
                "progress bars need rich", install="pip install 'tl-loop[kb]'"
            ) from error
        self._console = Console(file=file, stderr=file is None)
        self._bars = Bars(
            TextColumn("{task.description:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeRemainingColumn(),
            console=self._console,
        )
        self._segments: Any = None
        self._articles: Any = None
        self._reused = 0
        self._total = 0

    def start(self, *, segments: int, articles: int) -> None:
        """Show the two bars."""
        self._bars.start()
        self._segments = self._bars.add_task("segments", total=segments, note="to engines")
        self._articles = self._bars.add_task("articles", total=articles, note="reuse –")

    def segments_done(self, count: int) -> None:
        """Advance the segments bar."""
        self._bars.advance(self._segments, count)

    def article_done(self, *, reused: int, total: int) -> None:
        """Advance the articles bar and update the reuse rate."""
        self._reused += reused
        self._total += total
        rate = self._reused / self._total if self._total else 0.0
        self._bars.update(self._articles, advance=1, note=f"reuse {rate:.0%}")

    def finish(self, summary: KbSummary) -> None:
        """Stop the bars and print the summary."""
        from rich.table import Table

        self._bars.stop()
        table = Table(title="knowledge-base job", show_header=False)
        rows = [
            ("articles × locales", summary.articles),
            ("written", summary.translated),
            ("up to date", summary.up_to_date),
            ("flagged for review", summary.flagged),
            ("failed (retry later)", summary.failed),
            ("unreadable articles", len(summary.errors)),
            ("segments written", summary.segments),
            ("sent to engines", summary.engine_segments),
            ("from memory / earlier runs", f"{summary.from_memory} / {summary.from_store}"),
            ("reuse rate", f"{summary.reuse_rate:.1%}"),
            ("time", f"{summary.seconds:.1f} s"),
        ]
        for name, value in rows:
            table.add_row(name, str(value))
        self._console.print(table)
        for article, problem in summary.errors.items():
            self._console.print(f"[yellow]skipped[/] {article}: {problem}")
        if summary.review_file is not None and (summary.flagged or summary.failed):
            self._console.print(f"review report: {summary.review_file}")
