"""The Redis machine translation cache against a real redis-server started by the tests."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from tl_loop import (
    ConfigurationError,
    Loop,
    MissingDependencyError,
    ServiceUnavailableError,
    Translation,
)
from tl_loop.engines import SegmentResult
from tl_loop.stores._redis_cache import RedisTranslationCache, decode_result, encode_result
from tl_loop.testing import FakeEngine

redis = pytest.importorskip("redis")

pytestmark = pytest.mark.redis

RICH = SegmentResult(
    text='Hola ⟦0⟧, "señora" 🙂\n',
    unknown_words=("pedido", "Zoë"),
    score=0.875,
    billed_characters=42,
    formality_applied=True,
    extra={"model": "es-en 1.9", "route": "pivot"},
)


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A fresh key prefix per test, deleted afterwards, so tests share one server safely."""
    name = f"test:{uuid.uuid4().hex}:"
    yield name
    with redis.Redis.from_url(redis_url) as client:
        names = list(client.scan_iter(match=f"{name}*"))
        if names:
            client.delete(*names)


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as made:
        yield made


@pytest.fixture
def cache(redis_url: str, prefix: str) -> Iterator[RedisTranslationCache]:
    with RedisTranslationCache(redis_url, prefix=prefix) as made:
        yield made


def test_a_result_comes_back_with_every_field(cache: RedisTranslationCache) -> None:
    cache.put("k", RICH)
    assert cache.get("k") == RICH
    assert cache.get("other") is None
    stats = cache.stats
    assert (stats.hits, stats.misses, stats.size, stats.hit_rate) == (1, 1, 1, 0.5)


def test_get_many_answers_each_key_in_order(cache: RedisTranslationCache) -> None:
    one, two = SegmentResult(text="one"), SegmentResult(text="two")
    cache.put_many([("1", one), ("2", two)])
    assert cache.get_many(["2", "missing", "1", "2"]) == [two, None, one, two]
    assert cache.get_many([]) == []
    assert (cache.stats.hits, cache.stats.misses) == (3, 1)


def test_more_keys_than_one_mget_holds(cache: RedisTranslationCache) -> None:
    items = [(f"k{n}", SegmentResult(text=f"t{n}")) for n in range(1300)]
    cache.put_many(items)
    assert cache.get_many([key for key, _ in items]) == [value for _, value in items]
    assert cache.stats.size == 1300


def test_none_is_refused_and_nothing_of_the_batch_is_stored(
    cache: RedisTranslationCache,
) -> None:
    with pytest.raises(ConfigurationError, match="None"):
        cache.put_many([("a", SegmentResult(text="a")), ("b", None)])  # type: ignore[list-item]
    assert cache.get("a") is None


def test_entries_expire_after_the_ttl(redis_url: str, prefix: str, client: redis.Redis) -> None:
    with RedisTranslationCache(redis_url, prefix=prefix, ttl=0.3) as cache:
        cache.put("k", RICH)
        assert 0 < client.pttl(f"{prefix}mt:k") <= 300
        assert cache.get("k") == RICH
        time.sleep(0.45)
        assert cache.get("k") is None


def test_a_week_is_the_default_ttl(
    cache: RedisTranslationCache, prefix: str, client: redis.Redis
) -> None:
    cache.put_many([("a", RICH)])
    week_ms = 7 * 24 * 3600 * 1000
    assert week_ms - 60_000 < client.pttl(f"{prefix}mt:a") <= week_ms


def test_clear_deletes_only_its_own_prefix(
    cache: RedisTranslationCache, redis_url: str, prefix: str, client: redis.Redis
) -> None:
    client.set("customer:1", "keep me")
    neighbour_prefix = f"{prefix[:-1]}x:"  # shares the first characters, not the prefix
    with RedisTranslationCache(redis_url, prefix=neighbour_prefix) as neighbour:
        neighbour.put("k", RICH)
        cache.put_many([(f"k{n}", RICH) for n in range(1200)])
        cache.get("k1")
        cache.clear()
        assert cache.get("k1") is None
        assert cache.stats.size == 0
        assert neighbour.get("k") == RICH
    assert client.get("customer:1") == b"keep me"
    assert (cache.stats.hits, cache.stats.misses) == (1, 1), "counters keep counting"
    client.delete("customer:1", *client.keys(f"{neighbour_prefix}*"))


def test_a_prefix_with_glob_characters_clears_only_itself(
    redis_url: str, prefix: str, client: redis.Redis
) -> None:
    with (
        RedisTranslationCache(redis_url, prefix=f"{prefix}a*") as starred,
        RedisTranslationCache(redis_url, prefix=f"{prefix}ab") as plain,
    ):
        starred.put("k", RICH)
        plain.put("k", RICH)
        starred.clear()
        assert starred.get("k") is None
        assert plain.get("k") == RICH


def test_workers_see_each_others_counts(redis_url: str, prefix: str) -> None:
    with (
        RedisTranslationCache(redis_url, prefix=prefix) as first,
        RedisTranslationCache(redis_url, prefix=prefix) as second,
    ):
        first.put("k", RICH)
        first.get("k")
        second.get_many(["k", "k", "nothing"])
        for cache in (first, second):
            assert (cache.stats.hits, cache.stats.misses) == (3, 1)
        assert (first.local_stats.hits, first.local_stats.misses) == (1, 0)
        assert (second.local_stats.hits, second.local_stats.misses) == (2, 1)
        second.reset_stats()
        assert (first.stats.hits, first.stats.misses) == (0, 0)


def test_without_shared_stats_nothing_is_counted_in_redis(
    redis_url: str, prefix: str, client: redis.Redis
) -> None:
    with RedisTranslationCache(redis_url, prefix=prefix, shared_stats=False) as cache:
        cache.put("k", RICH)
        cache.get_many(["k", "x"])
        assert (cache.stats.hits, cache.stats.misses, cache.stats.size) == (1, 1, 1)
    assert client.exists(f"{prefix}stats") == 0


def test_an_unreadable_entry_is_a_miss(
    cache: RedisTranslationCache, prefix: str, client: redis.Redis
) -> None:
    client.set(f"{prefix}mt:bad", b"\xff not json")
    client.set(f"{prefix}mt:wrong", b'{"text": 3}')
    assert cache.get_many(["bad", "wrong"]) == [None, None]


def test_a_newer_workers_extra_fields_are_ignored() -> None:
    raw = encode_result(RICH)[:-1] + b',"added_later":[1,2]}'
    assert decode_result(raw) == RICH
    assert decode_result(b'{"text":"minimal"}') == SegmentResult(text="minimal")
    assert decode_result(b'{"text":"x","score":true}') is None
    assert decode_result(b'{"text":"x","billed_characters":"12"}') is None
    assert decode_result(b"[1]") is None


def _unreachable() -> str:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_a_dead_redis_makes_misses_not_failures(caplog: pytest.LogCaptureFixture) -> None:
    engine = FakeEngine()
    with RedisTranslationCache(_unreachable()) as cache:
        loop = Loop(engines=[engine], cache=cache)
        first = loop.translate("Hola", source="es", target="en")
        second = loop.translate("Hola", source="es", target="en")
        assert first.translated == second.translated == "[en] Hola"
        assert len(engine.calls) == 2, "no cache, so the engine is asked each time"
        assert (cache.stats.hits, cache.stats.misses, cache.stats.size) == (0, 2, 0)
    warnings = [r for r in caplog.records if r.name == "tl_loop.cache"]
    assert len(warnings) == 1, "one warning, not one per call"
    assert "127.0.0.1" in warnings[0].getMessage()


def test_fail_open_off_raises_service_unavailable() -> None:
    with RedisTranslationCache(_unreachable(), fail_open=False) as cache:
        with pytest.raises(ServiceUnavailableError, match="redis-server running"):
            cache.get("k")
        with pytest.raises(ServiceUnavailableError):
            cache.put("k", RICH)


def test_clear_raises_even_when_failing_open() -> None:
    with RedisTranslationCache(_unreachable()) as cache, pytest.raises(ServiceUnavailableError):
        cache.clear()


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({}, "url="),
        ({"url": "redis://a", "client": object()}, "url="),
        ({"url": "http://localhost"}, "bad Redis URL"),
        ({"url": "redis://localhost", "ttl": 0}, "ttl"),
        ({"url": "redis://localhost", "prefix": ""}, "prefix"),
    ],
)
def test_bad_options_say_what_to_fix(options: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        RedisTranslationCache(**options)  # type: ignore[arg-type]


def test_without_redis_py_the_error_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # what `import redis` sees when missing
    with pytest.raises(MissingDependencyError, match=r'pip install "tl-loop\[redis\]"'):
        RedisTranslationCache("redis://localhost")


MESSAGES = [f"Mi pedido {n} no ha llegado. ¿Dónde está?" for n in range(20)]


def test_two_workers_share_one_cache(redis_url: str, prefix: str) -> None:
    """Worker B, in its own thread with its own loop, reuses what worker A paid for."""
    engines = {"a": FakeEngine(), "b": FakeEngine()}
    results: dict[str, list[Translation]] = {"a": [], "b": []}
    a_done, b_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def worker(name: str, wait_for: threading.Event | None, done: threading.Event) -> None:
        try:
            with RedisTranslationCache(redis_url, prefix=prefix) as cache:
                loop = Loop(engines=[engines[name]], cache=cache)
                if wait_for is not None:
                    assert wait_for.wait(timeout=30)
                for text in MESSAGES:
                    results[name].append(loop.translate(text, source="es", target="en"))
                done.set()
                # A stays up until B has finished: two live workers on one cache.
                if name == "a":
                    assert b_done.wait(timeout=30)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
            done.set()

    threads = [
        threading.Thread(target=worker, args=("a", None, a_done)),
        threading.Thread(target=worker, args=("b", a_done, b_done)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    segments = sum(result.audit.segments for result in results["a"])
    a_hits = sum(result.audit.cache_hits for result in results["a"])  # A's repeated sentence
    assert engines["a"].segments_sent == segments - a_hits > 0
    assert engines["b"].calls == [], "B asked its engine nothing"
    assert [r.translated for r in results["b"]] == [r.translated for r in results["a"]]
    assert all(r.audit.cache_hits == r.audit.segments for r in results["b"])
    with RedisTranslationCache(redis_url, prefix=prefix) as observer:
        stats = observer.stats
        assert (stats.hits, stats.misses) == (a_hits + segments, segments - a_hits)
