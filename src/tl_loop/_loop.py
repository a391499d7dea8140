"""`Loop` and `AsyncLoop`: the two thin I/O shells around the one pipeline.

Each shell only drives the pipeline's generator: when it yields an `EngineCall`, the shell calls
the engine chain (blocking, or awaited) and sends the answer back, or throws the error in. All
decisions live in `_pipeline.py`, so both shells give identical results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Self

from tl_loop._back_translation import RoundTripCheck
from tl_loop._cache import CacheStore, TranslationCache
from tl_loop._config import TlLoopConfig
from tl_loop._errors import ConfigurationError, ServiceError, UnsupportedLanguageError
from tl_loop._glossary import Glossary
from tl_loop._hints import HintRules
from tl_loop._models import (
    ContentType,
    Conversation,
    Detection,
    Message,
    ReviewFlag,
    Translation,
)
from tl_loop._pipeline import (
    Flow,
    Outcome,
    Parts,
    inbound_flow,
    outbound_flow,
    translate_flow,
    uncertain_detection,
)
from tl_loop._policy import PolicyRule, ReviewPolicy
from tl_loop.engines._base import Engine, SegmentResult
from tl_loop.engines._chain import ChainResult, EngineChain
from tl_loop.stores._memory import TranslationMemory
from tl_loop.text._language import LanguageDetector, StickyPolicy
from tl_loop.text._protection import Protection

__all__ = ["AsyncLoop", "Loop"]


class _LoopBase:
    def __init__(
        self,
        *,
        engines: Engine | Sequence[Engine] | EngineChain,
        glossary: Glossary | None = None,
        detector: LanguageDetector | None = None,
        cache: CacheStore[SegmentResult] | None = None,
        policy: ReviewPolicy | None = None,
        sticky: StickyPolicy | None = None,
        pivots: Sequence[str] = ("en", "es"),
        formality: Literal["formal", "informal"] | None = None,
        agent_languages: Sequence[str] = ("en",),
        memory: TranslationMemory | None = None,
        policy_rules: Sequence[PolicyRule] = (),
        round_trip: RoundTripCheck | None = None,
        hints: HintRules | None = None,
        protection: Protection | None = None,
    ) -> None:
        self.agent_languages = tuple(agent_languages)
        if isinstance(engines, EngineChain):
            chain = engines
        else:
            chain = EngineChain(
                [engines] if isinstance(engines, Engine) else engines, pivots=pivots
            )
        self.parts = Parts(
            chain=chain,
            detector=detector or LanguageDetector(),
            cache=cache if cache is not None else TranslationCache(),
            glossary=glossary,
            policy=policy or ReviewPolicy(),
            sticky=sticky or StickyPolicy(),
            formality=formality,
            memory=memory,
            policy_rules=tuple(policy_rules),
            round_trip=round_trip,
            hints=hints,
            protection=protection,
        )

    @classmethod
    def from_config(cls, config: TlLoopConfig) -> Self:
        """Build a loop from a loaded configuration (engines, glossary, cache, policies)."""
        return cls(**config.loop_options())

    @property
    def chain(self) -> EngineChain:
        """The engines, in order of preference."""
        return self.parts.chain

    @property
    def cache(self) -> CacheStore[SegmentResult]:
        """The machine translation cache (hit and miss counters in `cache.stats`)."""
        return self.parts.cache

    def conversation(self, id: str | None = None) -> Conversation:
        """A new conversation whose agents read this loop's agent languages."""
        return Conversation(id=id, agent_languages=self.agent_languages)

    def detect(self, text: str) -> Detection:
        """Detect the language of `text` among the configured languages."""
        return self.parts.detector.detect(text)

    def _message(self, message: Message | str) -> Message:
        return Message(text=message) if isinstance(message, str) else message

    def _adhoc_flow(
        self, text: str, source: str | None, target: str, content_type: ContentType
    ) -> Flow:
        message = Message(text=text, content_type=content_type, language=source)
        detection = None
        flags: list[ReviewFlag] = []
        if source is None:
            if not text.strip():
                raise ConfigurationError("the text is empty: there is nothing to translate")
            detection = self.parts.detector.detect(text)
            if detection.language is None:
                raise ConfigurationError(
                    "no language could be detected in the text (no letters of a configured "
                    "language); pass source= (tl-loop translate --from LANG)"
                )
            source = detection.language
            if detection.confidence < self.parts.sticky.min_confidence:
                flags.append(uncertain_detection(detection))
        translation = yield from translate_flow(
            self.parts, message, source=source, target=target, direction="outbound",
            detection=detection, flags=flags,
        )  # fmt: skip
        return Outcome(translation)

    @staticmethod
    def _apply(outcome: Outcome, conversation: Conversation | None) -> Translation:
        if conversation is not None:
            for name, value in outcome.conversation_update.items():
                setattr(conversation, name, value)
        return outcome.translation


class Loop(_LoopBase):
    """The translation loop, blocking. Safe to share between threads.

    ```python
    loop = Loop(engines=[ApertiumEngine()], glossary=Glossary.load("glossaries/acme.csv"))
    conversation = Conversation(agent_languages=("en",))
    note = loop.inbound(Message(text="Hola, mi pedido #4821 no ha llegado"), conversation)
    reply = loop.outbound(Message(text="Sorry! It ships today."), conversation)
    ```

    Args:
        engines: an engine, engines in order of preference, or a ready `EngineChain`.
        glossary: brand terms to keep or force; its version enters the cache key.
        detector: language detection; by default the default language set.
        cache: machine translation cache; by default an in-memory TTL + LRU cache.
        policy: how review flags become a decision.
        sticky: when a detection may change a conversation's customer language.
        pivots: languages to pivot through when no engine has a pair directly.
        formality: the register asked of engines that support one; enters the cache key.
        agent_languages: what agents read, for conversations made by `conversation()`.
        memory: human-approved translations, looked up before the cache and the engines.
        policy_rules: review policies for particular channels (`Message.channel`) and customer
            languages; the first match wins over `policy`.
        protection: span families to leave unmasked and patterns of your own to mask (see
            docs/protection.md); by default every family is masked.
    """

    def inbound(self, message: Message | str, conversation: Conversation) -> Translation:
        """Translate a customer's message into the agent's language.

        Updates `conversation.customer_language` by the sticky policy. Never raises for engine
        trouble: if every engine fails, the original comes back with an `engine_failed` flag.
        """
        return self._apply(self.inbound_outcome(message, conversation), conversation)

    def inbound_outcome(self, message: Message | str, conversation: Conversation) -> Outcome:
        """`inbound` without touching `conversation`: the translation and the update to store.

        For callers that keep conversation state themselves (the relay stores
        `Outcome.conversation_update` in its queue database).
        """
        return self._drive(inbound_flow(self.parts, self._message(message), conversation))

    def outbound(self, message: Message | str, conversation: Conversation) -> Translation:
        """Translate an agent's reply into the customer's language.

        Never raises for engine trouble: if every engine fails, the reply is held
        (`decision == "hold"`) with an `engine_failed` flag, so nothing broken reaches a customer.
        """
        return self._apply(
            self._drive(outbound_flow(self.parts, self._message(message), conversation)), None
        )

    def preview(self, message: Message | str, conversation: Conversation) -> Translation:
        """What the customer would read, and that text read back in the agent's language.

        Like `outbound`, and `back_translation` always holds the reply translated back with
        the differences that matter (a negation lost, a number changed, a sentence dropped),
        which also become `round_trip` / `negation` flags. Nothing is sent by a preview.
        """
        flow = outbound_flow(self.parts, self._message(message), conversation, back_translate=True)
        return self._apply(self._drive(flow), None)

    def translate(
        self,
        text: str,
        *,
        target: str,
        source: str | None = None,
        content_type: ContentType = "text",
    ) -> Translation:
        """Translate text outside a conversation (detecting the source if not given).

        Raises:
            ConfigurationError: no language was detected and `source` was not given.
        """
        return self._drive(self._adhoc_flow(text, source, target, content_type)).translation

    def _drive(self, flow: Flow) -> Outcome:
        try:
            call = next(flow)
            while True:
                try:
                    answer: ChainResult = self.parts.chain.translate_batch(
                        call.segments, source=call.source, target=call.target, options=call.options
                    )
                except (ServiceError, UnsupportedLanguageError) as error:
                    call = flow.throw(error)
                else:
                    call = flow.send(answer)
        except StopIteration as stop:
            outcome: Outcome = stop.value
            return outcome

    def close(self) -> None:
        """Close the engines (their processes, models or connections) and the memory."""
        self.parts.chain.close()
        if self.parts.memory is not None:
            self.parts.memory.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncLoop(_LoopBase):
    """The translation loop for async code; the same arguments and results as `Loop`.

    Blocking engines run in worker threads, so the event loop never waits on Apertium.
    """

    async def inbound(self, message: Message | str, conversation: Conversation) -> Translation:
        """Async `Loop.inbound`."""
        outcome = await self._drive(inbound_flow(self.parts, self._message(message), conversation))
        return self._apply(outcome, conversation)

    async def outbound(self, message: Message | str, conversation: Conversation) -> Translation:
        """Async `Loop.outbound`."""
        return (
            await self._drive(outbound_flow(self.parts, self._message(message), conversation))
        ).translation

    async def preview(self, message: Message | str, conversation: Conversation) -> Translation:
        """Async `Loop.preview`."""
        flow = outbound_flow(self.parts, self._message(message), conversation, back_translate=True)
        return (await self._drive(flow)).translation

    async def translate(
        self,
        text: str,
        *,
        target: str,
        source: str | None = None,
        content_type: ContentType = "text",
    ) -> Translation:
        """Async `Loop.translate`."""
        return (await self._drive(self._adhoc_flow(text, source, target, content_type))).translation

    async def _drive(self, flow: Flow) -> Outcome:
        try:
            call = next(flow)
            while True:
                try:
                    answer = await self.parts.chain.atranslate_batch(
                        call.segments, source=call.source, target=call.target, options=call.options
                    )
                except (ServiceError, UnsupportedLanguageError) as error:
                    call = flow.throw(error)
                else:
                    call = flow.send(answer)
        except StopIteration as stop:
            outcome: Outcome = stop.value
            return outcome

    async def aclose(self) -> None:
        """Close the engines (with their connections of this event loop) and the memory."""
        await self.parts.chain.aclose()
        if self.parts.memory is not None:
            self.parts.memory.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
