"""Brand glossaries: load, validate, pick the terms for a language pair, check compliance.

Three file formats hold the same data (see docs/glossaries.md):

- TSV, DeepL-compatible: `source<TAB>target`, one language pair per file;
- CSV with a header row naming the languages, plus optional `dnt`, `case_sensitive`, `note`;
- TBX-Basic (ISO 30042), TBX v2 (`<martif>`) or v3 (`<tbx>`).

Every problem raises `GlossaryError` naming the file, the line and how to fix it. A `Glossary`
is immutable; its `version` hashes the normalised content so it can enter cache keys.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from xml.parsers import expat

from tl_loop._errors import ConfigurationError, GlossaryError
from tl_loop._models import normalize_tag

__all__ = ["Glossary", "GlossaryEntry", "GlossaryTerm", "TermViolation"]

_MAX_TERM_BYTES = 1024  # DeepL's limit per source or target entry
_FORMATS = (".tsv", ".csv", ".tbx")
_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0", ""})
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_DNT_TYPES = frozenset({"doNotTranslate"})
_CASE_TYPES = frozenset({"caseSensitive"})
_STATUS_TYPES = frozenset({"administrativeStatus", "normativeAuthorization"})
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    """One concept of the glossary: its term in each language and how to treat it.

    Args:
        terms: BCP-47 tag → the term in that language; tags are normalised (`pt_br` → `pt-BR`).
        do_not_translate: keep the term as written (brand and product names).
        case_sensitive: match only this exact spelling; otherwise matching ignores case.
        note: free text for the people who maintain the glossary; ignored by the loop.

    Raises:
        GlossaryError: a tag is invalid, a term breaks DeepL's rules (empty, surrounding
            whitespace, control characters, over 1024 UTF-8 bytes), or a forced entry has a
            term in only one language.
    """

    terms: Mapping[str, str]
    do_not_translate: bool = False
    case_sensitive: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        normalised: dict[str, str] = {}
        for tag, term in self.terms.items():
            try:
                key = normalize_tag(tag)
            except ValueError as exc:
                raise GlossaryError(str(exc)) from None
            problem = _term_problem(term)
            if problem:
                raise GlossaryError(f"the {key} term {term!r} {problem}")
            normalised[key] = term
        if not normalised:
            raise GlossaryError("the entry has no terms; fill in at least one language")
        if len(normalised) == 1 and not self.do_not_translate:
            ((tag, term),) = normalised.items()
            raise GlossaryError(
                f"only the {tag} term {term!r} is given; add its translation in another"
                " language, or mark the entry do-not-translate"
            )
        object.__setattr__(self, "terms", MappingProxyType(normalised))

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.terms.items())), self.do_not_translate, self.case_sensitive))


@dataclass(frozen=True, slots=True)
class GlossaryTerm:
    """A term to protect or force in one direction: `replacement` None means do not translate."""

    term: str
    replacement: str | None
    case_sensitive: bool


@dataclass(frozen=True, slots=True)
class TermViolation:
    """A glossary term found in the source whose expected rendering is missing from the output."""

    source_term: str
    expected: str
    do_not_translate: bool = False

    @property
    def detail(self) -> str:
        """A sentence for a reviewer, used as the `glossary_violation` flag's detail."""
        if self.do_not_translate:
            return (
                f"{self.source_term!r} must stay untranslated but is missing from the translation"
            )
        return f"{self.source_term!r} should be translated as {self.expected!r}, which is missing"


class Glossary:
    """An immutable brand glossary. Safe to share between threads.

    Args:
        entries: the concepts, in file order (order decides only which of two entries giving
            the same source term wins).
        name: a short label for logs and the CLI.
        source_path: the file it came from, if any.
    """

    __slots__ = (
        "_entries",
        "_languages",
        "_name",
        "_scanners",
        "_source_path",
        "_terms_cache",
        "_version",
    )

    def __init__(
        self,
        entries: Iterable[GlossaryEntry],
        *,
        name: str = "glossary",
        source_path: str | None = None,
    ) -> None:
        self._entries = tuple(entries)
        self._name = name
        self._source_path = source_path
        self._languages = frozenset(tag for entry in self._entries for tag in entry.terms)
        self._version = _version_of(self._entries)
        # Filled on demand; a race computes the same value twice, which is harmless.
        self._terms_cache: dict[tuple[str, str], tuple[GlossaryTerm, ...]] = {}
        self._scanners: dict[tuple[str, str], _Scanner] = {}

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        source: str | None = None,
        target: str | None = None,
    ) -> Glossary:
        """Read a glossary file, choosing the format by its extension.

        Args:
            path: a `.tsv`, `.csv` or `.tbx` file, UTF-8 (a BOM is accepted).
            source: for TSV only: the source language; inferred from `name.en-es.tsv` if omitted.
            target: for TSV only: the target language; inferred like `source`.

        Raises:
            GlossaryError: the file is missing, unreadable, of an unknown type, or invalid.
        """
        file, shown = Path(path), os.fspath(path)
        suffix = file.suffix.lower()
        if suffix not in _FORMATS:
            raise GlossaryError(
                f"unknown glossary format {suffix or '(no extension)'!r}; supported:"
                " .tsv (DeepL, one pair), .csv (header row of language tags), .tbx (TBX-Basic)",
                path=shown,
            )
        text = _read_text(file, shown)
        if suffix == ".csv":
            return cls.from_csv(text, path=shown)
        if suffix == ".tbx":
            return cls.from_tbx(text, path=shown)
        src, tgt = _tsv_pair(file.name, source, target, shown)
        return cls.from_tsv(text, source=src, target=tgt, path=shown)

    @classmethod
    def from_tsv(cls, text: str, *, source: str, target: str, path: str | None = None) -> Glossary:
        """Parse DeepL TSV: `source<TAB>target` per line; a line with source == target is DNT.

        Blank lines and lines starting with `#` that contain no TAB are skipped (DeepL itself
        accepts neither). Source terms that differ only in case become case-sensitive.

        Raises:
            GlossaryError: a line breaks a DeepL rule; the message names the line.
            ConfigurationError: `source` or `target` is not a language tag.
        """
        src, tgt = _tag_argument(source), _tag_argument(target)
        if src == tgt:
            raise GlossaryError(f"source and target are both {src!r}; use two languages", path=path)
        rows = list(_tsv_rows(text, path))
        folded = Counter(row[1].casefold() for row in rows)
        items = [
            (
                _entry({src: s, tgt: t}, s == t, folded[s.casefold()] > 1, "", path, number),
                number,
            )
            for number, s, t in rows
        ]
        return cls._from_items(items, path=path, languages=(src,))

    @classmethod
    def from_csv(cls, text: str, *, path: str | None = None) -> Glossary:
        """Parse CSV whose header names language columns plus optional `dnt`, `case_sensitive`,
        `note` columns. Cells are trimmed; an empty cell means no term in that language.

        Raises:
            GlossaryError: bad header, wrong column count, bad yes/no value, invalid term, or a
                term repeated in one language; the message names the line.
        """
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header: _Header | None = None
        items: list[tuple[GlossaryEntry, int]] = []
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
            raise GlossaryError(
                "the file is empty; add a header row such as 'en,es,dnt'", path=path
            )
        return cls._from_items(items, path=path, languages=None)

    @classmethod
    def from_tbx(cls, text: str, *, path: str | None = None) -> Glossary:
        """Parse TBX-Basic: `<martif>` (TBX v2) or `<tbx>` (TBX v3), one entry per concept.

        DOCTYPE and ENTITY declarations are refused, so no entity can expand. In each language
        the first term not marked deprecated or superseded is used.

        Raises:
            GlossaryError: unsafe or malformed XML, a missing `xml:lang`, an invalid term or
                flag; the message names the line and the entry id.
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
        items = [(_tbx_entry(node, path), node.line) for node in nodes]
        return cls._from_items(items, path=path, languages=None)

    @classmethod
    def _from_items(
        cls,
        items: Sequence[tuple[GlossaryEntry, int]],
        *,
        path: str | None,
        languages: Iterable[str] | None,
    ) -> Glossary:
        if not items:
            raise GlossaryError("the glossary has no entries; add at least one term", path=path)
        _check_duplicates(items, path, None if languages is None else frozenset(languages))
        return cls((entry for entry, _ in items), name=_name_of(path), source_path=path)

    @property
    def entries(self) -> tuple[GlossaryEntry, ...]:
        """The entries, in file order."""
        return self._entries

    @property
    def version(self) -> str:
        """A 16-hex-digit hash of the terms and flags (not notes, order, name or format)."""
        return self._version

    @property
    def languages(self) -> frozenset[str]:
        """Every language tag with at least one term."""
        return self._languages

    @property
    def name(self) -> str:
        """A short label: the file name before its first dot, or `glossary`."""
        return self._name

    @property
    def source_path(self) -> str | None:
        """The file the glossary was loaded from, if any."""
        return self._source_path

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        langs = ",".join(sorted(self._languages))
        return f"<Glossary {self._name!r} entries={len(self)} languages={langs} v={self._version}>"

    def terms_for(self, source: str, target: str) -> tuple[GlossaryTerm, ...]:
        """The terms to protect or force when translating `source` → `target`, longest first.

        Do-not-translate entries give their `source` spelling (every spelling if they have none
        in `source`) with `replacement=None`. Forced entries with a term on both sides give
        `replacement=<target term>`. A regional tag falls back to its base language (`pt-BR`
        uses `pt` terms when the entry has no `pt-BR` term). If two entries give the same source
        term, the first one wins.

        Raises:
            ConfigurationError: `source` or `target` is not a language tag.
        """
        key = (_tag_argument(source), _tag_argument(target))
        cached = self._terms_cache.get(key)
        if cached is None:
            cached = self._compute_terms(*key)
            self._terms_cache[key] = cached
        return cached

    def _compute_terms(self, source: str, target: str) -> tuple[GlossaryTerm, ...]:
        seen: set[tuple[str, bool]] = set()
        terms: list[GlossaryTerm] = []
        for entry, term, replacement in self._pairs(source, target):
            key = (term if entry.case_sensitive else term.casefold(), entry.case_sensitive)
            if key not in seen:
                seen.add(key)
                terms.append(GlossaryTerm(term, replacement, entry.case_sensitive))
        return tuple(sorted(terms, key=lambda t: (-len(t.term), t.term)))

    def _pairs(self, source: str, target: str) -> Iterator[tuple[GlossaryEntry, str, str | None]]:
        for entry in self._entries:
            term = _lookup(entry.terms, source)
            if entry.do_not_translate:
                spellings = (
                    [term] if term is not None else list(dict.fromkeys(entry.terms.values()))
                )
                yield from ((entry, spelling, None) for spelling in spellings)
            elif term is not None and (replacement := _lookup(entry.terms, target)) is not None:
                yield entry, term, replacement

    def check(
        self, source_text: str, translated_text: str, *, source: str, target: str
    ) -> tuple[TermViolation, ...]:
        """Find glossary terms in `source_text` whose expected rendering is absent from the output.

        Terms match as whole words under their case rule, scanning left to right and preferring
        the longest term at each position, so `support ticket` hides the `ticket` inside it. A
        forced term passes if its target term appears with up to three extra letters on each
        word (plural and gender endings: `reembolsos`); a do-not-translate term must appear as
        written (ignoring case unless case-sensitive).

        Returns:
            One `TermViolation` per missing term, in order of first appearance in the source.

        Raises:
            ConfigurationError: `source` or `target` is not a language tag.
        """
        key = (_tag_argument(source), _tag_argument(target))
        terms = self.terms_for(*key)
        scanner = self._scanners.get(key)
        if scanner is None:
            scanner = self._scanners[key] = _Scanner(terms)
        violations: list[TermViolation] = []
        for term in scanner.find(source_text):
            dnt = term.replacement is None
            expected = term.replacement or term.term
            wanted = re.compile(_pattern(expected, inflected=not dnt), _flags(term.case_sensitive))
            if not wanted.search(translated_text):
                violations.append(TermViolation(term.term, expected, do_not_translate=dnt))
        return tuple(violations)

    def to_tsv(self, source: str, target: str) -> str:
        """Export the `source` → `target` pairs as DeepL TSV (DNT terms map to themselves).

        Raises:
            ConfigurationError: `source` or `target` is not a language tag.
        """
        lines: dict[str, str] = {}
        for _, term, replacement in self._pairs(_tag_argument(source), _tag_argument(target)):
            lines.setdefault(term, replacement or term)
        return "".join(f"{term}\t{replacement}\n" for term, replacement in lines.items())


# --- terms, tags, hashing -------------------------------------------------------------------


def _term_problem(term: object) -> str | None:
    """Say what breaks DeepL's term rules (deepl-python `validate_glossary_term`), or None."""
    if not isinstance(term, str):
        return f"is a {type(term).__name__}, not text"
    if not term:
        return "is empty"
    if term != term.strip():
        return "has leading or trailing whitespace; remove it"
    bad = next((c for c in term if ord(c) < 32 or 127 <= ord(c) <= 159 or c in "\u2028\u2029"), "")
    if bad:
        return f"contains the control character U+{ord(bad):04X}; remove it"
    size = len(term.encode("utf-8"))
    if size > _MAX_TERM_BYTES:
        return f"is {size} UTF-8 bytes long; DeepL allows at most {_MAX_TERM_BYTES}"
    return None


def _entry(
    terms: Mapping[str, str], dnt: bool, case: bool, note: str, path: str | None, line: int
) -> GlossaryEntry:
    """Build an entry, giving any error the file and line."""
    try:
        return GlossaryEntry(terms, do_not_translate=dnt, case_sensitive=case, note=note)
    except GlossaryError as exc:
        raise GlossaryError(exc.problem, path=path, line=line) from None


def _lookup(terms: Mapping[str, str], tag: str) -> str | None:
    found = terms.get(tag)
    return found if found is not None else terms.get(tag.split("-", 1)[0])


def _tag_argument(tag: str) -> str:
    try:
        return normalize_tag(tag)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


def _version_of(entries: Sequence[GlossaryEntry]) -> str:
    canonical = sorted(
        json.dumps(
            [sorted(e.terms.items()), e.do_not_translate, e.case_sensitive], ensure_ascii=False
        )
        for e in entries
    )
    payload = "\n".join(["tl_loop-glossary/1", *canonical]).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()[:16]


def _pattern(term: str, *, inflected: bool) -> str:
    """A whole-word pattern; runs of whitespace inside the term match any whitespace."""
    suffix = r"\w{0,3}" if inflected else ""
    words = [re.escape(w) + (suffix if w[-1].isalnum() else "") for w in term.split()]
    return r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"


def _flags(case_sensitive: bool) -> re.RegexFlag:
    return re.NOFLAG if case_sensitive else re.IGNORECASE


class _Scanner:
    """Finds terms in a text in one pass, whatever the glossary size.

    Terms are indexed by their first word (case-folded); at each word of the text only the
    terms starting with that word are tried, longest first, so the longest wins at a position.
    """

    __slots__ = ("_index", "_loose")

    def __init__(self, terms: Sequence[GlossaryTerm]) -> None:
        self._index: dict[str, list[tuple[int, re.Pattern[str], GlossaryTerm]]] = {}
        self._loose: list[tuple[re.Pattern[str], GlossaryTerm]] = []  # terms without a letter
        for term in terms:  # already longest first
            pattern = re.compile(_pattern(term.term, inflected=False), _flags(term.case_sensitive))
            first = _WORD.search(term.term)
            if first is None:
                self._loose.append((pattern, term))
            else:
                entry = (first.start(), pattern, term)
                self._index.setdefault(first.group().casefold(), []).append(entry)

    def find(self, text: str) -> list[GlossaryTerm]:
        """The distinct terms found in `text`, in order of first appearance."""
        found: dict[GlossaryTerm, int] = {}
        cursor = 0
        for word in _WORD.finditer(text):
            for offset, pattern, term in self._index.get(word.group().casefold(), ()):
                start = word.start() - offset
                match = pattern.match(text, start) if start >= cursor else None
                if match:
                    found.setdefault(term, start)
                    cursor = match.end()
                    break
        for pattern, term in self._loose:
            if match := pattern.search(text):
                found.setdefault(term, match.start())
        return sorted(found, key=found.__getitem__)


def _check_duplicates(
    items: Sequence[tuple[GlossaryEntry, int]], path: str | None, only: frozenset[str] | None
) -> None:
    """Refuse a term repeated in one language: which translation would apply is ambiguous."""
    seen: dict[tuple[str, str], list[tuple[str, bool, int]]] = {}
    for entry, line in items:
        for tag, term in entry.terms.items():
            if only is not None and tag not in only:
                continue
            group = seen.setdefault((tag, term.casefold()), [])
            for other, other_case, other_line in group:
                if other == term or not (entry.case_sensitive and other_case):
                    hint = "" if other == term else " (or mark both entries case-sensitive)"
                    raise GlossaryError(
                        f"the {tag} term {term!r} is already defined on line {other_line}"
                        f" as {other!r}; give each term once per language{hint}",
                        path=path,
                        line=line,
                    )
            group.append((term, entry.case_sensitive, line))


# --- files ----------------------------------------------------------------------------------


def _read_text(file: Path, shown: str) -> str:
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


def _name_of(path: str | None) -> str:
    stem = Path(path).name.split(".", 1)[0] if path else ""
    return stem or "glossary"


def _tsv_pair(filename: str, source: str | None, target: str | None, shown: str) -> tuple[str, str]:
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
    return _entry(terms, flag("dnt", "dnt"), flag("case", "case_sensitive"), note, path, line)


def _yes_no(value: str, column: str, path: str | None, line: int) -> bool:
    word = value.strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise GlossaryError(
        f"{column} must be yes or no (also true/false, 1/0), got {value!r}", path=path, line=line
    )


# --- TBX ------------------------------------------------------------------------------------


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
    parser.StartDoctypeDeclHandler = lambda *_args: refuse("DOCTYPE")
    parser.EntityDeclHandler = lambda *_args: refuse("ENTITY")
    try:
        parser.Parse(text, True)
    except _UnsafeXML as exc:
        raise GlossaryError(
            f"{exc.what} declarations are not allowed in a glossary (entities can expand without"
            " limit); remove the <!DOCTYPE ...> block, TBX needs none",
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
