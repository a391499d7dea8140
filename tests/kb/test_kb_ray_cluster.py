"""`tl-loop kb translate --executor ray` on a two-node cluster: `ray start --head` and a second
node, each its own process, and the command in a third.

The nodes share nothing but Ray: the second node runs in another folder, the glossary path is
relative to the coordinator's folder, and tl_loop's code reaches the workers through the job's
`runtime_env`. A worker node killed mid-job loses nothing: its actor starts again on the head,
and the output is the same as a run in one process.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kb_support import write_samples

from tl_loop import TlLoopConfig
from tl_loop.kb import translate_folder

_RAY = Path(sys.executable).parent / "ray"

pytestmark = [
    pytest.mark.ray,
    pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed"),
    pytest.mark.skipif(not _RAY.exists(), reason="the ray command is not installed"),
]

# Notice a dead node within seconds rather than the default half minute; a loopback-only
# test cluster needs no token (a real one keeps Ray's token authentication).
_ENV = {
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_failure_threshold": "3",
    "RAY_AUTH_MODE": "disabled",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # --block keeps the node in the foreground: its process group is ours to kill.
    return subprocess.Popen(
        [str(_RAY), "start", "--block", "--disable-usage-stats", *args],
        cwd=cwd, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _nodes(address: str, env: dict[str, str]) -> int:
    done = subprocess.run(
        [str(_RAY), "status", f"--address={address}"], env=env, capture_output=True, text=True,
        check=False, timeout=60,
    )  # fmt: skip
    active = done.stdout.partition("Active:")[2].partition("Pending:")[0]
    return active.count("node_")


class Cluster:
    def __init__(self, address: str, head: subprocess.Popen[bytes], node: subprocess.Popen[bytes]):
        self.address, self.head, self.node = address, head, node


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    port = _free_port()
    address = f"127.0.0.1:{port}"
    temp = Path("/tmp") / f"tlray-{uuid.uuid4().hex[:8]}"  # short: Ray's socket paths
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"} | _ENV
    elsewhere = tmp_path / "worker-node"
    elsewhere.mkdir()
    head = _start(
        ["--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
         "--include-dashboard=false", f"--temp-dir={temp}"], tmp_path, env,
    )  # fmt: skip
    node = None
    try:
        deadline = time.monotonic() + 120
        while _nodes(address, env) < 1:
            assert time.monotonic() < deadline, "the Ray head did not start"
            time.sleep(1)
        node = _start(
            [f"--address={address}", "--node-ip-address=127.0.0.1", "--num-cpus=1"], elsewhere, env
        )
        while _nodes(address, env) < 2:
            assert time.monotonic() < deadline, "the second Ray node did not join"
            time.sleep(1)
        yield Cluster(address, head, node)
    finally:
        for process in (node, head):
            if process is not None:
                _kill(process)
        _kill_leftovers(temp)
        shutil.rmtree(temp, ignore_errors=True)


def _kill_leftovers(temp: Path) -> None:
    """Ray workers start their own sessions: end those of this cluster (its temp dir)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if str(temp).encode() in command:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def _outputs(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): p.read_text()
        for p in sorted((out / "es").rglob("*"))
        if p.is_file()
    }


_CONFIG = """\
engines = ["fake"]

[engine.fake]
latency = 2.0  # seconds per engine call: a remote engine, and time to kill a node mid-job

[review]
max_untranslated_share = 1.0
wrong_language_confidence = 1.01
"""


def test_kb_translate_on_two_nodes_carries_its_glossary_and_survives_a_killed_node(
    tmp_path: Path, cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    coordinator = tmp_path / "coordinator"
    (coordinator / "src").mkdir(parents=True)
    write_samples(coordinator / "src", count=60)
    (coordinator / "terms.csv").write_text("en,es\nreceipt,RECIBO-X\n", encoding="utf-8")
    (coordinator / "tl-loop.toml").write_text(_CONFIG, encoding="utf-8")
    monkeypatch.chdir(coordinator)  # the glossary path is relative to here only
    config = TlLoopConfig.load("tl-loop.toml").model_copy(update={"glossary": Path("terms.csv")})
    alone = translate_folder("src", out_dir="alone", targets=["es"], config=config, workers=0)
    assert alone.failed == 0
    assert alone.engine_segments > 64  # more than two batches: the job is in flight when killed

    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"} | _ENV
    job = subprocess.Popen(
        [sys.executable, "-m", "tl_loop.cli", "--config", "tl-loop.toml", "kb", "translate",
         "src", "--to", "es", "--out", "cluster", "--glossary", "terms.csv", "--executor", "ray",
         "--ray-address", cluster.address, "--workers", "2", "--no-progress"],
        cwd=coordinator, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        state = coordinator / "cluster" / ".tl-loop-kb" / "job.sqlite3"
        deadline = time.monotonic() + 240
        while _committed(state) < 1:  # mid-job: a batch is in, the others are not
            assert job.poll() is None, job.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "no batch came back from the cluster"
            time.sleep(0.2)
        _kill(cluster.node)
        stdout, stderr = job.communicate(timeout=300)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()

    assert job.returncode == 0, stderr.decode()[-2000:]
    assert "failed 0" in stdout.decode()
    assert _outputs(coordinator / "cluster") == _outputs(coordinator / "alone")
    assert "RECIBO-X" in (coordinator / "cluster" / "es" / "refunds.html").read_text()


def _committed(state: Path) -> int:
    if not state.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT COUNT(*) FROM segments").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet, or busy
        return 0
