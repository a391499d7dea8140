"""Google Application Default Credentials from a JSON file, without google-auth.

Where google-auth's `google.auth.default()` looks, in its order: `GOOGLE_APPLICATION_CREDENTIALS`
(or the engine's `credentials_file`), then the file `gcloud auth application-default login`
writes (`$CLOUDSDK_CONFIG/application_default_credentials.json`, by default under
`~/.config/gcloud/`), then the metadata server of Google Cloud's compute (GCE, GKE, Cloud Run,
Cloud Functions): the attached service account's token. Two file types are understood:

- `service_account` (a key created for a service account): the JWT bearer grant (RFC 7523).
  An RS256 assertion `{iss: client_email, scope, aud: "https://oauth2.googleapis.com/token",
  iat, exp: iat + 3600}` with `kid: private_key_id`, signed with `private_key`, is posted to the
  file's `token_uri`; the file's `project_id` is the default project.
- `authorized_user` (gcloud's user login): the refresh-token grant (`client_id`,
  `client_secret`, `refresh_token`) to `token_uri` (default `https://oauth2.googleapis.com/token`).

The metadata server is detected as google-auth does: `GET http://169.254.169.254`
(`GCE_METADATA_IP`) answering with `Metadata-Flavor: Google`, within `GCE_METADATA_TIMEOUT`
(3 s; one attempt, where google-auth makes three, so a host elsewhere waits at most 3 s);
`NO_GCE_CHECK=true` skips it. Tokens and the project id then come from
`http://metadata.google.internal/computeMetadata/v1/` (`GCE_METADATA_HOST`).

The access token is kept until 3 min 45 s before it expires (google-auth's refresh threshold)
and shared by every thread; an API answer 401 drops it. Other types (`external_account`,
`impersonated_service_account`, ...) are refused with what to use instead.
"""

from __future__ import annotations

import configparser
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from tl_loop._errors import ConfigurationError
from tl_loop.http import TokenGrant, TokenProvider, load_rsa_private_key, sign_rs256

__all__ = [
    "CLOUD_TRANSLATION_SCOPE",
    "GoogleCredentials",
    "application_default_credentials",
    "load_credentials_file",
]

CLOUD_TRANSLATION_SCOPE = "https://www.googleapis.com/auth/cloud-translation"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
GCE_METADATA_HOST = "metadata.google.internal"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REFRESH_THRESHOLD = 225.0  # seconds: google-auth's _helpers.REFRESH_THRESHOLD (3 min 45 s)
ASSERTION_LIFETIME = 3600
_INSTALL = "pip install 'tl-loop[google]'"
_SERVICE = "google-v3"
_FLAVOR = {"Metadata-Flavor": "Google"}


class ServiceAccountGrant(TokenGrant):
    """A service account key for an access token (JWT bearer grant), as google-auth does it."""

    def __init__(
        self,
        info: Mapping[str, str],
        *,
        scope: str = CLOUD_TRANSLATION_SCOPE,
        hint: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(service=_SERVICE, hint=hint)
        self.client_email = info["client_email"]
        self.token_uri = info.get("token_uri") or GOOGLE_TOKEN_URI
        self.scope = scope
        self._key_id = info.get("private_key_id") or None
        self._clock = clock
        self._key = load_rsa_private_key(
            info["private_key"], service=_SERVICE, install=_INSTALL,
            hint="create a new JSON key for the service account",
        )  # fmt: skip

    def assertion(self) -> str:
        """A freshly signed assertion (valid one hour)."""
        now = int(self._clock())
        claims = {"iat": now, "exp": now + ASSERTION_LIFETIME, "iss": self.client_email,
                  "aud": GOOGLE_TOKEN_URI, "scope": self.scope}  # fmt: skip
        return sign_rs256(claims, self._key, key_id=self._key_id)

    def build_request(self) -> httpx.Request:
        """`POST <token_uri>` `grant_type=…jwt-bearer&assertion=…` (form encoded)."""
        form = {"grant_type": JWT_BEARER, "assertion": self.assertion()}
        return httpx.Request("POST", self.token_uri, data=form,
                             headers={"Accept": "application/json"})  # fmt: skip

    def __repr__(self) -> str:
        return f"<ServiceAccountGrant {self.client_email!r}>"


class RefreshTokenGrant(TokenGrant):
    """A user's refresh token for an access token (RFC 6749 §6), gcloud's ADC login."""

    def __init__(self, info: Mapping[str, str], *, hint: str = "") -> None:
        super().__init__(service=_SERVICE, hint=hint)
        self.token_uri = info.get("token_uri") or GOOGLE_TOKEN_URI
        self._form = {"grant_type": "refresh_token", "client_id": info["client_id"],
                      "client_secret": info["client_secret"],
                      "refresh_token": info["refresh_token"]}  # fmt: skip

    def build_request(self) -> httpx.Request:
        """`POST <token_uri>` `grant_type=refresh_token` with the client and the token."""
        return httpx.Request("POST", self.token_uri, data=self._form,
                             headers={"Accept": "application/json"})  # fmt: skip

    def __repr__(self) -> str:
        return f"<RefreshTokenGrant client_id={self._form['client_id']!r}>"


class MetadataServerGrant(TokenGrant):
    """The attached service account's token from the metadata server (`…/token?scopes=`)."""

    def __init__(self, root: str, *, scope: str = CLOUD_TRANSLATION_SCOPE) -> None:
        super().__init__(service=_SERVICE, hint=(
            "check the service account attached to this instance or service and its "
            "roles/cloudtranslate.user role"
        ))  # fmt: skip
        self.root = root
        self.scope = scope

    def build_request(self) -> httpx.Request:
        """`GET <root>/instance/service-accounts/default/token?scopes=…`, `Metadata-Flavor`."""
        return httpx.Request("GET", f"{self.root}/instance/service-accounts/default/token",
                             params={"scopes": self.scope}, headers=_FLAVOR)  # fmt: skip

    def __repr__(self) -> str:
        return f"<MetadataServerGrant {self.root!r}>"


@dataclass(frozen=True, slots=True, repr=False)
class GoogleCredentials:
    """Access tokens from one credentials file, cached and shared.

    Attributes:
        provider: holds the token; `provider.get(send)` fetches one when needed.
        project_id: the file's project (service accounts), or None.
        source: where the credentials came from, for messages (never a secret).
        quota_project: the project billed for a user's calls (`quota_project_id` of an
            `authorized_user` file): sent as `x-goog-user-project`, as google-auth does.
    """

    provider: TokenProvider
    project_id: str | None
    source: str
    quota_project: str | None = None

    def token(self, send: Callable[[httpx.Request], httpx.Response]) -> str:
        """A valid access token, fetched with `send` only when none is held or it is stale."""
        return self.provider.get(send).value

    def __repr__(self) -> str:
        return f"<GoogleCredentials {self.source}>"


_REQUIRED = {
    "service_account": ("client_email", "private_key"),
    "authorized_user": ("client_id", "client_secret", "refresh_token"),
}


def load_credentials_file(
    path: str | os.PathLike[str],
    *,
    named_by: str = "credentials_file",
    clock: Callable[[], float] = time.time,
) -> GoogleCredentials:
    """The credentials in a Google JSON credentials file.

    Args:
        path: the file.
        named_by: what named it (`GOOGLE_APPLICATION_CREDENTIALS`, ...), for messages.
        clock: the time source (tests pass a fake).

    Raises:
        ConfigurationError: missing or unreadable, not JSON, a type this library does not
            handle, or a field missing (the message names the file and the fix; never a secret).
        MissingDependencyError: a service account key, and `cryptography` is not installed.
    """
    where = f"{Path(path)} ({named_by})"
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"the Google credentials file {where} does not exist") from None
    except OSError as error:
        raise ConfigurationError(f"cannot read the Google credentials file {where}: "
                                 f"{error.strerror}") from None  # fmt: skip
    except ValueError:
        raise ConfigurationError(f"the Google credentials file {where} is not JSON") from None
    kind = info.get("type") if isinstance(info, dict) else None
    if kind not in _REQUIRED:
        raise ConfigurationError(
            f"the Google credentials file {where} has type {kind!r}; tl_loop reads "
            "'service_account' keys and 'authorized_user' files (gcloud auth "
            "application-default login); for other types pass token_provider="
        )
    missing = [name for name in _REQUIRED[kind] if not isinstance(info.get(name), str)]
    if missing:
        raise ConfigurationError(
            f"the Google credentials file {where} has no {', '.join(missing)}; download the "
            "file again"
        )
    grant: TokenGrant
    if kind == "service_account":
        account = info["client_email"]
        grant = ServiceAccountGrant(info, clock=clock, hint=(
            f"check that the key of {account} in {where} is not deleted or disabled and that "
            "the service account may use Cloud Translation (roles/cloudtranslate.user)"
        ))  # fmt: skip
        source = f"service account {account} from {where}"
        project, quota = info.get("project_id"), None
    else:
        grant = RefreshTokenGrant(info, hint=(
            f"the login in {where} expired or was revoked; run `gcloud auth "
            "application-default login` again"
        ))  # fmt: skip
        source = f"gcloud user credentials from {where}"
        project, quota = None, info.get("quota_project_id")
    provider = TokenProvider(grant, margin=REFRESH_THRESHOLD, clock=clock)
    return GoogleCredentials(
        provider,
        project if isinstance(project, str) else None,
        source,
        quota if isinstance(quota, str) else None,
    )


def _gcloud_folder(environ: Mapping[str, str]) -> Path:
    folder = environ.get("CLOUDSDK_CONFIG")
    if folder:
        return Path(folder)
    home = environ.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".config" / "gcloud"


def _gcloud_project(environ: Mapping[str, str]) -> str | None:
    """`[core] project` of gcloud's active configuration (what `gcloud config get project`
    prints, read from its file instead of running gcloud)."""
    folder = _gcloud_folder(environ)
    try:
        active = (folder / "active_config").read_text(encoding="utf-8").strip() or "default"
    except OSError:
        active = "default"
    parser = configparser.RawConfigParser()
    try:
        parser.read(folder / "configurations" / f"config_{active}", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    return parser.get("core", "project", fallback=None) or None


def application_default_credentials(
    environ: Mapping[str, str] | None = None, *, credentials_file: str | None = None
) -> GoogleCredentials:
    """`credentials_file`, else `GOOGLE_APPLICATION_CREDENTIALS`, else gcloud's ADC file.

    Raises:
        ConfigurationError: none of them exists (the message says how to provide one), or the
            file found is unusable.
    """
    env = os.environ if environ is None else environ
    if credentials_file:
        return load_credentials_file(credentials_file)
    if env.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return load_credentials_file(env["GOOGLE_APPLICATION_CREDENTIALS"],
                                     named_by="GOOGLE_APPLICATION_CREDENTIALS")  # fmt: skip
    gcloud = _gcloud_folder(env) / "application_default_credentials.json"
    if gcloud.is_file():
        return load_credentials_file(gcloud, named_by="gcloud application-default login")
    found, why = _metadata_server(env)
    if found is not None:
        return found
    raise ConfigurationError(
        "no Google credentials: GOOGLE_APPLICATION_CREDENTIALS is not set, there is no "
        f"{gcloud}, and {why}; set GOOGLE_APPLICATION_CREDENTIALS to a service account key "
        "file (or "
        "credentials_file= in [engine.google-v3]), run `gcloud auth application-default "
        "login`, or set GOOGLE_OAUTH_ACCESS_TOKEN to an access token"
    )


def _metadata_server(env: Mapping[str, str]) -> tuple[GoogleCredentials | None, str]:
    """The metadata server's credentials and project, or None and why not."""
    if env.get("NO_GCE_CHECK", "").lower() == "true":
        return None, "NO_GCE_CHECK=true skips the metadata server"
    address = env.get("GCE_METADATA_IP") or "169.254.169.254"
    host = env.get("GCE_METADATA_HOST") or env.get("GCE_METADATA_ROOT") or GCE_METADATA_HOST
    try:
        timeout = float(env.get("GCE_METADATA_TIMEOUT") or 3)
    except ValueError:
        raise ConfigurationError("GCE_METADATA_TIMEOUT must be seconds") from None
    root = f"http://{host}/computeMetadata/v1"
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        try:
            ping = client.get(f"http://{address}", headers=_FLAVOR)
        except httpx.TransportError:
            return None, f"no metadata server answered at {address} (not on Google Cloud)"
        if ping.headers.get("metadata-flavor") != "Google":
            return None, f"{address} is not a Google metadata server"
        try:
            answer = client.get(f"{root}/project/project-id", headers=_FLAVOR)
            project = answer.text.strip() if answer.status_code == 200 else None
        except httpx.TransportError:
            project = None
    provider = TokenProvider(MetadataServerGrant(root), margin=REFRESH_THRESHOLD)
    return GoogleCredentials(provider, project or None, f"the metadata server at {host}"), ""


def project_from(environ: Mapping[str, str], credentials: GoogleCredentials | None) -> str | None:
    """`GOOGLE_CLOUD_PROJECT`, `GCLOUD_PROJECT`, the service account's project, else gcloud's
    configured project (google-auth's order)."""
    found = environ.get("GOOGLE_CLOUD_PROJECT") or environ.get("GCLOUD_PROJECT")
    if not found and credentials is not None:
        found = credentials.project_id or _gcloud_project(environ)
    return found.strip() if found else None
