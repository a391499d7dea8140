"""The relay's edge under abuse: memory during huge chunked uploads, /healthz under idle sockets.

Run: .venv/bin/python bench/bench_edge.py [--uploads 4] [--mb 200] [--idle 2000]

The relay runs as in production (`python -m tl_loop.relay` under uvicorn, a subprocess on
loopback, the FakeEngine), under an open-files limit of 1,024 as a small host has. Printed side
by side:

(a) RSS idle, then the peak while `--uploads` clients each send a `--mb` MB chunked body (no
    Content-Length) at once; the relay must stop reading each at `max_body_bytes` (1 MB).
    Target: peak within 50 MB of idle. (Before the edge: 100 MB → 317 MB, 4 × 200 MB → 1.1 GB.)
(b) /healthz latency with no load, then with `--idle` connections that sent half a header
    and stopped (slowloris). Target: answered, no "Too many open files" in the log. (Before:
    1,100 such connections stopped /healthz and wrote 68 MB of log in 10 s.)
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HEAD = b"POST /webhooks/memory HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
CONFIG = """
engines = ["fake"]
[detection]
languages = ["en", "es"]
[relay]
queue_path = "queue.sqlite3"
workers = 1
[adapters.memory]
class = "tl_loop.testing._memory_helpdesk:MemoryHelpdesk"
base_url = "http://127.0.0.1:9"
webhook_secret = "bench-secret"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def upload(port: int, megabytes: int) -> None:
    """A chunked body of `megabytes` MB, sent until the relay stops reading."""
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
            for _ in range(megabytes * 16):
                sock.sendall(frame)
            sock.sendall(b"0\r\n\r\n")
            sock.recv(4096)
        except OSError:
            pass  # cut off at the limit: what we want


def healthz_ms(url: str) -> float | None:
    """Milliseconds /healthz took to answer 200, or None if it did not within 10 s."""
    started = time.perf_counter()
    try:
        if httpx.get(f"{url}/healthz", timeout=10).status_code != 200:
            return None
    except httpx.TransportError:
        return None
    return (time.perf_counter() - started) * 1000


def shown(ms: float | None) -> str:
    return "no answer in 10 s" if ms is None else f"{ms:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=4)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--idle", type=int, default=2000)
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (args.idle + 1000, args.idle + 1000))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "tl-loop.toml").write_text(CONFIG)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (Path(tmp) / "relay.log").open("wb")

        def small_host() -> None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

        relay = subprocess.Popen(
            [sys.executable, "-m", "tl_loop.relay", "--config", f"{tmp}/tl-loop.toml",
             "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=small_host, env=os.environ,
        )  # fmt: skip
        try:
            while True:
                try:
                    httpx.get(f"{url}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            for _ in range(3):
                upload(port, 2)
            idle = rss_mb(relay.pid)
            peak, done = idle, threading.Event()

            def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, rss_mb(relay.pid))
                    time.sleep(0.01)

            sampler = threading.Thread(target=sample)
            sampler.start()
            started = time.perf_counter()
            uploads = [
                threading.Thread(target=upload, args=(port, args.mb)) for _ in range(args.uploads)
            ]
            for thread in uploads:
                thread.start()
            for thread in uploads:
                thread.join()
            took = time.perf_counter() - started
            done.set()
            sampler.join()
            quiet = healthz_ms(url)
            sockets = []
            for _ in range(args.idle):
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                sock.sendall(HEAD)
                sockets.append(sock)
            loaded = healthz_ms(url)
            for sock in sockets:
                sock.close()
        finally:
            relay.terminate()
            relay.wait(timeout=30)
            log.close()
        text = (Path(tmp) / "relay.log").read_text(errors="replace")
    print(f"(a) {args.uploads} × {args.mb} MB chunked uploads at once, done in {took:.1f} s")
    print(f"    RSS idle {idle:.1f} MB | peak {peak:.1f} MB | growth {peak - idle:+.1f} MB "
          f"(target < 50)")  # fmt: skip
    print(f"(b) /healthz quiet {shown(quiet)} | under {args.idle} idle connections "
          f"{shown(loaded)}")  # fmt: skip
    print(f"    'Too many open files' in the log: {text.count('Too many open files')}; "
          f"log size {len(text)} bytes")  # fmt: skip


if __name__ == "__main__":
    main()
