"""The Redis translation memory, and the connection helpers the Redis cache shares.

Many workers (processes or machines) share one memory through one Redis server. Each entry is a
JSON string under `{prefix}e:{memory_key}` with no time to live: a memory is durable, so Redis
must persist it (AOF or RDB), and an eviction policy that spares keys without a TTL
(`volatile-lru`) keeps it safe when the same server also holds the expiring machine cache.
Two sets index the entries so `entries()` and `len()` never scan the keyspace:
`{prefix}keys` holds every key, `{prefix}pair:{source}:{target}` the keys of one language pair,
and `{prefix}pairs` the pairs present.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from tl_loop._errors import (
    AuthenticationError,
    ConfigurationError,
    MissingDependencyError,
    ServiceError,
    ServiceResponseError,
    ServiceUnavailableError,
)
from tl_loop.stores._memory import MemoryEntry, MemoryOrigin, TranslationMemory, language_filter

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["RedisTranslationMemory"]

log = logging.getLogger("tl_loop.stores")

REDIS_INSTALL = 'pip install "tl-loop[redis]"'
# One MGET or pipeline of this many keys: large enough to amortise the round trip, small
# enough that one reply never blocks the server for long.
CHUNK = 500
_GLOB_SPECIAL = frozenset("*?[]\\")


def redis_client(url: str | None, client: Redis | None, *, timeout: float) -> tuple[Redis, bool]:
    """Return the client to use and whether this store owns (and so closes) it.

    Args:
        url: a `redis://`, `rediss://` or `unix://` URL, when the store makes its own client.
        client: a ready `redis.Redis`, shared with the caller, who closes it.
        timeout: seconds to wait for a connection or a reply, for a client made from `url`.

    Raises:
        ConfigurationError: neither or both of `url` and `client` are given, or the URL is bad.
        MissingDependencyError: the `redis` package is not installed.
    """
    if (url is None) == (client is None):
        raise ConfigurationError("give a Redis url= (e.g. 'redis://localhost:6379/0') or client=")
    if client is not None:
        return client, False
    try:
        import redis
    except ImportError:
        raise MissingDependencyError(
            "the Redis stores need the redis package", install=REDIS_INSTALL
        ) from None
    try:
        made = redis.Redis.from_url(
            cast(str, url), socket_timeout=timeout, socket_connect_timeout=timeout
        )
    except ValueError as error:
        raise ConfigurationError(
            f"bad Redis URL: {error}; use redis://[:password@]host:port/db, rediss:// for TLS "
            "or unix:///path/to/redis.sock"
        ) from None
    return made, True


def describe(client: Redis) -> str:
    """Where a client connects, without its password: `host:port/db` or the socket path."""
    options = client.connection_pool.connection_kwargs
    where = options.get("path") or f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"
    return f"{where}/{options.get('db', 0)}"


def glob_escape(text: str) -> str:
    """Escape `text` for a Redis MATCH pattern, so a prefix like `a*` matches only itself."""
    return "".join(f"\\{char}" if char in _GLOB_SPECIAL else char for char in text)


def service_error(error: Exception, client: Redis) -> ServiceError:
    """Translate a redis-py error into tl_loop's error tree, naming the server."""
    import redis.exceptions as errors

    where = describe(client)
    if isinstance(error, errors.AuthenticationError | errors.NoPermissionError):
        return AuthenticationError(
            f"{where} refused the credentials ({error}); put the password in the URL "
            "(redis://:password@host:port/db) or the ACL user (redis://user:password@...)",
            service="redis",
        )
    if isinstance(error, errors.ConnectionError | errors.TimeoutError):
        return ServiceUnavailableError(
            f"cannot reach {where} ({error}); is redis-server running there?", service="redis"
        )
    return ServiceResponseError(f"{where} answered with an error: {error}", service="redis")


@contextmanager
def redis_errors(client: Redis) -> Iterator[None]:
    """Raise redis-py's errors inside the block as `ServiceError`s."""
    import redis.exceptions as errors

    try:
        yield
    except errors.RedisError as error:
        raise service_error(error, client) from error


def _encode(entry: MemoryEntry) -> bytes:
    fields = {
        "source_text": entry.source_text,
        "target_text": entry.target_text,
        "source": entry.source,
        "target": entry.target,
        "glossary_version": entry.glossary_version,
        "origin": entry.origin,
        "author": entry.author,
        "created_at": entry.created_at.isoformat(),
    }
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _decode(raw: bytes, name: str) -> MemoryEntry | None:
    try:
        fields: dict[str, Any] = json.loads(raw)
        return MemoryEntry(
            source_text=fields["source_text"],
            target_text=fields["target_text"],
            source=fields["source"],
            target=fields["target"],
            glossary_version=fields["glossary_version"],
            origin=cast(MemoryOrigin, fields["origin"]),
            author=fields["author"],
            created_at=datetime.fromisoformat(fields["created_at"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        # Another program wrote under our prefix; one bad entry must not stop a translation.
        log.warning("ignoring unreadable translation memory entry %s: %s", name, error)
        return None


class RedisTranslationMemory(TranslationMemory):
    """A translation memory in Redis, shared by every worker that uses the same prefix.

    Writes are one MULTI/EXEC transaction per `put_many`, so an entry and its index entries
    appear together; lookups are MGETs of up to 500 keys per round trip. Safe to share between
    threads (redis-py's connection pool).

    Args:
        url: the server, e.g. `redis://localhost:6379/0`, `rediss://` for TLS, `unix:///...`.
        client: a ready `redis.Redis` instead of `url`; the caller closes it.
        prefix: namespace of every key this memory writes; one prefix per memory.
        timeout: seconds to wait to connect or for a reply, for a client made from `url`.

    Raises:
        ConfigurationError: neither or both of `url` and `client`, a bad URL, or an empty prefix.
        MissingDependencyError: the `redis` package is missing (`pip install "tl-loop[redis]"`).

    Every method raises `ServiceUnavailableError` when Redis cannot be reached and
    `AuthenticationError` when it refuses the credentials.

    Example:
        ```python
        memory = RedisTranslationMemory("redis://localhost:6379/0")
        memory.put(MemoryEntry(source_text="Hola ⟦0⟧", target_text="Hi ⟦0⟧",
                               source="es", target="en", glossary_version=None))
        ```
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | None = None,
        prefix: str = "tl_loop:memory:",
        timeout: float = 5.0,
    ) -> None:
        if not prefix:
            raise ConfigurationError("the Redis memory prefix must not be empty, e.g. 'tm:'")
        self._client, self._owned = redis_client(url, client, timeout=timeout)
        self._prefix = prefix
        self._all = f"{prefix}keys"
        self._pairs = f"{prefix}pairs"

    def __repr__(self) -> str:
        return f"RedisTranslationMemory({describe(self._client)!r}, prefix={self._prefix!r})"

    def _entry(self, key: str) -> str:
        return f"{self._prefix}e:{key}"

    def _pair(self, source: str, target: str) -> str:
        return f"{self._prefix}pair:{source}:{target}"

    def _fetch(self, keys: Sequence[str]) -> list[MemoryEntry | None]:
        names = [self._entry(key) for key in keys]
        with redis_errors(self._client):
            pipe = self._client.pipeline(transaction=False)
            for start in range(0, len(names), CHUNK):
                pipe.mget(names[start : start + CHUNK])
            replies = cast(list[list[bytes | None]], pipe.execute())
        raws = [raw for reply in replies for raw in reply]
        return [
            None if raw is None else _decode(raw, name)
            for raw, name in zip(raws, names, strict=True)
        ]

    def get_many(self, keys: Sequence[str]) -> list[MemoryEntry | None]:
        """Return the entry for each key, None where there is none, in one round trip."""
        unique = list(dict.fromkeys(keys))
        found = dict(zip(unique, self._fetch(unique), strict=True)) if unique else {}
        return [found[key] for key in keys]

    def put_many(self, entries: Iterable[MemoryEntry]) -> None:
        """Store every entry in one transaction; the later of two with the same key stays."""
        latest = {entry.key: entry for entry in entries}  # dict keeps the last value per key
        if not latest:
            return
        with redis_errors(self._client):
            pipe = self._client.pipeline(transaction=True)
            for key, entry in latest.items():
                pipe.set(self._entry(key), _encode(entry))
                pipe.sadd(self._all, key)
                pipe.sadd(self._pairs, f"{entry.source}:{entry.target}")
                pipe.sadd(self._pair(entry.source, entry.target), key)
            pipe.execute()

    def entries(
        self, *, source: str | None = None, target: str | None = None
    ) -> Iterator[MemoryEntry]:
        """Yield the entries pair by pair, 500 at a time, optionally filtered by language.

        Entries put while iterating may or may not be seen; none is yielded twice.
        """
        source, target = language_filter(source, target)
        with redis_errors(self._client):
            members = cast(set[bytes], self._client.smembers(self._pairs))
        pairs = sorted(member.decode("utf-8").split(":", 1) for member in members)
        for pair_source, pair_target in pairs:
            if source not in (None, pair_source) or target not in (None, pair_target):
                continue
            yield from self._pair_entries(self._pair(pair_source, pair_target))

    def _pair_entries(self, index: str) -> Iterator[MemoryEntry]:
        # A batch of keys at a time, so a large memory is never held in this process at once.
        # SSCAN may return a member twice while Redis rehashes the set: `seen` drops repeats.
        batch: list[str] = []
        seen: set[bytes] = set()
        with redis_errors(self._client):
            for raw in self._client.sscan_iter(index, count=CHUNK):
                if raw in seen:
                    continue
                seen.add(raw)
                batch.append(cast(bytes, raw).decode("ascii"))
                if len(batch) == CHUNK:
                    yield from self._present(batch)
                    batch = []
        yield from self._present(batch)

    def _present(self, keys: list[str]) -> Iterator[MemoryEntry]:
        return (entry for entry in self._fetch(keys) if entry is not None) if keys else iter(())

    def __len__(self) -> int:
        """Return the number of entries stored (SCARD of the key index)."""
        with redis_errors(self._client):
            return int(self._client.scard(self._all))

    def close(self) -> None:
        """Close the connections, if this memory made its client from a URL."""
        if self._owned:
            self._client.close()
