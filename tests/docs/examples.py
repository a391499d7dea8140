"""Collect the fenced code examples of README.md and docs/ so the tests can run them.

A ```python block runs as a script in a fresh interpreter, in an empty folder holding a copy of
`glossaries/`. A block that needs what a test machine does not have (a vendor account, a
helpdesk, a server that runs until stopped) is preceded by a comment naming it,
`<!-- example: check-only (needs a DeepL key) -->`: it is compiled and its imports are run,
so renamed modules and names still fail the check. A block preceded by
`<!-- example: continues -->` runs after the page's earlier python blocks (a story told in
steps). A ```toml block must parse, and one that
holds loop or relay keys must validate with `load_config`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_MARK = re.compile(r"<!--\s*example:\s*check-only\b[^>]*-->\s*$")
_CONTINUES = re.compile(r"<!--\s*example:\s*continues\b[^>]*-->\s*$")


@dataclass(frozen=True)
class Example:
    """One fenced block: where it is, its language, its code, and whether it only is checked."""

    path: Path
    line: int
    language: str
    code: str
    check_only: bool

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def documents() -> list[Path]:
    """README.md and every page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def examples(languages: tuple[str, ...] = ("python", "toml")) -> list[Example]:
    """Every fenced block in those languages, in document order."""
    found = []
    for path in documents():
        text = path.read_text(encoding="utf-8")
        story: list[str] = []  # the page's python so far, for blocks that continue it
        for match in _FENCE.finditer(text):
            language = match.group(1).lower()
            if language not in languages:
                continue
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            line = text.count("\n", 0, match.start()) + 1
            code = match.group(2)
            if language == "python":
                if not _CONTINUES.search(before):
                    story = []
                story.append(code)
                code = "\n".join(story)
            found.append(Example(path, line, language, code, bool(_MARK.search(before))))
    return found
