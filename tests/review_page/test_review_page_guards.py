"""What the reviewer page refuses, and why: editing a reply already sent, approving a draft that
is not in the customer's language; and the conversation id linked to the helpdesk's ticket.

Through the page (httpx over the ASGI app, a real SQLite queue), as in test_review_page.py.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_review_page import (  # type: ignore[import-not-found]
    TOKEN,
    PageClient,
    csrf_of,
    make_item,
    signed_in,
)

from tl_loop import ReviewFlag, Severity
from tl_loop.relay._review_auth import ReviewAuth
from tl_loop.relay._review_page import ReviewPage, mount_review_page
from tl_loop.review import ReviewItem, ReviewState, SQLiteReviewQueue, language_problem

GREEK_CUSTOMER_ENGLISH_DRAFT = "Your refund was sent today."
UNSUPPORTED = ReviewFlag(
    code="unsupported_language",
    severity=Severity.ERROR,
    detail="no engine translates en→el here",
)


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[SQLiteReviewQueue]:
    with SQLiteReviewQueue(tmp_path / "review.sqlite3") as queue:
        yield queue


def greek_item(**changes: object) -> ReviewItem:
    """A held reply for a Greek customer whose draft is still the agent's English."""
    item = make_item(
        original=GREEK_CUSTOMER_ENGLISH_DRAFT,
        draft=GREEK_CUSTOMER_ENGLISH_DRAFT,
        flags=(UNSUPPORTED,),
    )
    return dataclasses.replace(item, target_language="el", **changes)  # type: ignore[arg-type]


def sent_item() -> ReviewItem:
    """A reply sent to the customer with a warning, queued for review afterwards."""
    return dataclasses.replace(make_item(), held=False)


def client_with(queue: SQLiteReviewQueue, ticket_url: object = None) -> PageClient:
    from starlette.applications import Starlette

    app = Starlette()
    page = ReviewPage(
        queue=queue,
        decide=queue.decide,
        auth=ReviewAuth(mode="token", token=TOKEN),
        ticket_url=ticket_url,  # type: ignore[arg-type]
    )
    mount_review_page(app, page)
    return signed_in(PageClient(app))


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# -- a reply already sent --------------------------------------------------------------------


def test_a_sent_reply_offers_no_save_edit_and_approve(queue: SQLiteReviewQueue) -> None:
    item = sent_item()
    queue.add(item)
    page = client_with(queue).get(f"/review/{item.id}").text
    assert "Save edit &amp; approve" not in page
    assert f'action="/review/{item.id}/edit"' not in page
    assert "already sent to the customer" in text_of(page)
    assert "Save correction (not sent)" in page


def test_editing_a_sent_reply_is_refused_with_the_reason(queue: SQLiteReviewQueue) -> None:
    item = sent_item()
    queue.add(item)
    client = client_with(queue)
    token = csrf_of(client.get(f"/review/{item.id}").text)
    response = client.post(f"/review/{item.id}/edit", data={"csrf": token, "final": "Otro texto"})
    assert response.status_code == 409
    assert "Already sent" in response.text
    assert "nothing decided here is sent again" in text_of(response.text)
    assert queue.get(item.id).state == ReviewState.PENDING


def test_a_correction_of_a_sent_reply_is_kept_for_the_memory(queue: SQLiteReviewQueue) -> None:
    item = sent_item()
    queue.add(item)
    client = client_with(queue)
    token = csrf_of(client.get(f"/review/{item.id}").text)
    corrected = "Su pedido se envía en 3 días."
    response = client.post(f"/review/{item.id}/correct", data={"csrf": token, "final": corrected})
    assert response.status_code == 303
    decided = queue.get(item.id)
    assert (decided.state, decided.final) == (ReviewState.EDITED, corrected)
    assert not decided.releasable  # nothing is sent


def test_a_correction_is_not_how_a_held_reply_is_sent(queue: SQLiteReviewQueue) -> None:
    item = make_item()
    queue.add(item)
    client = client_with(queue)
    token = csrf_of(client.get(f"/review/{item.id}").text)
    response = client.post(f"/review/{item.id}/correct", data={"csrf": token, "final": "Otro"})
    assert response.status_code == 409
    assert "Save edit &amp; approve" in response.text
    assert queue.get(item.id).state == ReviewState.PENDING


def test_a_flagged_customer_message_is_not_edited_as_if_it_would_be_sent(
    queue: SQLiteReviewQueue,
) -> None:
    item = make_item(direction="inbound", original="Hola", draft="Hi")
    queue.add(item)
    page = client_with(queue).get(f"/review/{item.id}").text
    assert "Save edit &amp; approve" not in page
    assert "already translated for the agents" in text_of(page)


# -- a draft not in the customer's language --------------------------------------------------


def test_an_english_draft_for_a_greek_customer_is_shown_as_blocked(
    queue: SQLiteReviewQueue,
) -> None:
    item = greek_item()
    queue.add(item)
    page = text_of(client_with(queue).get(f"/review/{item.id}").text)
    assert "This draft is not in el, the customer's language" in page
    assert "no engine here translates en → el" in page
    assert "Approve anyway: this customer reads en" in page


def test_approving_it_is_refused_with_the_reason(queue: SQLiteReviewQueue) -> None:
    item = greek_item()
    queue.add(item)
    client = client_with(queue)
    token = csrf_of(client.get(f"/review/{item.id}").text)
    response = client.post(f"/review/{item.id}/approve", data={"csrf": token})
    assert response.status_code == 422
    assert "check the language" in response.text
    assert "Approving it would send it as it is" in text_of(response.text)
    assert queue.get(item.id).state == ReviewState.PENDING
    # "Save edit & approve" with the draft unchanged is the same approval.
    unchanged = client.post(
        f"/review/{item.id}/edit", data={"csrf": token, "final": GREEK_CUSTOMER_ENGLISH_DRAFT}
    )
    assert unchanged.status_code == 422
    assert queue.get(item.id).state == ReviewState.PENDING


def test_an_explicit_override_approves_it(queue: SQLiteReviewQueue) -> None:
    item = greek_item()
    queue.add(item)
    client = client_with(queue)
    token = csrf_of(client.get(f"/review/{item.id}").text)
    response = client.post(f"/review/{item.id}/approve", data={"csrf": token, "anyway": "yes"})
    assert response.status_code == 303
    assert queue.get(item.id).state == ReviewState.APPROVED


def test_writing_the_reply_in_greek_sends_it(queue: SQLiteReviewQueue) -> None:
    item = greek_item()
    queue.add(item)
    client = client_with(queue)
    token = csrf_of(client.get(f"/review/{item.id}").text)
    greek = "Η επιστροφή χρημάτων σας στάλθηκε σήμερα."
    response = client.post(f"/review/{item.id}/edit", data={"csrf": token, "final": greek})
    assert response.status_code == 303
    assert queue.get(item.id).final == greek


@pytest.mark.parametrize(
    ("item", "blocked"),
    [
        (greek_item(), True),
        (greek_item(flags=()), True),  # no flags left, but the draft is the original
        (greek_item(flags=(UNSUPPORTED.model_copy(update={"code": "engine_failed"}),)), True),
        (make_item(), False),  # a Spanish draft with a number warning
        (dataclasses.replace(greek_item(flags=()), target_language="en-US"), False),
        (dataclasses.replace(greek_item(), held=False), False),  # sent already: nothing to stop
        (dataclasses.replace(greek_item(), direction="inbound"), False),
    ],
)
def test_which_drafts_are_blocked(item: ReviewItem, blocked: bool) -> None:
    assert (language_problem(item) is not None) is blocked


def test_a_draft_in_the_wrong_language_names_the_flag_reason() -> None:
    flag = ReviewFlag(code="wrong_language", severity=Severity.WARNING, detail="reads as en (0.97)")
    item = dataclasses.replace(make_item(), flags=(flag,))
    assert "the draft does not read as es" in (language_problem(item) or "")


# -- the conversation links to the ticket ----------------------------------------------------


def test_the_conversation_id_links_to_the_ticket(queue: SQLiteReviewQueue) -> None:
    item = make_item()
    queue.add(item)
    seen: list[ReviewItem] = []

    def ticket_url(shown: ReviewItem) -> str:
        seen.append(shown)
        return f"https://acme.zendesk.com/agent/tickets/{shown.conversation_id}?a=1&b=2"

    page = client_with(queue, ticket_url).get(f"/review/{item.id}").text
    link = re.search(r'<a href="([^"]+)" id="ticket-link"([^>]*)>([^<]+)</a>', page)
    assert link is not None, page
    assert html.unescape(link.group(1)) == "https://acme.zendesk.com/agent/tickets/c1?a=1&b=2"
    assert 'rel="noopener noreferrer"' in link.group(2)
    assert link.group(3) == "c1"
    assert seen[0].id == item.id


@pytest.mark.parametrize("url", [None, "javascript:alert(1)"])
def test_without_a_safe_ticket_address_the_id_is_plain_text(
    queue: SQLiteReviewQueue, url: str | None
) -> None:
    item = make_item()
    queue.add(item)
    page = client_with(queue, lambda _item: url).get(f"/review/{item.id}").text
    assert 'id="ticket-link"' not in page
    assert "javascript:" not in page
    assert "<dd>c1</dd>" in page
