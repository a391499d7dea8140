"""The reviewer page over a real SQLite review queue, through httpx's ASGITransport.

Decisions go straight to the queue here (`decide=queue.decide`); releasing a held reply to a
helpdesk through the relay is covered in tests/integration/test_review_browser.py.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from tl_loop import ReviewFlag, Severity
from tl_loop.relay import RelaySettings
from tl_loop.relay._review_auth import ReviewAuth
from tl_loop.relay._review_page import COOKIE, ReviewPage, mount_review_page
from tl_loop.review import ReviewItem, ReviewState, SQLiteReviewQueue

TOKEN = "unit-test-review-token-0123456789"
HOST = "review.test"


class PageClient:
    """A browser-like client over the ASGI app: keeps cookies, never follows redirects."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.cookies = httpx.Cookies()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url=f"http://{HOST}", cookies=self.cookies
            ) as client:
                response = await client.request(method, path, **kwargs)
                self.cookies = httpx.Cookies(client.cookies)
                return response

        return anyio.run(send)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


SCRIPT = "<script>alert(1)</script>"


def make_item(
    *,
    original: str = "Your order ships in 3 days.",
    draft: str = "Su pedido se envía en 5 días.",
    flags: tuple[ReviewFlag, ...] = (
        ReviewFlag(
            code="number_mismatch",
            severity=Severity.WARNING,
            detail="numbers differ: missing 3; unexpected 5",
        ),
    ),
    direction: str = "outbound",
    minutes_ago: int = 5,
) -> ReviewItem:
    outbound = direction == "outbound"
    return ReviewItem(
        id=uuid.uuid4().hex,
        created_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        state=ReviewState.PENDING,
        held=outbound,
        direction="outbound" if outbound else "inbound",
        channel="chat",
        source_language="en" if outbound else "es",
        target_language="es" if outbound else "en",
        original=original,
        draft=draft,
        final=None,
        flags=flags,
        engine="fake",
        content_type="text",
        adapter="memory",
        conversation_id="c1",
        glossary_version=None,
    )


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[SQLiteReviewQueue]:
    with SQLiteReviewQueue(tmp_path / "review.sqlite3") as queue:
        yield queue


def client_for(queue: SQLiteReviewQueue | None, auth: ReviewAuth) -> PageClient:
    app = Starlette()
    decide = queue.decide if queue is not None else None
    mount_review_page(app, ReviewPage(queue=queue, decide=decide, auth=auth))
    return PageClient(app)


@pytest.fixture
def client(queue: SQLiteReviewQueue) -> PageClient:
    return client_for(queue, ReviewAuth(mode="token", token=TOKEN))


def signed_in(client: PageClient) -> PageClient:
    assert client.get("/review", params={"token": TOKEN}).status_code == 303
    return client


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None, page
    return match.group(1)


def assert_secure_headers(response: httpx.Response) -> None:
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"


# -- authentication --------------------------------------------------------------------------


def test_without_a_configured_secret_the_page_refuses_with_503(
    queue: SQLiteReviewQueue,
) -> None:
    auth = ReviewAuth.from_settings(RelaySettings(), environ={})
    queue.add(make_item())
    response = client_for(queue, auth).get("/review", params={"token": "anything"})
    assert response.status_code == 503
    assert "TL_LOOP_REVIEW_TOKEN" in response.text
    assert "Your order" not in response.text
    assert_secure_headers(response)


def test_a_short_token_counts_as_no_token() -> None:
    auth = ReviewAuth.from_settings(RelaySettings(), environ={"TL_LOOP_REVIEW_TOKEN": "short"})
    assert auth.problem is not None
    assert "16+" in auth.problem


def test_the_token_variable_can_be_renamed_through_the_settings() -> None:
    class Settings:
        host = "0.0.0.0"
        review_auth = "token"
        review_token_env = "MY_REVIEW_SECRET"

    auth = ReviewAuth.from_settings(Settings(), environ={"MY_REVIEW_SECRET": TOKEN})
    assert auth.problem is None
    assert auth.token == TOKEN


def test_no_credentials_gets_401_and_no_customer_text(
    queue: SQLiteReviewQueue, client: PageClient
) -> None:
    item = make_item()
    queue.add(item)
    for path in ("/review", f"/review/{item.id}"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "Your order" not in response.text
        assert_secure_headers(response)


def test_a_wrong_token_gets_401(client: PageClient) -> None:
    assert client.get("/review", params={"token": TOKEN + "x"}).status_code == 401
    bearer = {"Authorization": "Bearer wrong-token-wrong-token"}
    assert client.get("/review", headers=bearer).status_code == 401
    assert COOKIE not in client.cookies


def test_the_token_is_exchanged_once_for_a_lax_httponly_cookie_and_a_clean_address(
    queue: SQLiteReviewQueue, client: PageClient
) -> None:
    queue.add(make_item())
    first = client.get("/review", params={"token": TOKEN, "state": "pending"})
    assert first.status_code == 303
    assert first.headers["location"] == "/review?state=pending"  # the secret left the address
    assert first.headers["referrer-policy"] == "same-origin"
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/review" in cookie
    later = client.get("/review")
    assert later.status_code == 200
    assert "en → es" in later.text


def test_a_tampered_cookie_is_refused(client: PageClient) -> None:
    signed_in(client)
    issued, sid, mac = client.cookies[COOKIE].split(".")
    client.cookies.set(COOKIE, f"{issued}.{sid}x.{mac}", domain=HOST, path="/review")
    assert client.get("/review").status_code == 401


def test_a_bearer_header_signs_in(queue: SQLiteReviewQueue, client: PageClient) -> None:
    queue.add(make_item())
    response = client.get("/review", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "Pending review" in response.text


def test_basic_auth_names_the_reviewer_who_decided(queue: SQLiteReviewQueue) -> None:
    auth = ReviewAuth.from_settings(
        RelaySettings(),
        environ={"TL_LOOP_REVIEW_AUTH": "basic", "TL_LOOP_REVIEW_USERS": "ana:pw1 bo:pw2"},
    )
    client = client_for(queue, auth)
    item = make_item()
    queue.add(item)
    wrong = base64.b64encode(b"ana:pw2").decode()
    response = client.get("/review", headers={"Authorization": f"Basic {wrong}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    headers = {"Authorization": "Basic " + base64.b64encode(b"ana:pw1").decode()}
    page = client.get(f"/review/{item.id}", headers=headers)
    assert page.status_code == 200
    posted = client.post(
        f"/review/{item.id}/approve", data={"csrf": csrf_of(page.text)}, headers=headers
    )
    assert posted.status_code == 303
    assert queue.get(item.id).decided_by == "ana"


def test_auth_none_serves_only_on_loopback(queue: SQLiteReviewQueue) -> None:
    queue.add(make_item())
    local = ReviewAuth.from_settings(
        RelaySettings(host="127.0.0.1"), environ={"TL_LOOP_REVIEW_AUTH": "none"}
    )
    assert client_for(queue, local).get("/review").status_code == 200
    exposed = ReviewAuth.from_settings(
        RelaySettings(host="0.0.0.0"), environ={"TL_LOOP_REVIEW_AUTH": "none"}
    )
    response = client_for(queue, exposed).get("/review")
    assert response.status_code == 503
    assert "0.0.0.0" in response.text


# -- pages -----------------------------------------------------------------------------------


def test_the_list_shows_pending_items_newest_first_with_pair_channel_flags_and_age(
    queue: SQLiteReviewQueue, client: PageClient
) -> None:
    old = make_item(minutes_ago=90)
    new = make_item(original="Thanks!", draft="¡Gracias!", minutes_ago=2)
    queue.add(old)
    queue.add(new)
    page = signed_in(client).get("/review").text
    assert page.index(new.id[:8]) < page.index(old.id[:8])
    assert "number_mismatch" in page
    assert "chat" in page
    assert "1 h" in page
    assert "2 min" in page


def test_the_item_page_escapes_customer_text_and_highlights_flagged_spans(
    queue: SQLiteReviewQueue, client: PageClient
) -> None:
    item = make_item(
        original=f"Hola {SCRIPT} mi pedido 3",
        draft=f"Hello {SCRIPT} my order 5",
        direction="inbound",
    )
    queue.add(item)
    response = signed_in(client).get(f"/review/{item.id}")
    assert response.status_code == 200
    assert SCRIPT not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert re.search(r'<mark class="flag severity-warning"[^>]*>3</mark>', response.text)
    assert re.search(r'<mark class="flag severity-warning"[^>]*>5</mark>', response.text)
    assert_secure_headers(response)


def test_the_textarea_is_prefilled_with_the_exact_draft(
    queue: SQLiteReviewQueue, client: PageClient
) -> None:
    item = make_item(draft="\nStarts with a line break & <b>tags</b>")
    queue.add(item)
    page = signed_in(client).get(f"/review/{item.id}").text
    # The parser drops one newline right after <textarea>; the template adds it.
    assert "<textarea" in page
    body = page.split('data-draft="', 1)[1]
    assert "&lt;b&gt;tags&lt;/b&gt;" in body
    assert ">\n\nStarts with a line break &amp; &lt;b&gt;tags&lt;/b&gt;</textarea>" in page


def test_unknown_items_are_404(client: PageClient) -> None:
    signed_in(client)
    assert client.get("/review/0123456789abcdef0123456789abcdef").status_code == 404
    assert client.get("/review/..%2F..%2Fetc").status_code == 404


def test_static_assets_are_served_with_the_security_headers(client: PageClient) -> None:
    css = client.get("/review/static/review.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert_secure_headers(css)
    assert client.get("/review/static/review.js").status_code == 200
    assert client.get("/review/static/base.html").status_code == 404


def test_without_a_queue_the_page_says_how_to_configure_one() -> None:
    client = client_for(None, ReviewAuth(mode="token", token=TOKEN))
    assert client.get("/review", params={"token": TOKEN}).status_code == 303
    response = client.get("/review")
    assert response.status_code == 503
    assert "review_path" in response.text


# -- decisions and CSRF ----------------------------------------------------------------------


def test_save_edit_and_approve_records_the_edited_text(
    queue: SQLiteReviewQueue, client: PageClient
) -> None:
    item = make_item()
    queue.add(item)
    page = signed_in(client).get(f"/review/{item.id}").text
    response = client.post(
        f"/review/{item.id}/edit",
        data={"csrf": csrf_of(page), "final": "Su pedido se envía en 3 días.\r\nSaludos"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/review?decided={item.id}"
    decided = queue.get(item.id)
    assert decided.state == ReviewState.EDITED
    assert decided.final == "Su pedido se envía en 3 días.\nSaludos"
    assert decided.decided_by == "token"
    notice = client.get(response.headers["location"]).text
    assert f"Item {item.id[:8]}: edited by token" in notice


def test_an_unchanged_edit_is_an_approval(queue: SQLiteReviewQueue, client: PageClient) -> None:
    item = make_item()
    queue.add(item)
    page = signed_in(client).get(f"/review/{item.id}").text
    client.post(f"/review/{item.id}/edit", data={"csrf": csrf_of(page), "final": item.draft})
    assert queue.get(item.id).state == ReviewState.APPROVED


def test_approve_and_reject(queue: SQLiteReviewQueue, client: PageClient) -> None:
    approved, rejected = make_item(), make_item(original="Other", draft="Otro")
    queue.add(approved)
    queue.add(rejected)
    token = csrf_of(signed_in(client).get(f"/review/{approved.id}").text)
    assert client.post(f"/review/{approved.id}/approve", data={"csrf": token}).status_code == 303
    assert client.post(f"/review/{rejected.id}/reject", data={"csrf": token}).status_code == 303
    assert queue.get(approved.id).final == approved.draft
    assert queue.get(rejected.id).state == ReviewState.REJECTED
    assert queue.get(rejected.id).final is None
    decided_page = client.get(f"/review/{approved.id}").text
    assert "<textarea" not in decided_page
    assert "approved by token" in decided_page


def test_a_second_decision_is_409(queue: SQLiteReviewQueue, client: PageClient) -> None:
    item = make_item()
    queue.add(item)
    token = csrf_of(signed_in(client).get(f"/review/{item.id}").text)
    client.post(f"/review/{item.id}/approve", data={"csrf": token})
    again = client.post(f"/review/{item.id}/reject", data={"csrf": token})
    assert again.status_code == 409
    assert queue.get(item.id).state == ReviewState.APPROVED


def test_an_empty_edit_is_refused(queue: SQLiteReviewQueue, client: PageClient) -> None:
    item = make_item()
    queue.add(item)
    token = csrf_of(signed_in(client).get(f"/review/{item.id}").text)
    response = client.post(f"/review/{item.id}/edit", data={"csrf": token, "final": "  \r\n"})
    assert response.status_code == 400
    assert queue.get(item.id).state == ReviewState.PENDING


@pytest.mark.parametrize("csrf", [None, "", "0" * 64, "forged"])
def test_a_missing_or_forged_csrf_token_is_403(
    queue: SQLiteReviewQueue, client: PageClient, csrf: str | None
) -> None:
    item = make_item()
    queue.add(item)
    signed_in(client)
    data = {"final": "hijacked"} if csrf is None else {"final": "hijacked", "csrf": csrf}
    response = client.post(f"/review/{item.id}/edit", data=data)
    assert response.status_code == 403
    assert queue.get(item.id).state == ReviewState.PENDING


def test_a_csrf_token_from_another_session_is_403(queue: SQLiteReviewQueue) -> None:
    item = make_item()
    queue.add(item)
    auth = ReviewAuth(mode="token", token=TOKEN)
    app = Starlette()
    mount_review_page(app, ReviewPage(queue=queue, decide=queue.decide, auth=auth))
    alice = PageClient(app)
    mallory = PageClient(app)
    stolen = csrf_of(signed_in(mallory).get(f"/review/{item.id}").text)
    signed_in(alice)
    response = alice.post(f"/review/{item.id}/approve", data={"csrf": stolen})
    assert response.status_code == 403
    assert queue.get(item.id).state == ReviewState.PENDING


def test_a_post_without_a_session_cookie_is_403_even_with_the_bearer_token(
    queue: SQLiteReviewQueue, client: PageClient
) -> None:
    item = make_item()
    queue.add(item)
    response = client.post(
        f"/review/{item.id}/approve",
        data={"csrf": "x"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 403
    assert queue.get(item.id).state == ReviewState.PENDING


def test_a_cross_origin_post_is_403_even_with_a_valid_token(
    queue: SQLiteReviewQueue, client: PageClient
) -> None:
    item = make_item()
    queue.add(item)
    token = csrf_of(signed_in(client).get(f"/review/{item.id}").text)
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        response = client.post(f"/review/{item.id}/approve", data={"csrf": token}, headers=headers)
        assert response.status_code == 403
    assert queue.get(item.id).state == ReviewState.PENDING


def test_a_non_form_post_is_415(queue: SQLiteReviewQueue, client: PageClient) -> None:
    item = make_item()
    queue.add(item)
    signed_in(client)
    response = client.post(f"/review/{item.id}/approve", json={"csrf": "x"})
    assert response.status_code == 415


def test_the_list_says_when_relay_jobs_wait_for_a_helpdesk_or_were_given_up(
    queue: SQLiteReviewQueue,
) -> None:
    counts = {"queued": 0, "waiting": 3, "running": 0, "done": 9, "failed": 0, "dead": 1}
    app = Starlette()
    page = ReviewPage(
        queue=queue, decide=queue.decide, auth=ReviewAuth(mode="token", token=TOKEN),
        jobs=lambda: counts,
    )  # fmt: skip
    mount_review_page(app, page)
    listing = signed_in(PageClient(app)).get("/review").text
    assert "3 relay job(s) wait for a helpdesk that cannot be reached." in listing
    assert "1 relay job(s) were given up after the outage limit" in listing
    counts.update(waiting=0, dead=0)
    assert "relay job(s)" not in signed_in(PageClient(app)).get("/review").text
