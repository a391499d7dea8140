"""Segments as a knowledge-base job sees them: protected like the pipeline, numbered locally.

`protect` numbers tokens across a document, so the same boilerplate sentence carries `⟦7⟧` in
one article and `⟦2⟧` in another. A job renumbers each segment's tokens from `⟦0⟧` in order of
appearance before looking it up or sending it, so a repeated sentence is one key however its
article is built, and is translated once; `denormalize` maps the tokens back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tl_loop._cache import cache_key
from tl_loop._models import ContentType
from tl_loop._pipeline import Parts
from tl_loop.engines._base import TOKEN_PATTERN, TranslateOptions
from tl_loop.text._protect import ProtectedDocument, ProtectedTerm, protect

__all__ = ["PairKeys", "denormalize", "normalize", "protect_field", "translate_options"]

_INVENTED = (
    1_000_000  # an engine's invented token maps far past any real one: flagged, not restored
)
_LOCAL = re.compile(r"⟦(\d+)⟧")


def normalize(segment: str) -> tuple[str, tuple[str, ...]]:
    """Renumber the tokens of `segment` from ⟦0⟧; return it and the original placeholders."""
    order: dict[str, int] = {}

    def local(match: re.Match[str]) -> str:
        placeholder = match.group(0)
        if placeholder not in order:
            order[placeholder] = len(order)
        return f"⟦{order[placeholder]}⟧"

    return TOKEN_PATTERN.sub(local, segment), tuple(order)


def denormalize(text: str, placeholders: Sequence[str]) -> str:
    """Put a segment's own placeholders back into the translation of its normalised form."""

    def document(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return placeholders[index] if index < len(placeholders) else f"⟦{_INVENTED + index}⟧"

    return _LOCAL.sub(document, text)


def protect_field(
    parts: Parts, text: str, content_type: ContentType, *, source: str, target: str
) -> ProtectedDocument:
    """Protect a field exactly as the pipeline's `translate_flow` will, so segments match."""
    routes = parts.chain.routes(source, target)
    native_glossary = parts.glossary is not None and bool(routes) and routes[0].glossary
    terms: tuple[ProtectedTerm, ...] = ()
    if parts.glossary is not None:
        terms = tuple(
            ProtectedTerm(term.term, term.replacement, term.case_sensitive)
            for term in parts.glossary.terms_for(source, target)
            if not native_glossary or term.replacement is None
        )
    return protect(text, content_type=content_type, terms=terms, mask_pii=not parts.chain.trusted)


def translate_options(parts: Parts, source: str, target: str) -> TranslateOptions:
    """The options the pipeline would pass the engines for this pair."""
    routes = parts.chain.routes(source, target)
    native_glossary = parts.glossary is not None and bool(routes) and routes[0].glossary
    return TranslateOptions(
        formality=parts.formality, glossary=parts.glossary if native_glossary else None
    )


@dataclass(frozen=True, slots=True)
class PairKeys:
    """Builds the keys of one language pair's segments, like the cache's keys.

    The content type is left out (always `text`): the engine sees the same protected segment
    whether it came from HTML, Markdown or a macro, so they share translations.
    """

    engine: str
    engine_version: str
    source: str
    target: str
    formality: str | None
    glossary_version: str | None

    @classmethod
    def for_pair(cls, parts: Parts, *, source: str, target: str) -> PairKeys:
        """The keys the pair's preferred route gives its segments."""
        routes = parts.chain.routes(source, target)
        identity, version = (routes[0].identity, routes[0].engine_version) if routes else ("", "")
        glossary_version = parts.glossary.version if parts.glossary else None
        return cls(identity, version, source, target, parts.formality, glossary_version)

    def key(self, normalized: str) -> str:
        """The key of one normalised segment's machine translation."""
        return cache_key(
            engine=self.engine,
            engine_version=self.engine_version,
            source=self.source,
            target=self.target,
            content_type="text",
            formality=self.formality,
            glossary_version=self.glossary_version,
            text=normalized,
        )
