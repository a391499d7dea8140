"""The machine translation cache in Redis: one cache for many workers.

What one worker paid an engine for, every other worker reuses. Each `SegmentResult` is a JSON
string under `{prefix}mt:{cache_key}` with a time to live (`SET ... PX`); lookups are one MGET.
The hit and miss counters are kept in this process and, with `shared_stats`, also added to the
hash `{prefix}stats` (HINCRBY), so `stats` shows the counts of every worker together.

A cache only saves work, so by default (`fail_open=True`) a Redis that cannot be reached makes
lookups misses and stores no-ops, logged at most once a minute, and translation goes on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from tl_loop._cache import CacheStats, CacheStore
from tl_loop._errors import ConfigurationError
from tl_loop.engines._base import SegmentResult
from tl_loop.stores._redis import (
    CHUNK,
    describe,
    glob_escape,
    redis_client,
    redis_errors,
    service_error,
)

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["RedisTranslationCache", "decode_result", "encode_result"]

log = logging.getLogger("tl_loop.cache")

T = TypeVar("T")

_WARN_EVERY = 60.0  # seconds between two warnings that Redis is down
_NONE_VALUE = "RedisTranslationCache cannot store None (get() returns None for a miss)"


def encode_result(result: SegmentResult) -> bytes:
    """Return `result` as compact UTF-8 JSON, as the cache stores it."""
    fields = {
        "text": result.text,
        "unknown_words": list(result.unknown_words),
        "score": result.score,
        "billed_characters": result.billed_characters,
        "formality_applied": result.formality_applied,
        "extra": result.extra,
    }
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _optional(value: Any, kind: type | tuple[type, ...]) -> Any:
    """Return `value` if it is None or of `kind`, where a bool is not a number; else raise."""
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        raise TypeError(f"expected {kind}, got {value!r}")
    return value


def decode_result(raw: bytes) -> SegmentResult | None:
    """Return the `SegmentResult` that `encode_result` wrote, or None if `raw` is not one.

    Fields a newer version added are ignored and missing optional fields take their defaults,
    so workers of two versions can share one cache during a rolling upgrade.
    """
    try:
        fields = json.loads(raw)
        if not isinstance(fields, dict) or not isinstance(fields.get("text"), str):
            return None
        words = fields.get("unknown_words") or []
        extra = fields.get("extra") or {}
        if not all(isinstance(word, str) for word in words):
            return None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in extra.items()):
            return None
        score = _optional(fields.get("score"), (int, float))
        return SegmentResult(
            text=fields["text"],
            unknown_words=tuple(words),
            score=None if score is None else float(score),
            billed_characters=_optional(fields.get("billed_characters"), int),
            formality_applied=_optional(fields.get("formality_applied"), bool),
            extra=dict(extra),
        )
    except (ValueError, TypeError, AttributeError):
        return None


class RedisTranslationCache(CacheStore[SegmentResult]):
    """A machine translation cache in Redis, shared by every worker with the same prefix.

    Pass it to `Loop(cache=...)` in each worker. Safe to share between threads too.

    Args:
        url: the server, e.g. `redis://localhost:6379/0`, `rediss://` for TLS, `unix:///...`.
        client: a ready `redis.Redis` instead of `url`; the caller closes it.
        prefix: namespace of every key this cache writes; `clear()` deletes only under it.
        ttl: seconds an entry lives (a week by default, like `TranslationCache`).
        shared_stats: also count hits and misses in Redis, so `stats` covers every worker;
            costs one more pipelined round trip per lookup.
        fail_open: when Redis cannot be reached or fails, treat lookups as misses and skip
            stores (logged) instead of raising; `clear()` always raises.
        timeout: seconds to wait to connect or for a reply, for a client made from `url`. A
            cache lookup should be cheaper than the engine call it saves: keep it short.

    Raises:
        ConfigurationError: neither or both of `url` and `client`, a bad URL, an empty prefix,
            or a `ttl` that is not positive.
        MissingDependencyError: the `redis` package is missing (`pip install "tl-loop[redis]"`).

    Example:
        ```python
        cache = RedisTranslationCache("redis://cache.internal:6379/0", ttl=24 * 3600)
        loop = Loop(engines=[ApertiumEngine()], cache=cache)
        ```
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | None = None,
        prefix: str = "tl_loop:cache:",
        ttl: float = 7 * 24 * 3600,
        shared_stats: bool = True,
        fail_open: bool = True,
        timeout: float = 0.5,
    ) -> None:
        if not prefix:
            raise ConfigurationError("the Redis cache prefix must not be empty, e.g. 'mt:'")
        if not ttl > 0:
            raise ConfigurationError(f"cache ttl must be a positive number of seconds, not {ttl}")
        self._client, self._owned = redis_client(url, client, timeout=timeout)
        import redis.exceptions

        self._redis_error: type[Exception] = redis.exceptions.RedisError
        self._prefix = prefix
        self._stats_key = f"{prefix}stats"
        self._ttl_ms = max(1, round(ttl * 1000))
        self._shared = shared_stats
        self._fail_open = fail_open
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._warned_at: float | None = None

    def __repr__(self) -> str:
        return f"RedisTranslationCache({describe(self._client)!r}, prefix={self._prefix!r})"

    def _name(self, key: str) -> str:
        return f"{self._prefix}mt:{key}"

    def _trouble(self, what: str, error: Exception, fallback: T) -> T:
        """Return `fallback` after a Redis failure when failing open, else raise it."""
        if not self._fail_open:
            raise service_error(error, self._client) from error
        now = time.monotonic()
        with self._lock:
            quiet = self._warned_at is not None and now - self._warned_at < _WARN_EVERY
            if not quiet:
                self._warned_at = now
        if not quiet:
            log.warning("Redis cache %s failed, translating without it: %s", what, error)
        return fallback

    def get(self, key: str) -> SegmentResult | None:
        """Return the result stored under `key`, or None if absent, expired or unreadable."""
        return self.get_many([key])[0]

    def get_many(self, keys: Sequence[str]) -> list[SegmentResult | None]:
        """Return the result (or None) for each key, in order: one MGET per 500 keys."""
        if not keys:
            return []
        names = [self._name(key) for key in keys]
        try:
            pipe = self._client.pipeline(transaction=False)
            for start in range(0, len(names), CHUNK):
                pipe.mget(names[start : start + CHUNK])
            replies = cast(list[list[bytes | None]], pipe.execute())
            results = [None if raw is None else decode_result(raw) for r in replies for raw in r]
        except self._redis_error as error:
            results = self._trouble("lookup", error, [None] * len(keys))
            self._count(0, len(keys), shared=False)  # Redis is down: count here only
            return results
        self._count(sum(result is not None for result in results), len(keys), shared=self._shared)
        return results

    def _count(self, hits: int, lookups: int, *, shared: bool) -> None:
        with self._lock:
            self._hits += hits
            self._misses += lookups - hits
        if not shared:
            return
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.hincrby(self._stats_key, "hits", hits)
            pipe.hincrby(self._stats_key, "misses", lookups - hits)
            pipe.execute()
        except self._redis_error as error:
            self._trouble("counting", error, None)

    def put(self, key: str, value: SegmentResult) -> None:
        """Store `value` under `key` for `ttl` seconds, replacing any entry.

        Raises:
            ConfigurationError: `value` is None.
        """
        self.put_many([(key, value)])

    def put_many(self, items: Iterable[tuple[str, SegmentResult]]) -> None:
        """Store each (key, result) pair with its time to live, in one pipelined round trip.

        Raises:
            ConfigurationError: a value is None; nothing is stored then.
        """
        pairs = list(items)
        if any(value is None for _, value in pairs):
            raise ConfigurationError(_NONE_VALUE)
        if not pairs:
            return
        try:
            pipe = self._client.pipeline(transaction=False)
            for key, value in pairs:
                pipe.set(self._name(key), encode_result(value), px=self._ttl_ms)
            pipe.execute()
        except self._redis_error as error:
            self._trouble("store", error, None)

    def clear(self) -> None:
        """Delete every entry under this cache's prefix (SCAN + UNLINK, never FLUSHDB).

        Other keys in the same Redis database, including other prefixes and a translation
        memory, are left alone. The hit and miss counters keep counting.

        Raises:
            ServiceUnavailableError: Redis cannot be reached, even with `fail_open`.
        """
        pattern = f"{glob_escape(self._prefix)}mt:*"
        batch: list[bytes] = []
        with redis_errors(self._client):
            for name in self._client.scan_iter(match=pattern, count=1000):
                batch.append(cast(bytes, name))
                if len(batch) == CHUNK:
                    self._client.unlink(*batch)
                    batch = []
            if batch:
                self._client.unlink(*batch)

    @property
    def local_stats(self) -> CacheStats:
        """This process's own hits and misses; size and maxsize are 0 (not looked up)."""
        with self._lock:
            return CacheStats(hits=self._hits, misses=self._misses, size=0, maxsize=0)

    @property
    def stats(self) -> CacheStats:
        """Hits and misses (of every worker with `shared_stats`), and the live entry count.

        `size` counts the keys under the prefix with SCAN, which walks the whole Redis
        database: cheap for a dedicated cache database, slower beside millions of other keys.
        `maxsize` is 0: Redis bounds the cache by memory (`maxmemory`), not by entry count.
        With `fail_open`, an unreachable Redis gives this process's counts and size 0.
        """
        local = self.local_stats
        try:
            hits, misses = local.hits, local.misses
            if self._shared:
                shared = cast(
                    list[bytes | None], self._client.hmget(self._stats_key, ["hits", "misses"])
                )
                hits, misses = (int(value or 0) for value in shared)
            size = sum(
                1
                for _ in self._client.scan_iter(
                    match=f"{glob_escape(self._prefix)}mt:*", count=1000
                )
            )
        except self._redis_error as error:
            return self._trouble("stats", error, local)
        return CacheStats(hits=hits, misses=misses, size=size, maxsize=0)

    def reset_stats(self) -> None:
        """Zero the counters, this process's and (with `shared_stats`) the shared ones."""
        with self._lock:
            self._hits = self._misses = 0
        if self._shared:
            with redis_errors(self._client):
                self._client.delete(self._stats_key)

    def close(self) -> None:
        """Close the connections, if this cache made its client from a URL."""
        if self._owned:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
