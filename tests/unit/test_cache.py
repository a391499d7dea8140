"""The translation cache: keys that change with every input, TTL, LRU, counters, threads."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tl_loop import CacheStats, ConfigurationError, TranslationCache, cache_key

BASE: dict[str, Any] = {
    "engine": "apertium",
    "engine_version": "3.9.4",
    "source": "es",
    "target": "en",
    "content_type": "text",
    "formality": None,
    "glossary_version": "acme-2024-05",
    "text": "Mi pedido no ha llegado",
}


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- keys ------------------------------------------------------------------------------------


def test_key_is_stable_and_hex_sha256() -> None:
    key = cache_key(**BASE)
    assert key == cache_key(**dict(BASE))
    assert len(key) == 64
    assert int(key, 16) >= 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("engine", "argos"),
        ("engine_version", "3.9.5"),
        ("source", "pt"),
        ("target", "en-GB"),
        ("content_type", "html"),
        ("formality", "formal"),
        ("glossary_version", "acme-2024-06"),
        ("glossary_version", None),
        ("text", "Mi pedido no ha llegado."),
    ],
)
def test_key_changes_when_any_field_changes(field: str, value: str | None) -> None:
    assert cache_key(**{**BASE, field: value}) != cache_key(**BASE)


def test_key_encoding_is_unambiguous() -> None:
    # Moving characters between neighbouring fields, or None vs "None", must not collide.
    shifted = {**BASE, "source": "e", "target": "sen"}
    assert cache_key(**shifted) != cache_key(**BASE)
    assert cache_key(**{**BASE, "formality": "None"}) != cache_key(**BASE)
    assert cache_key(**{**BASE, "formality": ""}) != cache_key(**BASE)


# --- cache behaviour -------------------------------------------------------------------------


def test_put_then_get_and_counters() -> None:
    cache: TranslationCache[str] = TranslationCache(maxsize=10)
    assert cache.get("a") is None
    cache.put("a", "My order has not arrived")
    assert cache.get("a") == "My order has not arrived"
    assert cache.get("a") == "My order has not arrived"
    assert cache.stats == CacheStats(hits=2, misses=1, size=1, maxsize=10)
    assert cache.stats.hit_rate == pytest.approx(2 / 3)


def test_hit_rate_is_zero_before_any_lookup() -> None:
    assert TranslationCache[str]().stats.hit_rate == 0.0


def test_entries_expire_after_ttl() -> None:
    clock = FakeClock()
    cache: TranslationCache[str] = TranslationCache(ttl=60, timer=clock)
    cache.put("a", "hello")
    clock.now += 59
    assert cache.get("a") == "hello"
    clock.now += 2
    assert cache.get("a") is None
    assert cache.stats.size == 0
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)


def test_put_again_restarts_the_ttl() -> None:
    clock = FakeClock()
    cache: TranslationCache[str] = TranslationCache(ttl=60, timer=clock)
    cache.put("a", "old")
    clock.now += 50
    cache.put("a", "new")
    clock.now += 50
    assert cache.get("a") == "new"


def test_least_recently_used_entry_is_evicted_at_maxsize() -> None:
    cache: TranslationCache[int] = TranslationCache(maxsize=3)
    cache.put_many([("a", 1), ("b", 2), ("c", 3)])
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("d", 4)
    assert cache.get_many(["a", "b", "c", "d"]) == [1, None, 3, 4]
    assert cache.stats.size == 3


def test_get_many_counts_each_key() -> None:
    cache: TranslationCache[str] = TranslationCache()
    cache.put_many([("a", "x"), ("b", "y")])
    assert cache.get_many(["a", "missing", "b"]) == ["x", None, "y"]
    assert (cache.stats.hits, cache.stats.misses) == (2, 1)


def test_clear_drops_entries_but_keeps_counting() -> None:
    cache: TranslationCache[str] = TranslationCache()
    cache.put("a", "x")
    assert cache.get("a") == "x"
    cache.clear()
    assert cache.get("a") is None
    assert cache.stats == CacheStats(hits=1, misses=1, size=0, maxsize=10_000)


def test_none_cannot_be_stored() -> None:
    cache: TranslationCache[str | None] = TranslationCache()
    with pytest.raises(ConfigurationError, match="cannot store None"):
        cache.put("a", None)
    with pytest.raises(ConfigurationError, match="cannot store None"):
        cache.put_many([("b", "fine"), ("c", None)])
    assert cache.stats.size == 0  # nothing of the bad batch was stored


@pytest.mark.parametrize(
    ("options", "problem"),
    [({"maxsize": 0}, "maxsize"), ({"ttl": 0}, "ttl"), ({"ttl": -5.0}, "ttl")],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        TranslationCache(**options)


def test_concurrent_use_keeps_counts_exact() -> None:
    cache: TranslationCache[str] = TranslationCache(maxsize=50)
    threads_n, rounds = 8, 500
    errors: list[BaseException] = []
    wrong: list[list[str | None]] = []
    start = threading.Barrier(threads_n)

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(rounds):
                key = f"{worker}-{i % 80}"  # more keys than maxsize: evictions race with gets
                if cache.get(key) is None:
                    cache.put(key, f"value {key}")
                other = f"{(worker + 1) % threads_n}-{i % 80}"
                found = cache.get_many([key, other])
                # Either may have been evicted meanwhile, but never hold another key's value.
                if found[0] not in (f"value {key}", None) or found[1] not in (
                    f"value {other}",
                    None,
                ):
                    wrong.append(found)
        except BaseException as exc:  # collected so the main thread can fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = cache.stats
    assert errors == []
    assert wrong == []
    assert stats.hits + stats.misses == threads_n * rounds * 3
    assert 0 < stats.size <= 50
