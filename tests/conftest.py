"""Shared fixtures: a loop under either shell, fake engines, the sample glossary."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from shells import Shell
from tl_loop import Glossary

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def sample_glossary() -> Glossary:
    return Glossary.load(ROOT / "glossaries" / "acme.csv")


@pytest.fixture(params=["sync", "async"])
def make_loop(request: pytest.FixtureRequest) -> Callable[..., Shell]:
    """Build a loop under the sync or the async shell; tests run once with each."""
    return partial(Shell, request.param)
