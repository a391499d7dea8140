"""Brand glossaries: load, validate, pick the terms for a language pair, check compliance.

Three file formats hold the same data (see docs/glossaries.md):

- TSV, DeepL-compatible: `source<TAB>target`, one language pair per file;
- CSV with a header row naming the languages, plus optional `dnt`, `case_sensitive`, `note`;
- TBX-Basic (ISO 30042), TBX v2 (`<martif>`) or v3 (`<tbx>`).

Reading and parsing the files lives in `_glossary_formats`; every problem raises
`GlossaryError` naming the file, the line and how to fix it. A `Glossary`
is immutable; its `version` hashes the normalised content so it can enter cache keys.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tl_loop._errors import ConfigurationError, GlossaryError
from tl_loop._glossary_entry import GlossaryEntry
from tl_loop._glossary_formats import (
    glossary_suffix,
    parse_csv,
    parse_tbx,
    parse_tsv,
    read_text,
    tsv_header,
    tsv_pair,
)
from tl_loop._models import normalize_tag
from tl_loop.text._fidelity import prose_only

__all__ = ["Glossary", "GlossaryEntry", "GlossaryTerm", "TermViolation"]

_WORD = re.compile(r"\w+")


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
        suffix = glossary_suffix(file, shown)
        text = read_text(file, shown)
        if suffix == ".csv":
            return cls.from_csv(text, path=shown)
        if suffix == ".tbx":
            return cls.from_tbx(text, path=shown)
        header = tsv_header(text)
        try:
            src, tgt = tsv_pair(file.name, source, target, shown)
        except GlossaryError:
            if not (header and header[0]):
                raise
            src, tgt = source or header[0], target or header[1]  # the header row names it
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
        items = parse_tsv(text, source=src, target=tgt, path=path)
        return cls._from_items(items, path=path, languages=(src,))

    @classmethod
    def from_csv(cls, text: str, *, path: str | None = None) -> Glossary:
        """Parse CSV whose header names language columns plus optional `dnt`, `case_sensitive`,
        `note` columns. Cells are trimmed; an empty cell means no term in that language.

        Raises:
            GlossaryError: bad header, wrong column count, bad yes/no value, invalid term, or a
                term repeated in one language; the message names the line.
        """
        return cls._from_items(parse_csv(text, path=path), path=path, languages=None)

    @classmethod
    def from_tbx(cls, text: str, *, path: str | None = None) -> Glossary:
        """Parse TBX-Basic: `<martif>` (TBX v2) or `<tbx>` (TBX v3), one entry per concept.

        DOCTYPE and ENTITY declarations are refused, so no entity can expand. In each language
        the first term not marked deprecated or superseded is used.

        Raises:
            GlossaryError: unsafe or malformed XML, a missing `xml:lang`, an invalid term or
                flag; the message names the line and the entry id.
        """
        return cls._from_items(parse_tbx(text, path=path), path=path, languages=None)

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
        uses `pt` terms when the entry has no `pt-BR` term), and a language finds a regional
        term (`en` → `es` uses `en-US` and `es-ES` terms from a TBX export). If two entries
        give the same source term, the first one wins.

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
        written (ignoring case unless case-sensitive). Text inside URLs, e-mail addresses,
        link targets, HTML tags and placeholders is ignored on both sides.

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
        # Terms inside URLs, e-mail addresses, link targets, tags and placeholders are not
        # prose: they stay as written on both sides and prove nothing either way.
        source_text, translated_text = prose_only(source_text), prose_only(translated_text)
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


def _lookup(terms: Mapping[str, str], tag: str) -> str | None:
    """The term for `tag`: exact, else its base language, else a regional term of the same
    language (`en` finds `en-US`, as terminology tools export them)."""
    found = terms.get(tag)
    if found is not None:
        return found
    base = tag.split("-", 1)[0]
    found = terms.get(base)
    if found is not None:
        return found
    return next((term for key, term in terms.items() if key.split("-", 1)[0] == base), None)


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


def _name_of(path: str | None) -> str:
    stem = Path(path).name.split(".", 1)[0] if path else ""
    return stem or "glossary"
