"""Memory that learns: approved and edited translations become translation memory entries.

The memory is keyed on the protected source segment (with its `⟦n⟧` tokens), the language
pair and the glossary version, exactly as the pipeline looks it up; so the original is
protected here as the pipeline protects it (`_pipeline._protect`: the same content type,
glossary terms and PII masking), and the reviewer's final text is protected with the same
terms as they read in the target (a forced term's replacement, a kept term as written).

The pairing rule:

1. Both have the same number of segments and each pair of segments has the same protected
   spans (the source token's output equals the final token's text, as a multiset): one entry
   per segment pair, the final's tokens renumbered to the source's. These serve any later
   message that shares a sentence.
2. Otherwise one entry for the whole message: the source segments joined by a space against
   the final's. It serves a later message that is one segment (most chat replies); longer
   ones keep it for export (TMX, XLIFF) and glossary suggestions. Spans in the final that
   match no source token are kept as text (markup dropped); source tokens the reviewer
   removed stay missing, so a reply reusing the entry is flagged for `token_parity` again.

Nothing is learned from a rejection, from approving a draft no engine made (the original
kept after a failure), from a pair of one language (`en` → `en-GB`), or when the glossary
changed since the draft (its protection would no longer match).
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from tl_loop._glossary import Glossary
from tl_loop._models import Message
from tl_loop._pipeline import Parts, _protect
from tl_loop.engines._base import TOKEN_PATTERN
from tl_loop.review._items import UNKNOWN_LANGUAGE, ReviewItem, ReviewState
from tl_loop.stores._memory import MemoryEntry, MemoryOrigin
from tl_loop.text._protect import ProtectedDocument, ProtectedTerm, protect

__all__ = ["learn", "learned_entries", "pair_segments"]

log = logging.getLogger("tl_loop.review")


def _base(tag: str) -> str:
    return tag.split("-")[0]


def _final_terms(
    glossary: Glossary | None, source: str, target: str, forced: bool
) -> list[ProtectedTerm]:
    """The spans to protect in the final text: each glossary term as it reads in the target."""
    if glossary is None:
        return []
    return [
        ProtectedTerm(term.replacement or term.term, None, term.case_sensitive)
        for term in glossary.terms_for(source, target)
        if forced or term.replacement is None
    ]


def _segment_map(
    source: ProtectedDocument, source_index: int, final: ProtectedDocument, final_index: int
) -> dict[str, str] | None:
    """Final placeholder → source placeholder, when both segments protect the same spans."""
    wanted = [source.tokens[p].restored for p in source.segment_tokens(source_index)]
    found = [final.tokens[p].original for p in final.segment_tokens(final_index)]
    if Counter(wanted) != Counter(found):
        return None
    queues: dict[str, list[str]] = defaultdict(list)
    for placeholder in source.segment_tokens(source_index):
        queues[source.tokens[placeholder].restored].append(placeholder)
    return {p: queues[final.tokens[p].original].pop(0) for p in final.segment_tokens(final_index)}


def _renumber(text: str, mapping: dict[str, str], final: ProtectedDocument) -> str:
    def swap(match: re.Match[str]) -> str:
        placeholder = match.group(0)
        if placeholder in mapping:
            return mapping[placeholder]
        token = final.tokens.get(placeholder)
        if token is None or token.kind == "markup":
            return ""
        return token.original

    return TOKEN_PATTERN.sub(swap, text)


def pair_segments(source: ProtectedDocument, final: ProtectedDocument) -> list[tuple[str, str]]:
    """(protected source, protected target) pairs by the rule in the module docstring."""
    if not source.segments or not final.segments:
        return []
    if len(source.segments) == len(final.segments):
        maps = [_segment_map(source, i, final, i) for i in range(len(source.segments))]
        if all(m is not None for m in maps):
            return [
                (segment, _renumber(final.segments[i], maps[i] or {}, final))
                for i, segment in enumerate(source.segments)
            ]
    whole: dict[str, str] = {}
    available: dict[str, list[str]] = defaultdict(list)
    for placeholder, token in source.tokens.items():
        available[token.restored].append(placeholder)
    for placeholder, token in final.tokens.items():
        if available.get(token.original):
            whole[placeholder] = available[token.original].pop(0)
    target = " ".join(_renumber(segment, whole, final) for segment in final.segments)
    return [(" ".join(source.segments), target)]


def _skip_reason(item: ReviewItem, parts: Parts) -> str | None:
    if item.state not in (ReviewState.APPROVED, ReviewState.EDITED) or item.final is None:
        return "not approved or edited"
    if parts.memory is None:
        return "no translation memory is configured"
    if item.state == ReviewState.APPROVED and item.engine is None:
        return "the draft was not machine-translated"
    if item.source_language == UNKNOWN_LANGUAGE:
        return "the source language is unknown"
    if _base(item.source_language) == _base(item.target_language):
        return "source and target are one language"
    version = parts.glossary.version if parts.glossary else None
    if version != item.glossary_version:
        return f"the glossary changed since the draft ({item.glossary_version} → {version})"
    return None


def learned_entries(item: ReviewItem, parts: Parts) -> list[MemoryEntry]:
    """The memory entries a decided item teaches, protected as `parts` would protect them.

    Returns an empty list when nothing is to be learned (see the module docstring).
    """
    reason = _skip_reason(item, parts)
    if reason is not None:
        log.debug("review item %s: nothing learned: %s", item.id, reason)
        return []
    assert item.final is not None  # checked by _skip_reason
    source, target = item.source_language, item.target_language
    routes = parts.chain.routes(source, target)
    native = parts.glossary is not None and bool(routes) and routes[0].glossary
    message = Message(text=item.original, content_type=item.content_type)
    protected = _protect(parts, message, source, target, forced_terms=not native)
    final = protect(
        item.final,
        content_type=item.content_type,
        terms=_final_terms(parts.glossary, source, target, not native),
        mask_pii=not parts.chain.trusted,
    )
    origin: MemoryOrigin = "edited" if item.state == ReviewState.EDITED else "approved"
    return [
        MemoryEntry(
            source_text=source_text,
            target_text=target_text,
            source=source,
            target=target,
            glossary_version=item.glossary_version,
            origin=origin,
            author=item.decided_by,
            created_at=item.decided_at or item.created_at,
        )
        for source_text, target_text in pair_segments(protected, final)
        if target_text.strip()
    ]


def learn(item: ReviewItem, parts: Parts) -> Sequence[MemoryEntry]:
    """Put what `item` teaches into `parts.memory`; returns the entries stored.

    Storing is idempotent (the latest entry per key wins), so a retried job may call it again.
    """
    entries = learned_entries(item, parts)
    if entries and parts.memory is not None:
        parts.memory.put_many(entries)
        log.info("review item %s: %d memory entr(ies) learned", item.id, len(entries))
    return entries
