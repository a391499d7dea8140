"""JSON Web Tokens signed RS256 (RFC 7515/7519): the assertion of the JWT bearer grant.

One copy for every grant that signs one: Salesforce's connected apps (`tl_loop.helpdesk`) and
Google service accounts (`tl_loop.engines`). Signing needs `cryptography`, imported only when a
key is loaded, so neither `import tl_loop` nor an engine that never signs needs it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from tl_loop._errors import ConfigurationError, MissingDependencyError

__all__ = ["b64url", "load_rsa_private_key", "sign_rs256"]


def b64url(data: str | bytes) -> str:
    """Base64url without padding, as JWTs spell every part."""
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def load_rsa_private_key(pem: str | bytes, *, service: str, install: str, hint: str = "") -> Any:
    """An unencrypted RSA private key from PEM (PKCS#8 or PKCS#1), ready for `sign_rs256`.

    Args:
        pem: the key.
        service: who needs it, for messages.
        install: the command that installs `cryptography` (`pip install 'tl-loop[google]'`).
        hint: which key to give, said after a refusal (the key itself is never quoted).

    Raises:
        MissingDependencyError: `cryptography` is not installed.
        ConfigurationError: not an unencrypted PEM private key, or not RSA.
    """
    try:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError as error:
        raise MissingDependencyError(
            f"{service}: the JWT bearer grant signs with cryptography, which is not installed",
            install=install,
        ) from error
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ConfigurationError(
            f"{service}: the JWT signing key is not an unencrypted PEM private key"
            + (f"; {hint}" if hint else "")
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError(f"{service}: the JWT signing key must be an RSA key (RS256)")
    return key


def sign_rs256(claims: Mapping[str, Any], key: Any, *, key_id: str | None = None) -> str:
    """`base64url(header).base64url(claims).base64url(signature)`, RSASSA-PKCS1-v1_5 SHA-256.

    Args:
        claims: the JWT claims set.
        key: a key from `load_rsa_private_key`.
        key_id: the `kid` header naming the key to the verifier (Google's `private_key_id`).
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    header = {"alg": "RS256", "typ": "JWT", **({"kid": key_id} if key_id else {})}
    signing_input = f"{b64url(json.dumps(header))}.{b64url(json.dumps(dict(claims)))}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"
