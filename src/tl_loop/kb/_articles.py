"""Articles and macros read from a folder: front matter kept byte-exact, text fields to translate.

An article is a file: `.html`/`.htm` (HTML), `.md`/`.markdown` (Markdown), `.txt` (a reply
template or macro, plain text) or `.json` (a list of macros, objects whose listed keys are
translated). HTML and Markdown files may open with YAML-style front matter:

```
---
id: 360001
title: Reset your password
description: "Steps: from the sign-in page"
tags: [account]
---
```

Only the values of the keys asked for (`title` and `description` by default) are translated;
every other byte of the front matter is written back as read (see `_front_matter`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tl_loop._errors import ConfigurationError
from tl_loop._models import ContentType
from tl_loop.kb._front_matter import FrontMatter, FrontMatterError, read_front_matter

__all__ = [
    "ARTICLE_SUFFIXES",
    "ArticleError",
    "Field",
    "SourceArticle",
    "load_article",
    "parse_article",
    "render_article",
    "scan_folder",
]

ArticleKind = Literal["html", "markdown", "text", "json"]

ARTICLE_SUFFIXES: Mapping[str, ArticleKind] = {
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".json": "json",
}
"""File suffixes read as articles, and how each is read."""

DEFAULT_MACRO_KEYS = ("title", "subject", "body", "text")


class ArticleError(ConfigurationError):
    """An article could not be read: undecodable bytes, broken front matter, bad macro JSON.

    The job reports it and skips the article; `path` names the file.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Field:
    """One text of an article to translate: the body, a front-matter value, a macro's text."""

    name: str
    text: str
    content_type: ContentType


@dataclass(frozen=True)
class SourceArticle:
    """An article as read: its id (path relative to the folder), kind, fields and raw parts.

    `source_hash` changes whenever the file's bytes or the translated keys change; a
    translation records the hash it was made from, so an edited source shows as outdated.
    """

    id: str
    kind: ArticleKind
    source_hash: str
    fields: tuple[Field, ...]
    front: FrontMatter | None = None
    data: Any = None

    @property
    def title(self) -> str | None:
        """The front-matter title (or first macro title), if there is one."""
        for field in self.fields:
            if field.name in ("front:title", "0.title"):
                return field.text
        return None

    @property
    def remote_id(self) -> str:
        """The helpdesk id: the front-matter `id` if present, else the file name's stem."""
        found = self.front.scalars.get("id") if self.front is not None else None
        return found if found else Path(self.id).stem


def _hash(raw: bytes, keys: Sequence[str]) -> str:
    digest = hashlib.sha256(raw)
    digest.update(json.dumps(sorted(keys)).encode())
    return digest.hexdigest()


def parse_article(
    article_id: str,
    raw: bytes,
    *,
    kind: ArticleKind,
    keys: Sequence[str] = ("title", "description"),
) -> SourceArticle:
    """Parse an article's bytes (UTF-8) into fields to translate.

    Args:
        article_id: the article's path relative to its folder (in messages and outputs).
        raw: the file's bytes.
        kind: how to read it (see `ARTICLE_SUFFIXES`).
        keys: front-matter keys whose values are translated (for JSON macros, the object keys;
            `body` and `text` are always translated there).

    Raises:
        ArticleError: the bytes are not UTF-8, the front matter is broken, or a JSON macro
            file is not a list of objects.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ArticleError(
            article_id, f"not UTF-8 at byte {error.start}; re-save the file as UTF-8"
        ) from error
    source_hash = _hash(raw, keys)
    if kind == "json":
        return _parse_macros(article_id, text, source_hash, keys)
    if kind == "text":
        return SourceArticle(article_id, kind, source_hash, (Field("body", text, "text"),))
    try:
        front, body = read_front_matter(text, keys)
    except FrontMatterError as error:
        raise ArticleError(article_id, str(error)) from error
    fields = (
        []
        if front is None
        else [Field(f"front:{key}", value.text, "text") for key, value in front.values.items()]
    )
    fields.append(Field("body", body, kind))
    return SourceArticle(article_id, kind, source_hash, tuple(fields), front)


def _parse_macros(
    article_id: str, text: str, source_hash: str, keys: Sequence[str]
) -> SourceArticle:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ArticleError(article_id, f"not valid JSON: {error}") from error
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ArticleError(article_id, "a macro file must hold a JSON list of objects")
    wanted = set(keys) | set(DEFAULT_MACRO_KEYS)
    fields = [
        Field(f"{index}.{key}", value, "text")
        for index, item in enumerate(data)
        for key, value in item.items()
        if key in wanted and isinstance(value, str) and value.strip()
    ]
    return SourceArticle(article_id, "json", source_hash, tuple(fields), data=data)


def render_article(article: SourceArticle, translated: Mapping[str, str]) -> str:
    """The article with each field replaced by its translation; every other byte as read.

    Args:
        article: the parsed source.
        translated: field name → translated text; a field left out keeps its source text.
    """
    if article.kind == "json":
        data = json.loads(json.dumps(article.data))
        for name, text in translated.items():
            index, _, key = name.partition(".")
            data[int(index)][key] = text
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    front = ""
    if article.front is not None:
        prefix = "front:"
        front = article.front.render(
            {
                name[len(prefix) :]: text
                for name, text in translated.items()
                if name.startswith(prefix)
            }
        )
    body = translated.get("body", next(f.text for f in article.fields if f.name == "body"))
    return front + body


def load_article(root: Path, path: Path, *, keys: Sequence[str]) -> SourceArticle:
    """Read and parse one file under `root`.

    Raises:
        ArticleError: unreadable or unparseable (see `parse_article`).
    """
    article_id = path.relative_to(root).as_posix()
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ArticleError(article_id, f"cannot be read: {error.strerror}") from error
    return parse_article(article_id, raw, kind=ARTICLE_SUFFIXES[path.suffix.lower()], keys=keys)


def scan_folder(root: Path) -> Iterator[Path]:
    """Every article file under `root`, in a stable order; hidden files and folders skipped.

    Raises:
        ConfigurationError: `root` is not a folder.
    """
    if not root.is_dir():
        raise ConfigurationError(f"{root}: not a folder; pass the folder holding the articles")
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if any(part.startswith(".") for part in parts):
            continue
        if path.is_file() and path.suffix.lower() in ARTICLE_SUFFIXES:
            yield path
