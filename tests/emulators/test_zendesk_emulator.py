"""The Zendesk emulator through the real adapter and client: auth, pages, limits, webhooks."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tl_loop import AuthenticationError, InvalidRequestError, RateLimitError
from tl_loop.helpdesk import HelpdeskClient
from tl_loop.testing import ZendeskEmulator


@pytest.fixture
def zendesk() -> Iterator[ZendeskEmulator]:
    with ZendeskEmulator() as emulator:
        yield emulator


def test_comments_come_back_page_by_page_with_authors(zendesk: ZendeskEmulator) -> None:
    ticket = zendesk.open_conversation()
    for n in range(5):
        zendesk.customer_message(ticket, f"Mensaje {n}")
    with HelpdeskClient(zendesk.adapter(page_size=2)) as client:
        messages = client.get_messages(str(ticket.id))
    assert [m.text for m in messages] == [
        f'<div class="zd-comment" dir="auto"><p dir="auto">Mensaje {n}</p></div>' for n in range(5)
    ]
    assert {m.author_role for m in messages} == {"customer"}
    pages = [path for method, path in zendesk.requests if path.endswith("comments.json")]
    assert len(pages) == 3


def test_a_note_and_a_reply_are_stored_as_private_and_public_comments(
    zendesk: ZendeskEmulator,
) -> None:
    ticket = zendesk.open_conversation()
    zendesk.customer_message(ticket, "Hola")
    with HelpdeskClient(zendesk.adapter()) as client:
        client.post_note(str(ticket.id), "<p>Hello</p>")
        client.post_reply(str(ticket.id), "Hola de nuevo", content_type="text")
        messages = client.get_messages(str(ticket.id))
    [note], [reply] = zendesk.notes(ticket.id), zendesk.replies(ticket.id)
    assert (note.body, note.content_type) == ("<p>Hello</p>", "html")
    assert (reply.body, reply.content_type) == ("Hola de nuevo", "text")
    roles = [(m.author_role, m.public) for m in messages]
    assert roles == [("customer", True), ("agent", False), ("agent", True)]


def test_wrong_credentials_get_zendesks_401(zendesk: ZendeskEmulator) -> None:
    with (
        HelpdeskClient(zendesk.adapter(api_token="wrong")) as client,
        pytest.raises(AuthenticationError),
    ):
        client.get_messages(str(zendesk.open_conversation().id))
    response = httpx.get(f"{zendesk.url}/api/v2/tickets/1.json")
    assert response.json() == {"error": "Couldn't authenticate you"}


def test_every_answer_carries_rate_limit_headers_and_the_budget_ends_in_429() -> None:
    with ZendeskEmulator(rate_limit=2) as zendesk:
        ticket = zendesk.open_conversation()
        adapter = zendesk.adapter()
        with httpx.Client() as http:
            first = http.send(adapter.build_get_messages(str(ticket.id)))
            http.send(adapter.build_get_messages(str(ticket.id)))
            refused = http.send(adapter.build_get_messages(str(ticket.id)))
        assert first.headers["x-rate-limit"] == "2"
        assert first.headers["x-rate-limit-remaining"] == "1"
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        error = adapter.error_for(refused)
        assert isinstance(error, RateLimitError)
        assert error.retry_after is not None
        assert error.retry_after >= 1


def test_a_comment_over_zendesks_limit_is_refused_with_422(zendesk: ZendeskEmulator) -> None:
    ticket = zendesk.open_conversation()
    with (
        HelpdeskClient(zendesk.adapter()) as client,
        pytest.raises(InvalidRequestError, match="too long"),
    ):
        client.post_note(str(ticket.id), "x" * 65_001, content_type="text")
    assert zendesk.notes() == []


def test_the_webhook_is_signed_as_zendesk_signs_it(zendesk: ZendeskEmulator) -> None:
    ticket = zendesk.open_conversation(channel="chat")
    webhook = zendesk.customer_message(ticket, "Hola, mi pedido no llegó")
    adapter = zendesk.adapter()
    adapter.verify_webhook(webhook.body, webhook.headers)
    event = adapter.parse_event(webhook.body, webhook.headers)
    assert (event.kind, event.conversation_id) == ("customer_message", str(ticket.id))
    # The comment's html_body, which keeps the customer's formatting (issue #13).
    assert event.content_type == "html"
    assert "Hola, mi pedido no llegó" in (event.text or "")
    assert event.channel == "chat"
    note = zendesk.agent_note(ticket, "#tl Thanks")
    assert adapter.parse_event(note.body, note.headers).kind == "agent_note"
    forged = zendesk.adapter(webhook_secret="guessed")
    with pytest.raises(Exception, match="signature"):
        forged.verify_webhook(webhook.body, webhook.headers)


def test_satisfaction_ratings_are_listed_with_their_tickets(zendesk: ZendeskEmulator) -> None:
    ticket = zendesk.open_conversation()
    zendesk.store.rate(ticket, 5, "Muy bien")
    auth = zendesk.adapter().build_get_messages("1").headers["authorization"]
    body = httpx.get(
        f"{zendesk.url}/api/v2/satisfaction_ratings.json", headers={"authorization": auth}
    ).json()
    [rating] = body["satisfaction_ratings"]
    assert (rating["ticket_id"], rating["score"], rating["comment"]) == (
        ticket.id,
        "good",
        "Muy bien",
    )
    shown = httpx.get(
        f"{zendesk.url}/api/v2/tickets/{ticket.id}.json", headers={"authorization": auth}
    )
    assert shown.json()["ticket"]["status"] == "solved"
