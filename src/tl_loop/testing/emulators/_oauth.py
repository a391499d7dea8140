"""OAuth2 access tokens for emulators whose platform issues them (client credentials, refresh).

The emulator's token endpoint calls `issue`; its `authenticate` calls `check`. Tests can
`revoke_all` to see a client fetch a new token after a 401, and read `issued` to see how many
token requests arrived (a client that shares one token between workers asks once).
"""

from __future__ import annotations

import secrets
import threading
import time
from urllib.parse import parse_qs

from tl_loop.testing.emulators._server import EmulatorRequest, Refusal

__all__ = ["TokenIssuer"]


class TokenIssuer:
    """Issues bearer tokens for one client id and secret, each valid `lifetime` seconds."""

    def __init__(self, client_id: str, client_secret: str, *, lifetime: int = 7200) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.lifetime = lifetime
        self.issued = 0
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str | None, client_secret: str | None) -> dict[str, object]:
        """The token response body for a client-credentials grant.

        Raises:
            Refusal: 401 `invalid_client` for a wrong id or secret (the OAuth2 error shape).
        """
        if client_id != self.client_id or client_secret != self.client_secret:
            raise Refusal(
                401,
                "invalid client credentials",
                payload={
                    "error": "invalid_client",
                    "error_description": "Client authentication failed",
                },
            )
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.issued += 1
            self._tokens[token] = time.time() + self.lifetime
        return {"token_type": "bearer", "access_token": token, "expires_in": self.lifetime}

    def check(self, request: EmulatorRequest, *, realm: str) -> None:
        """Accept a request carrying a live bearer token.

        Raises:
            Refusal: 401 with `WWW-Authenticate` when the token is missing, unknown or expired.
        """
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            expires = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expires is None or expires < time.time():
            raise Refusal(
                401,
                "missing, unknown or expired access token",
                headers={"WWW-Authenticate": f'Bearer realm="{realm}", error="invalid_token"'},
            )

    def revoke_all(self) -> None:
        """Forget every token issued (as after a secret rotation): the next call gets 401."""
        with self._lock:
            self._tokens.clear()

    def form(self, request: EmulatorRequest) -> dict[str, str]:
        """The token request's form fields (or JSON body, which some clients send)."""
        content_type = request.headers.get("content-type", "")
        if "json" in content_type:
            payload = request.json_object()
            return {key: str(value) for key, value in payload.items()}
        fields = parse_qs(request.body.decode("utf-8", "replace"))
        return {key: values[0] for key, values in fields.items()}
