"""Private Redis and PostgreSQL servers for the tests, started from Debian's binaries.

Each server listens on a free loopback port, keeps its files in a temporary directory, is
started once per test session and stopped (and its directory removed) at the end. Tests that
need one skip with the reason when its binaries are missing: `apt-get install redis-server
postgresql` (scripts/bootstrap does). The servers also get SIGTERM/SIGQUIT if pytest itself
dies, so a killed run leaves no server behind.

PostgreSQL refuses to run as root, so under root the cluster belongs to the `postgres` system
user (which Debian's package creates), or `nobody`.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypedDict

import pytest

_PR_SET_PDEATHSIG = 1
_START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent(sig: signal.Signals) -> Callable[[], None]:
    """A preexec_fn: the kernel sends `sig` to the server when pytest's process ends."""

    def arm() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)

    return arm


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def _wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{_tail(log)}")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"server not ready after {_START_TIMEOUT:.0f}s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""


# Redis ----------------------------------------------------------------------------------------


def redis_binary() -> str | None:
    """Path of Debian's `redis-server`, or None."""
    return shutil.which("redis-server")


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server() -> Iterator[str]:
    """Run a private redis-server (no persistence) on loopback; yield its `redis://` URL."""
    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    workdir = Path(tempfile.mkdtemp(prefix="tl-loop-redis-"))
    port = _free_port()
    log = workdir / "redis.log"
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no",
               "--protected-mode", "yes", "--logfile", str(log)]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        preexec_fn=_die_with_parent(signal.SIGTERM),  # only prctl: safe after fork
    )
    try:
        _wait_until(lambda: _redis_answers(port), process, log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process, signal.SIGTERM)
        shutil.rmtree(workdir, ignore_errors=True)


# PostgreSQL -----------------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL `bin` directory with initdb and postgres, or None."""
    found = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if (path / "initdb").exists() and (path / "postgres").exists()
    ]
    if found:
        return max(found, key=lambda path: int(path.parent.name.split(".")[0]))
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("postgres") else None


class Owner(TypedDict, total=False):
    """Popen's options to run a program as another user."""

    user: int
    group: int
    extra_groups: list[int]


def _cluster_owner() -> pwd.struct_passwd | None:
    """The user to run PostgreSQL as: None for ourselves, a system user under root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    pytest.skip("running as root and there is no postgres or nobody user to run PostgreSQL as")


@contextmanager
def postgres_server() -> Iterator[str]:
    """Run a private PostgreSQL cluster on loopback; yield a `postgresql://` URL to it.

    The superuser is `tl_loop`, trusted without a password (loopback and the socket only);
    the database is `postgres`. Durability is off (fsync), as it is thrown away anyway.
    """
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    owner = _cluster_owner()
    workdir = Path(tempfile.mkdtemp(prefix="tl-loop-pg-"))
    as_owner = Owner()
    if owner is not None:
        os.chown(workdir, owner.pw_uid, owner.pw_gid)
        as_owner = Owner(user=owner.pw_uid, group=owner.pw_gid, extra_groups=[])
    data, log, port = workdir / "data", workdir / "postgres.log", _free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
    process: subprocess.Popen[bytes] | None = None
    try:
        initdb = subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "tl_loop", "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            check=False, capture_output=True, env=env, cwd=workdir, **as_owner,
        )  # fmt: skip
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.stderr.decode(errors='replace')}")
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(workdir),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                 "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, env=env,
                cwd=workdir, preexec_fn=_die_with_parent(signal.SIGQUIT),
                **as_owner,
            )  # fmt: skip
        ready = [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-t", "1"]
        _wait_until(lambda: subprocess.run(ready, check=False).returncode == 0, process, log)
        yield f"postgresql://tl_loop@127.0.0.1:{port}/postgres"
    finally:
        if process is not None:
            _stop(process, signal.SIGINT)  # "fast" shutdown: ends sessions, then exits
        shutil.rmtree(workdir, ignore_errors=True)


# Fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a redis-server private to this test session; skips without redis-server."""
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL cluster private to this test session; skips without one."""
    with postgres_server() as url:
        yield url
