"""The AWS credential chain, in botocore's order, without boto3.

1. options given to the engine (`access_key_id`, `secret_access_key`, `session_token`);
2. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`
   (`AWS_CREDENTIAL_EXPIRATION` makes them temporary); skipped when a profile is named with
   `profile=` (an explicit profile wins over the environment, as in botocore);
3. the profile (`profile=`, else `AWS_DEFAULT_PROFILE`, `AWS_PROFILE`, else `default`):
   keys in the shared credentials file, then its `credential_process`, then keys in the config
   file (see `_aws_files`);
4. the container endpoint, then 5. the EC2 instance metadata service (see `_aws_metadata`).

The first source that has credentials wins; a source that is set up but broken (a profile
with a key and no secret, a failing `credential_process`) is an error, not a reason to try
the next. Temporary credentials are fetched again from their source 15 minutes before they
expire (botocore's advisory window); if that fails with more than 10 minutes left the old ones
are kept (the mandatory window), otherwise the request fails with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from tl_loop._errors import ConfigurationError, ServiceUnavailableError
from tl_loop.engines._aws_files import AWSProfiles, load_profiles, profile_name
from tl_loop.engines._aws_metadata import (
    MetadataError,
    container_uri,
    credentials_from,
    fetch_container,
    fetch_instance,
    parse_expiration,
)
from tl_loop.engines._sigv4 import AWSCredentials

__all__ = ["AWSCredentialProvider", "resolve_aws_credentials", "resolve_aws_region"]

_log = logging.getLogger(__name__)

ADVISORY_REFRESH = timedelta(minutes=15)
MANDATORY_REFRESH = timedelta(minutes=10)
_RETRY_REFRESH = timedelta(seconds=30)  # in the windows, fetch again at most this often
PROCESS_TIMEOUT = 60.0
_FIX = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a profile of ~/.aws/credentials "
    "or ~/.aws/config with AWS_PROFILE (keys or credential_process), or run where a container "
    "or EC2 instance role provides them"
)
# Profile settings for sources botocore has and tl_loop does not, and what to do instead.
_UNSUPPORTED = {
    "role_arn": "assume-role profiles",
    "sso_session": "IAM Identity Center (SSO) profiles",
    "sso_start_url": "IAM Identity Center (SSO) profiles",
    "web_identity_token_file": "web identity profiles",
    "login_session": "console login profiles",
}


class AWSCredentialProvider:
    """Credentials from one source of the chain, fetched again before they expire.

    Thread-safe; `get` is what a signer calls for each request. The secret never appears in
    `repr()`, which names the source.

    Args:
        source: where the credentials come from, for messages (`"environment"`, ...).
        credentials: the credentials fetched first.
        fetch: fetches them again; None for long-term keys.
        clock: the time source (tests pass a fake).
    """

    def __init__(
        self,
        source: str,
        credentials: AWSCredentials,
        fetch: Callable[[], AWSCredentials] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.source = source
        self._credentials = credentials
        self._fetch = fetch
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._retry_at: datetime | None = None

    @property
    def current(self) -> AWSCredentials:
        """The credentials held now, without fetching."""
        return self._credentials

    def get(self) -> AWSCredentials:
        """Credentials good for a request, fetched again when they expire within 15 minutes.

        Raises:
            ServiceUnavailableError: they expire within 10 minutes and fetching new ones
                failed (retryable: the source may be back soon).
        """
        with self._lock:
            held, now = self._credentials, self._clock()
            expires = held.expires_at
            if expires is None or self._fetch is None or expires - now > ADVISORY_REFRESH:
                return held
            if self._retry_at is not None and now < self._retry_at and expires > now:
                return held
            self._retry_at = now + _RETRY_REFRESH
            try:
                self._credentials = self._fetch()
            except (MetadataError, ConfigurationError) as error:
                if expires - now > MANDATORY_REFRESH:
                    _log.warning("AWS credentials from %s not refreshed: %s", self.source, error)
                    return held
                raise ServiceUnavailableError(
                    f"AWS credentials from {self.source} expire at {expires:%H:%M:%S} UTC and "
                    f"could not be refreshed: {error}",
                    service="amazon",
                ) from None
            return self._credentials

    def __repr__(self) -> str:
        return f"<AWSCredentialProvider source={self.source!r}>"


class _Chain:
    """One resolution: the environment, the profile, and what each source said."""

    def __init__(self, environ: Mapping[str, str], profile: str | None) -> None:
        self.environ = environ
        self.explicit_profile = profile
        self.profile, self.named_by = profile_name(environ, profile)
        self.files = load_profiles(environ)
        self.tried: list[str] = []
        if self.named_by and self.profile != "default" and not self.files.has(self.profile):
            raise ConfigurationError(
                f"AWS profile {self.profile!r} (from {self.named_by}) is not in "
                f"{self.files.credentials_path} or {self.files.config_path}; profiles there: "
                f"{', '.join(self.files.names()) or 'none'}"
            )

    def resolve(self) -> AWSCredentialProvider:
        steps = (
            self._environment, self._credentials_file, self._process, self._config_file,
            self._container, self._instance,
        )  # fmt: skip
        for step in steps:
            found = step()
            if found is not None:
                return found
        unsupported = [
            label for key, label in _UNSUPPORTED.items() if key in self.files.settings(self.profile)
        ]
        hint = (
            f"; profile {self.profile!r} is one of the {unsupported[0]}, which tl_loop does not "
            "resolve itself: add `credential_process = aws configure export-credentials "
            f"--profile {self.profile} --format process` to a profile that uses it"
            if unsupported
            else ""
        )
        raise ConfigurationError(
            "no AWS credentials found; tried: " + "; ".join(self.tried) + f". {_FIX}{hint}"
        )

    # -- the sources, in order -------------------------------------------------------------

    def _environment(self) -> AWSCredentialProvider | None:
        if self.explicit_profile:
            self.tried.append("environment (skipped: a profile was named with profile=)")
            return None
        env = self.environ
        key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if not key and not secret:
            self.tried.append("environment (AWS_ACCESS_KEY_ID is not set)")
            return None
        if not (key and secret):
            missing = "AWS_SECRET_ACCESS_KEY" if key else "AWS_ACCESS_KEY_ID"
            raise ConfigurationError(f"{missing} is not set (the other half of the key is); "
                                     "set both, or neither to use a profile")  # fmt: skip

        def read() -> AWSCredentials:
            token = env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN") or None
            expires = parse_expiration(env.get("AWS_CREDENTIAL_EXPIRATION"), "environment")
            return AWSCredentials(env.get("AWS_ACCESS_KEY_ID", ""),
                                  env.get("AWS_SECRET_ACCESS_KEY", ""), token, expires)  # fmt: skip

        return self._provider("environment", read)

    def _keys(self, sections: Mapping[str, Mapping[str, str]], where: str) -> AWSCredentials | None:
        values = sections.get(self.profile, {})
        key, secret = values.get("aws_access_key_id"), values.get("aws_secret_access_key")
        if not key and not secret:
            return None
        if not (key and secret):
            missing = "aws_secret_access_key" if key else "aws_access_key_id"
            raise ConfigurationError(f"{where} has no {missing}; add it or remove the other key")
        token = values.get("aws_session_token") or values.get("aws_security_token") or None
        return AWSCredentials(key, secret, token)

    def _credentials_file(self) -> AWSCredentialProvider | None:
        where = f"shared credentials file {self.files.credentials_path} [{self.profile}]"
        found = self._keys(self.files.credentials, where)
        if found is None:
            self.tried.append(where + (" (no keys)" if self.files.credentials else " (absent)"))
            return None
        return AWSCredentialProvider(where, found)

    def _process(self) -> AWSCredentialProvider | None:
        command = self.files.settings(self.profile).get("credential_process")
        if not command:
            self.tried.append(f"credential_process of profile {self.profile!r} (none)")
            return None
        source = f"credential_process of profile {self.profile!r}"
        return self._provider(source, lambda: run_credential_process(command))

    def _config_file(self) -> AWSCredentialProvider | None:
        section = "default" if self.profile == "default" else f"profile {self.profile}"
        where = f"config file {self.files.config_path} [{section}]"
        found = self._keys(self.files.config, where)
        if found is None:
            self.tried.append(where + (" (no keys)" if self.files.config else " (absent)"))
            return None
        return AWSCredentialProvider(where, found)

    def _container(self) -> AWSCredentialProvider | None:
        url = container_uri(self.environ)
        if url is None:
            self.tried.append("container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI "
                              "are not set)")  # fmt: skip
            return None
        return self._provider(f"container endpoint {url}",
                              lambda: fetch_container(self.environ, url))  # fmt: skip

    def _instance(self) -> AWSCredentialProvider | None:
        # The last source, tried on every host: not being on EC2 is "not found", not an error.
        def fetch() -> AWSCredentials:
            return fetch_instance(self.environ)

        try:
            first = fetch()
        except MetadataError as error:
            self.tried.append(f"EC2 instance metadata ({error})")
            return None
        return AWSCredentialProvider("EC2 instance metadata", first, fetch)

    def _provider(self, source: str, fetch: Callable[[], AWSCredentials]) -> AWSCredentialProvider:
        try:
            first = fetch()
        except MetadataError as error:
            raise ConfigurationError(f"AWS credentials from {source}: {error}") from None
        return AWSCredentialProvider(source, first, fetch if first.expires_at else None)


def run_credential_process(command: str) -> AWSCredentials:
    """Run a `credential_process` command and read what it prints (version 1 JSON).

    The documented format: `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?,
    "Expiration"? (ISO 8601)}` on stdout; a non-zero exit is a failure, its stderr the reason.

    Raises:
        MetadataError: the command failed or printed something else.
    """
    try:
        done = subprocess.run(  # the command comes from the user's own AWS config
            shlex.split(command), capture_output=True, timeout=PROCESS_TIMEOUT, check=False
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as error:
        raise MetadataError(f"credential_process {command!r} did not run: {error}") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip()[-500:] or "no message"
        raise MetadataError(
            f"credential_process {command!r} exited with {done.returncode}: {reason}"
        )
    try:
        data = json.loads(done.stdout)
    except ValueError:
        raise MetadataError(f"credential_process {command!r} did not print JSON") from None
    version = data.get("Version") if isinstance(data, dict) else None
    if version != 1:
        raise MetadataError(
            f"credential_process {command!r} printed Version {version!r}; only 1 is supported"
        )
    return credentials_from(data, f"credential_process {command!r}", "SessionToken")


def resolve_aws_credentials(
    environ: Mapping[str, str] | None = None, *, profile: str | None = None
) -> AWSCredentialProvider:
    """The first credentials the AWS chain finds (see the module's docstring for the order).

    Args:
        environ: the environment to read (default `os.environ`).
        profile: a profile to use, overriding `AWS_PROFILE` and the environment's keys.

    Raises:
        ConfigurationError: no source has credentials (the message lists each source tried and
            how to provide them), or a source is set up wrongly.
    """
    return _Chain(os.environ if environ is None else environ, profile).resolve()


def resolve_aws_region(
    environ: Mapping[str, str] | None = None, *, profile: str | None = None
) -> str | None:
    """`AWS_REGION`, `AWS_DEFAULT_REGION`, else the profile's `region` in the config files."""
    env = os.environ if environ is None else environ
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        return region
    files: AWSProfiles = load_profiles(env)
    return files.settings(profile_name(env, profile)[0]).get("region") or None
