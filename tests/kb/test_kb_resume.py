"""A job killed by SIGKILL resumes: nothing committed is translated twice, nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kb_support import write_samples

from tl_loop.kb import JobStore, KbPaths, translate_folder

HERE = Path(__file__).parent

SCRIPT = """
import sys
from tl_loop.kb import translate_folder
translate_folder(sys.argv[1], out_dir=sys.argv[2], targets=["es", "fr"],
                 loop_factory="kb_support:logging_loop", workers=0, batch_size=2)
"""


def test_kill_minus_nine_then_resume(tmp_path: Path) -> None:
    src, out, log = tmp_path / "src", tmp_path / "out", tmp_path / "engine.log"
    write_samples(src, count=8)
    env = {**os.environ, "KB_LOG": str(log), "PYTHONPATH": str(HERE)}
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, str(src), str(out)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
        not log.exists() or len(log.read_text().splitlines()) < 8
    ):
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    with JobStore(KbPaths(out).state) as store:
        committed = store.segment_count()
    first_run = log.read_text().splitlines()
    assert 0 < committed <= len(first_run)

    os.environ["KB_LOG"] = str(log)
    summary = translate_folder(
        src, out_dir=out, targets=["es", "fr"], loop_factory="kb_support:logging_loop",
        workers=0, batch_size=2,
    )  # fmt: skip
    second_run = log.read_text().splitlines()[len(first_run) :]
    # Only what was not committed is sent again (at most the one batch in flight was lost).
    assert summary.from_store == committed
    assert len(second_run) == summary.engine_segments > 0  # killed mid-run, not after
    assert len(set(first_run) & set(second_run)) <= 2 * 2  # one batch per locale in flight
    assert summary.failed == 0
    assert summary.translated + summary.up_to_date == summary.articles

    # The resumed job wrote exactly what an uninterrupted job writes.
    clean = tmp_path / "clean"
    translate_folder(
        src, out_dir=clean, targets=["es", "fr"], loop_factory="kb_support:logging_loop",
        workers=0, batch_size=2,
    )  # fmt: skip
    for path in (clean / "es").rglob("*.*"):
        relative = path.relative_to(clean)
        assert (out / relative).read_bytes() == path.read_bytes()
