"""The "Try it locally" examples in docs/helpdesks/ and docs/emulators.md run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tl_loop.testing.emulators import EMULATORS

DOCS = Path(__file__).resolve().parents[2] / "docs"
_PYTHON = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _examples(path: Path, after: str = "") -> list[str]:
    text = path.read_text(encoding="utf-8")
    return _PYTHON.findall(text[text.index(after) :] if after else text)


@pytest.mark.parametrize("platform", sorted(EMULATORS))
def test_each_platform_page_shows_a_runnable_local_try(platform: str) -> None:
    [example] = _examples(DOCS / "helpdesks" / f"{platform}.md", "## Try it locally")
    exec(compile(example, f"docs/helpdesks/{platform}.md", "exec"), {})


def test_the_emulators_page_examples_run() -> None:
    examples = _examples(DOCS / "emulators.md")
    assert examples
    for example in examples:
        exec(compile(example, "docs/emulators.md", "exec"), {})


def test_the_console_lists_every_platform() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "tl_loop.testing.emulators", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert all(platform in shown for platform in EMULATORS)
