"""The relay under real uvicorn on loopback: in a thread (same process) or as a subprocess.

`relay_in_thread(app)` serves an app from `create_app` with the same uvicorn configuration as
`tl-loop serve` (`tl_loop.relay.uvicorn_config`, edge limits included). `RelaySubprocess` runs
`python -m tl_loop.relay --config FILE`, optionally under a small open-files limit, and reads its
resident memory from /proc.
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
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


class RelaySubprocess:
    """`python -m tl_loop.relay` in a subprocess; stopped in `close()`.

    Args:
        config: the TOML file.
        env: extra environment variables.
        open_files: run under this open-files limit (soft and hard), as a small host would.
    """

    def __init__(
        self, config: Path, *, env: Mapping[str, str] = {}, open_files: int | None = None
    ) -> None:
        self.config = config
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = config.parent / "relay.log"
        self.env = {**os.environ, **env}
        self.open_files = open_files
        self.process: subprocess.Popen[bytes] | None = None

    def _limit(self) -> None:
        if self.open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))

    def start(self) -> RelaySubprocess:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tl_loop.relay", "--config", str(self.config),
                 "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=self.env, preexec_fn=self._limit,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"relay exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"relay not up after 60 s:\n{self.log.read_text()}")

    def rss_mb(self) -> float:
        """The relay's resident memory now, in MiB."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def close(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
