"""The statistics as Prometheus gauges: read from real SQLite stores at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stats_builders import item, row

from tl_loop import ServiceUnavailableError
from tl_loop.review import AuditLog, AuditRow, SQLiteAuditLog, SQLiteReviewQueue
from tl_loop.review._stats_metrics import StatsCollector, register_stats_metrics

prometheus_client = pytest.importorskip("prometheus_client")
parser = pytest.importorskip("prometheus_client.parser")


def scrape(registry: object) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = prometheus_client.generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in parser.text_string_to_metric_families(text)
        for sample in family.samples
    }


def labels(**extra: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"source": "en", "target": "es", "engine": "apertium", **extra}.items()))


def test_the_gauges_show_the_stats_of_the_stores(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with (
        SQLiteAuditLog(tmp_path / "audit.sqlite3") as audit,
        SQLiteReviewQueue(tmp_path / "review.sqlite3") as queue,
    ):
        audit.add(row(decision="hold", characters=40, billed=40, created=now))
        audit.add(row(decision="send", characters=60, billed=60, created=now))
        audit.add(row(decision="send", created=now - timedelta(days=90)))  # outside the window
        queue.add(item(1, draft="Su tablero.", final="Su panel.", created=now - timedelta(hours=1),
                       wait=timedelta(minutes=30)))  # fmt: skip
        registry = prometheus_client.CollectorRegistry()
        register_stats_metrics(registry, audit_log=audit, review_queue=queue, window_days=30)
        samples = scrape(registry)
    assert samples[("tl_loop_stats_translations", labels())] == 2
    assert samples[("tl_loop_stats_billed_characters", labels())] == 100
    assert samples[("tl_loop_stats_held_ratio", labels())] == 0.5
    assert samples[("tl_loop_stats_review_items", labels(state="edited"))] == 1
    assert 0 < samples[("tl_loop_stats_post_edit_chrf", labels())] < 100
    approval = ("tl_loop_stats_approval_seconds", labels(quantile="0.5", items="held"))
    assert samples[approval] == pytest.approx(1800)
    assert samples[("tl_loop_stats_window_seconds", ())] == 30 * 86400
    assert samples[("tl_loop_stats_up", ())] == 1


class _DownAuditLog(AuditLog):
    """An audit log whose server is unreachable."""

    def add(self, row: AuditRow) -> None:
        raise ServiceUnavailableError("connection refused", service="postgres")

    def rows(self, *, since: datetime | None = None) -> Iterator[AuditRow]:
        raise ServiceUnavailableError("connection refused", service="postgres")


def test_a_failing_store_does_not_fail_the_scrape(caplog: pytest.LogCaptureFixture) -> None:
    registry = prometheus_client.CollectorRegistry()
    register_stats_metrics(registry, audit_log=_DownAuditLog(), review_queue=None)
    samples = scrape(registry)
    assert samples[("tl_loop_stats_up", ())] == 0
    assert not any(name == "tl_loop_stats_translations" for name, _ in samples)
    assert "connection refused" in caplog.text


def test_one_computation_serves_scrapes_within_the_refresh_time(tmp_path: Path) -> None:
    ticks = iter([0.0, 10.0, 61.0])
    with SQLiteAuditLog(tmp_path / "audit.sqlite3") as audit:
        collector = StatsCollector(
            audit_log=audit, review_queue=None, refresh_seconds=60, clock=lambda: next(ticks)
        )
        first = collector.stats()
        audit.add(row(created=datetime.now(UTC)))
        assert collector.stats() is first  # 10 s later: cached
        refreshed = collector.stats()  # 61 s later: read again
    assert first is not None
    assert refreshed is not None
    assert (first.total.translations, refreshed.total.translations) == (0, 1)


class _CountingAuditLog(_DownAuditLog):
    """Counts reads, to show when the collector reads the store."""

    def __init__(self) -> None:
        self.reads = 0

    def rows(self, *, since: datetime | None = None) -> Iterator[AuditRow]:
        self.reads += 1
        return iter(())


def test_registering_reads_no_store_and_a_second_registration_is_refused() -> None:
    registry = prometheus_client.CollectorRegistry()
    audit = _CountingAuditLog()
    register_stats_metrics(registry, audit_log=audit, review_queue=None)
    assert audit.reads == 0  # the relay starts even when the store is slow
    scrape(registry)
    assert audit.reads == 1
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        register_stats_metrics(registry, audit_log=audit, review_queue=None)


def test_the_relay_registry_exposes_the_stats_beside_its_own_metrics(tmp_path: Path) -> None:
    from tl_loop.relay._metrics import RelayMetrics

    metrics = RelayMetrics(queue_counts=lambda: {"queued": 0})
    with SQLiteAuditLog(tmp_path / "audit.sqlite3") as audit:
        audit.add(row(created=datetime.now(UTC)))
        register_stats_metrics(metrics.registry, audit_log=audit, review_queue=None)
        body, _ = metrics.render()
    text = body.decode()
    assert "tl_loop_queue_jobs" in text
    assert 'tl_loop_stats_translations{engine="apertium",source="en",target="es"} 1.0' in text
