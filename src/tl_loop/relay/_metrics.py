"""Prometheus metrics of the relay, in a registry of its own (two relays in one process, as in
tests, do not collide).

- `tl_loop_webhooks_total{adapter, outcome}`: queued, duplicate, ignored, unauthorized,
  bad_request, unknown_adapter, challenge (a platform's verification request, answered).
- `tl_loop_webhook_ack_seconds`: time to acknowledge a webhook.
- `tl_loop_translations_total{direction, source, target, engine}`: translations by the loop.
- `tl_loop_review_decisions_total{direction, decision}`: send, send_flagged, hold.
- `tl_loop_translation_seconds{direction}`: time in the loop per message.
- `tl_loop_job_seconds{kind}`: from webhook received to job finished.
- `tl_loop_errors_total{stage, error}`: errors by stage (job, write, language, translate).
- `tl_loop_writes_total{kind, outcome}`: helpdesk writes sent, skipped (already done),
  uncertain (may have arrived), confirmed (an uncertain note found in the conversation),
  failed (surely not delivered, may be retried), refused (the helpdesk said no with a 4xx:
  final, the agent is told), not_needed (nothing to send: no language field configured, or
  the value is already there).
- `tl_loop_jobs_total{outcome}`: done, waiting (the helpdesk is down), retried, failed, dead.
- `tl_loop_queue_jobs{status}`: jobs in the queue by status (queued, waiting, running, done,
  failed, dead), read at scrape time. Alert on `dead` > 0 and on `waiting` that keeps growing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import Metric

__all__ = ["RelayMetrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _QueueCollector:
    """Reads the queue depth when Prometheus scrapes, so the gauge is never stale."""

    def __init__(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("tl_loop_queue_jobs", "Jobs in the queue", labels=["status"])
        for status, count in self._counts().items():
            family.add_metric([status], count)
        yield family


class RelayMetrics:
    """The relay's counters and histograms.

    Args:
        queue_counts: returns jobs per status; read at each scrape.
    """

    def __init__(self, *, queue_counts: Callable[[], Mapping[str, int]]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry: CollectorRegistry = CollectorRegistry()
        registry = self.registry
        self.webhooks = Counter(
            "tl_loop_webhooks", "Webhooks received", ["adapter", "outcome"], registry=registry
        )
        self.ack_seconds = Histogram(
            "tl_loop_webhook_ack_seconds", "Time to acknowledge a webhook", registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
        )  # fmt: skip
        self.translations = Counter(
            "tl_loop_translations", "Translations by language pair and engine",
            ["direction", "source", "target", "engine"], registry=registry,
        )  # fmt: skip
        self.decisions = Counter(
            "tl_loop_review_decisions", "Review decisions", ["direction", "decision"],
            registry=registry,
        )  # fmt: skip
        self.translation_seconds = Histogram(
            "tl_loop_translation_seconds", "Time in the loop per message", ["direction"],
            registry=registry, buckets=_LATENCY_BUCKETS,
        )  # fmt: skip
        self.job_seconds = Histogram(
            "tl_loop_job_seconds", "From webhook received to job finished", ["kind"],
            registry=registry, buckets=_LATENCY_BUCKETS,
        )  # fmt: skip
        self.jobs = Counter("tl_loop_jobs", "Jobs finished", ["outcome"], registry=registry)
        self.errors = Counter(
            "tl_loop_errors", "Errors by stage and class", ["stage", "error"], registry=registry
        )
        self.writes = Counter(
            "tl_loop_writes", "Helpdesk writes", ["kind", "outcome"], registry=registry
        )
        registry.register(_QueueCollector(queue_counts))

    def render(self) -> tuple[bytes, str]:
        """The exposition body and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
