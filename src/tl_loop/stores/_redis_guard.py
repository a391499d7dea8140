"""The breaker ledger in Redis: every relay replica sees one record per engine.

Each engine's `GuardRecord` is a hash `{prefix}{engine}` with its version `v` and the record as
JSON `r`. A write is a compare-and-set in one Lua script (atomic on the server), so two
replicas counting failures at once never lose one. Records expire a day after their last
write: an engine nobody calls any more leaves nothing behind.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from tl_loop.engines._guard_ledger import GuardRecord
from tl_loop.stores._redis import describe, redis_client, redis_errors

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["RedisGuardLedger"]

_DAY = 24 * 3600
# KEYS[1] the record; ARGV: the version read, the record's JSON, the time to live.
_COMPARE_AND_SET = """
if (redis.call('HGET', KEYS[1], 'v') or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', tostring(tonumber(ARGV[1]) + 1), 'r', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""


class RedisGuardLedger:
    """Engine breakers and rate-limit pauses shared by every replica through one Redis.

    Give it to `EngineChain(ledger=...)`, or set `[breaker] backend = "redis"` in the config.
    Replicas compare wall-clock times, so their clocks must agree (NTP).

    Args:
        url: a `redis://`, `rediss://` or `unix://` URL (or give `client`).
        client: a ready `redis.Redis`, which the caller closes.
        prefix: the keys' prefix; deployments sharing one Redis use different prefixes.
        timeout: seconds to wait for Redis. Short: every engine call asks the ledger, and
            when Redis is slow or down each engine keeps its own record for a while instead.

    Raises:
        ConfigurationError: neither or both of `url` and `client`, or a bad URL.
        MissingDependencyError: the `redis` package is missing (`pip install "tl-loop[redis]"`).

    Example:
        ```python
        from tl_loop.engines import EngineChain
        from tl_loop.stores import RedisGuardLedger
        from tl_loop.testing import FakeEngine

        ledger = RedisGuardLedger("redis://localhost:6379/0")
        chain = EngineChain([FakeEngine()], ledger=ledger)
        ```
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | None = None,
        prefix: str = "tl_loop:breaker:",
        timeout: float = 1.0,
    ) -> None:
        self._redis, self._owned = redis_client(url, client, timeout=timeout)
        self._prefix = prefix
        self._swap = self._redis.register_script(_COMPARE_AND_SET)

    def __repr__(self) -> str:
        return f"RedisGuardLedger({describe(self._redis)!r}, prefix={self._prefix!r})"

    def now(self) -> float:
        """Wall-clock seconds (replicas compare them: keep clocks in sync)."""
        return time.time()

    def read(self, engine: str) -> tuple[GuardRecord, int]:
        """The engine's record and version; a fresh record at version 0 when there is none."""
        with redis_errors(self._redis):
            version, raw = self._redis.hmget(self._prefix + engine, ["v", "r"])
        if version is None:
            return GuardRecord(), 0
        number = int(version)
        try:
            return GuardRecord.from_json(json.loads(raw or b"")), number
        except (ValueError, TypeError, AttributeError):
            # A record this version cannot read: start from a fresh one, at its version, so
            # the next write replaces it.
            return GuardRecord(), number

    def write(self, engine: str, record: GuardRecord, *, version: int) -> bool:
        """Compare-and-set on the server."""
        data = json.dumps(record.as_json(), separators=(",", ":"))
        with redis_errors(self._redis):
            return bool(self._swap(keys=[self._prefix + engine], args=[version, data, _DAY]))

    def close(self) -> None:
        """Close the connection when this ledger made it."""
        if self._owned:
            self._redis.close()
