"""The texts of `../shared/realworld` (or `TL_LOOP_REALWORLD`), read where they lie.

For tests that run a text rule over everything real: each Markdown article by paragraph (and
whole, when asked), and every string of every JSON payload.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

REALWORLD = Path(
    os.environ.get(
        "TL_LOOP_REALWORLD", Path(__file__).resolve().parents[1].parent / "shared" / "realworld"
    )
)


def realworld_texts(*, whole_articles: bool) -> list[str]:
    """Every article's paragraphs (and the article itself with `whole_articles`), and every
    non-blank string of every payload, in path order."""
    texts: list[str] = []
    for path in sorted(REALWORLD.rglob("*")):
        if path.suffix == ".md":
            article = path.read_text(encoding="utf-8")
            texts += [article] if whole_articles else []
            texts += [p for p in article.split("\n\n") if p.strip()]
        elif path.suffix == ".json":
            payload = json.loads(path.read_text(encoding="utf-8"))
            texts += [s for s in _strings(payload) if s.strip()]
    return texts


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
