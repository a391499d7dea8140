"""The relay under load: webhooks acknowledged per second, p99 acknowledgement latency, memory.

Run: .venv/bin/python bench/bench_relay.py [--seconds 60] [--rate 300]

The relay runs as in production (`python -m tl_loop.relay` under uvicorn, a subprocess on
loopback, 2 worker threads, the FakeEngine) and posts its notes to a real loopback helpdesk
(`MemoryHelpdeskServer`, in a third process). The load generator (httpx async client) posts
signed, unique webhooks:

(a) open loop at `--rate` webhooks/s for `--seconds`: errors (anything but 202), p50/p99/max
    acknowledgement latency, sent at a fixed schedule so a slow relay cannot slow the test
    down. Targets: ≥ 300/s with zero errors, p99 ≤ 50 ms.
(b) closed loop for 10 s with 32 requests in flight: the most webhooks/s the relay accepts.
RSS of the relay process is sampled every second; "bounded" means the last quarter of the run
grows by less than 10 % over the first quarter. The queue keeps filling if the workers translate
more slowly than webhooks arrive: that backlog lives in the SQLite file, not in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from relay_servers import RelayProcess
from tl_loop.testing import MemoryHelpdesk

SECRET = "bench-secret"
TEXTS = [
    "Hola, mi pedido no ha llegado todavía. ¿Pueden ayudarme?",
    "Buenos días, necesito cambiar la dirección de envío de mi pedido.",
    "No puedo iniciar sesión en mi cuenta desde ayer por la tarde.",
    "¿Cuándo recibiré el reembolso de mi devolución?",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(1.0):
            self.samples.append(rss_mb(self.pid))


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{url} did not come up")


def start_helpdesk() -> tuple[subprocess.Popen[bytes], str]:
    # Its own process: at full speed the workers post hundreds of notes a second, and that
    # must not steal the load generator's CPU.
    port = free_port()
    code = (
        "import time; from tl_loop.testing import MemoryHelpdeskServer; "
        f"MemoryHelpdeskServer(port={port}).start(); time.sleep(10**9)"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process)
    return process, url


def start_relay(directory: Path, helpdesk_url: str) -> RelayProcess:
    config = directory / "bench.toml"
    config.write_text(
        f"""
engines = ["fake"]
[detection]
languages = ["en", "es", "fr", "de"]
[relay]
queue_path = "queue.sqlite3"
workers = 2
[adapters.memory]
class = "tl_loop.testing._memory_helpdesk:MemoryHelpdesk"
base_url = {json.dumps(helpdesk_url)}
webhook_secret_env = "BENCH_SECRET"
""",
        encoding="utf-8",
    )
    return RelayProcess(config, env={"BENCH_SECRET": SECRET}).start()


class Load:
    def __init__(self, url: str, adapter: MemoryHelpdesk) -> None:
        self.url = f"{url}/webhooks/memory"
        self.adapter = adapter
        self.count = 0
        self.timeline: list[tuple[float, float]] = []

    def next_request(self) -> tuple[bytes, dict[str, str]]:
        self.count += 1
        body = MemoryHelpdesk.event_body(
            event_id=f"bench-{self.count}",
            conversation_id=f"conv-{self.count % 500}",
            text=TEXTS[self.count % len(TEXTS)],
        )
        return body, self.adapter.sign(body)

    async def one(
        self, client: httpx.AsyncClient, latencies: list[float], errors: list[str]
    ) -> None:
        body, headers = self.next_request()
        started = time.perf_counter()
        try:
            response = await client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            errors.append(type(error).__name__)
            return
        latencies.append(time.perf_counter() - started)
        self.timeline.append((started, latencies[-1]))
        if response.status_code != 202:
            errors.append(str(response.status_code))

    async def open_loop(self, rate: float, seconds: float) -> tuple[list[float], list[str], float]:
        latencies: list[float] = []
        errors: list[str] = []
        senders = 64  # at most this many in flight: a slow relay lowers the achieved rate
        limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
        total = int(rate * seconds)
        ticket = iter(range(total))
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            start = time.perf_counter()

            async def sender() -> None:
                for i in ticket:
                    delay = start + i / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    await self.one(client, latencies, errors)

            await asyncio.gather(*(sender() for _ in range(senders)))
            elapsed = time.perf_counter() - start
        return latencies, errors, total / elapsed

    async def closed_loop(self, concurrency: int, seconds: float) -> tuple[int, list[str], float]:
        latencies: list[float] = []
        errors: list[str] = []
        deadline = time.perf_counter() + seconds
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:

            async def worker() -> None:
                while time.perf_counter() < deadline:
                    await self.one(client, latencies, errors)

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - start
        return len(latencies), errors, len(latencies) / elapsed


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def queue_counts(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    counts = {}
    for line in text.splitlines():
        if line.startswith("tl_loop_queue_jobs{"):
            status = line.split('"')[1]
            counts[status] = float(line.rsplit(" ", 1)[1])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=300.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        helpdesk, helpdesk_url = start_helpdesk()
        adapter = MemoryHelpdesk(base_url=helpdesk_url, webhook_secret=SECRET)
        relay = start_relay(Path(tmp), helpdesk_url)
        assert relay.process is not None
        sampler = Sampler(relay.process.pid)
        url = relay.url
        try:
            load = Load(url, adapter)
            asyncio.run(load.open_loop(50, 2))  # warm up connections and code paths
            sampler.start()
            print(f"open loop: {args.rate:.0f}/s for {args.seconds:.0f} s ...", flush=True)
            latencies, errors, achieved = asyncio.run(load.open_loop(args.rate, args.seconds))
            timeline = list(load.timeline)
            print("closed loop: 32 in flight for 10 s ...", flush=True)
            burst, burst_errors, max_rate = asyncio.run(load.closed_loop(32, 10))
            sampler.done.set()
            counts = queue_counts(url)
        finally:
            relay.stop()
            helpdesk.terminate()
            try:
                helpdesk.wait(timeout=30)
            except subprocess.TimeoutExpired:
                helpdesk.kill()

    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    samples = sampler.samples or [0.0]
    quarter = max(1, len(samples) // 4)
    first, last = statistics.mean(samples[:quarter]), statistics.mean(samples[-quarter:])
    print(f"(a) open loop, {args.rate:.0f} webhooks/s for {args.seconds:.0f} s")
    print(
        f"    sent {len(latencies) + len(errors)}, achieved {achieved:.0f}/s, errors {len(errors)}"
    )
    print(f"    ack latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    origin = timeline[0][0] if timeline else 0.0
    windows: dict[int, list[float]] = {}
    for when, latency in timeline:
        windows.setdefault(int((when - origin) // 10), []).append(latency)
    p99s = [f"{percentile(v, 99) * 1000:.0f}" for _, v in sorted(windows.items()) if len(v) > 1]
    print(f"    p99 per 10 s window (ms): {' '.join(p99s)}")
    print(f"(b) closed loop, 32 in flight for 10 s: {max_rate:.0f} webhooks/s, "
          f"errors {len(burst_errors)} ({burst} accepted)")  # fmt: skip
    print(f"    relay RSS MB: first quarter {first:.0f}, last quarter {last:.0f}, "
          f"max {max(samples):.0f} ({len(samples)} samples)")  # fmt: skip
    print(f"    queue at the end: {counts} (translated by 2 worker threads meanwhile)")
    print("ratios to target (≥ 1.0 meets it):")
    print(f"    throughput {achieved / 300:.2f} (open loop at {args.rate:.0f}/s, zero errors: "
          f"{'yes' if not errors else 'NO'}); max {max_rate / 300:.2f}")  # fmt: skip
    print(f"    p99 latency {50 / p99:.2f} (50 ms / {p99:.1f} ms)")
    print(f"    memory bounded: last/first quarter {last / first:.2f} (≤ 1.10 meets it)")


if __name__ == "__main__":
    main()
