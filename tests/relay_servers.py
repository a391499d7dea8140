"""The relay under real uvicorn on loopback: in a thread (same process) or as a subprocess.

`relay_in_thread(app)` serves an app from `create_app` with the same uvicorn configuration as
`tl-loop serve` (`tl_loop.relay.uvicorn_config`, edge limits included). `RelayProcess` runs
`python -m tl_loop.relay --config FILE` as a process (restartable, killable with SIGKILL,
optionally under a small open-files limit); the integration tests and `bench/` use it.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def event_time(adapter: Any, body: bytes, headers: Mapping[str, str]) -> float | None:
    """When the platform says a webhook's event happened (its latest, for a batch), from the
    signed body; None when it does not say. A relay replaying a captured webhook is given a
    clock just after it (`Relay(clock=...)`, `accept(now=...)`), as when it was fresh: the
    72 h replay window would refuse it today."""
    times = [
        adapter.signed_at(event, body, headers) for event in adapter.parse_events(body, headers)
    ]
    known = [when for when in times if when is not None]
    return max(known) if known else None


@contextmanager
def relay_in_thread(app: Any) -> Iterator[str]:
    """Serve `app` under uvicorn in a thread; yields its base URL."""
    import uvicorn

    from tl_loop.relay import uvicorn_config

    port = free_port()
    server = uvicorn.Server(uvicorn_config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class RelayProcess:
    """`python -m tl_loop.relay --config FILE` on a free loopback port: the relay as `tl-loop
    serve` runs it (uvicorn, edge limits, worker threads). The one way tests and benchmarks
    start a relay process.

    `start()` waits until `ready` answers 200 (`/readyz`: queue and engine checked) and may be
    called again after `kill()` (same port, same queue file: a restart). `stop()` is SIGTERM
    (a graceful shutdown), `kill()` SIGKILL (a crash). Used as a context manager it is
    started (unless it runs already) and, whatever happens, stopped.

    Args:
        config: the TOML file.
        env: extra environment variables (secrets named by `*_env` options).
        open_files: run under this open-files limit (soft and hard), as a small host would.
        ready: the path polled until it answers 200 (`/healthz` for a relay that is up but
            may not be ready).
        startup_seconds: how long `start()` waits.
    """

    def __init__(
        self,
        config: Path,
        *,
        env: Mapping[str, str] = {},
        open_files: int | None = None,
        ready: str = "/readyz",
        startup_seconds: float = 60.0,
    ) -> None:
        self.config = config
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = config.parent / f"{config.stem}.log"
        self.env = {**os.environ, **env}
        self.open_files = open_files
        self.ready = ready
        self.startup_seconds = startup_seconds
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        running = self.process is not None and self.process.poll() is None
        return self if running else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _limit(self) -> None:
        if self.open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))

    def start(self) -> Self:
        """Start the process and wait until it is ready; raises AssertionError with its log
        when it exits or is not ready in time."""
        if self.process is not None and self.process.poll() is None:
            raise AssertionError(f"relay already running (pid {self.process.pid}); kill or stop it")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tl_loop.relay", "--config", str(self.config),
                 "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=self.env,
                preexec_fn=self._limit if self.open_files is not None else None,
            )  # fmt: skip
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"relay exited early:\n{self.log_text()}")
            try:
                if httpx.get(f"{self.url}{self.ready}", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise AssertionError(
            f"relay not ready after {self.startup_seconds:g} s:\n{self.log_text()}"
        )

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown code runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 20 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    close = stop

    def post(self, adapter: Any, body: bytes, *, name: str = "memory") -> httpx.Response:
        """POST a webhook signed by `adapter` (its `sign(body)`) to `/webhooks/<name>`."""
        return httpx.post(
            f"{self.url}/webhooks/{name}", content=body, headers=adapter.sign(body), timeout=5
        )

    def metric(self, line_prefix: str) -> float:
        """The sum of the `/metrics` samples whose line starts with `line_prefix`."""
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith(line_prefix)]  # fmt: skip
        return sum(values)

    def rss_mb(self) -> float:
        """The relay's resident memory now, in MiB."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def log_text(self) -> str:
        """Everything the process wrote (stdout and stderr), across restarts."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""
