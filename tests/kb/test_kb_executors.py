"""Same output in this process, in a local process pool and on a local Ray instance."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from kb_support import fake_config, write_samples

from tl_loop.kb import translate_folder


def outputs(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".tl-loop-kb" not in path.parts
    }


def run(tmp_path: Path, name: str, **options: object) -> dict[str, bytes]:
    src = tmp_path / "src"
    if not src.exists():
        write_samples(src, count=6)
    out = tmp_path / name
    summary = translate_folder(
        src,
        out_dir=out,
        targets=["es", "fr"],
        config=fake_config(),
        **options,  # type: ignore[arg-type]
    )
    assert summary.translated == 18
    return outputs(out)


def test_a_process_pool_writes_what_one_process_writes(tmp_path: Path) -> None:
    inline = run(tmp_path, "inline", workers=0)
    pooled = run(tmp_path, "pool", workers=2, batch_size=4)
    assert pooled == inline


@pytest.mark.ray
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed")
def test_ray_writes_what_one_process_writes(tmp_path: Path) -> None:
    inline = run(tmp_path, "inline", workers=0)
    on_ray = run(tmp_path, "ray", workers=2, executor="ray", batch_size=4)
    assert on_ray == inline
