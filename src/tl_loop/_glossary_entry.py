"""`GlossaryEntry` and DeepL's term rules, shared by the glossary model and its file parsers.

A module of its own so that `_glossary_formats` can build entries without importing
`_glossary`, which imports the parsers (that would be an import cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tl_loop._errors import GlossaryError
from tl_loop._models import normalize_tag

__all__ = ["GlossaryEntry", "entry_at"]

_MAX_TERM_BYTES = 1024  # DeepL's limit per source or target entry


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


def entry_at(
    terms: Mapping[str, str], dnt: bool, case: bool, note: str, path: str | None, line: int
) -> GlossaryEntry:
    """Build an entry, giving any error the file and line."""
    try:
        return GlossaryEntry(terms, do_not_translate=dnt, case_sensitive=case, note=note)
    except GlossaryError as exc:
        raise GlossaryError(exc.problem, path=path, line=line) from None
