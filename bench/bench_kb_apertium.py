"""`kb translate` against `apertium -f html`, one process per article, on the same articles.

The articles are the real Jekyll documentation pages (`../shared/realworld/kb/jekyll-docs`,
or $TL_LOOP_REALWORLD), rendered to HTML bodies with markdown-it-py, so both sides translate
exactly the same HTML en→es. Printed side by side:

1. articles/s of `apertium -f html eng-spa`, one process per article, 1 and 2 at a time;
2. articles/s of `tl-loop kb translate` (the command, process start included) with 1 and 2
   workers, each on a fresh output folder (nothing reused from an earlier run);
3. how many outputs keep the source's tag structure (the sequence of tags and attributes,
   text aside), for both;
4. where `translate_folder` spends its time (in-process, 0 workers, cProfile).

    .venv/bin/python bench/bench_kb_apertium.py [--profile-lines 14]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

from tl_loop import TlLoopConfig
from tl_loop.kb import translate_folder

_REPO = Path(__file__).resolve().parents[1]
_REALWORLD = Path(os.environ.get("TL_LOOP_REALWORLD", _REPO.parent / "shared" / "realworld"))
_FRONT = re.compile(r"\A---\n.*?\n---\n", re.S)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, str, tuple[tuple[str, str | None], ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kept = tuple((k, v) for k, v in attrs if k not in ("title", "alt"))  # translated
        self.tags.append(("start", tag, kept))

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(("end", tag, ()))


def _structure(html: str) -> list[tuple[str, str, tuple[tuple[str, str | None], ...]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def _code(html: str) -> list[str]:
    return re.findall(r"<code[^>]*>.*?</code>", html, re.S)


def _render_corpus(folder: Path) -> Path:
    source = _REALWORLD / "kb" / "jekyll-docs"
    if not source.is_dir():
        sys.exit(f"{source} not found: set TL_LOOP_REALWORLD")
    md = MarkdownIt("commonmark").enable("table")
    folder.mkdir(parents=True)
    for path in sorted(source.glob("*.md")):
        body = _FRONT.sub("", path.read_text(encoding="utf-8"))
        (folder / f"{path.stem}.html").write_text(md.render(body), encoding="utf-8")
    return folder


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _apertium(articles: list[Path], out: Path, parallel: int) -> float:
    out.mkdir(parents=True, exist_ok=True)

    def one(path: Path) -> None:
        done = subprocess.run(
            ["apertium", "-f", "html", "eng-spa"], input=path.read_bytes(),
            capture_output=True, check=True,
        )  # fmt: skip
        (out / path.name).write_bytes(done.stdout)

    def run() -> None:
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(one, articles))

    return _timed(run)


def _kb_command(src: Path, out: Path, workers: int) -> float:
    command = [sys.executable, "-m", "tl_loop.cli", "kb", "translate", str(src), "--to", "es",
               "--from", "en", "--out", str(out), "--engine", "apertium",
               "--workers", str(workers), "--no-progress"]  # fmt: skip
    return _timed(lambda: subprocess.run(command, check=True, capture_output=True))


def _intact(articles: list[Path], out: Path) -> tuple[int, int]:
    tags = code = 0
    for path in articles:
        source, output = path.read_text(), (out / path.name).read_text()
        tags += _structure(source) == _structure(output)
        code += _code(source) == _code(output)
    return tags, code


def _profile(src: Path, out: Path, lines: int) -> str:
    profiler = cProfile.Profile()
    config = TlLoopConfig(engines=["apertium"])
    started = time.perf_counter()
    profiler.runcall(translate_folder, src, out_dir=out, targets=["es"], config=config, workers=0)
    total = time.perf_counter() - started
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, function), (_, _, _, cumulative, _) in stats.items():
        if "/tl_loop/" in filename:
            module = filename.rpartition("/tl_loop/")[2]
            rows.append((cumulative, f"{module}:{line} {function}"))
    rows.sort(reverse=True)
    text = [f"  {total:6.2f} s in all (profiler overhead included)"]
    text += [f"  {seconds:6.2f} s {share:4.0%}  {name}" for seconds, name in rows[:lines]
             for share in [seconds / total]]  # fmt: skip
    return "\n".join(text)


def _process_start(runs: int = 5) -> float:
    """Seconds `apertium -f html eng-spa` takes on an empty article: the per-process cost."""
    command = ["apertium", "-f", "html", "eng-spa"]
    seconds = [
        _timed(lambda: subprocess.run(command, input=b"<p>.</p>", capture_output=True, check=True))
        for _ in range(runs)
    ]
    return min(seconds)


def _row(name: str, seconds: float, count: int, tags: int, code: int) -> None:
    kept = f"{tags:>6}/{count} {code:>6}/{count}"
    print(f"{name:44} {seconds:8.2f} {count / seconds:11.1f} {kept}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile-lines", type=int, default=14)
    args = parser.parse_args()
    if shutil.which("apertium") is None:
        sys.exit("apertium is not installed (scripts/bootstrap installs it)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = _render_corpus(root / "src")
        articles = sorted(src.glob("*.html"))
        count = len(articles)
        print(f"{count} HTML articles from jekyll-docs, en→es, {os.cpu_count()} CPUs\n")
        print(f"{'side':44} {'seconds':>8} {'articles/s':>11} {'tags kept':>10} {'code kept':>10}")
        rows: dict[str, float] = {}
        for parallel in (1, 2):
            out = root / f"apertium{parallel}"
            seconds = _apertium(articles, out, parallel)
            tags, code = _intact(articles, out)
            name = f"apertium -f html, 1 process/article, {parallel} at once"
            rows[f"apertium{parallel}"] = count / seconds
            _row(name, seconds, count, tags, code)
        for workers in (1, 2):
            out = root / f"kb{workers}"
            seconds = _kb_command(src, out, workers)
            tags, code = _intact(articles, out / "es")
            name = f"tl-loop kb translate --workers {workers}"
            rows[f"kb{workers}"] = count / seconds
            _row(name, seconds, count, tags, code)
        best_apertium = max(rows["apertium1"], rows["apertium2"])
        best_kb = max(rows["kb1"], rows["kb2"])
        print(f"\nkb translate / apertium -f html (best of each): {best_kb / best_apertium:.2f}×")
        print(f"same parallelism (2): {rows['kb2'] / rows['apertium2']:.2f}×  (target ≥ 2×)\n")
        start = _process_start()
        print(f"apertium -f html on an empty article: {start:.2f} s (process start and data load)")
        print(f"  = {start * count / (count / rows['apertium1']):.0%} of its 1-at-once run\n")
        print("where translate_folder spends its time (0 workers, in process, cumulative):")
        print(_profile(src, root / "profiled", args.profile_lines))


if __name__ == "__main__":
    main()
