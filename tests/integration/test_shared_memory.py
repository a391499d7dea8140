"""The shared translation memories, on real Redis and PostgreSQL servers started by the tests.

Both run the same `MemoryContract` as the in-memory and SQLite memories (tests/unit), then
what only a shared store must do: several workers see one memory, and it outlives them.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tl_loop import ConfigurationError, Loop, MissingDependencyError, ServiceUnavailableError
from tl_loop.engines import SegmentResult
from tl_loop.stores import (
    PostgresTranslationMemory,
    RedisTranslationCache,
    RedisTranslationMemory,
    TranslationMemory,
)
from tl_loop.testing import FakeEngine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_memory import MemoryContract, entry, lookup


def _unreachable_port() -> int:
    import socket

    with socket.socket() as probe:  # free a moment ago, so nothing listens there
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _loop_with(memory: TranslationMemory, engine: FakeEngine) -> Loop:
    return Loop(engines=[engine], memory=memory)


# Redis ----------------------------------------------------------------------------------------


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    redis = pytest.importorskip("redis")
    name = f"test:{uuid.uuid4().hex}:"
    yield name
    with redis.Redis.from_url(redis_url) as client:
        names = list(client.scan_iter(match=f"{name}*"))
        if names:
            client.delete(*names)


@pytest.mark.redis
class TestRedisTranslationMemory(MemoryContract):
    @pytest.fixture
    def memory(self, redis_url: str, redis_prefix: str) -> Iterator[TranslationMemory]:
        with RedisTranslationMemory(redis_url, prefix=redis_prefix) as memory:
            yield memory


@pytest.mark.redis
def test_redis_workers_share_one_memory_that_never_expires(
    redis_url: str, redis_prefix: str
) -> None:
    import redis

    approved = entry(author="ana")
    with RedisTranslationMemory(redis_url, prefix=redis_prefix) as first:
        first.put(approved)
    with RedisTranslationMemory(redis_url, prefix=redis_prefix) as second:
        assert lookup(second, approved) == approved
        assert len(second) == 1
    with redis.Redis.from_url(redis_url) as client:
        assert client.pttl(f"{redis_prefix}e:{approved.key}") == -1, "no time to live"


@pytest.mark.redis
def test_clearing_the_cache_on_the_same_redis_keeps_the_memory(
    redis_url: str, redis_prefix: str
) -> None:
    with (
        RedisTranslationMemory(redis_url, prefix=f"{redis_prefix}memory:") as memory,
        RedisTranslationCache(redis_url, prefix=f"{redis_prefix}cache:") as cache,
    ):
        stored = entry()
        memory.put(stored)
        cache.put("k", SegmentResult(text="machine"))
        cache.clear()
        assert cache.get("k") is None
        assert lookup(memory, stored) == stored
        assert list(memory.entries()) == [stored]


@pytest.mark.redis
def test_an_unreadable_redis_entry_is_a_miss(
    redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    import redis

    stored = entry()
    with RedisTranslationMemory(redis_url, prefix=redis_prefix) as memory:
        memory.put(stored)
        with redis.Redis.from_url(redis_url) as client:
            client.set(f"{redis_prefix}e:{stored.key}", b'{"source_text": 1}')
        assert lookup(memory, stored) is None
        assert list(memory.entries()) == []
    assert "unreadable translation memory entry" in caplog.text


@pytest.mark.redis
def test_a_loop_uses_the_redis_memory_of_another_worker(redis_url: str, redis_prefix: str) -> None:
    with RedisTranslationMemory(redis_url, prefix=redis_prefix) as reviewer_side:
        reviewer_side.put(entry("Hola", "Hello there", glossary_version=None))
    engine = FakeEngine()
    with RedisTranslationMemory(redis_url, prefix=redis_prefix) as memory:
        result = _loop_with(memory, engine).translate("Hola", source="es", target="en")
    assert result.translated == "Hello there"
    assert engine.calls == []


def test_redis_memory_unreachable_raises_service_unavailable() -> None:
    pytest.importorskip("redis")
    url = f"redis://127.0.0.1:{_unreachable_port()}/0"
    with RedisTranslationMemory(url) as memory, pytest.raises(ServiceUnavailableError):
        len(memory)


def test_redis_memory_without_redis_py_names_the_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "tl-loop\[redis\]"'):
        RedisTranslationMemory("redis://localhost")


# PostgreSQL -----------------------------------------------------------------------------------


@pytest.fixture
def table(postgres_url: str) -> Iterator[str]:
    """A fresh table name per test, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    name = f"tm_{uuid.uuid4().hex}"
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {name}")


@pytest.mark.postgres
class TestPostgresTranslationMemory(MemoryContract):
    @pytest.fixture
    def memory(self, postgres_url: str, table: str) -> Iterator[TranslationMemory]:
        with PostgresTranslationMemory(postgres_url, table=table) as memory:
            yield memory


@pytest.mark.postgres
def test_postgres_memory_outlives_its_workers(postgres_url: str, table: str) -> None:
    approved = entry(author="ana", origin="edited")
    with PostgresTranslationMemory(postgres_url, table=table) as first:
        first.put(approved)
    with PostgresTranslationMemory(postgres_url, table=table) as second:
        assert lookup(second, approved) == approved


@pytest.mark.postgres
def test_workers_starting_together_create_the_table_once(postgres_url: str, table: str) -> None:
    errors: list[BaseException] = []
    memories: list[PostgresTranslationMemory] = []
    start = threading.Barrier(6)

    def open_one() -> None:
        try:
            start.wait(timeout=10)
            memories.append(PostgresTranslationMemory(postgres_url, table=table))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        assert len(memories) == 6
        stored = entry()
        memories[0].put(stored)
        assert all(lookup(memory, stored) == stored for memory in memories)
    finally:
        for memory in memories:
            memory.close()


@pytest.mark.postgres
def test_a_schema_qualified_table(postgres_url: str) -> None:
    import psycopg

    schema = f"s_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        with PostgresTranslationMemory(postgres_url, table=f"{schema}.memory") as memory:
            memory.put(entry())
            assert len(memory) == 1
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.postgres
def test_a_loop_uses_the_postgres_memory_of_another_worker(postgres_url: str, table: str) -> None:
    with PostgresTranslationMemory(postgres_url, table=table) as reviewer_side:
        reviewer_side.put(entry("Hola", "Hello there", glossary_version=None))
    engine = FakeEngine()
    with PostgresTranslationMemory(postgres_url, table=table) as memory:
        result = _loop_with(memory, engine).translate("Hola", source="es", target="en")
    assert result.translated == "Hello there"
    assert engine.calls == []


@pytest.mark.parametrize("name", ["drop table x; --", "a.b.c", "1abc", "x" * 59, ""])
def test_a_bad_table_name_is_refused_before_connecting(name: str) -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(ConfigurationError, match="table name"):
        PostgresTranslationMemory("postgresql://nobody@127.0.0.1:1/none", table=name)


def test_postgres_unreachable_raises_service_unavailable() -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://tl@127.0.0.1:{_unreachable_port()}/none"
    with pytest.raises(ServiceUnavailableError, match="is PostgreSQL running"):
        PostgresTranslationMemory(url, timeout=1)


def test_postgres_memory_without_psycopg_names_the_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "tl-loop\[postgres\]"'):
        PostgresTranslationMemory("postgresql://localhost/none")
