"""Contract suites for plug-in authors: the behaviour every engine owes the loop.

Public through `tl_loop.testing`; kept apart because it needs pytest, which tl_loop itself does
not depend on.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest

from tl_loop.engines._base import TOKEN_PATTERN, Engine, SegmentResult

__all__ = ["EngineContract"]


class EngineContract:
    """The behaviour every engine owes the loop, as a pytest suite for engine authors.

    Subclass it (with a name starting `Test`) and define the fixtures `contract_engine` (an
    engine ready to translate; fake its service if it has one) and `contract_pair` (a
    `(source, target)` it supports). Override `contract_secrets` to list strings (API keys) that
    must never appear in the engine's `repr`.
    """

    def test_one_result_per_segment_in_order(
        self, contract_engine: Engine, contract_pair: tuple[str, str]
    ) -> None:
        """A batch gives back one result per segment, in the same order."""
        source, target = contract_pair
        segments = ["Thank you for your patience.", "Your order has shipped.", "Hello"]
        results = contract_engine.translate_batch(segments, source=source, target=target)
        assert len(results) == len(segments)
        assert all(isinstance(result.text, str) and result.text for result in results)
        singles = [
            contract_engine.translate_batch([segment], source=source, target=target)[0].text
            for segment in segments
        ]
        assert [result.text for result in results] == singles

    def test_protected_tokens_come_back_unchanged(
        self, contract_engine: Engine, contract_pair: tuple[str, str]
    ) -> None:
        """Every sentinel token in a segment appears exactly once in its translation."""
        source, target = contract_pair
        [result] = contract_engine.translate_batch(
            ["Your order ⟦0⟧ ships to ⟦1⟧ today."], source=source, target=target
        )
        assert sorted(TOKEN_PATTERN.findall(result.text)) == ["⟦0⟧", "⟦1⟧"]

    def test_an_empty_batch_is_empty(
        self, contract_engine: Engine, contract_pair: tuple[str, str]
    ) -> None:
        """Nothing to translate costs nothing and fails nothing."""
        source, target = contract_pair
        assert contract_engine.translate_batch([], source=source, target=target) == []

    def test_it_supports_the_pair_it_translates(
        self, contract_engine: Engine, contract_pair: tuple[str, str]
    ) -> None:
        """`supports` agrees with translation, and `is_available` with being usable."""
        assert contract_engine.supports(*contract_pair)
        assert contract_engine.is_available()

    def test_async_gives_the_same_results(
        self, contract_engine: Engine, contract_pair: tuple[str, str]
    ) -> None:
        """`atranslate_batch` and `translate_batch` agree."""
        source, target = contract_pair
        segments = ["Please restart the app.", "It works now."]

        async def run() -> list[SegmentResult]:
            return await contract_engine.atranslate_batch(segments, source=source, target=target)

        sync = contract_engine.translate_batch(segments, source=source, target=target)
        assert [r.text for r in anyio.run(run)] == [r.text for r in sync]

    def test_name_version_and_limits_are_usable(self, contract_engine: Engine) -> None:
        """The cache key and the batcher rely on these."""
        assert contract_engine.name
        assert isinstance(contract_engine.version, str)
        assert contract_engine.version
        assert contract_engine.capabilities.max_items >= 1
        assert contract_engine.capabilities.max_chars >= 1

    def test_repr_reveals_no_secret(
        self, contract_engine: Engine, contract_secrets: Sequence[str]
    ) -> None:
        """API keys never appear in `repr`, so they never reach logs."""
        shown = repr(contract_engine)
        assert all(secret not in shown for secret in contract_secrets if secret)

    def test_close_twice_is_safe(self, contract_engine: Engine) -> None:
        """Closing is idempotent."""
        contract_engine.close()
        contract_engine.close()

    @pytest.fixture
    def contract_secrets(self) -> Sequence[str]:
        """Strings that must never appear in the engine's repr; none by default."""
        return ()
