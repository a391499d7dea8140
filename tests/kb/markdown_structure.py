"""Compare the Markdown structure of a source article and its translation with markdown-it-py.

A translation keeps the structure when both parse to the same tokens (text content aside):
the same blocks and inline markup, every link and image target, reference labels that still
resolve (a broken label turns a link into text), code blocks and inline code byte for byte,
footnotes, Liquid tags, attribute lists, admonition and content-tab markers, front-matter keys.
`problems` lists every difference found, in words a reader of the article would use.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

_TAB = re.compile(r"^([ \t]*)===(\+?)([ \t])", re.M)
_MARKER = re.compile(r"^[ \t]*(!!!|\?\?\?\+?|===\+?|:{3,})[ \t]*([\w-]*)", re.M)
_LIQUID = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)
_ATTRIBUTES = re.compile(r"\{:[^{}\n]*\}|\{[ \t]*[#.][\w-][^{}\n]*\}")
_TAG = re.compile(r"</?[A-Za-z][\w-]*|\b(?:href|src)\s*=\s*(?:\"[^\"]*\"|'[^']*')")
_FRONT_KEY = re.compile(r"^([A-Za-z_][\w.-]*)[ \t]*:", re.M)
_WORDS = re.compile(r"[A-Za-z]{3,}")
_FILE_NAME = re.compile(r"^[\w.-]+\.[A-Za-z0-9]{2,5}$")


def parser() -> MarkdownIt:
    """CommonMark with tables, strikethrough, front matter, footnotes, definition lists and
    admonitions (content tabs are read as admonitions, see `_tabs_as_admonitions`)."""
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for plugin in (front_matter_plugin, footnote_plugin, deflist_plugin, admon_plugin):
        md.use(plugin)
    return md


def _tabs_as_admonitions(text: str) -> str:
    # Material's content tabs nest like admonitions: read `=== "Tab"` as `!!! tab "Tab"`.
    return _TAB.sub(
        lambda m: f"{m.group(1)}{'???+' if m.group(2) else '!!!'} tab{m.group(3)}", text
    )


@dataclass(frozen=True, slots=True)
class _Shape:
    """One token as far as structure goes; `text` holds prose, which may change."""

    key: tuple[str, ...]
    text: str = ""


def _inline(children: list[Token]) -> Iterator[_Shape]:
    pending = ""
    for child in children:
        if child.type in ("text", "softbreak"):
            pending += child.content if child.type == "text" else " "
            continue
        if pending:
            yield _Shape(("text",), pending)
            pending = ""
        if child.type == "link_open":
            yield _Shape(("link", str(child.attrs.get("href", ""))))
        elif child.type == "image":
            src = str(child.attrs.get("src", ""))
            alt = child.content
            yield _Shape(("image", src, alt if _FILE_NAME.match(alt) else ""))
        elif child.type in ("code_inline", "html_inline"):
            yield _Shape(
                (
                    child.type,
                    child.content
                    if child.type == "code_inline"
                    else " ".join(_TAG.findall(child.content)),
                )
            )
        elif child.type == "footnote_ref":
            yield _Shape(("footnote_ref", str(child.meta.get("label", child.meta.get("id")))))
        else:
            yield _Shape((child.type,))
    if pending:
        yield _Shape(("text",), pending)


def shapes(text: str) -> list[_Shape]:
    """The document's tokens, flattened: block tokens with their inline children."""
    out: list[_Shape] = []
    for token in parser().parse(_tabs_as_admonitions(text)):
        if token.type == "inline":
            out.extend(_inline(token.children or []))
        elif token.type in ("fence", "code_block"):
            out.append(_Shape((token.type, token.info, token.content)))
        elif token.type == "html_block":
            out.append(_Shape(("html_block", " ".join(_TAG.findall(token.content)))))
        elif token.type == "front_matter":
            out.append(_Shape(("front_matter", *_FRONT_KEY.findall(token.content))))
        elif token.type == "footnote_open":
            out.append(_Shape(("footnote", str(token.meta.get("label", token.meta.get("id"))))))
        elif token.type == "admonition_open":
            out.append(_Shape(("admonition", token.markup, str(token.meta.get("tag")))))
        else:
            out.append(_Shape((token.type, token.tag, token.markup)))
    return out


@dataclass(frozen=True, slots=True)
class Comparison:
    """What differs between a source and its translation, and how much prose changed."""

    problems: tuple[str, ...]
    prose: int  # text runs with words in the source
    translated: int  # of those, how many read differently in the output


def compare(source: str, output: str) -> Comparison:
    """Compare the structure of `source` and `output` (see the module docstring)."""
    problems: list[str] = []
    before, after = shapes(source), shapes(output)
    keys_before = [s.key for s in before]
    keys_after = [s.key for s in after]
    if keys_before != keys_after:
        for index, (a, b) in enumerate(zip(keys_before, keys_after, strict=False)):
            if a != b:
                context = " ".join(k[0] for k in keys_before[max(0, index - 3) : index])
                problems.append(f"token {index} (after {context}): {a!r} became {b!r}")
                break
        else:
            problems.append(f"{len(keys_before)} tokens became {len(keys_after)}")
    for name, pattern in (
        ("Liquid tags", _LIQUID),
        ("attribute lists", _ATTRIBUTES),
        ("admonition/tab markers", _MARKER),
    ):
        found_before, found_after = (
            Counter(pattern.findall(source)),
            Counter(pattern.findall(output)),
        )
        if found_before != found_after:
            lost = list((found_before - found_after).elements())[:3]
            added = list((found_after - found_before).elements())[:3]
            problems.append(f"{name} differ: lost {lost}, gained {added}")
    prose = translated = 0
    if keys_before == keys_after:
        for a, b in zip(before, after, strict=True):
            if a.key == ("text",) and len(_WORDS.findall(a.text)) >= 3:
                prose += 1
                translated += a.text.strip() != b.text.strip()
    return Comparison(tuple(problems), prose, translated)
