"""Shared fixtures: a loop under either shell, the sample glossary, and the private Redis and
PostgreSQL servers (started once per session, only by the tests that ask for them)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from servers import postgres_url, redis_url
from shells import Shell
from tl_loop import Glossary

__all__ = ["postgres_url", "redis_url"]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def sample_glossary() -> Glossary:
    return Glossary.load(ROOT / "glossaries" / "acme.csv")


@pytest.fixture(params=["sync", "async"])
def make_loop(request: pytest.FixtureRequest) -> Callable[..., Shell]:
    """Build a loop under the sync or the async shell; tests run once with each."""
    return partial(Shell, request.param)
