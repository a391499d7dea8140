"""The reviewer page at `/review`: pending items, original beside draft, approve/edit/reject.

Served by `tl-loop serve` next to the webhooks (`mount_review_page` in `create_app`). Plain HTML
from `review_assets/` (no build step, no CDN), a little CSS and a script that only improves the
page; every form works without it.

Security, on by default:

- Authentication (`[relay] review_auth`, default `"token"`): a secret token read from the
  environment variable named by `review_token_env` (default `TL_LOOP_REVIEW_TOKEN`), sent as
  `Authorization: Bearer <token>` or once as `/review?token=<token>`, which is exchanged for an
  HttpOnly, SameSite=Lax session cookie and redirected (303) to the same address without the
  token; or `"basic"`: HTTP basic against `user:password` pairs in
  `TL_LOOP_REVIEW_USERS`. With no secret configured the page answers 503 and says what to set;
  `"none"` serves without authentication, and only while the relay listens on loopback.
- CSRF: every POST carries a synchronizer token derived (HMAC) from the session cookie, compared
  in constant time; missing or wrong is 403. Cross-site `Origin`/`Sec-Fetch-Site` is 403 too.
- All customer and agent text is escaped; responses carry a Content-Security-Policy without
  inline script, `X-Frame-Options: DENY` and `Cache-Control: no-store`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from tl_loop._errors import ConfigurationError, NotFoundError, TlLoopError
from tl_loop._models import ReviewFlag
from tl_loop.relay._review_actions import Refusal, actions, decision
from tl_loop.relay._review_auth import ReviewAuth, basic_user
from tl_loop.relay._review_html import Markup, age, asset, escape, highlight, render
from tl_loop.review import ReviewConflictError, ReviewItem, ReviewQueue, ReviewState

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from tl_loop.helpdesk import HelpdeskAdapter
    from tl_loop.relay._relay import Relay

__all__ = ["ReviewPage", "mount_review_page"]

COOKIE = "tl_review_session"
SESSION_SECONDS = 12 * 3600
MAX_FORM_BYTES = 256_000
_TOKEN_REVIEWER = "token"
_ITEM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ASSETS = {"review.css": "text/css; charset=utf-8", "review.js": "text/javascript; charset=utf-8"}
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class _Decide(Protocol):
    def __call__(
        self, item_id: str, *, state: ReviewState, reviewer: str, final: str | None = None
    ) -> ReviewItem: ...


@dataclass(frozen=True, slots=True)
class _Session:
    reviewer: str
    sid: str
    new_cookie: str | None  # set on the response when the session was just started


class ReviewPage:
    """The reviewer page's state: the queue it shows, how decisions are made, who may decide.

    ```python
    page = ReviewPage(queue=SQLiteReviewQueue("review.sqlite3"), decide=relay.decide,
                      auth=ReviewAuth(mode="token", token=os.environ["TL_LOOP_REVIEW_TOKEN"]))
    mount_review_page(app, page)
    ```

    Args:
        queue: the review queue to list and show (None: the page explains it is not set up).
        decide: records a decision and releases an approved reply (`Relay.decide`).
        auth: who may use the page.
        clock: the current time (tests).
        jobs: the relay's jobs per state (`JobQueue.overview`), so the page can say when
            replies wait for a helpdesk that is down or were given up.
        ticket_url: where an item's conversation opens in the helpdesk (None: not linked).
    """

    def __init__(
        self,
        *,
        queue: ReviewQueue | None,
        decide: _Decide | None,
        auth: ReviewAuth,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jobs: Callable[[], Mapping[str, int]] | None = None,
        ticket_url: Callable[[ReviewItem], str | None] | None = None,
    ) -> None:
        self.queue = queue
        self.decide = decide
        self.auth = auth
        self.clock = clock
        self.jobs = jobs
        self.ticket_url = ticket_url
        self._key = auth.session_key()

    @classmethod
    def for_relay(cls, relay: Relay, environ: Mapping[str, str] | None = None) -> ReviewPage:
        """The page for a relay: its review queue, its `decide`, auth from its settings."""
        return cls(
            queue=relay.review,
            decide=relay.decide,
            auth=ReviewAuth.from_settings(relay.settings, environ),
            jobs=relay.queue.overview,
            ticket_url=functools.partial(_ticket_url, relay.adapters),
        )

    # -- sessions and CSRF -------------------------------------------------------------------

    def _mac(self, purpose: str, *parts: str) -> str:
        message = "\0".join((purpose, *parts)).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _new_cookie(self, reviewer: str) -> tuple[str, str]:
        issued, sid = str(int(time.time())), secrets.token_urlsafe(24)
        return sid, f"{issued}.{sid}.{self._mac('session', reviewer, issued, sid)}"

    def _session_id(self, cookie: str | None, reviewer: str) -> str | None:
        issued, _, rest = (cookie or "").partition(".")
        sid, _, mac = rest.partition(".")
        if not (issued.isdigit() and sid and mac):
            return None
        expected = self._mac("session", reviewer, issued, sid)
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        if time.time() - int(issued) > SESSION_SECONDS:
            return None
        return sid

    def csrf_token(self, sid: str) -> str:
        """The synchronizer token for forms of this session."""
        return self._mac("csrf", sid)

    def _credentials(self, request: Request) -> str | None:
        """The reviewer the request authenticates as, or None."""
        auth = self.auth
        if auth.mode == "none":
            return "localhost"
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if auth.mode == "basic":
            return basic_user(scheme, value, auth.users)
        if auth.token is None:
            return None
        offered = value.strip() if scheme.lower() == "bearer" else None
        if offered is None and request.method == "GET":
            offered = request.query_params.get("token")
        if offered is not None and hmac.compare_digest(offered.encode(), auth.token.encode()):
            return _TOKEN_REVIEWER
        if self._session_id(request.cookies.get(COOKIE), _TOKEN_REVIEWER) is not None:
            return _TOKEN_REVIEWER
        return None

    def authenticate(self, request: Request) -> _Session | Response:
        """The request's session (started on a GET if it has none), or the refusal to send."""
        if self.auth.problem is not None:
            return _page_response("Reviewer page not configured", self.auth.problem, 503)
        reviewer = self._credentials(request)
        if reviewer is None:
            response = _page_response(
                "Sign in",
                "Open the link you were given (it ends in ?token=…), or send "
                "'Authorization: Bearer <token>'."
                if self.auth.mode == "token"
                else "This page needs your reviewer user name and password.",
                401,
            )
            challenge = 'Basic realm="tl-loop review", charset="UTF-8"'
            response.headers["WWW-Authenticate"] = (
                challenge if self.auth.mode == "basic" else 'Bearer realm="tl-loop review"'
            )
            return response
        sid = self._session_id(request.cookies.get(COOKIE), reviewer)
        if sid is not None:
            return _Session(reviewer, sid, None)
        if request.method != "GET":
            return _page_response(
                "Session expired", "Your session is missing or expired; reload the page.", 403
            )
        sid, cookie = self._new_cookie(reviewer)
        if "token" in request.query_params:
            # The token link is exchanged for a session once, then the address is clean: the
            # secret stays out of history, bookmarks, Referer and the logs of later requests.
            return _clean_redirect(request, _Session(reviewer, sid, cookie))
        return _Session(reviewer, sid, cookie)

    def check_post(self, request: Request, session: _Session, form: Mapping[str, str]) -> bool:
        """Whether a POST is same-origin and carries this session's CSRF token."""
        origin = request.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
            return False
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return False
        offered = form.get("csrf", "")
        return hmac.compare_digest(offered.encode(), self.csrf_token(session.sid).encode())


def _ticket_url(adapters: Mapping[str, HelpdeskAdapter], item: ReviewItem) -> str | None:
    """The item's conversation in its helpdesk, from the adapter that made it."""
    adapter = adapters.get(item.adapter or "")
    if adapter is None or not item.conversation_id:
        return None
    return adapter.ticket_url(item.conversation_id)


# -- responses -------------------------------------------------------------------------------


def _secure(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def _html(
    body: Markup, *, title: str, who: str = "", notice: Markup | None = None, status: int = 200
) -> Response:
    from starlette.responses import HTMLResponse

    page = render("base.html", title=title, who=who, notice=notice or Markup(""), body=body)
    return _secure(HTMLResponse(str(page), status_code=status))


def _page_response(heading: str, message: str, status: int, who: str = "") -> Response:
    body = render("message.html", heading=heading, message=message)
    return _html(body, title=heading, who=who, status=status)


def _clean_redirect(request: Request, session: _Session) -> Response:
    from starlette.responses import RedirectResponse

    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    query = urlencode(kept)
    target = request.url.path + (f"?{query}" if query else "")
    return _with_session(_secure(RedirectResponse(target, status_code=303)), session, request)


def _with_session(response: Response, session: _Session, request: Request) -> Response:
    if session.new_cookie is not None:
        response.set_cookie(
            COOKIE,
            session.new_cookie,
            max_age=SESSION_SECONDS,
            # Pages that share this sign-in (/outcomes) keep their own cookie path.
            path="/review" if request.url.path.startswith("/review") else request.url.path,
            secure=request.url.scheme == "https",
            httponly=True,
            # Lax, not Strict: a reviewer arrives by a link from the helpdesk (another site),
            # and a Strict cookie set on that visit would not follow the redirect to the clean
            # address. Forms stay protected by the CSRF token and the Origin check.
            samesite="lax",
        )
    return response


def _pair(item: ReviewItem) -> str:
    return f"{item.source_language} → {item.target_language}"


def _kind(item: ReviewItem) -> str:
    if item.direction == "outbound":
        return "Held reply" if item.held else "Sent reply (flagged)"
    return "Customer message (flagged)"


def _flag_list(flags: Sequence[ReviewFlag]) -> Markup:
    return Markup(
        "\n".join(
            f'<li><span class="sev">{escape(f.severity)}</span> <code>{escape(f.code)}</code> '
            f"{escape(f.detail)}</li>"
            for f in flags
        )
    )


# -- handlers --------------------------------------------------------------------------------


def _state(request: Request) -> ReviewPage:
    page: ReviewPage = request.app.state.review_page
    return page


async def _run(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    import anyio

    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))


def _no_queue(session: _Session) -> Response:
    return _page_response(
        "Review queue not configured",
        "The relay has no review queue: set relay.review_path (SQLite) or relay.review_url "
        "(PostgreSQL) and restart it.",
        503,
        session.reviewer,
    )


async def _list(request: Request) -> Response:
    page = _state(request)
    session = page.authenticate(request)
    if not isinstance(session, _Session):
        return session
    if page.queue is None:
        return _no_queue(session)
    language = request.query_params.get("language", "").strip()[:35] or None
    items: list[ReviewItem] = await _run(
        page.queue.list, state=ReviewState.PENDING, language=language, limit=200
    )
    now = page.clock()
    rows = Markup(
        "\n".join(
            render(
                "row.html",
                id=item.id,
                short_id=item.id[:8],
                pair=_pair(item),
                channel=item.channel or "—",
                kind=_kind(item),
                flags=", ".join(dict.fromkeys(f.code for f in item.flags)) or "—",
                created=item.created_at.isoformat(timespec="seconds"),
                age=age(item.created_at, now),
            )
            for item in items
        )
        or '<tr><td colspan="6" class="empty">Nothing waits for review.</td></tr>'
    )
    body = render("list.html", count=len(items), language=language or "", rows=rows)
    notice = await _decided_notice(page, request.query_params.get("decided", ""))
    notice = Markup(notice + await _outage_notice(page))
    response = _html(body, title="Pending review", who=session.reviewer, notice=notice)
    return _with_session(response, session, request)


async def _decided_notice(page: ReviewPage, item_id: str) -> Markup:
    if page.queue is None or not _ITEM_ID.fullmatch(item_id):
        return Markup("")
    try:
        item: ReviewItem = await _run(page.queue.get, item_id)
    except NotFoundError:
        return Markup("")
    if item.released:
        sent = " The reply was posted to the helpdesk."
    elif item.releasable:
        sent = " The reply is being posted to the helpdesk."
    else:
        sent = ""
    text = f"Item {item.id[:8]}: {item.state} by {item.decided_by or 'unknown'}.{sent}"
    return _render_notice(text)


async def _outage_notice(page: ReviewPage) -> Markup:
    """Say when jobs wait for a helpdesk that is down, or were given up (dead)."""
    if page.jobs is None:
        return Markup("")
    try:
        counts: Mapping[str, int] = await _run(page.jobs)
    except Exception:  # the page must show even when the relay's queue cannot be read
        return _render_notice("The relay's job queue cannot be read.", problem=True)
    waiting, dead = counts.get("waiting", 0), counts.get("dead", 0)
    text = []
    if waiting:
        text.append(f"{waiting} relay job(s) wait for a helpdesk that cannot be reached.")
    if dead:
        text.append(
            f"{dead} relay job(s) were given up after the outage limit; the agents are told "
            "in their conversations (tl-loop relay status lists them)."
        )
    return _render_notice(" ".join(text), problem=True) if text else Markup("")


def _render_notice(text: str, *, problem: bool = False) -> Markup:
    kind = "notice problem" if problem else "notice"
    return Markup(f'<p class="{kind}" role="status">{escape(text)}</p>')


def _not_found(item_id: str, session: _Session) -> Response:
    return _page_response(
        "Not found", f"There is no review item {item_id!r}.", 404, session.reviewer
    )


async def _item(request: Request) -> Response:
    page = _state(request)
    session = page.authenticate(request)
    if not isinstance(session, _Session):
        return session
    item_id = request.path_params["item_id"]
    if page.queue is None:
        return _no_queue(session)
    if not _ITEM_ID.fullmatch(item_id):
        return _not_found(item_id, session)
    try:
        item: ReviewItem = await _run(page.queue.get, item_id)
    except NotFoundError:
        return _not_found(item_id, session)
    response = _html(
        _item_body(page, item, session), title=f"Review {item.id[:8]}", who=session.reviewer
    )
    return _with_session(response, session, request)


def _item_body(page: ReviewPage, item: ReviewItem, session: _Session) -> Markup:
    if item.state == ReviewState.PENDING:
        forms = actions(item, page.csrf_token(session.sid))
    else:
        when = item.decided_at.isoformat(timespec="seconds") if item.decided_at else "—"
        released = "The reply was posted to the helpdesk." if item.released else ""
        forms = render(
            "decided.html",
            state=item.state,
            who=item.decided_by or "—",
            when=when,
            released=released,
            target=item.target_language,
            final=item.final if item.final is not None else "(nothing sent)",
        )
    return render(
        "item.html",
        kind=_kind(item),
        pair=_pair(item),
        state=item.state,
        channel=item.channel or "—",
        engine=item.engine or "—",
        conversation=_conversation(page, item),
        created=item.created_at.isoformat(timespec="seconds"),
        age=age(item.created_at, page.clock()),
        flags=_flag_list(item.flags),
        source=item.source_language,
        target=item.target_language,
        original=highlight(item.original, item.flags),
        draft=highlight(item.draft, item.flags),
        actions=forms,
    )


def _conversation(page: ReviewPage, item: ReviewItem) -> Markup:
    """The conversation id, linked to the ticket in the helpdesk when its address is known."""
    if not item.conversation_id:
        return Markup("—")
    url = page.ticket_url(item) if page.ticket_url is not None else None
    if url is None or not url.startswith(("https://", "http://")):
        return escape(item.conversation_id)
    return Markup(
        f'<a href="{escape(url)}" id="ticket-link" target="_blank" rel="noopener noreferrer">'
        f"{escape(item.conversation_id)}</a>"
    )


async def _form(request: Request) -> dict[str, str] | Response:
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        return _page_response("Unsupported form", "Send the page's own form.", 415)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return _page_response("Too large", f"Forms are limited to {MAX_FORM_BYTES} bytes.", 413)
    try:
        parsed = parse_qs(
            body.decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=8,
            strict_parsing=False,
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError):
        return _page_response("Bad form", "The form could not be read.", 400)
    return {key: values[0] for key, values in parsed.items()}


async def _decide(request: Request) -> Response:
    from starlette.responses import RedirectResponse

    page = _state(request)
    session = page.authenticate(request)
    if not isinstance(session, _Session):
        return session
    form = await _form(request)
    if not isinstance(form, dict):
        return form
    if not page.check_post(request, session, form):
        return _page_response(
            "Forbidden",
            "The form's security token is missing or wrong; reload the page and try again.",
            403,
            session.reviewer,
        )
    item_id, action = request.path_params["item_id"], request.path_params["action"]
    if page.queue is None or page.decide is None:
        return _no_queue(session)
    if not _ITEM_ID.fullmatch(item_id):
        return _not_found(item_id, session)
    try:
        item: ReviewItem = await _run(page.queue.get, item_id)
        state, final = decision(action, item, form)
        await _run(page.decide, item_id, state=state, reviewer=session.reviewer, final=final)
    except NotFoundError:
        return _not_found(item_id, session)
    except Refusal as refusal:
        return _page_response(refusal.heading, refusal.message, refusal.status, session.reviewer)
    except ReviewConflictError as error:
        return _page_response("Already decided", str(error), 409, session.reviewer)
    except ConfigurationError as error:
        return _page_response("Cannot do that", str(error), 400, session.reviewer)
    except TlLoopError as error:
        return _page_response(
            "Decision failed", f"The decision failed: {error}", 502, session.reviewer
        )
    return _secure(RedirectResponse(f"/review?decided={item_id}", status_code=303))


async def _static(request: Request) -> Response:
    from starlette.responses import Response

    name = request.path_params["name"]
    if name not in _ASSETS:
        return _page_response("Not found", "No such file.", 404)
    return _secure(Response(asset(name), media_type=_ASSETS[name]))


def mount_review_page(app: Starlette, page: ReviewPage) -> None:
    """Add `/review` and its routes to `app`, serving `page` (`create_app` calls this)."""
    from starlette.routing import Route

    app.state.review_page = page
    app.router.routes.extend(
        [
            Route("/review", _list, methods=["GET"]),
            Route("/review/static/{name}", _static, methods=["GET"]),
            Route("/review/{item_id}", _item, methods=["GET"]),
            Route("/review/{item_id}/{action}", _decide, methods=["POST"]),
        ]
    )
