"""Same output in this process, in a local process pool and on a local Ray instance."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from kb_support import fake_config, write_samples

from tl_loop import ConfigurationError
from tl_loop.kb import LoopSpec, translate_folder


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


def test_a_portable_spec_resolves_paths_here_and_carries_its_glossary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    coordinator, worker = tmp_path / "coordinator", tmp_path / "worker"
    coordinator.mkdir()
    worker.mkdir()
    (coordinator / "terms.csv").write_text("en,es\nreceipt,recibo\n", encoding="utf-8")
    monkeypatch.chdir(coordinator)
    config = fake_config().model_copy(update={"glossary": Path("terms.csv")})
    spec = LoopSpec.from_config(config).portable()
    (coordinator / "terms.csv").unlink()  # the spec no longer needs the coordinator's file
    monkeypatch.chdir(worker)

    glossary = spec.build().parts.glossary

    assert glossary is not None
    assert [term.replacement for term in glossary.terms_for("en", "es")] == ["recibo"]


def test_a_missing_glossary_is_refused_before_anything_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = fake_config().model_copy(update={"glossary": Path("nowhere.csv")})
    with pytest.raises(ConfigurationError, match=r"glossary = '.*nowhere.csv': no such file"):
        LoopSpec.from_config(config).portable()
