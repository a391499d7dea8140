"""Benchmark: argostranslate's `translate()` per segment vs ArgosEngine's one batch, en→es.

Run with `python bench/bench_argos.py [--segments 200] [--skip-argos-defaults]` in an
environment with the FULL argostranslate (its `translate` module imports stanza) and `onnx`
(for the package's sentence splitter): `pip install torch==2.13.0 argostranslate onnx` then
`pip install -e .` (torch 2.13.0 is the CPU build; plain `argostranslate` pulls CUDA torch).
Without them only the engine's rows are printed.

The model is a copy model with the compute shape of an argos-train Transformer-base (6+6
layers, d 512, ffn 2048, 50k vocabulary, int8; tests/argos_model.py), built offline in ~5 s.
Both paths give identical output (checked), so the times compare the same work:

(a) `argostranslate.translate.translate(s, "en", "es")` once per segment, with argostranslate's
    defaults (intra_threads 0, beam 4), and again with intra_threads 1;
(b) `ArgosEngine.translate_batch(all segments)`: one CTranslate2 call, with the engine's
    defaults (beam 2, inter_threads 2, intra_threads 1, sub-batches of 16), and with
    argostranslate's beam 4.
The headline ratio is (a) with argostranslate's defaults over (b) with the engine's defaults.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(tempfile.mkdtemp(prefix="bench-argos-"))
# argostranslate reads these once, at import: set them before anything imports it.
for _name, _sub in {"XDG_DATA_HOME": "data", "XDG_CONFIG_HOME": "config"}.items():
    os.environ[_name] = str(WORK / _sub)
os.environ["XDG_CACHE_HOME"] = str(WORK / "cache")
os.environ["ARGOS_PACKAGES_DIR"] = str(WORK / "packages")
sys.path.insert(0, str(ROOT / "tests"))

from argos_model import BASE, build_package, support_sentences  # noqa: E402
from tl_loop.engines._argos import ArgosEngine, install_model  # noqa: E402


def timed(function: Callable[[], list[str]]) -> tuple[float, list[str]]:
    """Seconds taken by `function` and what it returned."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def argos_reference(segments: list[str], *, intra_threads: int | None) -> tuple[float, list[str]]:
    """argostranslate's own path, one `translate()` per segment, after a warm-up call."""
    import argostranslate.translate as argos_translate
    from argostranslate import settings

    if intra_threads is not None:
        settings.intra_threads = intra_threads
    argos_translate.installed_translates.clear()  # a fresh translator with these settings
    argos_translate.get_installed_languages.cache_clear()
    argos_translate.translate("Hello world.", "en", "es")  # loads the model and the splitter
    return timed(lambda: [argos_translate.translate(s, "en", "es") for s in segments])


def engine_batch(segments: list[str], *, beam_size: int | None = None) -> tuple[float, list[str]]:
    """ArgosEngine: one `translate_batch` for all segments, after a warm-up call."""
    folder = WORK / "packages"
    engine = (
        ArgosEngine(packages_dir=folder)
        if beam_size is None
        else ArgosEngine(packages_dir=folder, beam_size=beam_size)
    )
    engine.translate_batch(["Hello world."], source="en", target="es")
    seconds, results = timed(
        lambda: [r.text for r in engine.translate_batch(segments, source="en", target="es")]
    )
    assert engine.stats.batch_calls == 2, engine.stats
    return seconds, results


def main() -> None:
    """Build the package, run each path once, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=200)
    parser.add_argument(
        "--skip-argos-defaults", action="store_true", help="skip the slowest row (~45 s)"
    )
    args = parser.parse_args()
    segments = support_sentences(args.segments)

    try:
        import argostranslate.translate  # noqa: F401
        import onnx  # noqa: F401

        reference = True
    except ImportError as error:
        reference = False
        print(f"argostranslate's own path skipped ({error}): see the module docstring\n")

    start = time.perf_counter()
    archive = build_package(WORK / "build", size=BASE, with_splitter=reference)
    built = time.perf_counter() - start
    start = time.perf_counter()
    install_model(archive)
    print(
        f"base-size package: built in {built:.1f} s, {archive.stat().st_size / 1e6:.0f} MB, "
        f"installed in {time.perf_counter() - start:.2f} s; {len(segments)} segments\n"
    )

    rows: list[tuple[str, float, list[str]]] = []
    if reference and not args.skip_argos_defaults:
        rows.append(
            (
                "argostranslate translate() x N, defaults",
                *argos_reference(segments, intra_threads=None),
            )
        )
    if reference:
        rows.append(
            (
                "argostranslate translate() x N, intra_threads=1",
                *argos_reference(segments, intra_threads=1),
            )
        )
    rows.append(("ArgosEngine 1 batch, defaults (beam 2)", *engine_batch(segments)))
    rows.append(("ArgosEngine 1 batch, beam 4", *engine_batch(segments, beam_size=4)))

    outputs = {tuple(output) for _, _, output in rows}
    assert len(outputs) == 1, "the paths disagree"
    engine = next(seconds for name, seconds, _ in rows if "defaults (beam 2)" in name)
    print(f"{'path':52} {'seconds':>8} {'segments/s':>11} {'vs engine defaults':>19}")
    for name, seconds, _ in rows:
        print(f"{name:52} {seconds:8.2f} {len(segments) / seconds:11.1f} {seconds / engine:18.1f}x")


if __name__ == "__main__":
    main()
