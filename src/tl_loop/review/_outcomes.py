"""Customer outcomes per language: satisfaction, first-contact resolution, resolution time,
reopens — for translated conversations beside conversations in the agent's own language.

The helpdesk says how a conversation went (`Rating`, `Timeline` from `tl_loop.helpdesk`); the
audit log says which language the customer wrote, on which channel, and whether tl_loop
translated. Joined by conversation, the two answer the question a support lead asks: do
customers we serve through translation fare as well as the others? The review queue adds how
often those replies needed a person (review rate) and how often the person changed the draft
(post-edit rate).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tl_loop.helpdesk import Rating, Timeline
from tl_loop.review._audit import AuditRow
from tl_loop.review._items import ReviewItem

__all__ = ["OutcomeGroup", "compute_outcomes", "render_outcomes_table"]

ConversationKey = tuple[str, str]
"""(adapter, conversation id): conversation ids are only unique within one helpdesk."""


@dataclass(frozen=True, slots=True)
class OutcomeGroup:
    """Outcomes of the conversations in one customer language and channel, translated or not.

    Args:
        language: the customer's language (base tag).
        channel: `chat`, `email` or `other`.
        translated: True for conversations tl_loop translated, False for the agent's own language.
        conversations: conversations in the group.
        rated: conversations the customer rated.
        csat: satisfied ratings per rating (0–1); None without ratings.
        mean_score: mean rating on the 0–1 scale; None without ratings.
        resolved: conversations with a resolving reply.
        fcr: first-contact resolutions per resolved conversation; None without any.
        median_resolution_hours: first message to resolving reply; None without any.
        reopen_rate: reopened conversations per conversation with a timeline; None without any.
        review_rate: outbound replies held or flagged for a person, per outbound reply.
        post_edit_rate: review items a person edited, per decided review item.
    """

    language: str
    channel: str
    translated: bool
    conversations: int = 0
    rated: int = 0
    csat: float | None = None
    mean_score: float | None = None
    resolved: int = 0
    fcr: float | None = None
    median_resolution_hours: float | None = None
    reopen_rate: float | None = None
    review_rate: float | None = None
    post_edit_rate: float | None = None


@dataclass
class _Conversation:
    language: str = "und"
    channel: str = "other"
    translated: bool = False
    outbound: int = 0
    reviewed: int = 0
    rating: Rating | None = None
    timeline: Timeline | None = None
    items: list[ReviewItem] = field(default_factory=list)


def compute_outcomes(
    audit_rows: Iterable[AuditRow],
    *,
    ratings: Mapping[ConversationKey, Rating],
    timelines: Mapping[ConversationKey, Timeline],
    review_items: Iterable[ReviewItem] = (),
) -> list[OutcomeGroup]:
    """Outcomes per (customer language, channel, translated), largest groups first.

    Only conversations the audit log knows (with an adapter and conversation id) are counted:
    the language and the translation come from it.
    """
    conversations: dict[ConversationKey, _Conversation] = {}
    for row in sorted(audit_rows, key=lambda row: row.created_at):
        if row.adapter is None or row.conversation_id is None or row.channel == "kb":
            continue
        entry = conversations.setdefault((row.adapter, row.conversation_id), _Conversation())
        customer = row.source_language if row.direction == "inbound" else row.target_language
        if customer and customer != "und":
            entry.language = customer.split("-")[0].lower()
        entry.channel = row.channel or entry.channel
        if row.engine is not None and row.segments and row.source_language != row.target_language:
            entry.translated = True
        if row.direction == "outbound":
            entry.outbound += 1
            entry.reviewed += row.decision in ("hold", "send_flagged")
    for item in review_items:
        key = (item.adapter or "", item.conversation_id or "")
        if key in conversations:
            conversations[key].items.append(item)
    for key, entry in conversations.items():
        entry.rating = ratings.get(key)
        entry.timeline = timelines.get(key)
    groups: dict[tuple[str, str, bool], list[_Conversation]] = defaultdict(list)
    for entry in conversations.values():
        groups[(entry.language, entry.channel, entry.translated)].append(entry)
    result = [_group(key, members) for key, members in groups.items()]
    return sorted(result, key=lambda g: (-g.conversations, g.language, g.channel, g.translated))


def _group(key: tuple[str, str, bool], members: list[_Conversation]) -> OutcomeGroup:
    rated = [m.rating for m in members if m.rating is not None]
    lines = [m.timeline for m in members if m.timeline is not None]
    resolved = [t for t in lines if t.resolved_at is not None]
    hours = [h for t in resolved if (h := t.resolution_hours) is not None]
    outbound = sum(m.outbound for m in members)
    decided = [i for m in members for i in m.items if str(i.state) != "pending"]
    return OutcomeGroup(
        language=key[0],
        channel=key[1],
        translated=key[2],
        conversations=len(members),
        rated=len(rated),
        csat=_share(sum(r.satisfied for r in rated), len(rated)),
        mean_score=statistics.fmean(r.score for r in rated) if rated else None,
        resolved=len(resolved),
        fcr=_share(sum(t.first_contact_resolution for t in resolved), len(resolved)),
        median_resolution_hours=statistics.median(hours) if hours else None,
        reopen_rate=_share(sum(t.reopened for t in lines), len(lines)),
        review_rate=_share(sum(m.reviewed for m in members), outbound),
        post_edit_rate=_share(sum(str(i.state) == "edited" for i in decided), len(decided)),
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def render_outcomes_table(groups: Iterable[OutcomeGroup]) -> str:
    """The groups as a plain-text table under 100 columns (`tl-loop stats --outcomes`)."""
    header = (
        f"{'language':<9}{'channel':<8}{'translated':<11}{'convs':>6}{'rated':>6}{'CSAT':>6}"
        f"{'FCR':>6}{'resol. h':>9}{'reopen':>7}{'review':>7}{'edited':>7}"
    )
    lines = [header, "-" * len(header)]
    for g in groups:
        lines.append(
            f"{g.language:<9}{g.channel:<8}{'yes' if g.translated else 'no':<11}"
            f"{g.conversations:>6}{g.rated:>6}{_pct(g.csat):>6}{_pct(g.fcr):>6}"
            f"{_hours(g.median_resolution_hours):>9}{_pct(g.reopen_rate):>7}"
            f"{_pct(g.review_rate):>7}{_pct(g.post_edit_rate):>7}"
        )
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _hours(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
