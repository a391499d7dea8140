"""Protection cost: `protect` + `restore` on support replies, HTML and Markdown snippets.

Run: .venv/bin/python bench/bench_protect.py [--against REF] [--rounds N]

Times one `protect` call plus one `restore` of the untranslated segments per message, after a
warm-up (compiled regexes cached), and prints p50/p90 per content type. Target: protect on a
200-character plain-text support reply at p50 ≤ 50 µs.

Side by side: the same messages are timed on the working tree and on the commit `--against`
names (default: the commit before issue 10's span families, whose text protect measured 43 µs),
each in its own process with that commit's `src/` (extracted with `git archive`). The two
processes take turns, round after round, and every message keeps its best time on each side, so
a busy shared machine slows both alike; the ratio is what to compare across runs.
`--against none` times the working tree alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tl_loop import protect
from tl_loop._models import ContentType

TARGET_US = 50.0
BEFORE_FAMILIES = "f654436^"  # the last commit before issue 10 added 23 span rules
BEFORE_FAMILIES_US = 43.0  # its text protect p50 on a quiet machine (docs/benchmarks.md)
REPO = Path(__file__).resolve().parent.parent
PRODUCTS = ["AcmeSync", "the mobile app", "your dashboard", "the billing page", "two-factor login"]
AMOUNTS = ["$59.99", "€20", "12,50 EUR", "USD 15", "£7.49"]
OPENERS = ["Hi {{ticket.requester.first_name}}", "Hello {name}", "Hi there", "Dear customer"]


def replies(count: int) -> list[str]:
    """Support replies of exactly 200 characters, varied like real ones."""
    out = []
    for i in range(count):
        text = (
            f"{OPENERS[i % 4]}, thanks for your patience with order #{48000 + i}. "
            f"We refunded {AMOUNTS[i % 5]} and {PRODUCTS[i % 5]} should work again now. "
            f"If it does not, please reply and we will take another look within {i % 7 + 1} days."
        )
        out.append(text[:200].ljust(200))
    return out


def html_snippets(count: int) -> list[str]:
    """HTML replies of a few hundred characters: blocks, inline tags, a link, an attribute."""
    out = []
    for i in range(count):
        out.append(
            f"<p>Hi <b>{{{{ticket.requester.first_name}}}}</b>,</p>\n"
            f"<p>Your order <a href='https://acme.example/orders/{48000 + i}' title='Open the "
            f"order'>#{48000 + i}</a> shipped today &amp; should arrive within {i % 5 + 2} days. "
            f"We refunded <strong>{AMOUNTS[i % 5]}</strong> to your card.</p>\n"
            f"<ul><li>Restart {PRODUCTS[i % 5]}.</li><li>Sign in again with "
            f"<code>jane.doe@example.com</code>.</li></ul>\n"
            f"<p>Questions? Write to support@acme.example or see www.acme.example/help.</p>"
        )
    return out


def markdown_snippets(count: int) -> list[str]:
    """Markdown help-centre snippets: a heading, a paragraph, a list, a link, code."""
    out = []
    for i in range(count):
        out.append(
            f"## Resetting {PRODUCTS[i % 5]}\n\n"
            f"If **{PRODUCTS[i % 5]}** stops syncing, follow these steps. It takes about "
            f"{i % 9 + 1} minutes.\n\n"
            f"1. Open *Settings* and choose `Reset sync`.\n"
            f"2. Sign in again; see [the guide](https://acme.example/help/{i}) for details.\n"
            f"3. Check that order #{48000 + i} shows {AMOUNTS[i % 5]} as refunded.\n\n"
            f"```\nacme sync --reset\n```\n\n"
            f"Still stuck? Reply to this e-mail and mention ticket ORD-2024-{i:04d}.\n"
        )
    return out


CASES: dict[str, tuple[ContentType, Callable[[int], list[str]], int]] = {
    "text": ("text", replies, 200),
    "html": ("html", html_snippets, 50),
    "markdown": ("markdown", markdown_snippets, 50),
}


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile of `values`."""
    return statistics.quantiles(values, n=100)[q - 1]


def timed(case: str, restore: bool) -> list[float]:
    """Microseconds per message of one pass over the case's messages."""
    content_type, make, count = CASES[case]
    times = []
    for text in make(count):
        started = time.perf_counter()
        doc = protect(text, content_type=content_type)
        if restore:
            doc.restore(doc.segments)
        times.append((time.perf_counter() - started) * 1e6)
    return times


def warm_up() -> None:
    """Compile and cache every regex the cases use."""
    for content_type, make, count in CASES.values():
        for text in make(count)[:5]:
            doc = protect(text, content_type=content_type)
            doc.restore(doc.segments)


def worker() -> None:
    """Answer `[case, restore]` lines on stdin with one pass's times, as JSON lines."""
    warm_up()
    for line in sys.stdin:
        case, restore = json.loads(line)
        print(json.dumps(timed(case, restore)), flush=True)


class Side:
    """One code path in its own process: the working tree, or `src/` of a commit."""

    def __init__(self, name: str, src: Path) -> None:
        self.name = name
        env = {**os.environ, "PYTHONPATH": str(src)}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.requests, self.answers = self.process.stdin, self.process.stdout

    def run(self, case: str, restore: bool) -> list[float]:
        self.requests.write(json.dumps([case, restore]) + "\n")
        self.requests.flush()
        return list(json.loads(self.answers.readline()))

    def close(self) -> None:
        self.requests.close()
        self.process.wait()


def extract(ref: str, into: Path) -> Path:
    """`src/` of commit `ref`, written under `into`."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", ref, "src"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    tar_path = into / "src.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def side_by_side(now: Side, then: Side, rounds: int, then_us: float | None) -> None:
    """Take turns round after round; each message keeps its best time on each side.

    `then_us`: the baseline's text protect p50 on a quiet machine, to scale the ratio by.
    """
    sides = [now, then]
    scale = f"{f'at {then_us:.0f} µs':>10}" if then_us else ""
    print(f"{'case':<28}{'now p50':>12}{then.name + ' p50':>16}{'ratio':>8}{scale}")
    for case in CASES:
        for restore in (False, True):
            best: list[list[float] | None] = [None] * len(sides)
            for _ in range(rounds):
                for index, side in enumerate(sides):
                    times = side.run(case, restore)
                    previous = best[index]
                    best[index] = times if previous is None else list(map(min, previous, times))
            mine, theirs = (percentile(times or [], 50) for times in best)
            label = f"{case} ({'protect+restore' if restore else 'protect'})"
            row = f"{label:<28}{mine:>12.1f}{theirs:>16.1f}{mine / theirs:>7.2f}x"
            if then_us and case == "text" and not restore:
                row += f"{mine / theirs * then_us:>10.1f}"
            print(row)
    if then_us:
        print(f"target: text protect p50 ≤ {TARGET_US:.0f} µs, at the baseline's {then_us:.0f} µs")


def alone(rounds: int) -> None:
    """Time the working tree in this process: p50/p90 per content type."""
    warm_up()
    print(f"{'case':<28}{'chars':>7}{'p50 µs':>10}{'p90 µs':>10}{'p50/target':>12}")
    for case, (_, make, count) in CASES.items():
        size = statistics.mean(len(m) for m in make(count))
        for restore in (False, True):
            runs = [timed(case, restore) for _ in range(rounds)]
            times = [min(values) for values in zip(*runs, strict=True)]
            p50, p90 = percentile(times, 50), percentile(times, 90)
            label = f"{case} ({'protect+restore' if restore else 'protect'})"
            target = f"{p50 / TARGET_US:.2f}x" if case == "text" and not restore else ""
            print(f"{label:<28}{size:>7.0f}{p50:>10.1f}{p90:>10.1f}{target:>12}")
    print(f"target: text protect p50 ≤ {TARGET_US:.0f} µs")


def main() -> None:
    """Time the working tree, side by side with `--against` unless it is `none`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--against", default=BEFORE_FAMILIES, help="git ref, or 'none'")
    parser.add_argument("--rounds", type=int, default=5, help="passes per side (best kept)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return
    if args.against == "none":
        alone(args.rounds)
        return
    with tempfile.TemporaryDirectory() as folder:
        now = Side("now", REPO / "src")
        then = Side(args.against, extract(args.against, Path(folder)))
        try:
            then_us = BEFORE_FAMILIES_US if args.against == BEFORE_FAMILIES else None
            side_by_side(now, then, args.rounds, then_us)
        finally:
            now.close()
            then.close()


if __name__ == "__main__":
    main()
