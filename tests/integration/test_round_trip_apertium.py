"""The back-translation preview on real Apertium: intact replies pass, a broken one is held."""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence

import pytest

from tl_loop import Conversation, Decision, Loop
from tl_loop.engines import ApertiumEngine, Engine, SegmentResult, TranslateOptions

if shutil.which("lt-proc") is None:
    pytest.skip("Apertium is not installed (no lt-proc on PATH)", allow_module_level=True)

pytestmark = pytest.mark.apertium


class DropsNegations(Engine):
    """Apertium, except that its Spanish output loses every "no": a broken engine."""

    name = "drops-negations"

    def __init__(self, inner: ApertiumEngine) -> None:
        self.inner = inner

    def pairs(self) -> frozenset[tuple[str, str]]:
        return self.inner.pairs()

    def translate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions | None = None,
    ) -> list[SegmentResult]:
        results = self.inner.translate_batch(segments, source=source, target=target)
        if target != "es":
            return results
        return [SegmentResult(text=re.sub(r"\bno\s+", "", r.text, flags=re.I)) for r in results]


def customer(language: str) -> Conversation:
    conversation = Conversation(agent_languages=("en",))
    conversation.override_customer_language(language)
    return conversation


@pytest.mark.parametrize("language", ["es", "ca", "pt"])
def test_intact_replies_read_back_without_differences(language: str) -> None:
    with Loop(engines=[ApertiumEngine()]) as loop:
        translation = loop.preview(
            "We do not charge a fee for returns within 30 days.", customer(language)
        )
    assert translation.back_translation is not None
    assert "30" in translation.back_translation.text
    assert translation.back_translation.differences == ()
    assert translation.decision != Decision.HOLD


def test_a_dropped_negation_is_caught_and_held() -> None:
    with Loop(engines=[DropsNegations(ApertiumEngine())]) as loop:
        translation = loop.preview("The warranty does not cover water damage.", customer("es"))
    assert "negation" in translation.flag_codes
    assert translation.decision == Decision.HOLD
