"""Integration fixtures: private Redis and PostgreSQL servers (see servers.py)."""

from __future__ import annotations

import pytest
from servers import postgres_url, redis_url

__all__ = ["postgres_url", "redis_url"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "redis: needs Debian's redis-server (scripts/bootstrap)")
    config.addinivalue_line("markers", "postgres: needs Debian's postgresql (scripts/bootstrap)")
