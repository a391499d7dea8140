"""What sharing the breakers costs each engine call: in-process, Redis, PostgreSQL side by side.

Run: .venv/bin/python bench/bench_breaker_ledger.py [--calls 3000]

A chain of one FakeEngine (no latency, so the guard's own cost is all there is) translates one
segment `--calls` times with each ledger; the three runs are interleaved in rounds so a noisy
neighbour hurts them alike. Reported: µs per call, and the extra µs a shared ledger adds (its
round trips: a read at routing, a read at admission, a read after the call). The Redis and
PostgreSQL servers are private ones on loopback (the tests' helpers), so the figures are the
floor; add your network's round trip three times for a remote server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from servers import postgres_server, redis_server
from tl_loop.engines import EngineChain, GuardLedger
from tl_loop.stores import PostgresGuardLedger, RedisGuardLedger
from tl_loop.testing import FakeEngine

ROUNDS = 5


def per_call(chain: EngineChain, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        chain.translate_batch(["Hola"], source="es", target="en")
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_server())
        postgres_url = stack.enter_context(postgres_server())
        ledgers: dict[str, Callable[[], GuardLedger | None]] = {
            "in process": lambda: None,
            "Redis": lambda: RedisGuardLedger(redis_url, prefix=f"b:{uuid.uuid4().hex}:"),
            "PostgreSQL": lambda: PostgresGuardLedger(postgres_url),
        }
        chains = {name: EngineChain([FakeEngine()], ledger=new()) for name, new in ledgers.items()}
        for chain in chains.values():
            stack.callback(chain.close)
            per_call(chain, 100)  # warm up connections
        samples: dict[str, list[float]] = {name: [] for name in chains}
        for _ in range(ROUNDS):
            for name, chain in chains.items():
                samples[name].append(per_call(chain, args.calls))
    base = min(samples["in process"])
    print(f"{args.calls} calls × {ROUNDS} rounds, best round per ledger:")
    for name, values in samples.items():
        best = min(values)
        print(
            f"  {name:<11} {best:7.1f} µs/call (median {statistics.median(values):7.1f}); "
            f"+{best - base:6.1f} µs, ×{best / base:4.1f} the in-process guard"
        )


if __name__ == "__main__":
    main()
