"""OAuth 2.0 access tokens: one grant, one cached token, shared by every worker.

Helpdesk adapters and cloud engines both use it. A platform that authenticates with OAuth gives
its adapter a `TokenProvider` (the attribute `HelpdeskAdapter.token_provider`), and
`HelpdeskClient` asks the provider for a token before each request and puts it in the
`Authorization` header; an engine (Google's service accounts) does the same with its own
requests. The provider fetches one on first use,
keeps it, fetches a new one shortly before it expires, and again after the API answers 401
(the token was revoked or expired early). Threads and coroutines that need a token at the
same moment wait for one fetch instead of each sending their own.

```python
provider = TokenProvider(ClientCredentialsGrant(
    token_url="https://api.helpscout.net/v2/oauth2/token",
    client_id=app_id, client_secret=app_secret, service="helpscout",
    hint="check HELPSCOUT_APP_ID and HELPSCOUT_APP_SECRET",
))
token = provider.get(http_client.send)          # fetched once, then cached
provider.grant.authorize(request, token)        # Authorization: Bearer …
```

A grant type is a `TokenGrant`: it builds the token request and reads the answer, with no I/O
of its own, like an adapter. `ClientCredentialsGrant` is RFC 6749 §4.4; another grant (a JWT
bearer assertion, RFC 7523) subclasses `TokenGrant` and implements `build_request`, and may
override `authorize` when the token answer changes where requests go (an `instance_url`).
"""

from __future__ import annotations

import abc
import asyncio
import base64
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote_plus

import httpx

from tl_loop._errors import AuthenticationError, ServiceError, ServiceResponseError
from tl_loop.http._status import error_for_status

__all__ = ["AccessToken", "ClientCredentialsGrant", "TokenGrant", "TokenProvider"]

# Ask for a new token this long before the old one expires, so a request never leaves with a
# token that dies in flight (capped at a tenth of the lifetime for short-lived tokens).
_MARGIN = 60.0


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An access token and when it expires.

    Attributes:
        value: the token itself (sent as `Authorization: <token_type> <value>`).
        expires_at: epoch seconds; None when the server did not say (it is then used until a
            401 says it is no longer good).
        token_type: the scheme for the `Authorization` header.
        lifetime: seconds the server said the token lives (`expires_in`), if it did.
        extra: the rest of the token answer (`scope`, a platform's `instance_url`, ...).
    """

    value: str
    expires_at: float | None = None
    token_type: str = "Bearer"
    lifetime: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"AccessToken(value='…', expires_at={self.expires_at!r})"

    def fresh(self, now: float, *, margin: float = _MARGIN) -> bool:
        """True while the token has more than `margin` seconds left (or no known expiry)."""
        if self.expires_at is None:
            return True
        if self.lifetime:
            margin = min(margin, self.lifetime / 10)
        return now + margin < self.expires_at


class TokenGrant(abc.ABC):
    """One way to obtain an access token: builds the token request and reads the answer.

    Subclasses implement `build_request`; `parse` reads the standard JSON answer (RFC 6749
    §5.1) and maps refusals (§5.2) to errors.

    Args:
        service: the platform name used in error messages.
        hint: what to check when the credentials are refused, in the user's words
            (for example the environment variables that hold them).
    """

    def __init__(self, *, service: str, hint: str = "") -> None:
        self.service = service
        self.hint = hint

    @abc.abstractmethod
    def build_request(self) -> httpx.Request:
        """The token request (built anew for each fetch, so assertions carry fresh times)."""

    def parse(self, response: httpx.Response, *, now: float | None = None) -> AccessToken:
        """The token in a token answer.

        Raises:
            AuthenticationError: the credentials or the grant were refused (never retried).
            ServiceError: any other failure, mapped like every HTTP answer (`tl_loop.http`:
                429 and 5xx are retryable); `ServiceResponseError` for an answer without
                `access_token`.
        """
        status = response.status_code
        data = _json_object(response)
        if status >= 400:
            raise self._refusal(response, data)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise ServiceResponseError(
                "the OAuth token answer has no access_token", service=self.service
            )
        lifetime = data.get("expires_in")
        seconds: float | None = None
        if isinstance(lifetime, int | float | str) and not isinstance(lifetime, bool):
            try:
                seconds = float(lifetime)
            except ValueError:
                seconds = None
        issued = time.time() if now is None else now
        token_type = data.get("token_type")
        return AccessToken(
            value=token,
            expires_at=issued + seconds if seconds is not None else None,
            # RFC 6750 spells the scheme "Bearer"; servers answer "bearer" as often as not.
            token_type="Bearer" if not isinstance(token_type, str) or
            token_type.lower() == "bearer" else token_type,
            lifetime=seconds,
            extra={k: v for k, v in data.items() if k != "access_token"},
        )  # fmt: skip

    def authorize(self, request: httpx.Request, token: AccessToken) -> None:
        """Put the token on a request (`Authorization: Bearer …`)."""
        request.headers["Authorization"] = f"{token.token_type} {token.value}"

    def _refusal(self, response: httpx.Response, data: Mapping[str, Any]) -> ServiceError:
        code, described = data.get("error"), data.get("error_description")
        status = response.status_code
        # RFC 6749 §5.2: a refused grant is 400 (or 401 for client authentication) with an
        # `error` code; say what to check. Anything else maps like every other answer.
        if isinstance(code, str) and status in (400, 401, 403):
            reason = f"{code}: {described}" if isinstance(described, str) else code
            hint = f"; {self.hint}" if self.hint else ""
            return AuthenticationError(
                f"the OAuth token request was refused ({reason}){hint}",
                service=self.service,
                status_code=status,
            )
        error = error_for_status(response, service=self.service)
        if isinstance(error, AuthenticationError) and self.hint:
            error = AuthenticationError(f"{error}; {self.hint}", service=self.service,
                                        status_code=status)  # fmt: skip
        return error or ServiceResponseError(
            f"the OAuth token endpoint answered HTTP {status}", service=self.service
        )


class ClientCredentialsGrant(TokenGrant):
    """The client-credentials grant (RFC 6749 §4.4): an app id and secret for a token.

    Args:
        token_url: the token endpoint.
        client_id: the app's client (or app) id.
        client_secret: the app's secret.
        service: the platform name used in error messages.
        scope: the scope to ask for, if the platform wants one.
        client_auth: `"body"` sends the id and secret as form fields (`client_secret_post`),
            `"basic"` as HTTP Basic credentials (`client_secret_basic`).
        hint: what to check when the credentials are refused.
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        service: str,
        scope: str | None = None,
        client_auth: Literal["body", "basic"] = "body",
        hint: str = "",
    ) -> None:
        super().__init__(service=service, hint=hint)
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._client_auth = client_auth

    def build_request(self) -> httpx.Request:
        """`POST <token_url>` `grant_type=client_credentials` (form encoded)."""
        form = {"grant_type": "client_credentials"}
        headers = {"Accept": "application/json"}
        if self._client_auth == "basic":
            # RFC 6749 §2.3.1: each part is form-encoded before joining with a colon.
            pair = f"{quote_plus(self._client_id)}:{quote_plus(self._client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form |= {"client_id": self._client_id, "client_secret": self._client_secret}
        if self._scope:
            form["scope"] = self._scope
        return httpx.Request("POST", self.token_url, data=form, headers=headers)

    def __repr__(self) -> str:
        return f"<ClientCredentialsGrant {self.token_url!r} client_id={self._client_id!r}>"


class TokenProvider:
    """Keeps one grant's access token for everyone who sends with it. Thread- and asyncio-safe.

    Args:
        grant: how to obtain a token.
        token: a token already held (used until it expires or is refused).
        margin: seconds before expiry at which a new token is fetched.
        clock: the time source (tests pass a fake).
    """

    def __init__(
        self,
        grant: TokenGrant,
        *,
        token: AccessToken | None = None,
        margin: float = _MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.grant = grant
        self.margin = margin
        self._clock = clock
        self._token = token
        self._fetching = threading.Lock()  # one fetch at a time, across threads
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]
        self._async_locks = weakref.WeakKeyDictionary()
        self._locks_guard = threading.Lock()

    @property
    def token(self) -> AccessToken | None:
        """The token held now, fresh or not."""
        return self._token

    def needs_token(self) -> bool:
        """True when there is no token, or it expires within the margin."""
        token = self._token
        return token is None or not token.fresh(self._clock(), margin=self.margin)

    def get(self, send: Callable[[httpx.Request], httpx.Response]) -> AccessToken:
        """A fresh token, fetched with `send` only when none is held or it is about to expire.

        Raises:
            ServiceError: the token could not be obtained (see `TokenGrant.parse`; errors
                raised by `send` pass through).
        """
        token = self._usable()
        if token is not None:
            return token
        with self._fetching:
            token = self._usable()  # another thread may have fetched it while we waited
            if token is not None:
                return token
            return self._store(send(self.grant.build_request()))

    async def aget(self, send: Callable[[httpx.Request], Awaitable[httpx.Response]]) -> AccessToken:
        """`get` for coroutines: `send` is awaited (an `httpx.AsyncClient.send`)."""
        token = self._usable()
        if token is not None:
            return token
        async with self._async_lock():
            token = self._usable()
            if token is not None:
                return token
            return self._store(await send(self.grant.build_request()))

    def invalidate(self, token: AccessToken) -> None:
        """Forget `token` after the API refused it; the next `get` fetches a new one.

        A token another worker already replaced is left alone, so a burst of 401s for one
        revoked token causes one fetch, not one per request.
        """
        with self._locks_guard:
            if self._token is token:
                self._token = None

    def store(self, response: httpx.Response) -> AccessToken:
        """Read and keep the token in a token answer you sent yourself (see `TokenGrant.parse`)."""
        return self._store(response)

    def _store(self, response: httpx.Response) -> AccessToken:
        token = self.grant.parse(response, now=self._clock())
        with self._locks_guard:
            self._token = token
        return token

    def _usable(self) -> AccessToken | None:
        token = self._token
        if token is not None and token.fresh(self._clock(), margin=self.margin):
            return token
        return None

    def _async_lock(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to one event loop; a provider may serve several (threads).
        loop = asyncio.get_running_loop()
        with self._locks_guard:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
            return lock

    def __repr__(self) -> str:
        return f"<TokenProvider {self.grant!r} held={self._token is not None}>"


def _json_object(response: httpx.Response) -> Mapping[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
