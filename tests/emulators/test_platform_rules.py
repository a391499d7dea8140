"""Every emulator keeps its platform's rules, seen through the real adapter and client:
credentials, pagination, rate limits, length limits, signed webhooks, OAuth and ratings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tl_loop import AuthenticationError, InvalidRequestError, RateLimitError, WebhookAuthError
from tl_loop.helpdesk import HelpdeskClient
from tl_loop.http import RetryPolicy
from tl_loop.relay import build_adapters, load_config_file
from tl_loop.testing.emulators import (
    EMULATORS,
    ChatwootEmulator,
    EmulatorServer,
    FreshdeskEmulator,
    FrontEmulator,
    HelpScoutEmulator,
    IntercomEmulator,
    ZendeskEmulator,
)

PLATFORMS = sorted(EMULATORS)
WRONG_CREDENTIALS = {
    "chatwoot": {"api_access_token": "wrong"},
    "freshdesk": {"api_key": "wrong"},
    "front": {"api_token": "wrong"},
    "helpscout": {"app_secret": "wrong"},
    "intercom": {"access_token": "wrong"},
    "salesforce": {"client_secret": "wrong"},
    "zammad": {"token": "wrong"},
    "zendesk": {"api_token": "wrong"},
}
WRONG_SECRET = {
    "chatwoot": {"webhook_secret": "guessed"},
    "freshdesk": {"webhook_secret": "guessed"},
    "front": {"webhook_secret": "guessed"},
    "helpscout": {"webhook_secret": "guessed"},
    "intercom": {"client_secret": "guessed"},
    "salesforce": {"webhook_secret": "guessed-but-long-enough"},
    "zammad": {"webhook_secret": "guessed"},
    "zendesk": {"webhook_secret": "guessed"},
}


@pytest.fixture(params=PLATFORMS)
def emulator(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    with EMULATORS[request.param]() as running:
        yield running


def test_a_conversation_is_read_whole_across_pages(emulator: EmulatorServer) -> None:
    conversation = emulator.open_conversation()
    texts = [f"Mensaje número {n}" for n in range(130)]
    for text in texts:
        emulator.store.add_message(
            conversation, text, author="customer", public=True, content_type="text"
        )
    with HelpdeskClient(emulator.adapter()) as client:
        messages = client.get_messages(emulator.conversation_key(conversation))
    read = sorted(m.text for m in messages)
    expected = texts[1:] if emulator.platform == "freshdesk" else texts  # description apart
    assert len(read) == len(expected)
    assert all(any(text in shown for shown in read) for text in expected)
    assert {m.author_role for m in messages} == {"customer"}


def test_wrong_credentials_are_refused(emulator: EmulatorServer) -> None:
    adapter = emulator.adapter(**WRONG_CREDENTIALS[emulator.platform])
    conversation = emulator.open_conversation()
    with HelpdeskClient(adapter) as client, pytest.raises(AuthenticationError):
        client.get_messages(emulator.conversation_key(conversation))


READS_PER_CONVERSATION = {"front": 2}  # Front: the messages, then the comments
# Salesforce's allowance is daily (rolling 24 hours, answered 403 REQUEST_LIMIT_EXCEEDED), so
# its adapter waits a quarter of an hour, not a minute.
LONGEST_WAIT = {"salesforce": 900.0}


def test_a_spent_rate_budget_answers_429_with_a_wait(emulator: EmulatorServer) -> None:
    # One conversation read is one request, except Front's: messages, then comments.
    with type(emulator)(rate_limit=READS_PER_CONVERSATION.get(emulator.platform, 1)) as limited:
        adapter = limited.adapter()
        key = limited.conversation_key(limited.open_conversation())
        waits: list[float] = []
        with HelpdeskClient(adapter, retry=RetryPolicy(attempts=1), sleep=waits.append) as client:
            client.get_messages(key)  # spends the budget (an OAuth token fetch does not)
            with pytest.raises(RateLimitError) as limited_error:
                client.get_messages(key)
        wait = limited_error.value.retry_after
        assert wait is not None
        assert 0 < wait <= LONGEST_WAIT.get(emulator.platform, 60)


def test_a_forged_webhook_is_refused(emulator: EmulatorServer) -> None:
    conversation = emulator.open_conversation()
    webhook = emulator.customer_message(conversation, "Hola")
    emulator.adapter().verify_webhook(webhook.body, webhook.headers)
    forger = emulator.adapter(**WRONG_SECRET[emulator.platform])
    with pytest.raises(WebhookAuthError):
        forger.verify_webhook(webhook.body, webhook.headers)


@pytest.mark.parametrize(
    ("platform", "limit"), [("zendesk", 65_000), ("chatwoot", 150_000), ("zammad", 1_500_000)]
)
def test_a_note_over_the_platforms_limit_is_refused_with_422(platform: str, limit: int) -> None:
    with EMULATORS[platform]() as emulator:
        conversation = emulator.open_conversation()
        key = emulator.conversation_key(conversation)
        with HelpdeskClient(emulator.adapter()) as client:
            client.post_note(key, "x" * limit, content_type="text")
            with pytest.raises(InvalidRequestError) as refused:
                client.post_note(key, "x" * (limit + 1), content_type="text")
        assert refused.value.status_code == 422
        assert "too long" in str(refused.value).lower()
        assert len(emulator.notes(conversation.id)) == 1


def test_help_scout_issues_one_token_and_a_revoked_one_is_replaced() -> None:
    with HelpScoutEmulator() as emulator:
        conversation = emulator.open_conversation()
        emulator.store.add_message(conversation, "Hola", author="customer", public=True)
        with HelpdeskClient(emulator.adapter()) as client:
            for _ in range(3):
                client.get_messages(str(conversation.id))
            assert emulator.tokens.issued == 1
            emulator.revoke_tokens()
            assert client.get_messages(str(conversation.id))
            assert emulator.tokens.issued == 2
        token_calls = [path for _, path in emulator.requests if path == "/v2/oauth2/token"]
        assert len(token_calls) == 2


def test_help_scout_counts_writes_twice() -> None:
    with HelpScoutEmulator(rate_limit=10) as emulator:
        conversation = emulator.open_conversation()
        with HelpdeskClient(emulator.adapter()) as client:
            response = client.post_note(str(conversation.id), "<p>Nota</p>")
        assert response.status_code == 201
        assert response.headers["x-ratelimit-remaining-minute"] == "8"


def test_front_issues_oauth_tokens_for_a_code_and_a_refresh_token() -> None:
    with FrontEmulator() as emulator, httpx.Client() as http:
        auth = (emulator.client_id, emulator.client_secret)
        first = http.post(
            f"{emulator.url}/oauth/token",
            auth=auth,
            data={"grant_type": "authorization_code", "code": emulator.authorization_code},
        ).json()
        renewed = http.post(
            f"{emulator.url}/oauth/token",
            auth=auth,
            data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        ).json()
        conversation = emulator.open_conversation()
        shown = http.get(
            f"{emulator.url}/conversations/{emulator.conversation_key(conversation)}",
            headers={"authorization": f"Bearer {renewed['access_token']}"},
        )
        assert shown.status_code == 200
        assert shown.json()["id"] == emulator.conversation_key(conversation)
        refused = http.post(
            f"{emulator.url}/oauth/token",
            auth=(emulator.client_id, "wrong"),
            data={"grant_type": "authorization_code", "code": emulator.authorization_code},
        )
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"


def test_front_accepts_a_reply_for_sending_and_finds_it_by_uid() -> None:
    with FrontEmulator() as emulator:
        conversation = emulator.open_conversation()
        key = emulator.conversation_key(conversation)
        adapter = emulator.adapter()
        with HelpdeskClient(adapter) as client:
            accepted = client.post_reply(key, "<p>Hola</p>")
            assert accepted.status_code == 202
            uid = adapter.accepted_message_uid(accepted)  # type: ignore[attr-defined]
            sent = client.read(adapter.build_get_message(f"alt:uid:{uid}"))  # type: ignore[attr-defined]
        assert sent.json()["body"] == "<p>Hola</p>"
        assert sent.json()["is_inbound"] is False


def _get(emulator: EmulatorServer, path: str) -> httpx.Response:
    headers = emulator.adapter().build_get_messages("1").headers
    return httpx.get(f"{emulator.url}{path}", headers=dict(headers))


@pytest.mark.parametrize(
    ("cls", "path", "read"),
    [
        (
            ZendeskEmulator,
            "/api/v2/satisfaction_ratings.json",
            lambda body: (
                body["satisfaction_ratings"][0]["score"],
                body["satisfaction_ratings"][0]["comment"],
            ),
        ),
        (
            FreshdeskEmulator,
            "/api/v2/surveys/satisfaction_ratings",
            lambda body: (body[0]["ratings"]["default_question"], body[0]["feedback"]),
        ),
        (
            ChatwootEmulator,
            "/api/v1/accounts/1/csat_survey_responses",
            lambda body: (body[0]["rating"], body[0]["feedback_message"]),
        ),
    ],
)
def test_satisfaction_ratings_are_served(
    cls: type[EmulatorServer], path: str, read: object
) -> None:
    with cls() as emulator:
        conversation = emulator.open_conversation()
        emulator.store.rate(conversation, 5, "Muy amables")
        response = _get(emulator, path)
        assert response.status_code == 200
        score, comment = read(response.json())  # type: ignore[operator]
        assert score in ("good", 103, 5)
        assert comment == "Muy amables"


def test_intercom_shows_the_rating_and_close_time_on_the_conversation() -> None:
    with IntercomEmulator() as emulator:
        conversation = emulator.open_conversation()
        emulator.store.add_message(conversation, "Hola", author="customer", public=True)
        emulator.store.rate(conversation, 4, "Bien")
        shown = _get(emulator, f"/conversations/{conversation.id}").json()
        assert shown["conversation_rating"]["rating"] == 4
        assert shown["conversation_rating"]["remark"] == "Bien"
        assert shown["state"] == "closed"
        assert shown["statistics"]["last_close_at"] >= shown["created_at"]


def test_help_scout_reports_happiness_ratings() -> None:
    with HelpScoutEmulator() as emulator:
        conversation = emulator.open_conversation()
        emulator.store.rate(conversation, 2, "Lento")
        with HelpdeskClient(emulator.adapter()) as client:
            client.get_messages(str(conversation.id))  # fetches the token
            request = httpx.Request("GET", f"{emulator.url}/v2/reports/happiness/ratings")
            body = client.read(request).json()
        [rating] = body["results"]
        assert (rating["conversationId"], rating["ratingId"], rating["ratingComments"]) == (
            conversation.id,
            3,
            "Lento",
        )


def test_the_relay_table_configures_the_adapter_through_the_relays_own_loader(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    config = tmp_path / "tl-loop.toml"
    config.write_text(
        'engines = ["fake"]\n\n[relay]\nqueue_path = "q.sqlite3"\n\n' + emulator.relay_table(),
        encoding="utf-8",
    )
    _, settings = load_config_file(config)
    [(name, adapter)] = build_adapters(settings, {}).items()
    assert name == emulator.platform
    conversation = emulator.open_conversation()
    with HelpdeskClient(adapter) as client:
        assert client.get_messages(emulator.conversation_key(conversation)) == []
