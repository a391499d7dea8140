"""The machine-translation cache: bounded, expiring, shared between threads.

A cached translation is reused only when everything that changes an engine's output is the
same, so `cache_key` hashes all of it: engine and its version, language pair, content type,
formality, glossary version and the text. Translation memory (human-approved) is a separate
store and wins over this cache.

`CacheStore` is what the loop needs of a cache; `TranslationCache` (in memory, one process) and
`tl_loop.stores.RedisTranslationCache` (many workers sharing one Redis) both provide it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from cachetools import TTLCache

from tl_loop._errors import ConfigurationError

__all__ = ["CacheStats", "CacheStore", "TranslationCache", "cache_key"]

V = TypeVar("V")

# Bump when the key's fields or encoding change, so old entries in a shared store never match.
_KEY_SCHEMA = "tl_loop.cache.v1"

_MISSING = object()
_NONE_VALUE = "TranslationCache cannot store None (get() returns None for a miss); store a value"


def cache_key(
    *,
    engine: str,
    engine_version: str,
    source: str,
    target: str,
    content_type: str,
    formality: str | None,
    glossary_version: str | None,
    text: str,
) -> str:
    """Return the cache key of one translation request: a SHA-256 hex digest.

    The fields are encoded as a JSON list, so no two different requests share an encoding
    (`("ab", "c")` and `("a", "bc")` differ, and `None` differs from `"None"`). Pass language
    tags already normalised (`normalize_tag`), as the loop does.

    Example:
        >>> key = cache_key(engine="apertium", engine_version="3.9", source="es", target="en",
        ...                 content_type="text", formality=None, glossary_version=None,
        ...                 text="Hola")
        >>> len(key)
        64
    """
    fields = [
        _KEY_SCHEMA,
        engine,
        engine_version,
        source,
        target,
        content_type,
        formality,
        glossary_version,
        text,
    ]
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters of a `TranslationCache` at one moment.

    Args:
        hits: lookups that found a live entry.
        misses: lookups that found nothing, or an expired entry.
        size: live entries now held.
        maxsize: the most entries the cache holds before evicting the least recently used.
    """

    hits: int
    misses: int
    size: int
    maxsize: int

    @property
    def hit_rate(self) -> float:
        """Share of lookups that were hits, 0.0 before any lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class CacheStore(Protocol[V]):
    """What the loop needs of a machine translation cache; any object with these methods fits.

    Keys come from `cache_key`. A store never holds None: `get` returns None for a miss.
    Implementations are safe to share between threads.
    """

    def get(self, key: str) -> V | None:
        """Return the value stored under `key`, or None if absent or expired; counts it."""
        ...

    def get_many(self, keys: Sequence[str]) -> list[V | None]:
        """Return the value (or None) for each key, in order."""
        ...

    def put(self, key: str, value: V) -> None:
        """Store `value` under `key`, replacing any entry and restarting its time to live."""
        ...

    def put_many(self, items: Iterable[tuple[str, V]]) -> None:
        """Store each (key, value) pair."""
        ...

    def clear(self) -> None:
        """Drop every entry of this cache; the hit and miss counters keep counting."""
        ...

    @property
    def stats(self) -> CacheStats:
        """Hits, misses, size and maxsize."""
        ...


class TranslationCache(Generic[V]):
    """An in-memory cache of machine translations with a time to live and LRU eviction.

    A cachetools `TTLCache` behind a `threading.Lock`: bounded in entries, safe to share
    between threads. Entries expire `ttl` seconds after they were put; when full, the least
    recently used entry is evicted. `None` cannot be stored: `get` returns it for a miss,
    and `put(key, None)` raises `ConfigurationError`.

    Args:
        maxsize: the most entries held.
        ttl: seconds an entry lives; a week by default, since engines and glossaries change
            rarely and a change of either changes the key anyway.
        timer: the clock, in seconds; tests inject a fake one.

    Raises:
        ConfigurationError: `maxsize` is below 1 or `ttl` is not positive.

    Example:
        >>> cache: TranslationCache[str] = TranslationCache(maxsize=100)
        >>> cache.put("k", "Hello")
        >>> cache.get("k"), cache.get("other")
        ('Hello', None)
        >>> cache.stats.hits, cache.stats.misses
        (1, 1)
    """

    def __init__(
        self,
        *,
        maxsize: int = 10_000,
        ttl: float = 7 * 24 * 3600,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        if maxsize < 1:
            raise ConfigurationError(f"cache maxsize must be 1 or more, not {maxsize}")
        if not ttl > 0:
            raise ConfigurationError(f"cache ttl must be a positive number of seconds, not {ttl}")
        self._lock = threading.Lock()
        self._entries: TTLCache[str, V] = TTLCache(maxsize=maxsize, ttl=ttl, timer=timer)
        self._hits = 0
        self._misses = 0

    def _lookup(self, key: str) -> V | None:
        # Caller holds the lock.
        value = self._entries.get(key, _MISSING)
        if value is _MISSING:
            self._misses += 1
            return None
        self._hits += 1
        return value  # type: ignore[return-value]  # not _MISSING, so a stored V

    def get(self, key: str) -> V | None:
        """Return the value stored under `key`, or None if absent or expired; counts it."""
        with self._lock:
            return self._lookup(key)

    def get_many(self, keys: Sequence[str]) -> list[V | None]:
        """Return the value (or None) for each key, in order, under one lock acquisition."""
        with self._lock:
            return [self._lookup(key) for key in keys]

    def put(self, key: str, value: V) -> None:
        """Store `value` under `key`, replacing any entry and restarting its time to live.

        Raises:
            ConfigurationError: `value` is None.
        """
        if value is None:
            raise ConfigurationError(_NONE_VALUE)
        with self._lock:
            self._entries[key] = value

    def put_many(self, items: Iterable[tuple[str, V]]) -> None:
        """Store each (key, value) pair under one lock acquisition.

        Raises:
            ConfigurationError: a value is None; nothing is stored then.
        """
        pairs = list(items)
        if any(value is None for _, value in pairs):
            raise ConfigurationError(_NONE_VALUE)
        with self._lock:
            for key, value in pairs:
                self._entries[key] = value

    def clear(self) -> None:
        """Drop every entry; the hit and miss counters keep counting."""
        with self._lock:
            self._entries.clear()

    @property
    def stats(self) -> CacheStats:
        """Hits, misses, live size and maxsize, read together under the lock."""
        with self._lock:
            return CacheStats(
                hits=self._hits,
                misses=self._misses,
                size=len(self._entries),
                maxsize=int(self._entries.maxsize),
            )

    def __repr__(self) -> str:
        stats = self.stats
        return f"TranslationCache(size={stats.size}, maxsize={stats.maxsize})"
