"""OAuth in the adapter kit: a token fetched once, shared, renewed before expiry and after a 401."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from urllib.parse import parse_qs

import httpx
import pytest

from tl_loop import AuthenticationError, ServiceError, ServiceUnavailableError
from tl_loop.helpdesk import (
    AccessToken,
    ClientCredentialsGrant,
    HelpdeskClient,
    TokenProvider,
)
from tl_loop.testing import MemoryHelpdesk

TOKEN_URL = "http://auth.test/oauth/token"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class OAuthServer:
    """A token endpoint and an API that accepts only the newest token it issued."""

    def __init__(self, *, lifetime: int = 7200, token_status: int = 200) -> None:
        self.lifetime = lifetime
        self.token_status = token_status
        self.issued: list[str] = []
        self.api_calls: list[str | None] = []
        self.revoked: set[str] = set()
        self.token_delay = 0.0
        self.forms: list[dict[str, list[str]]] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            time.sleep(self.token_delay)
            self.forms.append(parse_qs(request.content.decode()))
            if self.token_status != 200:
                return httpx.Response(
                    self.token_status,
                    json={"error": "invalid_client", "error_description": "Bad credentials"},
                )
            with self.lock:
                token = f"tok-{len(self.issued) + 1}"
                self.issued.append(token)
            return httpx.Response(
                200,
                json={"access_token": token, "token_type": "bearer", "expires_in": self.lifetime},
            )
        auth = request.headers.get("authorization")
        self.api_calls.append(auth)
        token = (auth or "").removeprefix("Bearer ")
        if token not in self.issued or token in self.revoked:
            return httpx.Response(401, json={"error": "invalid_token"})
        return httpx.Response(201 if request.method == "POST" else 200, json={"messages": []})


def grant(**options: object) -> ClientCredentialsGrant:
    settings: dict[str, object] = {
        "token_url": TOKEN_URL,
        "client_id": "app-id",
        "client_secret": "app-secret-xyz",
        "service": "memory",
        "hint": "check MEMORY_APP_ID and MEMORY_APP_SECRET",
    }
    settings.update(options)
    return ClientCredentialsGrant(**settings)  # type: ignore[arg-type]


def client_for(
    server: OAuthServer, *, clock: Clock | None = None, token: AccessToken | None = None
) -> HelpdeskClient:
    adapter = MemoryHelpdesk(base_url="http://helpdesk.test", webhook_secret="s")
    adapter.token_provider = TokenProvider(grant(), token=token, clock=clock or Clock())
    http = httpx.Client(transport=httpx.MockTransport(server))
    return HelpdeskClient(adapter, http_client=http, sleep=lambda _: None)


def test_the_token_is_fetched_on_first_use_and_reused() -> None:
    server = OAuthServer()
    client = client_for(server)
    client.get_messages("c1")
    client.post_note("c1", "note")
    client.post_reply("c1", "reply")
    assert server.issued == ["tok-1"]
    assert server.api_calls == ["Bearer tok-1"] * 3
    assert server.forms[0] == {
        "grant_type": ["client_credentials"],
        "client_id": ["app-id"],
        "client_secret": ["app-secret-xyz"],
    }


def test_the_token_is_renewed_shortly_before_it_expires() -> None:
    server, clock = OAuthServer(lifetime=7200), Clock()
    client = client_for(server, clock=clock)
    client.get_messages("c1")
    clock.now += 7200 - 120  # two minutes left: still good
    client.get_messages("c1")
    assert server.issued == ["tok-1"]
    clock.now += 90  # thirty seconds left: a request could outlive it
    client.get_messages("c1")
    assert server.issued == ["tok-1", "tok-2"]
    assert server.api_calls[-1] == "Bearer tok-2"


def test_a_revoked_token_is_replaced_and_the_write_sent_once_more() -> None:
    server = OAuthServer()
    client = client_for(server)
    client.post_note("c1", "first")
    server.revoked.add("tok-1")
    client.post_note("c1", "second")
    assert server.issued == ["tok-1", "tok-2"]
    assert server.api_calls == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


def test_a_preset_token_is_used_until_the_api_refuses_it() -> None:
    server = OAuthServer()
    server.issued.append("preset")
    client = client_for(server, token=AccessToken("preset"))
    client.get_messages("c1")
    assert server.api_calls == ["Bearer preset"]
    server.revoked.add("preset")
    client.get_messages("c1")
    assert server.api_calls[-1] == "Bearer tok-2"


def test_a_second_401_with_a_new_token_is_an_authentication_error() -> None:
    server = OAuthServer()

    def refuse_everything(request: httpx.Request) -> httpx.Response:
        response = server(request)
        return response if str(request.url) == TOKEN_URL else httpx.Response(401)

    client = client_for(server)
    client._client = httpx.Client(transport=httpx.MockTransport(refuse_everything))
    with pytest.raises(AuthenticationError):
        client.post_note("c1", "note")
    assert len(server.issued) == 2  # one renewal, not a loop


def test_refused_app_credentials_say_what_to_check_and_reveal_no_secret() -> None:
    client = client_for(OAuthServer(token_status=401))
    with pytest.raises(AuthenticationError) as refused:
        client.post_note("c1", "note")
    message = str(refused.value)
    assert "invalid_client" in message
    assert "MEMORY_APP_ID" in message
    assert "app-secret-xyz" not in message
    assert not refused.value.retryable


def test_an_unavailable_token_endpoint_is_retryable_and_nothing_was_written() -> None:
    server = OAuthServer(token_status=503)
    client = client_for(server)
    with pytest.raises(ServiceUnavailableError) as caught:
        client.post_reply("c1", "reply")
    assert caught.value.retryable  # the reply never left: the job may try again later
    assert server.api_calls == []


def test_workers_share_one_token_fetch() -> None:
    server = OAuthServer()
    server.token_delay = 0.05  # slow enough for every thread to arrive while it is fetched
    client = client_for(server)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            client.get_messages("c1")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert server.issued == ["tok-1"]
    assert server.api_calls == ["Bearer tok-1"] * 8


def test_coroutines_share_one_token_fetch() -> None:
    server = OAuthServer()
    provider = TokenProvider(grant())
    fetches = 0

    async def send(request: httpx.Request) -> httpx.Response:
        nonlocal fetches
        fetches += 1
        await asyncio.sleep(0.01)
        return server(request)

    async def main() -> list[AccessToken]:
        return list(await asyncio.gather(*(provider.aget(send) for _ in range(6))))

    tokens = asyncio.run(main())
    assert fetches == 1
    assert {token.value for token in tokens} == {"tok-1"}


def test_basic_client_authentication_and_scope() -> None:
    request = grant(client_auth="basic", scope="tickets:write").build_request()
    form = parse_qs(request.content.decode())
    assert form == {"grant_type": ["client_credentials"], "scope": ["tickets:write"]}
    encoded = request.headers["authorization"].removeprefix("Basic ")
    assert base64.b64decode(encoded).decode() == "app-id:app-secret-xyz"


def test_a_token_answer_without_a_token_is_a_clear_error() -> None:
    response = httpx.Response(200, json={"token_type": "bearer"})
    with pytest.raises(ServiceError, match="access_token"):
        grant().parse(response)


def test_a_token_without_expiry_is_kept_until_refused() -> None:
    token = grant().parse(httpx.Response(200, json={"access_token": "t", "instance_url": "x"}))
    assert token.expires_at is None
    assert token.fresh(1e12)
    assert token.extra["instance_url"] == "x"  # what a platform may route by
    assert "'t'" not in repr(token)
