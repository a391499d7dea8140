"""The pipeline, written once: language, protect, reuse, translate, restore, check, decide, record.

It does no I/O of its own. Each flow is a generator in the style of httpx's `Auth.auth_flow`: it
yields an `EngineCall` when it needs engines, and the shell (`Loop` or `AsyncLoop`) answers with
the `ChainResult`, or throws the engine error into it. So the same code runs under both shells
and is tested without an engine at all.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tl_loop import _policy as review
from tl_loop._back_translation import RoundTripCheck, flags_for
from tl_loop._cache import CacheStore, cache_key
from tl_loop._errors import ConfigurationError, ServiceError, UnsupportedLanguageError
from tl_loop._glossary import Glossary
from tl_loop._hints import HintRules, check_hints, hint_flags
from tl_loop._models import (
    AuditRecord,
    BackTranslation,
    ContentType,
    Conversation,
    Decision,
    Detection,
    Direction,
    Message,
    ReviewFlag,
    Severity,
    Translation,
    primary_language,
    same_language,
)
from tl_loop.engines._base import (
    DOUBT,
    NO_OPTIONS,
    TOKEN_PATTERN,
    SegmentResult,
    TranslateOptions,
)
from tl_loop.engines._chain import ChainResult, EngineChain, Route
from tl_loop.stores._memory import TranslationMemory, memory_key
from tl_loop.text._fidelity import identifiers, missing_identifiers
from tl_loop.text._language import LanguageDetector, StickyPolicy, choose_customer_language
from tl_loop.text._protect import ProtectedDocument, ProtectedTerm, protect
from tl_loop.text._protection import Protection

__all__ = [
    "EngineCall",
    "Flow",
    "Outcome",
    "Parts",
    "inbound_flow",
    "outbound_flow",
    "translate_flow",
    "uncertain_detection",
]

_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class EngineCall:
    """What the pipeline asks the shell to translate."""

    segments: tuple[str, ...]
    source: str
    target: str
    options: TranslateOptions = NO_OPTIONS


@dataclass(frozen=True, slots=True)
class Outcome:
    """A flow's result: the translation, and the conversation fields to update."""

    translation: Translation
    conversation_update: dict[str, Any] = field(default_factory=dict)


Flow = Generator[EngineCall, ChainResult, Outcome]


@dataclass(frozen=True, slots=True)
class Parts:
    """Everything the pipeline works with; owned by the loop shells."""

    chain: EngineChain
    detector: LanguageDetector
    cache: CacheStore[SegmentResult]
    glossary: Glossary | None = None
    policy: review.ReviewPolicy = field(default_factory=review.ReviewPolicy)
    sticky: StickyPolicy = field(default_factory=StickyPolicy)
    formality: Literal["formal", "informal"] | None = None
    memory: TranslationMemory | None = None
    policy_rules: tuple[review.PolicyRule, ...] = ()
    round_trip: RoundTripCheck | None = None
    hints: HintRules | None = None
    protection: Protection | None = None

    def policy_for(self, message: Message, customer_language: str | None) -> review.ReviewPolicy:
        """The review policy for this message's channel and the customer's language."""
        return review.select_policy(
            self.policy, self.policy_rules, channel=message.channel, language=customer_language
        )


def uncertain_detection(detection: Detection, source: str | None = None) -> ReviewFlag:
    """The flag saying a detection was below the confidence the sticky policy trusts."""
    return review.flag(
        "low_confidence_detection",
        Severity.INFO,
        f"detected {detection.language} at {detection.confidence:.0%}; "
        f"translated from {source or detection.language}",
    )


def _detectable(message: Message) -> str:
    # Markup and URLs say nothing about the language a person wrote in.
    return _TAG.sub(" ", message.text) if message.content_type == "html" else message.text


def inbound_flow(parts: Parts, message: Message, conversation: Conversation) -> Flow:
    """Customer → agent: detect (sticky), translate to the agent's language unless they read it."""
    started = time.perf_counter()
    detection: Detection | None = None
    update: dict[str, Any] = {}
    source = message.language
    if source is None:
        detection = parts.detector.detect(_detectable(message))
        source, confidence = choose_customer_language(
            conversation, detection, text=message.text, policy=parts.sticky
        )
        current = (conversation.customer_language, conversation.customer_language_confidence)
        if (source, confidence) != current:
            update = {"customer_language": source, "customer_language_confidence": confidence}
    target = conversation.agent_language
    timings = {"detect": _ms(started)}
    if source is None or any(same_language(source, r) for r in conversation.agent_languages):
        translation = _untranslated(
            message, "inbound", source, target, (), Decision.SEND, detection, parts, timings
        )
        return Outcome(translation, update)
    flags: list[ReviewFlag] = []
    if detection is not None and detection.confidence < parts.sticky.min_confidence:
        flags.append(uncertain_detection(detection, source))
    translation = yield from translate_flow(
        parts, message, source=source, target=target, direction="inbound",
        detection=detection, flags=flags, timings=timings,
    )  # fmt: skip
    return Outcome(translation, update)


def outbound_flow(
    parts: Parts, message: Message, conversation: Conversation, *, back_translate: bool = False
) -> Flow:
    """Agent → customer: translate into the customer's language, or hold if it is unknown.

    With `back_translate` (a preview), the reply is also translated back into the agent's
    language whatever `Parts.round_trip` says.
    """
    source = message.language or conversation.agent_language
    target = conversation.customer_language
    if target is None:
        problem = review.flag(
            "customer_language_unknown",
            Severity.ERROR,
            "the customer's language is not known yet; set it with "
            "Conversation.override_customer_language() or let an inbound message detect it",
        )
        decision = parts.policy_for(message, None).decide([problem], direction="outbound")
        translation = _untranslated(
            message, "outbound", source, source, (problem,), decision, None, parts, {}
        )
        return Outcome(translation)
    if same_language(source, target):
        translation = _untranslated(
            message, "outbound", source, target, (), Decision.SEND, None, parts, {}
        )
        return Outcome(translation)
    # Hints read the agent's own text; a preview shows them even when the loop has none set.
    rules = (
        parts.hints
        if parts.hints is not None
        else (HintRules.default() if back_translate else None)
    )
    hints = (
        check_hints(message.text, language=source, customer_language=target, rules=rules)
        if rules is not None
        else []
    )
    # The locale's register reaches the engine only when the loop uses hints: a preview must
    # show what sending would do.
    register = parts.formality
    if register is None and parts.hints is not None:
        register = parts.hints.expectations(target).formality
    translation = yield from translate_flow(
        parts, message, source=source, target=target, direction="outbound",
        flags=hint_flags(hints), back_translate=back_translate, formality=register,
    )  # fmt: skip
    return Outcome(translation)


def translate_flow(
    parts: Parts,
    message: Message,
    *,
    source: str,
    target: str,
    direction: Direction,
    detection: Detection | None = None,
    flags: Sequence[ReviewFlag] = (),
    timings: dict[str, float] | None = None,
    back_translate: bool = False,
    formality: Literal["formal", "informal"] | None = None,
) -> Generator[EngineCall, ChainResult, Translation]:
    """Translate one message between known languages; never raises for engine trouble.

    `formality` overrides the loop's register for this message (the customer locale's).
    """
    register = formality if formality is not None else parts.formality
    timings = dict(timings or {})
    if same_language(source, target):  # en → en-US is the text itself; a pivot only damages it
        kept = tuple(flags)
        return _untranslated(message, direction, source, target, kept, Decision.SEND, detection,
                             parts, timings)  # fmt: skip
    flags = list(flags)
    policy = parts.policy_for(message, source if direction == "inbound" else target)
    routes = parts.chain.routes(source, target)
    if not routes:
        error = parts.chain.unsupported(source, target)
        return _failed(parts, message, direction, source, target, detection, flags, timings, error)

    started = time.perf_counter()
    native_glossary = parts.glossary is not None and routes[0].glossary
    document = _protect(parts, message, source, target, forced_terms=not native_glossary)
    options = TranslateOptions(
        formality=register, glossary=parts.glossary if native_glossary else None
    )
    timings["protect"] = _ms(started)

    started = time.perf_counter()
    # Human-approved translations win; the machine cache serves the rest.
    results = _from_memory(parts, document.segments, source, target)
    memory_hits = sum(result is not None for result in results)
    wanted = [i for i, result in enumerate(results) if result is None]
    keys = [
        _key(parts, routes[0], source, target, message.content_type, document.segments[i], register)
        for i in wanted
    ]
    for index, cached in zip(wanted, parts.cache.get_many(keys), strict=True):
        results[index] = cached
    hits = sum(result is not None for result in results) - memory_hits
    misses = list(
        dict.fromkeys(s for s, r in zip(document.segments, results, strict=True) if r is None)
    )
    timings["cache"] = _ms(started)

    route = routes[0]
    billed: int | None = 0 if not misses else None
    if misses:
        started = time.perf_counter()
        try:
            answer = yield EngineCall(tuple(misses), source, target, options)
        except (ServiceError, UnsupportedLanguageError) as error:
            timings["engine"] = _ms(started)
            return _failed(
                parts, message, direction, source, target, detection, flags, timings, error
            )
        timings["engine"] = _ms(started)
        route = answer.route
        fresh = dict(zip(misses, answer.results, strict=True))
        reported = [r.billed_characters for r in answer.results if r.billed_characters is not None]
        billed = sum(reported) if reported else None
        parts.cache.put_many(
            (_key(parts, route, source, target, message.content_type, s, register), fresh[s])
            for s in misses
        )
        results = [
            r if r is not None else fresh[s]
            for s, r in zip(document.segments, results, strict=True)
        ]
        flags += _route_flags(answer, register)

    done = [result for result in results if result is not None]
    started = time.perf_counter()
    translated = document.restore([result.text for result in done])
    flags += _check(parts, policy, message, document, done, translated, source, target)
    timings["check"] = _ms(started)
    back: BackTranslation | None = None
    check = parts.round_trip
    if direction == "outbound" and (back_translate or (check is not None and check.wanted(flags))):
        started = time.perf_counter()
        back, more = yield from _read_back(
            check or RoundTripCheck(), document, done, source, target
        )
        flags += more
        timings["round_trip"] = _ms(started)
    audit = _audit(
        parts, direction, route, detection, timings,
        characters_sent=sum(map(len, misses)), segments=len(document.segments), cache_hits=hits,
        memory_hits=memory_hits, billed_characters=billed,
    )  # fmt: skip
    return Translation(
        original=message.text,
        translated=translated,
        source_language=source,
        target_language=target,
        content_type=message.content_type,
        direction=direction,
        engine=route.engine_name,
        flags=tuple(flags),
        decision=policy.decide(flags, direction=direction),
        audit=audit,
        back_translation=back,
    )


def _read_back(
    check: RoundTripCheck,
    document: ProtectedDocument,
    results: Sequence[SegmentResult],
    source: str,
    target: str,
) -> Generator[EngineCall, ChainResult, tuple[BackTranslation | None, list[ReviewFlag]]]:
    """Translate the reply back into the agent's language and compare it with the source.

    Protected spans stay tokens both ways and are left out of the comparison: the token and
    fidelity checks already own them.
    """
    try:
        answer = yield EngineCall(tuple(result.text for result in results), target, source)
    except (ServiceError, UnsupportedLanguageError) as error:
        unavailable = review.flag(
            "round_trip_unavailable", Severity.INFO, f"no back-translation: {error}"
        )
        return None, [unavailable]
    plain_source = "\n".join(TOKEN_PATTERN.sub(" ", segment) for segment in document.segments)
    plain_back = "\n".join(TOKEN_PATTERN.sub(" ", result.text) for result in answer.results)
    compared = check.compare(plain_source, plain_back, language=source, target=target)
    shown = document.restore([result.text for result in answer.results])
    back = compared.model_copy(update={"text": shown})
    return back, flags_for(back)


def _protect(
    parts: Parts, message: Message, source: str, target: str, *, forced_terms: bool
) -> ProtectedDocument:
    # Forced translations become tokens unless the engine applies the glossary itself, where
    # it can inflect them; do-not-translate terms are protected for every engine.
    terms: tuple[ProtectedTerm, ...] = ()
    if parts.glossary is not None:
        terms = tuple(
            ProtectedTerm(term.term, term.replacement, term.case_sensitive)
            for term in parts.glossary.terms_for(source, target)
            if forced_terms or term.replacement is None
        )
    return protect(
        message.text,
        content_type=message.content_type,
        terms=terms,
        mask_pii=not parts.chain.trusted,
        protection=parts.protection,
    )


def _from_memory(
    parts: Parts, segments: Sequence[str], source: str, target: str
) -> list[SegmentResult | None]:
    if parts.memory is None or not segments:
        return [None] * len(segments)
    version = parts.glossary.version if parts.glossary else None
    keys = [
        memory_key(source_text=s, source=source, target=target, glossary_version=version)
        for s in segments
    ]
    return [
        SegmentResult(text=entry.target_text, extra={"memory": entry.origin}) if entry else None
        for entry in parts.memory.get_many(keys)
    ]


def _key(
    parts: Parts,
    route: Route,
    source: str,
    target: str,
    content_type: ContentType,
    text: str,
    register: str | None,
) -> str:
    return cache_key(
        engine=route.identity,
        engine_version=route.engine_version,
        source=source,
        target=target,
        content_type=content_type,
        formality=register,
        glossary_version=parts.glossary.version if parts.glossary else None,
        text=text,
    )


def _route_flags(answer: ChainResult, formality: str | None) -> list[ReviewFlag]:
    flags = []
    ignored = formality is not None and (
        not answer.route.formality
        or any(result.formality_applied is False for result in answer.results)
    )
    if ignored:
        flags.append(
            review.flag(
                "formality_unsupported",
                Severity.WARNING,
                f"asked for a {formality} register; {answer.route.engine_name} did not apply it",
            )
        )
    if answer.failures:
        failed = "; ".join(str(error) for error in answer.failures)
        flags.append(
            review.flag(
                "engine_fallback",
                Severity.INFO,
                f"served by {answer.route.engine_name} after: {failed}",
            )
        )
    if len(answer.route.hops) > 1:
        flags.append(
            review.flag(
                "pivot",
                Severity.INFO,
                "translated through " + " → ".join(answer.route.languages),
            )
        )
    return flags


def _check(
    parts: Parts,
    policy: review.ReviewPolicy,
    message: Message,
    document: ProtectedDocument,
    results: Sequence[SegmentResult],
    translated: str,
    source: str,
    target: str,
) -> list[ReviewFlag]:
    thresholds = policy.thresholds
    missing, extra = [], []
    for index, result in enumerate(results):
        missing += [_shown(document, t) for t in document.missing_tokens(index, result.text)]
        extra += [_shown(document, t) for t in document.extra_tokens(index, result.text)]
    source_text = TOKEN_PATTERN.sub(" ", "\n".join(document.segments))
    output_text = TOKEN_PATTERN.sub(" ", "\n".join(result.text for result in results))
    flags = review.check_token_parity(missing, extra)
    flags += review.check_fidelity(
        missing_identifiers(
            message.text, translated, content_type=message.content_type,
            allowed=[t.original for t in document.tokens.values() if t.restored != t.original],
            reported=[original for _, original in missing],
        )
    )  # fmt: skip
    flags += review.check_numbers(source_text, output_text)
    if parts.glossary is not None:
        violations = parts.glossary.check(message.text, translated, source=source, target=target)
        if violations:
            detail = "; ".join(violation.detail for violation in violations)
            flags.append(review.flag("glossary_violation", Severity.WARNING, detail))
    output_detection = _pair_detection(output_text, source, target)
    flags += review.check_language(
        output_detection, translated=output_text, target=target, thresholds=thresholds
    )
    flags += review.check_untranslated(source_text, output_text, thresholds)
    flags += review.check_length_ratio(source_text, output_text, thresholds)
    unknown = [w for result in results for w in result.unknown_words]
    if unknown:  # pieces of identifiers and protected spans are not unknown words
        spans = [token.original for token in document.tokens.values()]
        spans += identifiers(message.text, content_type=message.content_type)
        flags += review.check_unknown_words(unknown, spans)
    flags += review.check_engine_doubts([result.extra.get(DOUBT) for result in results])
    flags += review.check_scores(
        [
            (segment, result.score)
            for segment, result in zip(document.segments, results, strict=True)
        ],
        thresholds,
    )
    return flags


def _shown(document: ProtectedDocument, placeholder: str) -> tuple[str, str]:
    # An engine may invent a token the source never had; show it as the engine wrote it.
    token = document.tokens.get(placeholder)
    return placeholder, token.original if token else placeholder


def _pair_detection(text: str, source: str, target: str) -> Detection | None:
    """Does the output read as the target or still as the source?

    Asking lingua to choose between the two languages of the pair answers exactly that, is
    three times faster than the full set, and is not fooled by a close third language.
    """
    try:
        detector = LanguageDetector([primary_language(source), primary_language(target)])
    except ConfigurationError:  # a language lingua does not know (Galician): no check
        return None
    return detector.detect(text)


def _failed(
    parts: Parts,
    message: Message,
    direction: Direction,
    source: str,
    target: str,
    detection: Detection | None,
    flags: list[ReviewFlag],
    timings: dict[str, float],
    error: Exception,
) -> Translation:
    code = (
        "unsupported_language" if isinstance(error, UnsupportedLanguageError) else "engine_failed"
    )
    flags = [*flags, review.flag(code, Severity.ERROR, f"{error}; the original text was kept")]
    customer = source if direction == "inbound" else target
    decision = parts.policy_for(message, customer).decide(flags, direction=direction)
    return _untranslated(
        message, direction, source, target, tuple(flags), decision, detection, parts, timings
    )


def _untranslated(
    message: Message,
    direction: Direction,
    source: str | None,
    target: str,
    flags: tuple[ReviewFlag, ...],
    decision: Decision,
    detection: Detection | None,
    parts: Parts,
    timings: dict[str, float],
) -> Translation:
    """The original passed through: skipped (the reader reads it) or kept after a failure."""
    audit = _audit(
        parts, direction, None, detection, timings, characters_sent=0, segments=0, cache_hits=0
    )
    return Translation(
        original=message.text,
        translated=message.text,
        source_language=source,
        target_language=target,
        content_type=message.content_type,
        direction=direction,
        engine=None,
        flags=flags,
        decision=decision,
        skipped=not flags,
        audit=audit,
    )


def _audit(
    parts: Parts,
    direction: Direction,
    route: Route | None,
    detection: Detection | None,
    timings: dict[str, float],
    *,
    characters_sent: int,
    segments: int,
    cache_hits: int,
    memory_hits: int = 0,
    billed_characters: int | None = 0,
) -> AuditRecord:
    return AuditRecord(
        direction=direction,
        engine=route.engine_name if route else None,
        engine_version=route.engine_version if route else None,
        route=route.languages if route else (),
        glossary_version=parts.glossary.version if parts.glossary else None,
        detected_language=detection.language if detection else None,
        detection_confidence=detection.confidence if detection else None,
        characters_sent=characters_sent,
        segments=segments,
        cache_hits=cache_hits,
        memory_hits=memory_hits,
        billed_characters=billed_characters,
        timings_ms=timings,
    )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
