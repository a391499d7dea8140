"""Temporary AWS credentials over HTTP: the container endpoint and the EC2 instance metadata
service (IMDS), as botocore fetches them.

- **Containers** (ECS tasks, EKS Pod Identity, Lambda-like runtimes):
  `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is a path on `http://169.254.170.2`;
  `AWS_CONTAINER_CREDENTIALS_FULL_URI` a whole URL, allowed only over HTTPS or to a loopback
  address or one of AWS's container hosts (`169.254.170.2`, `169.254.170.23`, `fd00:ec2::23`,
  `localhost`). The `Authorization` header is the content of
  `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, else `AWS_CONTAINER_AUTHORIZATION_TOKEN`. The answer
  is JSON `{AccessKeyId, SecretAccessKey, Token, Expiration}`. Timeout 2 s, 3 attempts.
- **EC2 (IMDSv2)**: `PUT /latest/api/token` (header `X-aws-ec2-metadata-token-ttl-seconds`),
  then with `X-aws-ec2-metadata-token`: `GET /latest/meta-data/iam/security-credentials/` (the
  role name) and `GET …/<role>` (`{Code: "Success", AccessKeyId, SecretAccessKey, Token,
  Expiration}`). A 403/404/405 to the token request means IMDSv1 only: the GETs go without a
  token unless `AWS_EC2_METADATA_V1_DISABLED=true`. Endpoint `http://169.254.169.254`
  (`AWS_EC2_METADATA_SERVICE_ENDPOINT`; `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6` for
  `http://[fd00:ec2::254]`), timeout `AWS_METADATA_SERVICE_TIMEOUT` (1 s), attempts
  `AWS_METADATA_SERVICE_NUM_ATTEMPTS` (1), off with `AWS_EC2_METADATA_DISABLED=true`: a host
  that is not an EC2 instance costs one short timeout, not a stall.

Proxies from the environment are not used: these addresses are link-local or loopback.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from tl_loop._errors import ConfigurationError
from tl_loop.engines._sigv4 import AWSCredentials

__all__ = [
    "MetadataError",
    "MetadataUnreachable",
    "container_uri",
    "fetch_container",
    "fetch_instance",
    "imds_settings",
    "instance_region",
    "parse_expiration",
]

CONTAINER_HOST = "http://169.254.170.2"
_CONTAINER_HOSTS = frozenset({"169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"})
IMDS_ENDPOINT = "http://169.254.169.254"
IMDS_ENDPOINT_IPV6 = "http://[fd00:ec2::254]"
_ROLE_PATH = "/latest/meta-data/iam/security-credentials/"
_V1_ONLY = frozenset({403, 404, 405})


class MetadataError(Exception):
    """The endpoint answered, but not with credentials (the message says why; no secrets)."""


class MetadataUnreachable(MetadataError):
    """Nothing answered at the endpoint (connection refused or timed out)."""


def _true(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() == "true"


def parse_expiration(value: Any, where: str) -> datetime | None:
    """An ISO 8601 `Expiration` (`2024-01-02T03:04:05Z`) as an aware datetime; None if absent."""
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise MetadataError(f"{where}: Expiration {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise MetadataError(f"{where}: Expiration {value!r} has no time zone")
    return moment


def credentials_from(data: Any, where: str, token_key: str) -> AWSCredentials:
    """`AccessKeyId`, `SecretAccessKey`, the session token under `token_key`, `Expiration`."""
    if not isinstance(data, dict):
        raise MetadataError(f"{where} did not answer a JSON object")
    missing = [k for k in ("AccessKeyId", "SecretAccessKey") if not isinstance(data.get(k), str)]
    if missing:
        raise MetadataError(f"{where} answered without {' and '.join(missing)}")
    return AWSCredentials(
        data["AccessKeyId"],
        data["SecretAccessKey"],
        data.get(token_key) or None,
        expires_at=parse_expiration(data.get("Expiration"), where),
    )


# -- containers ----------------------------------------------------------------------------------


def container_uri(environ: Mapping[str, str]) -> str | None:
    """The container credentials URL the environment names, if any.

    Raises:
        ConfigurationError: `AWS_CONTAINER_CREDENTIALS_FULL_URI` names a host AWS does not allow.
    """
    relative = environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    if relative:
        return CONTAINER_HOST + relative
    full = environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if not full:
        return None
    parts = urlsplit(full)
    host = parts.hostname or ""
    if parts.scheme == "https" or host in _CONTAINER_HOSTS or _loopback(host):
        return full
    raise ConfigurationError(
        f"AWS_CONTAINER_CREDENTIALS_FULL_URI {full!r} is not allowed: use https, a loopback "
        f"address, or one of {', '.join(sorted(_CONTAINER_HOSTS))} (AWS's rule)"
    )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _container_authorization(environ: Mapping[str, str]) -> dict[str, str]:
    token: str | None = None
    path = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as file:
                token = file.read()
        except OSError as error:
            raise MetadataError(
                f"cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {path}: {error.strerror}"
            ) from None
    elif environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN"):
        token = environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    if token is None:
        return {}
    if "\r" in token or "\n" in token:
        raise MetadataError("the container authorization token has a line break in it")
    return {"Authorization": token}


def fetch_container(
    environ: Mapping[str, str], url: str, *, timeout: float = 2.0, attempts: int = 3
) -> AWSCredentials:
    """Credentials from the container endpoint at `url`, retried on outages.

    Raises:
        MetadataError: refused, or an answer without credentials; `MetadataUnreachable`
            when nothing answered after every attempt.
    """
    headers = {"Accept": "application/json", **_container_authorization(environ)}
    where = f"the container credentials endpoint {url}"
    failure: MetadataError = MetadataUnreachable(f"{where} did not answer")
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        for attempt in range(max(1, attempts)):
            if attempt:
                time.sleep(1.0)
            try:
                response = client.get(url, headers=headers)
            except httpx.TransportError as error:
                failure = MetadataUnreachable(f"{where} did not answer ({type(error).__name__})")
                continue
            if response.status_code >= 500:
                failure = MetadataError(f"{where} answered HTTP {response.status_code}")
                continue
            if response.status_code != 200:
                raise MetadataError(f"{where} refused: HTTP {response.status_code}")
            try:
                return credentials_from(response.json(), where, "Token")
            except ValueError:
                raise MetadataError(f"{where} did not answer JSON") from None
    raise failure


# -- EC2 instance metadata -----------------------------------------------------------------------


def imds_settings(environ: Mapping[str, str]) -> tuple[str, float, int] | None:
    """The IMDS endpoint, timeout and attempts; None when `AWS_EC2_METADATA_DISABLED=true`."""
    if _true(environ, "AWS_EC2_METADATA_DISABLED"):
        return None
    endpoint = environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or (
        IMDS_ENDPOINT_IPV6
        if environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "").lower() == "ipv6"
        else IMDS_ENDPOINT
    )
    try:
        timeout = float(environ.get("AWS_METADATA_SERVICE_TIMEOUT") or 1)
        attempts = int(environ.get("AWS_METADATA_SERVICE_NUM_ATTEMPTS") or 1)
    except ValueError:
        raise ConfigurationError(
            "AWS_METADATA_SERVICE_TIMEOUT must be seconds and AWS_METADATA_SERVICE_NUM_ATTEMPTS "
            "a whole number"
        ) from None
    return endpoint.rstrip("/"), timeout, max(1, attempts)


class _Imds:
    def __init__(self, environ: Mapping[str, str], endpoint: str, timeout: float, attempts: int):
        self.environ = environ
        self.endpoint = endpoint
        self.attempts = attempts
        self.client = httpx.Client(timeout=timeout, trust_env=False)
        self.headers: dict[str, str] = {}

    def __enter__(self) -> _Imds:
        response = self._send("PUT", "/latest/api/token",
                              {"X-aws-ec2-metadata-token-ttl-seconds": "21600"})  # fmt: skip
        if response.status_code == 200:
            self.headers = {"X-aws-ec2-metadata-token": response.text.strip()}
        elif response.status_code in _V1_ONLY and not _true(
            self.environ, "AWS_EC2_METADATA_V1_DISABLED"
        ):
            self.headers = {}  # an instance that only speaks IMDSv1
        else:
            raise MetadataError(
                f"the instance metadata service at {self.endpoint} refused a session token "
                f"(HTTP {response.status_code})"
            )
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    def _send(self, method: str, path: str, headers: Mapping[str, str]) -> httpx.Response:
        error: Exception | None = None
        for _ in range(self.attempts):
            try:
                return self.client.request(method, self.endpoint + path, headers=headers)
            except httpx.TransportError as caught:
                error = caught
        raise MetadataUnreachable(
            f"no instance metadata service answered at {self.endpoint} "
            f"({type(error).__name__}; not an EC2 instance?)"
        )

    def get(self, path: str) -> httpx.Response:
        return self._send("GET", path, self.headers)


def fetch_instance(environ: Mapping[str, str]) -> AWSCredentials:
    """The instance role's credentials from IMDS (IMDSv2, IMDSv1 where v2 is not offered).

    Raises:
        MetadataError: disabled, no role attached, or an answer without credentials;
            `MetadataUnreachable` when no metadata service answered.
    """
    settings = imds_settings(environ)
    if settings is None:
        raise MetadataError("instance metadata is disabled by AWS_EC2_METADATA_DISABLED")
    with _Imds(environ, *settings) as imds:
        listing = imds.get(_ROLE_PATH)
        roles = listing.text.split() if listing.status_code == 200 else []
        if not roles:
            raise MetadataError(
                f"no IAM role from the instance metadata service at {imds.endpoint} "
                f"(HTTP {listing.status_code}: not an EC2 instance, or no instance profile "
                "attached)"
            )
        where = f"the instance metadata service at {imds.endpoint} (role {roles[0]})"
        response = imds.get(_ROLE_PATH + roles[0])
        if response.status_code != 200:
            raise MetadataError(f"{where} answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise MetadataError(f"{where} did not answer JSON") from None
        if isinstance(data, dict) and data.get("Code", "Success") != "Success":
            raise MetadataError(f"{where} answered Code {data.get('Code')!r}")
        return credentials_from(data, where, "Token")


def instance_region(environ: Mapping[str, str]) -> str | None:
    """The instance's region (`/latest/meta-data/placement/region`), or None if unknown."""
    settings = imds_settings(environ)
    if settings is None:
        return None
    try:
        with _Imds(environ, *settings) as imds:
            response = imds.get("/latest/meta-data/placement/region")
    except MetadataError:
        return None
    return response.text.strip() or None if response.status_code == 200 else None
