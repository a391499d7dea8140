"""Who may use the reviewer page: `ReviewAuth` (token, HTTP basic, or none on loopback)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from tl_loop._errors import ConfigurationError

__all__ = ["DEFAULT_TOKEN_ENV", "USERS_ENV", "AuthMode", "ReviewAuth", "basic_user"]

AuthMode = Literal["token", "basic", "none"]
DEFAULT_TOKEN_ENV = "TL_LOOP_REVIEW_TOKEN"
USERS_ENV = "TL_LOOP_REVIEW_USERS"
AUTH_ENV = "TL_LOOP_REVIEW_AUTH"
MIN_TOKEN_CHARS = 16


@dataclass(frozen=True, slots=True)
class ReviewAuth:
    """Who may use the reviewer page.

    Args:
        mode: `token` (bearer token or `?token=` once, then a cookie), `basic` (HTTP basic),
            or `none` (no authentication; refused unless the relay listens on loopback).
        token: the secret for `token` mode.
        users: user → password for `basic` mode.
        problem: why the page must refuse to serve (no secret configured...), or None.
    """

    mode: AuthMode = "token"
    token: str | None = field(default=None, repr=False)
    users: Mapping[str, str] = field(default_factory=dict, repr=False)
    problem: str | None = None

    @classmethod
    def from_settings(
        cls, settings: object, environ: Mapping[str, str] | None = None
    ) -> ReviewAuth:
        """Read the mode from `settings.review_auth` (or `$TL_LOOP_REVIEW_AUTH`) and the secret
        from the variable named by `settings.review_token_env` (default `TL_LOOP_REVIEW_TOKEN`)
        or, for basic, `$TL_LOOP_REVIEW_USERS` (`user:password` pairs separated by spaces).

        A missing secret is not an error here: the page then answers 503 saying what to set,
        so the rest of the relay keeps serving.

        Raises:
            ConfigurationError: an unknown mode.
        """
        env = os.environ if environ is None else environ
        mode = getattr(settings, "review_auth", None) or env.get(AUTH_ENV) or "token"
        if mode not in ("token", "basic", "none"):
            raise ConfigurationError(
                f"relay.review_auth = {mode!r}: use 'token' (default), 'basic' or 'none'"
            )
        if mode == "none":
            host = str(getattr(settings, "host", "127.0.0.1"))
            if not _is_loopback(host):
                return cls(
                    mode="none",
                    problem=(
                        f"review_auth = 'none' is for local development only, but the relay "
                        f"listens on {host}; set a review token instead (see docs/review-page.md)"
                    ),
                )
            return cls(mode="none")
        if mode == "basic":
            users = dict(
                pair.split(":", 1) for pair in env.get(USERS_ENV, "").split() if ":" in pair
            )
            if not users:
                return cls(
                    mode="basic",
                    problem=(
                        f"the reviewer page uses HTTP basic authentication but {USERS_ENV} is not "
                        "set; export it as 'user:password' pairs separated by spaces"
                    ),
                )
            return cls(mode="basic", users=users)
        variable = getattr(settings, "review_token_env", None) or DEFAULT_TOKEN_ENV
        token = env.get(str(variable), "")
        if len(token) < MIN_TOKEN_CHARS:
            return cls(
                mode="token",
                problem=(
                    f"the reviewer page needs a secret token of {MIN_TOKEN_CHARS}+ characters "
                    f"in ${variable} "
                    "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`); "
                    "it does not serve unauthenticated"
                ),
            )
        return cls(mode="token", token=token)

    def session_key(self) -> bytes:
        """The key that signs session cookies and CSRF tokens.

        Derived from the secret, so sessions survive a restart and end when the secret changes;
        random per process when there is no secret (`none`).
        """
        if self.mode == "token" and self.token:
            material = self.token.encode()
        elif self.mode == "basic" and self.users:
            material = "\n".join(f"{u}:{p}" for u, p in sorted(self.users.items())).encode()
        else:
            return secrets.token_bytes(32)
        return hashlib.sha256(b"tl-loop review session key\0" + material).digest()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def basic_user(scheme: str, value: str, users: Mapping[str, str]) -> str | None:
    """The user an `Authorization: Basic` header proves to be, or None."""
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, password = decoded.partition(":")
    expected = users.get(user)
    # Compare against something even for unknown users, so timing does not reveal names.
    matched = hmac.compare_digest(password.encode(), (expected or secrets.token_hex(8)).encode())
    return user if matched and expected is not None else None
