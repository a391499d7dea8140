"""The `tl-loop stats` figures as Prometheus gauges on the relay's `/metrics`.

`StatsCollector` computes `compute_stats` over a sliding window (30 days by default) from the
audit log and the review queue when Prometheus scrapes, and keeps the result for
`refresh_seconds` so frequent scrapes do not re-read the stores; each edit's chrF/TER is
computed once and kept while the edit is in the window. Every gauge carries the
labels `source`, `target` and `engine` (the total is not exported: sum in PromQL).

| gauge | meaning |
|---|---|
| `tl_loop_stats_translations` | translations in the window |
| `tl_loop_stats_characters_sent` | characters sent to engines |
| `tl_loop_stats_billed_characters` | characters engines reported billing |
| `tl_loop_stats_memory_share` | share of segments served by the translation memory |
| `tl_loop_stats_flagged_ratio` | share of translations sent flagged or held |
| `tl_loop_stats_held_ratio` | share of translations held before sending |
| `tl_loop_stats_review_items{state}` | review items per state |
| `tl_loop_stats_post_edit_chrf` | chrF of drafts against reviewers' edits (higher: less edited) |
| `tl_loop_stats_post_edit_ter` | TER of the same (lower: less edited) |
| `tl_loop_stats_approval_seconds{quantile,items}` | queued → approved/edited; items: all, held |
| `tl_loop_stats_window_seconds` | the window (no labels) |
| `tl_loop_stats_up` | 1 when the last computation succeeded, else 0 (no labels) |
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tl_loop.review._stats import EditEffort, GroupStats, Stats, compute_stats

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import GaugeMetricFamily, Metric

    from tl_loop.review._audit import AuditLog
    from tl_loop.review._items import ReviewQueue

__all__ = ["StatsCollector", "register_stats_metrics"]

_LOG = logging.getLogger("tl_loop.review.stats")
_LABELS = ("source", "target", "engine")
_ALL_ITEMS = 1_000_000_000  # ReviewQueue.list needs a limit; the window bounds the read
_Value = Callable[[GroupStats], float | None]

# name suffix, help, value per group
_SIMPLE: tuple[tuple[str, str, _Value], ...] = (
    ("translations", "Translations in the window", lambda g: g.translations),
    ("characters_sent", "Characters sent to engines", lambda g: g.characters_sent),
    (
        "billed_characters",
        "Characters engines reported billing",
        lambda g: g.billed_characters if g.billed_rows else None,
    ),
    ("memory_share", "Share of segments served by translation memory", lambda g: g.memory_share),
    ("flagged_ratio", "Share of translations sent flagged or held", lambda g: g.flagged_share),
    ("held_ratio", "Share of translations held before sending", lambda g: g.held_share),
    ("post_edit_chrf", "chrF of drafts against reviewers' edits", lambda g: g.chrf),
    ("post_edit_ter", "TER of drafts against reviewers' edits", lambda g: g.ter),
)


class StatsCollector:
    """A Prometheus collector for the statistics of one audit log and review queue.

    Args:
        audit_log: the translations; None exports no translation figures.
        review_queue: the review items; None exports no review figures.
        window_days: the figures cover this many days back from each computation.
        refresh_seconds: how long one computation is reused between scrapes.
        clock: monotonic seconds (a test may pass its own).
    """

    def __init__(
        self,
        *,
        audit_log: AuditLog | None,
        review_queue: ReviewQueue | None,
        window_days: float = 30.0,
        refresh_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._audit_log = audit_log
        self._review_queue = review_queue
        self._window = timedelta(days=window_days)
        self._refresh = refresh_seconds
        self._clock = clock
        # Without sacrebleu the other figures are still worth exporting.
        self._post_edit = importlib.util.find_spec("sacrebleu") is not None
        self._lock = threading.Lock()
        self._cached: tuple[float, Stats | None] | None = None
        # A decided edit never changes: score it once, not at every refresh.
        self._efforts: dict[str, EditEffort] = {}

    def describe(self) -> Iterator[Metric]:
        """The metric families, empty: lets the registry check names without reading stores."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        """The gauges, from a computation at most `refresh_seconds` old."""
        from prometheus_client.core import GaugeMetricFamily

        stats = self.stats()
        families = self._families()
        if stats is not None:
            _fill(families, stats)
        yield from families
        window = GaugeMetricFamily("tl_loop_stats_window_seconds", "The statistics window")
        window.add_metric([], self._window.total_seconds())
        yield window
        up = GaugeMetricFamily("tl_loop_stats_up", "1 when the statistics could be computed")
        up.add_metric([], 0.0 if stats is None else 1.0)
        yield up

    def stats(self) -> Stats | None:
        """The current statistics (cached), or None when the stores could not be read."""
        with self._lock:
            now = self._clock()
            if self._cached is None or now - self._cached[0] >= self._refresh:
                self._cached = (now, self._compute())
            return self._cached[1]

    def _compute(self) -> Stats | None:
        since = datetime.now(UTC) - self._window
        try:
            rows = list(self._audit_log.rows(since=since)) if self._audit_log else []
            items = (
                self._review_queue.list(state=None, limit=_ALL_ITEMS, since=since)
                if self._review_queue
                else []
            )
            stats = compute_stats(
                rows, items, since=since, post_edit=self._post_edit, effort_cache=self._efforts
            )
        except Exception as error:
            # Any store (SQLite, PostgreSQL) may fail its own way; a scrape must not fail with
            # it and take the relay's other metrics down. tl_loop_stats_up says so instead.
            _LOG.warning("statistics for /metrics could not be computed: %s", error)
            return None
        # Edits leave the window; their scores need not be kept.
        live = {item.id for item in items}
        for item_id in [key for key in self._efforts if key not in live]:
            del self._efforts[item_id]
        return stats

    def _families(self) -> list[GaugeMetricFamily]:
        from prometheus_client.core import GaugeMetricFamily

        families = [
            GaugeMetricFamily(f"tl_loop_stats_{name}", text, labels=_LABELS)
            for name, text, _ in _SIMPLE
        ]
        families.append(
            GaugeMetricFamily(
                "tl_loop_stats_review_items", "Review items per state", labels=[*_LABELS, "state"]
            )
        )
        families.append(
            GaugeMetricFamily(
                "tl_loop_stats_approval_seconds",
                "From queued to approved or edited: median and p90",
                labels=[*_LABELS, "quantile", "items"],
            )
        )
        return families


def _fill(families: list[GaugeMetricFamily], stats: Stats) -> None:
    simple, reviews, approval = families[: len(_SIMPLE)], families[-2], families[-1]
    for group in stats.groups:
        labels = [group.source_language or "und", group.target_language or "", group.engine or ""]
        for family, (_, _, value) in zip(simple, _SIMPLE, strict=True):
            figure = value(group)
            if figure is not None:
                family.add_metric(labels, float(figure))
        for state, count in group.reviews.items():
            reviews.add_metric([*labels, state], float(count))
        for held, durations in (
            ("all", group.time_to_approval),
            ("held", group.held_time_to_approval),
        ):
            for quantile, seconds in (
                ("0.5", durations.median_seconds),
                ("0.9", durations.p90_seconds),
            ):
                if seconds is not None:
                    approval.add_metric([*labels, quantile, held], seconds)


def register_stats_metrics(
    registry: CollectorRegistry,
    *,
    audit_log: AuditLog | None,
    review_queue: ReviewQueue | None,
    window_days: float = 30.0,
) -> StatsCollector:
    """Add the statistics gauges to a Prometheus registry (the relay's `metrics.registry`).

    Returns:
        The collector, so a caller can read `stats()` too.
    """
    collector = StatsCollector(
        audit_log=audit_log, review_queue=review_queue, window_days=window_days
    )
    registry.register(collector)
    return collector
