"""Customer satisfaction ratings as helpdesks record them.

Platforms rate on their own scales (Zendesk good/bad, Freshdesk -103…103, Chatwoot 1–5, Help
Scout great/okay/not good); a `Rating` keeps the platform's own value beside one score in
[0, 1] so languages and platforms can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["Rating", "parse_time"]


@dataclass(frozen=True, slots=True)
class Rating:
    """One customer satisfaction rating of a conversation.

    Args:
        conversation_id: the rated conversation, as the adapter names conversations.
        score: the rating on one scale, 0 (worst) to 1 (best).
        raw: the platform's own value (`"good"`, `103`, `4`), for the record.
        satisfied: whether the platform counts it as satisfied (CSAT's numerator).
        created_at: when the customer rated.
    """

    conversation_id: str
    score: float
    raw: str
    satisfied: bool
    created_at: datetime | None = None


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 timestamp or epoch seconds from an API, as an aware datetime; else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str) or not value:
        return None
    if value.replace(".", "", 1).isdigit():  # epoch seconds written as text (Intercom parts)
        return datetime.fromtimestamp(float(value), UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
