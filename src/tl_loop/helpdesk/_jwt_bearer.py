"""The JWT bearer grant (RFC 7523 §2.1): a signed assertion for an access token, no secret sent.

A `TokenGrant` like `ClientCredentialsGrant`, for `TokenProvider`: each fetch signs a fresh
assertion with the app's private key (RS256) and posts it with
`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`. Salesforce calls this the "OAuth 2.0
JWT Bearer Flow for Server-to-Server Integration": `iss` is the connected app's consumer key,
`sub` the user the token acts as, `aud` the login host (`https://login.salesforce.com`,
`https://test.salesforce.com` for sandboxes), `exp` at most three minutes ahead; the app holds
the certificate of the key and the user is pre-authorized. Signing needs `cryptography`
(`pip install 'tl-loop[salesforce]'`).

```python
grant = JwtBearerGrant(
    token_url="https://login.salesforce.com/services/oauth2/token",
    client_id=consumer_key, subject="integration@acme.example",
    audience="https://login.salesforce.com", private_key=pem, service="salesforce",
)
provider = TokenProvider(grant)
```
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tl_loop.http import TokenGrant, load_rsa_private_key, sign_rs256

__all__ = ["JWT_BEARER", "JwtBearerGrant"]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_INSTALL = "pip install 'tl-loop[salesforce]'"


class JwtBearerGrant(TokenGrant):
    """The JWT bearer grant, signed RS256 with the app's private key.

    Args:
        token_url: the token endpoint.
        client_id: the app's client (consumer) key: the JWT's `iss`.
        subject: the user the token acts as: the JWT's `sub`.
        audience: the JWT's `aud` (the authorization server's identifier).
        private_key: the unencrypted PEM private key whose certificate the app holds.
        service: the platform name used in error messages.
        lifetime: seconds until the assertion expires (Salesforce accepts at most 180).
        hint: what to check when the grant is refused.
        clock: the time source (tests pass a fake).

    Raises:
        MissingDependencyError: `cryptography` is not installed.
        ConfigurationError: the key is not an unencrypted RSA private key in PEM.
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        subject: str,
        audience: str,
        private_key: str | bytes,
        service: str,
        lifetime: float = 170.0,
        hint: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(service=service, hint=hint)
        self.token_url = token_url
        self.client_id = client_id
        self.subject = subject
        self.audience = audience
        self.lifetime = lifetime
        self._clock = clock
        self._key = load_rsa_private_key(
            private_key,
            service=service,
            install=_INSTALL,
            hint="give the key whose certificate the connected app holds",
        )

    def assertion(self) -> str:
        """A freshly signed JWT: `base64url(header).base64url(claims).base64url(signature)`."""
        claims = {
            "iss": self.client_id,
            "sub": self.subject,
            "aud": self.audience,
            "exp": int(self._clock() + self.lifetime),
        }
        return sign_rs256(claims, self._key)

    def build_request(self) -> httpx.Request:
        """`POST <token_url>` with the grant type and a fresh assertion (form encoded)."""
        form = {"grant_type": JWT_BEARER, "assertion": self.assertion()}
        return httpx.Request(
            "POST", self.token_url, data=form, headers={"Accept": "application/json"}
        )

    def __repr__(self) -> str:
        return f"<JwtBearerGrant {self.token_url!r} client_id={self.client_id!r}>"
