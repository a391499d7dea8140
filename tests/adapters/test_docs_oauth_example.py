"""The access-token example in docs/helpdesks/helpscout.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "helpdesks" / "helpscout.md"


def test_the_access_token_example_runs() -> None:
    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index("## The access token") : text.index("## Use")]
    [example] = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    exec(compile(example, str(PAGE), "exec"), {})
