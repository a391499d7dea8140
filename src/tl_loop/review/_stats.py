"""Translation-quality statistics per language pair and engine, from the audit log and the queue.

Pure computation: `compute_stats` reads `AuditRow`s (one per translation produced) and
`ReviewItem`s (what reviewers decided) and returns a `Stats` value; nothing here opens a store.
`tl-loop stats` and the relay's `/metrics` collector are thin layers over it. Every figure is
explained in docs/metrics.md.

Post-edit effort (chrF and TER between the draft and the reviewer's final text) needs
sacrebleu, imported only when there is an edited item to score.
"""

from __future__ import annotations

import html
import json
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tl_loop._errors import MissingDependencyError

if TYPE_CHECKING:
    from sacrebleu.metrics.chrf import CHRF
    from sacrebleu.metrics.ter import TER

    from tl_loop.review._audit import AuditRow
    from tl_loop.review._items import ReviewItem

__all__ = [
    "Durations",
    "EditEffort",
    "GroupStats",
    "Stats",
    "compute_stats",
    "edit_effort",
    "plain_text",
    "post_edit_scores",
    "render_table",
]

# Decisions (tl_loop.Decision values) that put a translation in front of a person.
_FLAGGED = frozenset({"send_flagged", "hold"})
_REVIEW_STATES = ("pending", "approved", "edited", "rejected")
_APPROVED = frozenset({"approved", "edited"})
_TAG = re.compile(r"<[^>]*>")
_SACREBLEU_INSTALL = "pip install 'sacrebleu>=2.4,<3'"

GroupKey = tuple[str | None, str | None, str | None]
"""(source language, target language, engine); None where unknown, or in the total."""


@dataclass(frozen=True, slots=True)
class Durations:
    """How long something took, over `count` cases: median and 90th percentile in seconds.

    The percentile is nearest-rank (the smallest value with at least 90% of cases at or below
    it), so it is always an observed duration. Both are None when `count` is 0.
    """

    count: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Durations:
        """Summarise a collection of durations in seconds."""
        values = sorted(seconds)
        if not values:
            return cls()
        rank = max(1, math.ceil(0.9 * len(values)))
        return cls(len(values), float(statistics.median(values)), values[rank - 1])

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: count, median_seconds, p90_seconds."""
        return {
            "count": self.count,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
        }


@dataclass(frozen=True, slots=True)
class GroupStats:
    """The figures for one language pair and engine (or for everything, in `Stats.total`).

    Args:
        source_language: the pair's source; None in the total or when it was not known.
        target_language: the pair's target; None in the total.
        engine: the engine that translated; None in the total or when nothing was translated.
        translations: translations in the audit log.
        characters_sent: characters sent to engines (after cache and memory hits).
        billed_characters: characters the engines reported billing, summed over `billed_rows`.
        billed_rows: translations whose engine reported billed characters.
        segments: segments translated.
        cache_hits: segments served by the machine-translation cache (nothing sent).
        memory_hits: segments served by the translation memory (human-approved text).
        decisions: translations per loop decision: `send`, `send_flagged`, `hold`.
        flag_codes: translations carrying each review flag code.
        reviews: review items per state: `pending`, `approved`, `edited`, `rejected`.
        post_edit_items: edited items scored for post-edit effort.
        chrf: mean sentence chrF (0–100) of the drafts against the finals of edited items;
            higher is closer (less editing). None without edited items.
        ter: TER of the same, all edits per 100 final-text words; lower is less editing.
        time_to_approval: created → decided, for approved and edited items.
        held_time_to_approval: the same for held items only: how long customers waited.
    """

    source_language: str | None
    target_language: str | None
    engine: str | None
    translations: int = 0
    characters_sent: int = 0
    billed_characters: int = 0
    billed_rows: int = 0
    segments: int = 0
    cache_hits: int = 0
    memory_hits: int = 0
    decisions: dict[str, int] = field(default_factory=dict)
    flag_codes: dict[str, int] = field(default_factory=dict)
    reviews: dict[str, int] = field(default_factory=dict)
    post_edit_items: int = 0
    chrf: float | None = None
    ter: float | None = None
    time_to_approval: Durations = Durations()
    held_time_to_approval: Durations = Durations()

    @property
    def hints_sent(self) -> dict[str, int]:
        """Hint categories still in replies when they were translated: the hints agents keep
        ignoring (`hint_idiom` → `idiom`), most frequent first."""
        hints = {
            code.removeprefix("hint_"): count
            for code, count in self.flag_codes.items()
            if code.startswith("hint_")
        }
        return dict(sorted(hints.items(), key=lambda item: (-item[1], item[0])))

    @property
    def memory_share(self) -> float | None:
        """Share of segments served by the translation memory (0–1); None without segments."""
        return self.memory_hits / self.segments if self.segments else None

    @property
    def flagged_share(self) -> float | None:
        """Share of translations sent flagged or held (0–1); None without translations."""
        if not self.translations:
            return None
        return sum(self.decisions.get(d, 0) for d in _FLAGGED) / self.translations

    @property
    def held_share(self) -> float | None:
        """Share of translations held for a person before sending (0–1)."""
        if not self.translations:
            return None
        return self.decisions.get("hold", 0) / self.translations

    @property
    def edit_share(self) -> float | None:
        """Share of decided review items that reviewers edited (0–1); None when none decided."""
        decided = sum(self.reviews.get(state, 0) for state in _REVIEW_STATES[1:])
        return self.reviews.get("edited", 0) / decided if decided else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of every figure (see docs/metrics.md)."""
        return {
            "source_language": self.source_language,
            "target_language": self.target_language,
            "engine": self.engine,
            "translations": self.translations,
            "characters_sent": self.characters_sent,
            "billed_characters": self.billed_characters if self.billed_rows else None,
            "billed_rows": self.billed_rows,
            "segments": self.segments,
            "cache_hits": self.cache_hits,
            "memory_hits": self.memory_hits,
            "memory_share": self.memory_share,
            "decisions": dict(self.decisions),
            "flagged_share": self.flagged_share,
            "held_share": self.held_share,
            "flag_codes": dict(self.flag_codes),
            "hints_sent": self.hints_sent,
            "reviews": {state: self.reviews.get(state, 0) for state in _REVIEW_STATES},
            "edit_share": self.edit_share,
            "post_edit": {"items": self.post_edit_items, "chrf": self.chrf, "ter": self.ter},
            "time_to_approval": self.time_to_approval.to_dict(),
            "held_time_to_approval": self.held_time_to_approval.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Stats:
    """Statistics over a window: one `GroupStats` per (source, target, engine), and a total.

    Args:
        groups: sorted by source language, target language, then engine.
        total: every translation and review item together.
        since: the window's start (None: everything stored).
        generated_at: when the figures were computed (UTC).
    """

    groups: tuple[GroupStats, ...]
    total: GroupStats
    since: datetime | None
    generated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form: `since`, `generated_at`, `groups`, `total`."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "generated_at": self.generated_at.isoformat(),
            "groups": [group.to_dict() for group in self.groups],
            "total": self.total.to_dict(),
        }

    def to_json(self) -> str:
        """`to_dict()` as one line of JSON (non-ASCII kept as written)."""
        return json.dumps(self.to_dict(), ensure_ascii=False)


def _skipped(row: AuditRow) -> bool:
    return row.engine is None and row.segments == 0 and not row.flag_codes


def compute_stats(
    audit_rows: Iterable[AuditRow],
    review_items: Iterable[ReviewItem],
    *,
    since: datetime | None = None,
    post_edit: bool = True,
    now: datetime | None = None,
    effort_cache: MutableMapping[str, EditEffort] | None = None,
) -> Stats:
    """Compute the figures per language pair and engine.

    Args:
        audit_rows: one row per translation; rows created before `since` are ignored.
        review_items: review items in any state; items created before `since` are ignored.
        since: the window's start (an aware datetime); None takes everything.
        post_edit: score post-edit effort (chrF/TER) with sacrebleu; False leaves them None.
        now: the `generated_at` stamp (default: the current time).
        effort_cache: item id → its `EditEffort`, filled and reused across calls (an edited
            item never changes, so a long-lived caller scores each edit once).

    Returns:
        The statistics, groups sorted by source, target and engine.

    Raises:
        MissingDependencyError: `post_edit` is on, an item was edited, and sacrebleu is not
            installed.
    """
    rows_by_key: dict[GroupKey, list[AuditRow]] = defaultdict(list)
    for row in audit_rows:
        if _skipped(row):  # not translated: the reader read the language (outcome reports use it)
            continue
        if since is None or row.created_at >= since:
            rows_by_key[(row.source_language, row.target_language, row.engine)].append(row)
    items_by_key: dict[GroupKey, list[ReviewItem]] = defaultdict(list)
    for item in review_items:
        if since is None or item.created_at >= since:
            items_by_key[(item.source_language, item.target_language, item.engine)].append(item)
    keys = sorted(set(rows_by_key) | set(items_by_key), key=lambda k: tuple(p or "" for p in k))
    all_items = [item for items in items_by_key.values() for item in items]
    efforts = _efforts(all_items, effort_cache) if post_edit else {}
    groups = tuple(
        _group(key, rows_by_key.get(key, []), items_by_key.get(key, []), efforts) for key in keys
    )
    all_rows = [row for rows in rows_by_key.values() for row in rows]
    total = _group((None, None, None), all_rows, all_items, efforts)
    return Stats(groups, total, since, now or datetime.now(UTC))


def _efforts(
    items: Iterable[ReviewItem], cache: MutableMapping[str, EditEffort] | None
) -> dict[str, EditEffort]:
    """The post-edit effort of every edited item, by id, from the cache where it has it."""
    cache = {} if cache is None else cache
    found: dict[str, EditEffort] = {}
    for item in items:
        if str(item.state) == "edited" and item.final is not None:
            effort = cache.get(item.id)
            if effort is None:
                draft = plain_text(item.draft, item.content_type)
                effort = cache[item.id] = edit_effort(
                    draft, plain_text(item.final, item.content_type)
                )
            found[item.id] = effort
    return found


def _group(
    key: GroupKey,
    rows: Sequence[AuditRow],
    items: Sequence[ReviewItem],
    efforts: Mapping[str, EditEffort],
) -> GroupStats:
    decisions = Counter(str(row.decision) for row in rows)
    flag_codes = Counter(code for row in rows for code in dict.fromkeys(row.flag_codes))
    billed = [row.billed_characters for row in rows if row.billed_characters is not None]
    reviews = Counter(str(item.state) for item in items)
    scores = _aggregate([efforts[item.id] for item in items if item.id in efforts])
    approved = [item for item in items if str(item.state) in _APPROVED]
    return GroupStats(
        source_language=key[0],
        target_language=key[1],
        engine=key[2],
        translations=len(rows),
        characters_sent=sum(row.characters_sent for row in rows),
        billed_characters=sum(billed),
        billed_rows=len(billed),
        segments=sum(row.segments for row in rows),
        cache_hits=sum(row.cache_hits for row in rows),
        memory_hits=sum(row.memory_hits for row in rows),
        decisions=dict(sorted(decisions.items())),
        flag_codes=dict(sorted(flag_codes.items())),
        reviews={state: reviews[state] for state in _REVIEW_STATES if reviews[state]},
        post_edit_items=scores[0],
        chrf=scores[1],
        ter=scores[2],
        time_to_approval=Durations.of(_waits(approved)),
        held_time_to_approval=Durations.of(_waits(item for item in approved if item.held)),
    )


def _waits(items: Iterable[ReviewItem]) -> Iterator[float]:
    for item in items:
        if item.decided_at is not None:
            yield max(0.0, (item.decided_at - item.created_at).total_seconds())


def plain_text(text: str, content_type: str) -> str:
    """The words a reader sees: HTML tags dropped and entities decoded; other text unchanged.

    Scoring markup would count an unchanged `<p>` as shared text and inflate chrF.
    """
    if content_type != "html":
        return text
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


@dataclass(frozen=True, slots=True)
class EditEffort:
    """How much a reviewer changed one draft.

    Args:
        chrf: sentence chrF (0–100) of the draft against the final text; 100 is unchanged.
        ter_edits: TER's word edits (insertions, deletions, substitutions, shifts).
        ter_words: words in the final text (TER's reference length).
    """

    chrf: float
    ter_edits: float
    ter_words: float


def edit_effort(draft: str, final: str) -> EditEffort:
    """Score one post-edit with sacrebleu: the draft is the hypothesis, the final the reference.

    chrF is sacrebleu's default (character 6-grams, beta 2). TER is sacrebleu's with
    `normalized=True` (punctuation split from words) and `asian_support=True` (CJK characters
    count as words); like tercom, it ignores case.

    Raises:
        MissingDependencyError: sacrebleu is not installed.
    """
    chrf_metric, ter_metric = _metrics()
    ter = ter_metric.sentence_score(draft, [final])
    return EditEffort(
        chrf=float(chrf_metric.sentence_score(draft, [final]).score),
        ter_edits=float(ter.num_edits),
        ter_words=float(ter.ref_length),
    )


def post_edit_scores(pairs: Sequence[tuple[str, str]]) -> tuple[float, float] | None:
    """chrF and TER of (draft, final) pairs, aggregated as `tl-loop stats` does.

    chrF is the mean of the sentence scores (each message weighs the same); TER is
    corpus-level, all edits over all final-text words (as tercom and sacrebleu's
    `corpus_score` compute it).

    Returns:
        (chrF, TER), or None when `pairs` is empty.

    Raises:
        MissingDependencyError: sacrebleu is not installed.
    """
    _, chrf, ter = _aggregate([edit_effort(draft, final) for draft, final in pairs])
    return None if chrf is None or ter is None else (chrf, ter)


def _aggregate(efforts: Sequence[EditEffort]) -> tuple[int, float | None, float | None]:
    if not efforts:
        return 0, None, None
    chrf = statistics.fmean(effort.chrf for effort in efforts)
    words = sum(effort.ter_words for effort in efforts)
    edits = sum(effort.ter_edits for effort in efforts)
    # sacrebleu's convention for an empty reference: 100 if anything must be deleted, else 0.
    ter = 100.0 * edits / words if words else (100.0 if edits else 0.0)
    return len(efforts), chrf, ter


def _metrics() -> tuple[CHRF, TER]:
    try:
        from sacrebleu.metrics.chrf import CHRF
        from sacrebleu.metrics.ter import TER
    except ImportError as error:
        raise MissingDependencyError(
            "post-edit effort (chrF/TER) needs sacrebleu, which is not installed",
            install=_SACREBLEU_INSTALL,
        ) from error
    return CHRF(), TER(normalized=True, asian_support=True)


# --- the readable table ---------------------------------------------------------------------

_COLUMNS = (
    "pair", "engine", "transl", "chars", "billed", "memory", "flagged", "held",
    "pend", "appr", "edit", "rej", "chrF", "TER", "appr p50", "appr p90", "held p90",
)  # fmt: skip
# The default view: fits 100 columns, in plain words; `wide=True` shows every figure.
_NARROW = {
    "pair": "pair", "engine": "engine", "transl": "messages", "chars": "chars",
    "memory": "memory", "flagged": "flagged", "held": "held", "pend": "to review",
    "appr p50": "approved in",
}  # fmt: skip


def render_table(stats: Stats, *, wide: bool = True) -> str:
    """A fixed-width table, one line per language pair and engine, then the total.

    Shares are percentages, chrF/TER have one decimal, durations read like `4m`, `2.5h`;
    `-` marks a figure with nothing to compute it from. `wide=False` keeps the figures a
    reader needs first (messages, characters, memory, flagged, held, review, median time to
    approval) under plain headers, within 100 columns; billing, review outcomes, chrF/TER and
    percentiles are in the wide view.
    """
    keep = range(len(_COLUMNS)) if wide else [_COLUMNS.index(c) for c in _NARROW]
    header = [_COLUMNS[i] if wide else _NARROW[_COLUMNS[i]] for i in keep]
    lines = [[row[i] for i in keep] for row in (_cells(g) for g in [*stats.groups, stats.total])]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    window = f"since {stats.since:%Y-%m-%d %H:%M} UTC" if stats.since else "all time"
    out = [f"translation statistics, {window}", fmt(header), fmt(["-" * w for w in widths])]
    out.extend(fmt(row) for row in lines[:-1])
    if stats.groups:
        out.append(fmt(["-" * w for w in widths]))
    out.append(fmt(lines[-1]))
    return "\n".join(out)


def _cells(group: GroupStats) -> list[str]:
    if group.target_language is None:
        pair, engine = "all", ""
    else:
        pair = f"{group.source_language or '?'}→{group.target_language}"
        engine = group.engine or "-"
    billed = f"{group.billed_characters:,}" if group.billed_rows else "-"
    return [
        pair,
        engine,
        f"{group.translations:,}",
        f"{group.characters_sent:,}",
        billed,
        _percent(group.memory_share),
        _percent(group.flagged_share),
        _percent(group.held_share),
        *(str(group.reviews.get(state, 0)) for state in _REVIEW_STATES),
        _number(group.chrf),
        _number(group.ter),
        _duration(group.time_to_approval.median_seconds),
        _duration(group.time_to_approval.p90_seconds),
        _duration(group.held_time_to_approval.p90_seconds),
    ]


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.1f}%"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
    return f"{seconds:.0f}s"
