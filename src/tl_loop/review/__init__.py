"""The human in the loop: the review queue, the audit log, and memory that learns.

Held replies (and replies sent with review flags) wait in a `ReviewQueue` for a person; one
decision per item, atomically: approve, edit or reject. The relay (`tl_loop.relay.Relay`)
fills the queue, releases an approved or edited held reply through its adapter exactly once,
and teaches the translation memory what reviewers approved. Every translation the relay makes
is recorded in an `AuditLog` for statistics.

```python
from tl_loop.review import ReviewState, SQLiteReviewQueue

with SQLiteReviewQueue("review.sqlite3") as queue:
    for item in queue.list(language="es"):
        print(item.id, item.original, "→", item.draft)
```

SQLite is the embedded default; `PostgresReviewQueue` and `PostgresAuditLog` serve several
relays (`pip install "tl-loop[postgres]"`). See docs/review-workflow.md.
"""

from __future__ import annotations

from tl_loop.review._audit import AuditLog, AuditRow, audit_row
from tl_loop.review._items import (
    ReviewConflictError,
    ReviewItem,
    ReviewQueue,
    ReviewState,
    check_releasable,
    new_item_id,
)
from tl_loop.review._language_gate import language_problem
from tl_loop.review._learn import learn, learned_entries, pair_segments
from tl_loop.review._outcomes import OutcomeGroup, compute_outcomes, render_outcomes_table
from tl_loop.review._postgres import PostgresAuditLog, PostgresReviewQueue
from tl_loop.review._sqlite import SQLiteAuditLog, SQLiteReviewQueue
from tl_loop.review._stats import (
    Durations,
    EditEffort,
    compute_stats,
    post_edit_scores,
    render_table,
)
from tl_loop.review._stores import open_audit_log, open_review_queue
from tl_loop.review._suggest import (
    find_replacements,
    suggest_glossary_entries,
    suggestions_to_csv,
    suggestions_to_json,
    suggestions_to_tsv,
)

__all__ = [
    "AuditLog",
    "AuditRow",
    "Durations",
    "EditEffort",
    "OutcomeGroup",
    "PostgresAuditLog",
    "PostgresReviewQueue",
    "ReviewConflictError",
    "ReviewItem",
    "ReviewQueue",
    "ReviewState",
    "SQLiteAuditLog",
    "SQLiteReviewQueue",
    "audit_row",
    "check_releasable",
    "compute_outcomes",
    "compute_stats",
    "find_replacements",
    "language_problem",
    "learn",
    "learned_entries",
    "new_item_id",
    "open_audit_log",
    "open_review_queue",
    "pair_segments",
    "post_edit_scores",
    "render_outcomes_table",
    "render_table",
    "suggest_glossary_entries",
    "suggestions_to_csv",
    "suggestions_to_json",
    "suggestions_to_tsv",
]
