"""YAML front matter: values read with a YAML parser, translations spliced in byte-exact.

The front matter is parsed with PyYAML's composer, which gives each value its exact span in
the source and its style. Only the spans of translated values are rewritten; comments, key
order, other values, line endings and a UTF-8 byte order mark stay as they were. A value is
written back in its source style where YAML allows it (plain, '…', "…", folded `>` and literal
`|` blocks), in double quotes otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import yaml

__all__ = ["FrontMatter", "FrontMatterError", "FrontValue", "read_front_matter"]

Style = Literal["plain", "double", "single", "folded", "literal"]
_STYLES: Mapping[str | None, Style] = {
    None: "plain", "": "plain", '"': "double", "'": "single", ">": "folded", "|": "literal"
}  # fmt: skip
_OPENING = re.compile(r"\A(\ufeff?)---[ \t]*\r?\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.M)
_PLAIN_UNSAFE = re.compile(r"^[\s\[\]{}&*!|>'\"%@`#,?:-]|: | #|:$|\s$|[\x00-\x1f]")
_STRING = "tag:yaml.org,2002:str"


class FrontMatterError(ValueError):
    """The front matter is not readable YAML of `key: value` pairs; the message says where."""


@dataclass(frozen=True, slots=True)
class FrontValue:
    """One translatable value: its span in the front matter's text, style and parsed text."""

    start: int
    end: int
    style: Style
    text: str


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """The raw front matter (delimiters and BOM included) and its translatable values."""

    raw: str
    values: Mapping[str, FrontValue]
    scalars: Mapping[str, str]  # every top-level scalar as parsed (`id`, `title`, …)

    def render(self, translated: Mapping[str, str]) -> str:
        """The front matter with each key in `translated` given its new text."""
        out, position = [], 0
        for key, where in sorted(self.values.items(), key=lambda item: item[1].start):
            if translated.get(key, where.text) == where.text:
                continue  # unchanged: the source spelling stays
            out += [self.raw[position : where.start], _render(self.raw, where, translated[key])]
            position = where.end
        out.append(self.raw[position:])
        return "".join(out)


def _render(raw: str, where: FrontValue, text: str) -> str:
    source = raw[where.start : where.end]
    if where.style in ("folded", "literal"):
        header, newline, body = source.partition("\n")
        content = body.rstrip()
        trailing = body[len(content) :]
        first = next((line for line in body.splitlines() if line.strip()), "  ")
        indent = first[: len(first) - len(first.lstrip())] or "  "
        ending = "\r\n" if header.endswith("\r") else "\n"
        lines = [text.replace("\n", " ")] if where.style == "folded" else text.split("\n")
        return header + newline + ending.join(indent + line for line in lines) + trailing
    if where.style == "single" and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    if where.style == "plain" and text and not _PLAIN_UNSAFE.search(text):
        return text
    return json.dumps(text, ensure_ascii=False)  # JSON strings are YAML double-quoted scalars


def _problem(error: yaml.YAMLError, first_line: int) -> str:
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + first_line}: " if mark is not None else ""
    problem = getattr(error, "problem", None) or str(error)
    return f"front matter is not valid YAML ({where}{problem}); quote values that contain ': '"


def read_front_matter(text: str, keys: Sequence[str]) -> tuple[FrontMatter | None, str]:
    """Split `text` into its front matter and body; values of `keys` become translatable.

    Returns:
        The front matter (None when the text does not open with `---`) and the body.

    Raises:
        FrontMatterError: the front matter is never closed, is not YAML, or not a mapping.
    """
    opening = _OPENING.match(text)
    if opening is None:
        return None, text
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        raise FrontMatterError("front matter opened with '---' is never closed")
    document = text[opening.end() : closing.start()]
    try:
        node = yaml.compose(document, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise FrontMatterError(_problem(error, 2)) from error
    raw = text[: closing.end()]
    if node is None:
        return FrontMatter(raw, {}, {}), text[closing.end() :]
    if not isinstance(node, yaml.MappingNode):
        raise FrontMatterError(
            f"front matter is not 'key: value' pairs (line 2: {document.strip()[:60]!r})"
        )
    values: dict[str, FrontValue] = {}
    scalars: dict[str, str] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or not isinstance(value_node, yaml.ScalarNode):
            continue
        scalars[str(key_node.value)] = str(value_node.value)
        if key_node.value not in keys or value_node.tag != _STRING or not value_node.value.strip():
            continue
        start = opening.end() + value_node.start_mark.index
        end = opening.end() + value_node.end_mark.index
        style = _STYLES.get(value_node.style, "double")
        value = (
            value_node.value.rstrip("\n") if style in ("folded", "literal") else value_node.value
        )
        values[str(key_node.value)] = FrontValue(start, end, style, value)
    return FrontMatter(raw, values, scalars), text[closing.end() :]
