"""AWS Signature Version 4, written out with hmac and hashlib (no boto3, no botocore).

Signing is a pure function of the request, the credentials, the region, the service and the
time, so it is tested against AWS's published SigV4 test suite (`tests/engines/test_sigv4.py`).
The steps are AWS's own: a canonical request, a string to sign over its hash, a signing key
derived from the secret by four HMACs (date, region, service, `aws4_request`), and the
`Authorization` header carrying the signature.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

import httpx

__all__ = [
    "AWSCredentials",
    "canonical_request",
    "sign_request",
    "signing_key",
    "string_to_sign",
]

ALGORITHM = "AWS4-HMAC-SHA256"
_UNRESERVED = "-_.~"  # with letters and digits, what SigV4 leaves unencoded


@dataclass(frozen=True, slots=True)
class AWSCredentials:
    """An AWS access key, its secret and, for temporary credentials, a session token and the
    time they expire (`expires_at`, aware UTC; None for long-term keys).

    The secret and the token never appear in `repr()`.
    """

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """The key that signs requests for one day, region and service.

    Args:
        secret_access_key: the secret half of the access key.
        date: the day as `YYYYMMDD` (UTC).
        region: e.g. `us-east-1`.
        service: the signing name, e.g. `translate`.
    """
    key = _hmac(f"AWS4{secret_access_key}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def _encode(text: str) -> str:
    return quote(text, safe=_UNRESERVED)


def _canonical_uri(url: httpx.URL) -> str:
    # Services other than S3 encode each path segment once more, already-encoded ones included.
    path = url.raw_path.split(b"?", 1)[0].decode("ascii") or "/"
    return "/".join(_encode(segment) for segment in path.split("/"))


def _canonical_query(url: httpx.URL) -> str:
    pairs = parse_qsl(url.query.decode("ascii"), keep_blank_values=True)
    return "&".join(f"{k}={v}" for k, v in sorted((_encode(k), _encode(v)) for k, v in pairs))


def _canonical_value(value: str) -> str:
    return " ".join(value.split())


def canonical_request(
    method: str,
    url: httpx.URL,
    headers: Iterable[tuple[str, str]],
    payload_hash: str,
) -> tuple[str, str]:
    """The canonical request and its signed-headers list (`host;x-amz-date`).

    Args:
        method: the HTTP method.
        url: the full URL (path and query are canonicalised).
        headers: the headers to sign; repeated names are joined with commas in order.
        payload_hash: the hex SHA-256 of the body.
    """
    merged: dict[str, list[str]] = {}
    for name, value in headers:
        merged.setdefault(name.lower(), []).append(_canonical_value(value))
    names = sorted(merged)
    lines = "".join(f"{name}:{','.join(merged[name])}\n" for name in names)
    signed = ";".join(names)
    text = "\n".join(
        [method.upper(), _canonical_uri(url), _canonical_query(url), lines, signed, payload_hash]
    )
    return text, signed


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    """The string that is signed: algorithm, time, scope and the canonical request's hash."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def _signs(name: str, only: Collection[str] | None) -> bool:
    name = name.lower()
    if only is not None:
        return name in only
    # Headers an HTTP client or proxy may add or rewrite after signing are left out.
    return name in ("host", "content-type") or name.startswith("x-amz-")


def sign_request(
    request: httpx.Request,
    *,
    credentials: AWSCredentials,
    region: str,
    service: str,
    now: datetime,
    signed_headers: Collection[str] | None = None,
) -> httpx.Request:
    """Sign `request` in place and return it.

    Adds `X-Amz-Date` (unless the request has one), `X-Amz-Security-Token` for temporary
    credentials, and `Authorization`.

    Args:
        request: a request whose body is already set (`content=` or `json=`).
        credentials: the access key to sign with.
        region: the service's region, e.g. `eu-west-1`.
        service: the signing name, e.g. `translate`.
        now: the signing time; AWS refuses signatures more than 5 minutes off.
        signed_headers: lower-case names to sign; by default `host`, `content-type` and every
            `x-amz-*` header.
    """
    moment = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    amz_date = request.headers.get("x-amz-date") or moment.strftime("%Y%m%dT%H%M%SZ")
    request.headers["X-Amz-Date"] = amz_date
    if credentials.session_token:
        request.headers["X-Amz-Security-Token"] = credentials.session_token
    headers = [(k, v) for k, v in request.headers.multi_items() if _signs(k, signed_headers)]
    payload_hash = hashlib.sha256(request.content).hexdigest()
    canonical, signed = canonical_request(request.method, request.url, headers, payload_hash)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    key = signing_key(credentials.secret_access_key, amz_date[:8], region, service)
    signature = hmac.new(
        key, string_to_sign(amz_date, scope, canonical).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    request.headers["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return request
