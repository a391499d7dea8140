"""Glossary files: read them and parse the three formats into entries with their line numbers.

- TSV, DeepL-compatible: `source<TAB>target`, one language pair per file;
- CSV with a header row naming the languages, plus optional `dnt`, `case_sensitive`, `note`;
- TBX-Basic (ISO 30042), TBX v2 (`<martif>`) or v3 (`<tbx>`), read with expat and no DTD.

Each parser returns `(entry, line)` pairs; `Glossary` checks duplicates and builds itself from
them. Every problem raises `GlossaryError` naming the file, the line and how to fix it.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from tl_loop._errors import GlossaryError
from tl_loop._glossary_entry import GlossaryEntry, entry_at
from tl_loop._models import normalize_tag

__all__ = [
    "EntryLines",
    "glossary_suffix",
    "parse_csv",
    "parse_tbx",
    "parse_tsv",
    "read_text",
    "tsv_header",
    "tsv_pair",
]

EntryLines = list[tuple[GlossaryEntry, int]]
"""Entries in file order, each with the line it starts on."""

_FORMATS = (".tsv", ".csv", ".tbx")
_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0", ""})
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_DNT_TYPES = frozenset({"doNotTranslate"})
_CASE_TYPES = frozenset({"caseSensitive"})
_STATUS_TYPES = frozenset({"administrativeStatus", "normativeAuthorization"})


# --- files ----------------------------------------------------------------------------------


def glossary_suffix(file: Path, shown: str) -> str:
    """The lower-cased extension of a glossary file, which decides its format.

    Raises:
        GlossaryError: the extension is not `.tsv`, `.csv` or `.tbx`.
    """
    suffix = file.suffix.lower()
    if suffix not in _FORMATS:
        raise GlossaryError(
            f"unknown glossary format {suffix or '(no extension)'!r}; supported:"
            " .tsv (DeepL, one pair), .csv (header row of language tags), .tbx (TBX-Basic)",
            path=shown,
        )
    return suffix


def read_text(file: Path, shown: str) -> str:
    """The file decoded as UTF-8 (a BOM is dropped).

    Raises:
        GlossaryError: the file is missing, unreadable or not UTF-8.
    """
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise GlossaryError(
            f"file not found (looked in {file.resolve().parent}); check the path", path=shown
        ) from None
    except OSError as exc:
        raise GlossaryError(f"cannot read the file: {exc.strerror}", path=shown) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise GlossaryError(
            f"byte {data[exc.start]:#04x} is not UTF-8; save the file as UTF-8",
            path=shown,
            line=line,
        ) from None


def tsv_pair(filename: str, source: str | None, target: str | None, shown: str) -> tuple[str, str]:
    """Take the pair from the arguments, else from a name like `acme.en-es.tsv`."""
    parts = filename.split(".")
    inferred = _split_pair(parts[-2]) if len(parts) >= 3 else None
    src = source or (inferred[0] if inferred else None)
    tgt = target or (inferred[1] if inferred else None)
    if src is None or tgt is None:
        raise GlossaryError(
            "a TSV glossary holds one language pair but the file name does not say which;"
            " pass source= and target=, or name the file like acme.en-es.tsv",
            path=shown,
        )
    return src, tgt


def _split_pair(text: str) -> tuple[str, str] | None:
    """`en-es` → (en, es); `en-GB-pt-BR` → (en-GB, pt-BR): a lowercase subtag starts a language."""
    subtags = re.split(r"[-_]", text)
    for cut in range(1, len(subtags)):
        if re.fullmatch(r"[a-z]{2,3}", subtags[cut]):
            left, right = "-".join(subtags[:cut]), "-".join(subtags[cut:])
            try:
                return normalize_tag(left), normalize_tag(right)
            except ValueError:
                return None
    return None


# --- TSV and CSV ----------------------------------------------------------------------------


_HEADER_WORDS = frozenset({"source", "target", "term", "translation", "source term"})


def tsv_header(text: str) -> tuple[str, str] | None:
    """The pair a TSV's header row names (`en<TAB>es`), or None when the first row is a term.

    A first row whose two cells are both language tags, or both column names such as
    `source<TAB>target`, is a header: reading it as a term would rewrite "es" as "en".
    For column names the pair is unknown: ("", "").
    """
    first = next(_tsv_rows(text, None), None)
    if first is None:
        return None
    cells = (first[1].strip(), first[2].strip())
    if all(cell.casefold() in _HEADER_WORDS for cell in cells):
        return "", ""
    try:
        src, tgt = normalize_tag(cells[0]), normalize_tag(cells[1])
    except ValueError:
        return None
    # a tag must look like one as written: two or three letters, then subtags
    written = all(re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*", c) for c in cells)
    return (src, tgt) if written and src != tgt else None


def parse_tsv(text: str, *, source: str, target: str, path: str | None) -> EntryLines:
    """DeepL TSV rows as entries; `source` and `target` are already normalised tags.

    A row with source == target is do-not-translate; source terms that differ only in case
    become case-sensitive. A header row (`en<TAB>es`, `source<TAB>target`) is skipped.

    Raises:
        GlossaryError: a line breaks a DeepL rule, or the header names another pair; the
            message names the line.
    """
    rows = list(_tsv_rows(text, path))
    header = tsv_header(text)
    if header is not None and rows:
        number = rows[0][0]
        if header != ("", "") and not _same_pair(header, (source, target)):
            raise GlossaryError(
                f"the header row names {header[0]} → {header[1]} but the glossary is read as"
                f" {source} → {target}; pass source= and target= (or rename the file) to match",
                path=path,
                line=number,
            )
        rows = rows[1:]
    folded = Counter(row[1].casefold() for row in rows)
    return [
        (
            entry_at({source: s, target: t}, s == t, folded[s.casefold()] > 1, "", path, number),
            number,
        )
        for number, s, t in rows
    ]


def _same_pair(one: tuple[str, str], other: tuple[str, str]) -> bool:
    """`en-US → es-ES` and `en → es` are the same pair: compare base languages."""
    return all(a.split("-")[0] == b.split("-")[0] for a, b in zip(one, other, strict=True))


def parse_csv(text: str, *, path: str | None) -> EntryLines:
    """CSV rows under a header of language tags and optional `dnt`, `case_sensitive`, `note`.

    Raises:
        GlossaryError: empty file, bad header, wrong column count, bad yes/no value or invalid
            term; the message names the line.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: _Header | None = None
    items: EntryLines = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = _csv_header(row, path, reader.line_num)
            else:
                items.append((_csv_entry(row, header, path, reader.line_num), reader.line_num))
    except csv.Error as exc:
        raise GlossaryError(
            f"malformed CSV ({exc}); quote cells that hold commas, quotes or line breaks",
            path=path,
            line=reader.line_num,
        ) from None
    if header is None:
        raise GlossaryError("the file is empty; add a header row such as 'en,es,dnt'", path=path)
    return items


def _tsv_rows(text: str, path: str | None) -> Iterator[tuple[int, str, str]]:
    # split("\n"), not splitlines(): splitlines also breaks on U+2028 and control characters,
    # which must be reported as bad characters on the right line, not as new lines.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not line.strip() or (line.startswith("#") and "\t" not in line):
            continue
        columns = line.split("\t")
        if len(columns) != 2:
            hint = " (no TAB found; use a TAB, not spaces)" if len(columns) == 1 else ""
            raise GlossaryError(
                f"expected 2 tab-separated columns (source, target), got {len(columns)}{hint};"
                " DeepL glossaries use one TAB between source and target",
                path=path,
                line=number,
            )
        yield number, columns[0], columns[1]


@dataclass(frozen=True, slots=True)
class _Header:
    width: int
    languages: tuple[tuple[int, str], ...]
    options: Mapping[str, int] = field(default_factory=dict)


_OPTIONS = {"dnt": "dnt", "do_not_translate": "dnt", "case_sensitive": "case", "note": "note"}


def _csv_header(row: list[str], path: str | None, line: int) -> _Header:
    languages: list[tuple[int, str]] = []
    options: dict[str, int] = {}
    names: set[str] = set()
    for index, cell in enumerate(row):
        name = cell.strip()
        option = _OPTIONS.get(name.lower().replace("-", "_"))
        try:
            key = option or normalize_tag(name)
        except ValueError:
            raise GlossaryError(
                f"column {index + 1} header {name!r} is neither a language tag (like 'en' or"
                " 'pt-BR') nor one of dnt, case_sensitive, note",
                path=path,
                line=line,
            ) from None
        if key in names:
            raise GlossaryError(
                f"column {name!r} appears twice in the header", path=path, line=line
            )
        names.add(key)
        if option:
            options[option] = index
        else:
            languages.append((index, key))
    if not languages:
        raise GlossaryError(
            "the header names no language column; start the file with a row like 'en,es,fr'",
            path=path,
            line=line,
        )
    return _Header(len(row), tuple(languages), options)


def _csv_entry(row: list[str], header: _Header, path: str | None, line: int) -> GlossaryEntry:
    if len(row) != header.width:
        raise GlossaryError(
            f"expected {header.width} columns as in the header, got {len(row)};"
            " quote cells that contain commas",
            path=path,
            line=line,
        )

    def flag(option: str, column: str) -> bool:
        index = header.options.get(option)
        return False if index is None else _yes_no(row[index], column, path, line)

    terms = {tag: row[i].strip() for i, tag in header.languages if row[i].strip()}
    note_index = header.options.get("note")
    note = row[note_index].strip() if note_index is not None else ""
    return entry_at(terms, flag("dnt", "dnt"), flag("case", "case_sensitive"), note, path, line)


def _yes_no(value: str, column: str, path: str | None, line: int) -> bool:
    word = value.strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise GlossaryError(
        f"{column} must be yes or no (also true/false, 1/0), got {value!r}", path=path, line=line
    )


# --- TBX ------------------------------------------------------------------------------------


def parse_tbx(text: str, *, path: str | None) -> EntryLines:
    """TBX-Basic concepts (`termEntry` or `conceptEntry`) as entries.

    Raises:
        GlossaryError: unsafe or malformed XML, a root other than `<martif>`/`<tbx>`, a missing
            `xml:lang`, an invalid term or flag; the message names the line and the entry id.
    """
    root = _parse_xml(text, path)
    if root.tag not in ("martif", "tbx"):
        raise GlossaryError(
            f"not a TBX file: the root element is <{root.tag}>, expected <martif> (TBX v2)"
            " or <tbx> (TBX v3)",
            path=path,
            line=root.line,
        )
    nodes = list(_descendants(root, {"termEntry", "conceptEntry"}))
    return [(_tbx_entry(node, path), node.line) for node in nodes]


@dataclass(slots=True)
class _Node:
    """An XML element with the line it starts on (ElementTree does not keep line numbers)."""

    tag: str
    attrs: dict[str, str]
    line: int
    content: list[str | _Node] = field(default_factory=list)

    @property
    def children(self) -> list[_Node]:
        return [c for c in self.content if isinstance(c, _Node)]

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.content)


class _UnsafeXML(Exception):
    def __init__(self, what: str, line: int) -> None:
        super().__init__(what)
        self.what = what
        self.line = line


def _local(name: str) -> str:
    namespace, _, local = name.rpartition(" ")
    return f"xml:{local}" if namespace == _XML_NS else local


def _parse_xml(text: str, path: str | None) -> _Node:
    """Parse with expat directly: line numbers per element, and no DTD, so no entity bombs."""
    parser = expat.ParserCreate(encoding="UTF-8", namespace_separator=" ")
    roots: list[_Node] = []
    stack: list[_Node] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        node = _Node(
            _local(name), {_local(k): v for k, v in attrs.items()}, parser.CurrentLineNumber
        )
        (stack[-1].content if stack else roots).append(node)
        stack.append(node)

    def refuse(what: str) -> None:
        raise _UnsafeXML(what, parser.CurrentLineNumber)

    def end(_name: str) -> None:
        stack.pop()

    def characters(data: str) -> None:
        if stack:  # text outside the root element is only whitespace
            stack[-1].content.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    # TBX-Basic exports name their DTD (<!DOCTYPE martif SYSTEM "TBXBasiccoreStructV02.dtd">):
    # expat never fetches it. Declarations of the file's own (an internal subset) are refused.
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = lambda _name, _system, _public, internal: (
        refuse("DOCTYPE") if internal else None
    )
    parser.EntityDeclHandler = lambda *_args: refuse("ENTITY")
    try:
        parser.Parse(text, True)
    except _UnsafeXML as exc:
        raise GlossaryError(
            f"{exc.what} declarations are not allowed in a glossary (entities can expand without"
            " limit); remove the [...] declarations inside <!DOCTYPE ...>, TBX needs none",
            path=path,
            line=exc.line,
        ) from None
    except expat.ExpatError as exc:
        raise GlossaryError(
            f"not well-formed XML: {expat.ErrorString(exc.code)} (column {exc.offset + 1})",
            path=path,
            line=exc.lineno,
        ) from None
    return roots[0]


def _descendants(node: _Node, tags: set[str]) -> Iterator[_Node]:
    for child in node.children:
        if child.tag in tags:
            yield child
        else:
            yield from _descendants(child, tags)


def _tbx_entry(node: _Node, path: str | None) -> GlossaryEntry:
    label = f"entry {node.attrs['id']!r}" if "id" in node.attrs else f"<{node.tag}>"
    dnt = case = False
    for descrip in _descendants(node, {"descrip", "termNote", "admin"}):
        kind = descrip.attrs.get("type", "")
        if kind in _DNT_TYPES or kind in _CASE_TYPES:
            value = _yes_no(descrip.text(), f"{label}: {kind}", path, descrip.line)
            dnt, case = (value, case) if kind in _DNT_TYPES else (dnt, value)
    notes = [c.text().strip() for c in node.children if c.tag == "note" or _is_definition(c)]
    terms: dict[str, str] = {}
    for lang_set in (c for c in node.children if c.tag in ("langSet", "langSec")):
        tag = lang_set.attrs.get("xml:lang")
        if not tag:
            raise GlossaryError(
                f'{label}: <{lang_set.tag}> has no xml:lang; add one like xml:lang="en"',
                path=path,
                line=lang_set.line,
            )
        term = _preferred_term(lang_set)
        if term is not None:
            terms.setdefault(tag, term)
    try:
        return GlossaryEntry(
            terms, do_not_translate=dnt, case_sensitive=case, note="\n".join(notes)
        )
    except GlossaryError as exc:
        raise GlossaryError(f"{label}: {exc.problem}", path=path, line=node.line) from None


def _is_definition(node: _Node) -> bool:
    return node.tag == "descrip" and node.attrs.get("type") == "definition"


def _preferred_term(lang_set: _Node) -> str | None:
    """The first term not marked deprecated or superseded, whitespace collapsed."""
    for holder in _descendants(lang_set, {"tig", "termSec", "ntig"}):
        statuses = (
            n.text()
            for n in _descendants(holder, {"termNote"})
            if n.attrs.get("type") in _STATUS_TYPES
        )
        if any("deprecated" in s or "superseded" in s for s in statuses):
            continue
        for term in _descendants(holder, {"term"}):
            return " ".join(term.text().split())
    return None
