"""Relays side by side: one relay on its SQLite file, one and three relays on one PostgreSQL.

Run: .venv/bin/python bench/bench_relay_replicas.py [--seconds 10] [--postgres URL]

Each relay runs as in production (`python -m tl_loop.relay` under uvicorn, a subprocess on
loopback, 2 worker threads, the FakeEngine) and posts notes to a loopback helpdesk in its own
process. The load generator keeps 32 signed, unique webhooks in flight for `--seconds`, spread
round-robin over the relays, and reports webhooks acknowledged per second and the p99
acknowledgement latency, then how long the workers took to post every note (the queue drained).

Without `--postgres` a private PostgreSQL cluster is started from Debian's binaries (the
tests' helper: fsync off, so its commits cost less than the SQLite relay's `synchronous=FULL`).
On a 2-core machine the load generator, the helpdesk, PostgreSQL and the relays share the
CPU: three replicas there measure contention, not scale-out; the figures say what one box does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from bench_relay import SECRET, TEXTS, percentile, start_helpdesk
from relay_servers import RelayProcess
from servers import postgres_server
from tl_loop.testing import MemoryHelpdesk

CONCURRENCY = 32
_OPEN = ('tl_loop_queue_jobs{status="queued"}', 'tl_loop_queue_jobs{status="running"}')


def start_relay(directory: Path, helpdesk_url: str, queue: str) -> RelayProcess:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "bench.toml"
    config.write_text(
        f"""
engines = ["fake"]
[detection]
languages = ["en", "es", "fr", "de"]
[relay]
{queue}
workers = 2
audit = false
[adapters.memory]
class = "tl_loop.testing._memory_helpdesk:MemoryHelpdesk"
base_url = "{helpdesk_url}"
webhook_secret_env = "BENCH_SECRET"
""",
        encoding="utf-8",
    )
    return RelayProcess(config, env={"BENCH_SECRET": SECRET}).start()


async def burst(
    urls: list[str], adapter: MemoryHelpdesk, seconds: float
) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    counter = itertools.count()
    run = uuid.uuid4().hex[:6]
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def sender() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                n = next(counter)
                body = MemoryHelpdesk.event_body(
                    event_id=f"{run}-{n}", conversation_id=f"conv-{n % 500}",
                    text=TEXTS[n % len(TEXTS)],
                )  # fmt: skip
                started = time.perf_counter()
                try:
                    response = await client.post(
                        f"{urls[n % len(urls)]}/webhooks/memory", content=body,
                        headers=adapter.sign(body),
                    )  # fmt: skip
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)
                if response.status_code != 202:
                    errors += 1

        await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
    return len(latencies), latencies, errors


def open_jobs(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(
            ('tl_loop_queue_jobs{status="queued"}', 'tl_loop_queue_jobs{status="running"}')
        )
    )


@contextlib.contextmanager
def relays(tmp: Path, helpdesk_url: str, queue: str, count: int) -> Iterator[list[str]]:
    with contextlib.ExitStack() as stack:
        started = [
            stack.enter_context(start_relay(tmp / f"relay{number}", helpdesk_url, queue))
            for number in range(count)
        ]
        yield [relay.url for relay in started]


def measure(
    name: str, urls: list[str], adapter: MemoryHelpdesk, seconds: float
) -> dict[str, float]:
    asyncio.run(burst(urls, adapter, 1.0))  # warm up
    accepted, latencies, errors = asyncio.run(burst(urls, adapter, seconds))
    started = time.perf_counter()
    while open_jobs(urls[0]) > 0 and time.perf_counter() - started < 300:
        time.sleep(0.5)
    drained = time.perf_counter() - started
    result = {
        "rate": accepted / seconds,
        "p99": percentile(latencies, 99) * 1000,
        "p50": statistics.median(latencies) * 1000,
        "errors": float(errors),
        "drain": drained,
        "jobs_per_s": accepted / (seconds + drained),
    }
    print(f"{name}: {result['rate']:.0f} webhooks/s, ack p50 {result['p50']:.1f} ms, "
          f"p99 {result['p99']:.1f} ms, errors {errors}; queue drained {drained:.1f} s after "
          f"the burst ({result['jobs_per_s']:.0f} jobs/s overall)", flush=True)  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--postgres", help="a PostgreSQL URL (default: start a private one)")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        postgres = args.postgres or stack.enter_context(postgres_server())
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        helpdesk, helpdesk_url = start_helpdesk()
        stack.callback(helpdesk.kill)
        adapter = MemoryHelpdesk(base_url=helpdesk_url, webhook_secret=SECRET)
        results = {}
        with relays(tmp / "sqlite", helpdesk_url, 'queue_path = "queue.sqlite3"', 1) as urls:
            results["sqlite, 1 relay"] = measure("sqlite, 1 relay", urls, adapter, args.seconds)
        for count in (1, 3):
            prefix = f"bench_{uuid.uuid4().hex[:8]}"
            queue = (
                f'queue_url = "{postgres}"\nqueue_table_prefix = "{prefix}"\n'
                'review_path = "review.sqlite3"'
            )
            name = f"postgresql, {count} relay{'s' if count > 1 else ''}"
            with relays(tmp / prefix, helpdesk_url, queue, count) as urls:
                results[name] = measure(name, urls, adapter, args.seconds)
    base = results["sqlite, 1 relay"]
    print("\nside by side (ratio to the SQLite relay):")
    for name, result in results.items():
        rate, p99, jobs = result["rate"], result["p99"], result["jobs_per_s"]
        print(
            f"  {name:22} {rate:6.0f}/s ({rate / base['rate']:.2f}×)  "
            f"ack p99 {p99:6.1f} ms ({p99 / base['p99']:.2f}×)  "
            f"jobs {jobs:5.0f}/s ({jobs / base['jobs_per_s']:.2f}×)"
        )


if __name__ == "__main__":
    main()
