"""How the adapter gets in and who may come in: OAuth grants, the sender allow-list, settings.

Out: a `TokenProvider` with the client-credentials grant (served by the org's My Domain) or the
JWT bearer grant (served by the login host, `aud` the same). In: Salesforce signs nothing, so
besides the shared secret and the org id the relay's view of the sender's address can be held
against CIDR ranges (Salesforce publishes its own).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from tl_loop import AuthenticationError, ConfigurationError, WebhookAuthError
from tl_loop.helpdesk import (
    PEER_HEADER,
    AccessToken,
    ClientCredentialsGrant,
    JwtBearerGrant,
    TokenGrant,
    TokenProvider,
    header,
    require_env,
)

__all__ = ["Network", "check_sender", "networks", "options_from_env", "token_provider"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_REQUIRED = (
    "SALESFORCE_INSTANCE_URL",
    "SALESFORCE_ORGANIZATION_ID",
    "SALESFORCE_WEBHOOK_SECRET",
    "SALESFORCE_CLIENT_ID",
)
_OPTIONAL = {
    "client_secret": "SALESFORCE_CLIENT_SECRET",
    "jwt_username": "SALESFORCE_JWT_USERNAME",
    "login_url": "SALESFORCE_LOGIN_URL",
    "note_object": "SALESFORCE_NOTE_OBJECT",
    "language_field": "SALESFORCE_LANGUAGE_FIELD",
    "satisfaction_field": "SALESFORCE_SATISFACTION_FIELD",
    "integration_user_id": "SALESFORCE_INTEGRATION_USER_ID",
    "allowed_networks": "SALESFORCE_ALLOWED_NETWORKS",
    "knowledge_object": "SALESFORCE_KNOWLEDGE_OBJECT",
    "knowledge_body_field": "SALESFORCE_KNOWLEDGE_BODY_FIELD",
    "chat_message_definition": "SALESFORCE_CHAT_MESSAGE_DEFINITION",
}


def options_from_env(environ: Mapping[str, str] | None) -> dict[str, Any]:
    """The adapter's keyword arguments from `SALESFORCE_*` variables (see `from_env`).

    Raises:
        ConfigurationError: a required variable is missing, or the key file unreadable.
    """
    env = require_env(os.environ if environ is None else environ, *_REQUIRED, service="salesforce")
    options: dict[str, Any] = {
        "instance_url": env["SALESFORCE_INSTANCE_URL"],
        "organization_id": env["SALESFORCE_ORGANIZATION_ID"],
        "webhook_secret": env["SALESFORCE_WEBHOOK_SECRET"],
        "client_id": env["SALESFORCE_CLIENT_ID"],
    }
    options |= {option: env[name] for option, name in _OPTIONAL.items() if env.get(name)}
    if env.get("SALESFORCE_JWT_KEY_FILE"):
        try:
            options["jwt_private_key"] = Path(env["SALESFORCE_JWT_KEY_FILE"]).read_text("ascii")
        except OSError as error:
            raise ConfigurationError(
                f"salesforce: cannot read SALESFORCE_JWT_KEY_FILE ({error.strerror})"
            ) from None
    return options


def networks(value: Sequence[str] | str) -> tuple[Network, ...]:
    """CIDR ranges from a list or a comma-separated string.

    Raises:
        ConfigurationError: an entry is not a CIDR range.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    found: list[Network] = []
    for item in (entry.strip() for entry in items):
        if not item:
            continue
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"salesforce: allowed_networks entry {item!r} is not a CIDR range"
            ) from None
    return tuple(found)


def check_sender(allowed: Sequence[Network], headers: Mapping[str, str]) -> None:
    """Refuse a sender outside `allowed` (nothing to check when it is empty).

    Raises:
        WebhookAuthError: no address from the relay, or one outside every range.
    """
    if not allowed:
        return
    peer = header(headers, PEER_HEADER)
    try:
        address = ipaddress.ip_address((peer or "").strip())
    except ValueError:
        raise WebhookAuthError(
            "salesforce: an allow-list is set but the relay passed no sender address"
        ) from None
    if not any(address in network for network in allowed):
        raise WebhookAuthError(f"salesforce: {address} is not in allowed_networks")


def token_provider(
    *,
    base_url: str,
    login_url: str,
    client_id: str | None,
    client_secret: str | None,
    jwt_username: str | None,
    jwt_private_key: str | None,
    access_token: str | None,
) -> TokenProvider:
    """The token provider for the configured grant (a hand-given token when only that is set).

    Raises:
        ConfigurationError: neither grant is fully configured.
    """
    hint = "check the connected app's consumer key, and its secret or certificate"
    grant: TokenGrant
    if jwt_private_key or jwt_username:
        if not (client_id and jwt_username and jwt_private_key):
            raise ConfigurationError(
                "salesforce: the JWT bearer flow needs client_id, jwt_username and jwt_private_key"
            )
        grant = _JwtBearer(
            base_url,
            token_url=f"{login_url}/services/oauth2/token",
            client_id=client_id,
            subject=jwt_username,
            audience=login_url,
            private_key=jwt_private_key,
            service="salesforce",
            hint=hint,
        )
    elif client_id and client_secret:
        # The client-credentials flow is served by the org's own My Domain, not by login.
        grant = _ClientCredentials(
            base_url,
            token_url=f"{base_url}/services/oauth2/token",
            client_id=client_id,
            client_secret=client_secret,
            service="salesforce",
            hint=hint,
        )
    elif access_token:
        grant = _NoGrant(service="salesforce")
    else:
        raise ConfigurationError(
            "salesforce: give client_id and client_secret (client-credentials flow), or "
            "client_id, jwt_username and jwt_private_key (JWT bearer flow)"
        )
    held = AccessToken(access_token) if access_token else None
    return TokenProvider(grant, token=held)


class _NoGrant(TokenGrant):
    """A token given by hand: when Salesforce refuses it, there is no way to get another."""

    def build_request(self) -> httpx.Request:
        raise AuthenticationError(
            "salesforce: the access token was refused (INVALID_SESSION_ID) and no client "
            "credentials are configured to fetch another",
            service="salesforce",
        )


def follow_instance(request: httpx.Request, token: AccessToken, base_url: str) -> None:
    """Send a request built for the configured instance to the token's `instance_url`.

    Salesforce's token answer names the host the token is good for; when an org moved (a new
    My Domain, a sandbox refresh) it differs from the configured URL. Only requests aimed at
    the configured instance are redirected, never one for another host.
    """
    instance = token.extra.get("instance_url")
    configured = httpx.URL(base_url)
    if not isinstance(instance, str) or not instance.startswith(("https://", "http://")):
        return
    target = httpx.URL(instance)
    aimed = (request.url.scheme, request.url.host, request.url.port)
    if aimed != (configured.scheme, configured.host, configured.port):
        return
    if (target.scheme, target.host, target.port) != aimed:
        request.url = request.url.copy_with(
            scheme=target.scheme, host=target.host, port=target.port
        )
        request.headers["Host"] = target.netloc.decode("ascii")


class _ClientCredentials(ClientCredentialsGrant):
    def __init__(self, base_url: str, **options: Any) -> None:
        super().__init__(**options)
        self._base_url = base_url

    def authorize(self, request: httpx.Request, token: AccessToken) -> None:
        super().authorize(request, token)
        follow_instance(request, token, self._base_url)


class _JwtBearer(JwtBearerGrant):
    def __init__(self, base_url: str, **options: Any) -> None:
        super().__init__(**options)
        self._base_url = base_url

    def authorize(self, request: httpx.Request, token: AccessToken) -> None:
        super().authorize(request, token)
        follow_instance(request, token, self._base_url)
