"""`/outcomes`: customer outcomes per language on the relay, as tables and server-rendered SVG.

Reviewers sign in as on `/review` (same token or basic auth, same session). The page joins what
the relay knows (its audit log and review queue) with what each helpdesk knows (satisfaction
ratings, and each conversation's messages for resolution times), for the most recent
conversations, and keeps the answer for a few minutes: helpdesk APIs are rate-limited.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tl_loop._errors import ServiceError
from tl_loop.helpdesk import HelpdeskClient, Rating, Timeline
from tl_loop.relay._review_page import COOKIE
from tl_loop.review import AuditLog, OutcomeGroup, ReviewQueue, compute_outcomes

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from tl_loop.relay._relay import Relay

__all__ = ["OutcomesCollector", "mount_outcomes_page", "render_outcomes_page"]

logger = logging.getLogger(__name__)

_METRICS: tuple[tuple[str, str, Callable[[OutcomeGroup], float | None], bool], ...] = (
    ("csat", "Satisfied (CSAT)", lambda g: g.csat, True),
    ("fcr", "First-contact resolution", lambda g: g.fcr, True),
    ("reopen", "Reopened", lambda g: g.reopen_rate, True),
    ("hours", "Median hours to resolution", lambda g: g.median_resolution_hours, False),
)


class OutcomesCollector:
    """Gathers the outcome groups from an audit log, a review queue and helpdesk clients, at
    most once per `ttl` seconds.

    Args:
        audit: the audit log (languages, channels, what was translated).
        review: the review queue (review and post-edit rates), if any.
        clients: a `HelpdeskClient` per adapter name (ratings and conversation messages).
        max_conversations: the most recent conversations read per adapter (each one costs a
            helpdesk request for its messages).
        ttl: seconds an answer is reused.
    """

    def __init__(
        self,
        *,
        audit: AuditLog | None,
        review: ReviewQueue | None,
        clients: Mapping[str, HelpdeskClient],
        max_conversations: int = 200,
        ttl: float = 300.0,
    ) -> None:
        self.audit = audit
        self.review = review
        self.clients = clients
        self.max_conversations = max_conversations
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, list[OutcomeGroup]] | None = None

    @classmethod
    def for_relay(cls, relay: Relay, **options: Any) -> OutcomesCollector:
        """The collector over a relay's own audit log, review queue and helpdesk clients."""
        return cls(audit=relay.audit, review=relay.review, clients=relay.clients, **options)

    def groups(self) -> list[OutcomeGroup]:
        """The outcome groups, from the cache when it is fresh."""
        with self._lock:
            if self._cached is not None and time.monotonic() - self._cached[0] < self.ttl:
                return self._cached[1]
        groups = self._collect()
        with self._lock:
            self._cached = (time.monotonic(), groups)
        return groups

    def _collect(self) -> list[OutcomeGroup]:
        rows = list(self.audit.rows()) if self.audit is not None else []
        recent: dict[str, list[str]] = {}
        for row in sorted(rows, key=lambda r: r.created_at, reverse=True):
            if row.adapter is None or row.conversation_id is None:
                continue
            seen = recent.setdefault(row.adapter, [])
            if row.conversation_id not in seen and len(seen) < self.max_conversations:
                seen.append(row.conversation_id)
        ratings: dict[tuple[str, str], Rating] = {}
        timelines: dict[tuple[str, str], Timeline] = {}
        for adapter, conversation_ids in recent.items():
            client = self.clients.get(adapter)
            if client is None:
                continue
            try:
                for rating in client.get_ratings():
                    ratings[(adapter, rating.conversation_id)] = rating
            except ServiceError as error:
                logger.warning("outcomes: %s ratings unavailable: %s", adapter, error)
            for conversation_id in conversation_ids:
                try:
                    line, carried = client.get_outcome(conversation_id)
                    timelines[(adapter, conversation_id)] = line
                    if carried is not None:
                        ratings.setdefault((adapter, conversation_id), carried)
                except ServiceError as error:
                    logger.warning(
                        "outcomes: %s %s unreadable: %s", adapter, conversation_id, error
                    )
        review = self.review
        items = review.list(state=None, limit=10_000) if review is not None else []
        return compute_outcomes(rows, ratings=ratings, timelines=timelines, review_items=items)


def render_outcomes_page(groups: Sequence[OutcomeGroup]) -> str:
    """The whole page: one chart per measure, then the table."""
    charts = "\n".join(
        _chart(key, title, value, share, groups) for key, title, value, share in _METRICS
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tl-loop outcomes</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d2733; }}
h1 {{ font-size: 1.4rem; }} h2 {{ font-size: 1.05rem; margin-top: 1.6rem; }}
table {{ border-collapse: collapse; margin-top: 1rem; }}
th, td {{ padding: .3rem .6rem; border-bottom: 1px solid #d8dee6; text-align: right; }}
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) {{ text-align: left; }}
.legend span {{ display: inline-block; width: .8rem; height: .8rem; margin: 0 .3rem 0 1rem; }}
</style></head><body>
<h1>Customer outcomes per language</h1>
<p class="legend">Conversations tl_loop translated<span style="background:#2f6fb0"></span>
and conversations in the agent's own language<span style="background:#a9c4e0"></span>.</p>
{charts}
<h2>All figures</h2>
{_table(groups)}
</body></html>"""


def _chart(
    key: str,
    title: str,
    value: Callable[[OutcomeGroup], float | None],
    share: bool,
    groups: Sequence[OutcomeGroup],
) -> str:
    languages = sorted({g.language for g in groups})
    pairs = []
    for language in languages:
        mine = [g for g in groups if g.language == language]
        pairs.append(
            (
                language,
                _pooled(mine, value, translated=True),
                _pooled(mine, value, translated=False),
            )
        )
    top = max([v for _, a, b in pairs for v in (a, b) if v is not None] or [1.0])
    scale = 1.0 if share else top or 1.0
    bar, gap, left, width = 14, 10, 60, 320
    height = max(1, len(pairs)) * (2 * bar + gap) + 10
    parts = [
        f'<svg id="chart-{key}" role="img" aria-label="{html.escape(title)}" '
        f'width="{left + width + 70}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, (language, translated, own) in enumerate(pairs):
        y = 5 + index * (2 * bar + gap)
        parts.append(f'<text x="0" y="{y + bar + 4}" font-size="12">{html.escape(language)}</text>')
        for offset, figure, colour in ((0, translated, "#2f6fb0"), (bar, own, "#a9c4e0")):
            length = 0 if figure is None else width * figure / scale
            label = "–" if figure is None else (f"{figure:.0%}" if share else f"{figure:.1f}")
            parts.append(
                f'<rect x="{left}" y="{y + offset}" width="{length:.1f}" height="{bar - 2}" '
                f'fill="{colour}"><title>{html.escape(language)}: {label}</title></rect>'
                f'<text x="{left + length + 4:.1f}" y="{y + offset + bar - 4}" font-size="11">'
                f"{label}</text>"
            )
    parts.append("</svg>")
    return f"<h2>{html.escape(title)}</h2>\n" + "".join(parts)


def _pooled(
    groups: Sequence[OutcomeGroup],
    value: Callable[[OutcomeGroup], float | None],
    *,
    translated: bool,
) -> float | None:
    # Channels pooled, weighted by conversations: one bar per language and kind.
    weighted = [
        (figure, g.conversations)
        for g in groups
        if g.translated == translated and (figure := value(g)) is not None
    ]
    total = sum(weight for _, weight in weighted)
    return sum(figure * weight for figure, weight in weighted) / total if total else None


def _table(groups: Sequence[OutcomeGroup]) -> str:
    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.0%}"

    head = (
        "<tr><th>Language</th><th>Channel</th><th>Translated</th><th>Conversations</th>"
        "<th>Rated</th><th>CSAT</th><th>FCR</th><th>Median hours</th><th>Reopened</th>"
        "<th>Review rate</th><th>Post-edit rate</th></tr>"
    )

    def hours(value: float | None) -> str:
        return "–" if value is None else f"{value:.1f}"

    rows = "".join(
        f"<tr><td>{html.escape(g.language)}</td><td>{html.escape(g.channel)}</td>"
        f"<td>{'yes' if g.translated else 'no'}</td><td>{g.conversations}</td>"
        f"<td>{g.rated}</td><td>{pct(g.csat)}</td><td>{pct(g.fcr)}</td>"
        f"<td>{hours(g.median_resolution_hours)}</td><td>{pct(g.reopen_rate)}</td>"
        f"<td>{pct(g.review_rate)}</td><td>{pct(g.post_edit_rate)}</td></tr>"
        for g in groups
    )
    return f'<table id="outcomes">{head}{rows}</table>'


def mount_outcomes_page(app: Starlette, relay: Relay) -> None:
    """Add `/outcomes` to `app` (after `/review`, whose sign-in it shares)."""
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    collector = OutcomesCollector.for_relay(relay)

    async def page(request: Request) -> Response:
        import anyio.to_thread

        session: Any = request.app.state.review_page.authenticate(request)
        if not hasattr(session, "reviewer"):
            response: Response = session
            return response
        groups = await anyio.to_thread.run_sync(collector.groups)
        response = HTMLResponse(render_outcomes_page(groups))
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
        if getattr(session, "new_cookie", None):
            response.set_cookie(COOKIE, session.new_cookie, httponly=True, samesite="strict")
        return response

    app.router.routes.append(Route("/outcomes", page, methods=["GET"]))
