"""Shared fixtures: a loop under either shell, the sample glossary, and the private Redis and
PostgreSQL servers (started once per session, only by the tests that ask for them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from servers import postgres_url, redis_url
from shells import Shell
from tl_loop import Glossary

__all__ = ["postgres_url", "redis_url"]

ROOT = Path(__file__).resolve().parents[1]


# Cloud credential chains read files in the home directory and ask metadata services on
# link-local addresses; in tests they read only what a test sets up, and never leave loopback.
_CREDENTIAL_VARIABLES = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/tl-loop-tests/aws-credentials",
    "AWS_CONFIG_FILE": "/nonexistent/tl-loop-tests/aws-config",
    "CLOUDSDK_CONFIG": "/nonexistent/tl-loop-tests/gcloud",
    "NO_GCE_CHECK": "true",
}
_CREDENTIAL_UNSET = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "GOOGLE_APPLICATION_CREDENTIALS",
)  # fmt: skip


@pytest.fixture(scope="session", autouse=True)
def isolated_cloud_credentials() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _CREDENTIAL_VARIABLES.items():
            patch.setenv(name, value)
        for name in _CREDENTIAL_UNSET:
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="session")
def sample_glossary() -> Glossary:
    return Glossary.load(ROOT / "glossaries" / "acme.csv")


@pytest.fixture(params=["sync", "async"])
def make_loop(request: pytest.FixtureRequest) -> Callable[..., Shell]:
    """Build a loop under the sync or the async shell; tests run once with each."""
    return partial(Shell, request.param)
