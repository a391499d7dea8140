"""The engine chain: order of preference, failover, pivots, batching by engine limits."""

from __future__ import annotations

import anyio
import pytest

from tl_loop import (
    AllEnginesFailedError,
    AuthenticationError,
    RateLimitError,
    UnsupportedLanguageError,
)
from tl_loop.engines import Capabilities, EngineChain
from tl_loop.testing import FakeEngine


def test_the_first_engine_that_has_the_pair_serves() -> None:
    first = FakeEngine(name="first", pairs=[("en", "fr")])
    second = FakeEngine(name="second", pairs=[("en", "es")])
    chain = EngineChain([first, second])

    result = chain.translate_batch(["Hello"], source="en", target="es")

    assert result.route.engine_name == "second"
    assert first.calls == []


def test_failover_collects_each_failure_and_moves_on() -> None:
    errors = [RateLimitError("slow down", service="a"), AuthenticationError("bad key", service="b")]
    engines = [FakeEngine(name=e.service, fail_with=e) for e in errors]
    chain = EngineChain([*engines, FakeEngine(name="c")])

    result = chain.translate_batch(["Hello"], source="en", target="es")

    assert result.route.engine_name == "c"
    assert result.failures == tuple(errors)


def test_all_engines_failing_raises_with_every_reason() -> None:
    chain = EngineChain([
        FakeEngine(name="a", fail_with=RateLimitError("slow down", service="a")),
        FakeEngine(name="b", fail_with=AuthenticationError("bad key", service="b")),
    ])  # fmt: skip

    with pytest.raises(AllEnginesFailedError) as caught:
        chain.translate_batch(["Hello"], source="en", target="es")

    assert "slow down" in str(caught.value)
    assert "bad key" in str(caught.value)
    assert len(caught.value.errors) == 2


def test_a_recovered_engine_serves_again() -> None:
    flaky = FakeEngine(name="flaky", fail_with=RateLimitError("429", service="flaky"), failures=1)
    chain = EngineChain([flaky, FakeEngine(name="backup")])

    assert chain.translate_batch(["a"], source="en", target="es").route.engine_name == "backup"
    assert chain.translate_batch(["a"], source="en", target="es").route.engine_name == "flaky"


def test_pivot_routes_come_after_direct_ones_and_chain_two_hops() -> None:
    engine = FakeEngine(
        {"Obrigado": "Gracias", "Gracias": "Thanks"}, pairs=[("pt", "es"), ("es", "en")]
    )
    chain = EngineChain([engine], pivots=["en", "es"])

    result = chain.translate_batch(["Obrigado"], source="pt", target="en")

    assert [r.text for r in result.results] == ["Thanks"]
    assert result.route.languages == ("pt", "es", "en")
    assert result.route.engine_name == "fake+fake"


def test_no_route_names_the_installed_pairs() -> None:
    chain = EngineChain([FakeEngine(pairs=[("en", "es"), ("es", "en")])])

    with pytest.raises(UnsupportedLanguageError) as caught:
        chain.translate_batch(["Hallo"], source="de", target="en")

    assert "de→en" in str(caught.value)
    assert "en→es" in str(caught.value)


def test_segments_are_batched_by_the_engine_limits() -> None:
    engine = FakeEngine(capabilities=Capabilities(max_items=2, max_chars=10))
    chain = EngineChain([engine])

    result = chain.translate_batch(["aaaa", "bbbb", "cccc", "dddddddddd"], source="en", target="es")

    assert [len(segments) for _, _, segments in engine.calls] == [2, 1, 1]
    assert [r.text for r in result.results] == ["[es] aaaa", "[es] bbbb", "[es] cccc",
                                                "[es] dddddddddd"]  # fmt: skip


def test_async_translation_follows_the_same_routes() -> None:
    broken = FakeEngine(name="a", fail_with=RateLimitError("429", service="a"))
    chain = EngineChain([broken, FakeEngine(name="b")])

    async def run() -> str:
        result = await chain.atranslate_batch(["Hi"], source="en", target="es")
        return result.route.engine_name

    assert anyio.run(run) == "b"
