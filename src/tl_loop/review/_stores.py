"""Opening the review queue and audit log that the `[relay]` settings name."""

from __future__ import annotations

from tl_loop._relay_settings import RelaySettings
from tl_loop.review._audit import AuditLog
from tl_loop.review._items import ReviewQueue
from tl_loop.review._postgres import PostgresAuditLog, PostgresReviewQueue
from tl_loop.review._sqlite import SQLiteAuditLog, SQLiteReviewQueue

__all__ = ["open_audit_log", "open_review_queue"]


def open_review_queue(settings: RelaySettings) -> ReviewQueue:
    """The review queue `settings` name: PostgreSQL at `review_url`, else SQLite.

    Raises:
        ConfigurationError: a bad connection string.
        ServiceUnavailableError: PostgreSQL cannot be reached.
    """
    if settings.review_url:
        return PostgresReviewQueue(settings.review_url)
    return SQLiteReviewQueue(settings.store_path("review"))


def open_audit_log(settings: RelaySettings) -> AuditLog | None:
    """The audit log `settings` name, or None when `audit` is off.

    Raises:
        ConfigurationError: a bad connection string.
        ServiceUnavailableError: PostgreSQL cannot be reached.
    """
    if not settings.audit:
        return None
    if settings.audit_url:
        return PostgresAuditLog(settings.audit_url)
    return SQLiteAuditLog(settings.store_path("audit"))
