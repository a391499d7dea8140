"""The chain under real failure: breakers, routing rules, concurrency limits, outages."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from tl_loop import (
    AllEnginesFailedError,
    ConfigurationError,
    Conversation,
    Decision,
    InvalidRequestError,
    Loop,
    RateLimitError,
    ServiceUnavailableError,
)
from tl_loop.engines import BreakerPolicy, BreakerState, EngineChain, RoutingRule
from tl_loop.testing import FakeEngine


def conversation() -> Conversation:
    return Conversation(customer_language="es", customer_language_confidence=0.99)


def test_a_429_storm_opens_the_breaker_and_every_message_goes_to_the_backup() -> None:
    storm = FakeEngine(name="primary", fail_with=RateLimitError("429", service="primary"))
    backup = FakeEngine(name="backup")
    chain = EngineChain([storm, backup], breaker=BreakerPolicy(failure_threshold=3, cooldown=60))
    loop = Loop(engines=chain)

    replies = [
        loop.outbound(f"Reply number {i} to the customer.", conversation()) for i in range(20)
    ]

    assert all(reply.engine == "backup" for reply in replies)  # nothing lost, all served
    assert len(storm.calls) == 3  # then the open breaker skips it without waiting on it
    assert chain.guard(storm).state is BreakerState.OPEN


def test_a_recovered_engine_is_probed_after_the_cooldown_and_serves_again() -> None:
    flaky = FakeEngine(name="primary", fail_with=RateLimitError("429", service="p"), failures=2)
    chain = EngineChain(
        [flaky, FakeEngine(name="backup")],
        breaker=BreakerPolicy(failure_threshold=2, cooldown=0.05),
    )

    for _ in range(2):
        assert chain.translate_batch(["a"], source="en", target="es").route.engine_name == "backup"
    assert chain.guard(flaky).state is BreakerState.OPEN
    time.sleep(0.06)
    assert chain.guard(flaky).state is BreakerState.HALF_OPEN
    assert chain.translate_batch(["a"], source="en", target="es").route.engine_name == "primary"
    assert chain.guard(flaky).state is BreakerState.CLOSED


def test_a_failed_probe_opens_the_breaker_again() -> None:
    down = FakeEngine(name="primary", fail_with=ServiceUnavailableError("down", service="p"))
    chain = EngineChain(
        [down, FakeEngine(name="backup")], breaker=BreakerPolicy(failure_threshold=1, cooldown=0.05)
    )
    chain.translate_batch(["a"], source="en", target="es")
    time.sleep(0.06)

    chain.translate_batch(["a"], source="en", target="es")  # the probe fails

    assert chain.guard(down).state is BreakerState.OPEN
    assert len(down.calls) == 2


def test_bad_input_neither_fails_over_nor_opens_the_breaker_and_is_not_lost() -> None:
    picky = FakeEngine(name="primary", fail_with=InvalidRequestError("bad text", service="p"))
    backup = FakeEngine(name="backup")
    chain = EngineChain([picky, backup], breaker=BreakerPolicy(failure_threshold=1))
    loop = Loop(engines=chain)

    reply = loop.outbound("Some reply.", conversation())

    assert backup.calls == []
    assert reply.decision is Decision.HOLD
    assert reply.flag_codes == ("engine_failed",)
    assert reply.original == "Some reply."
    assert chain.guard(picky).state is BreakerState.CLOSED


def test_an_engine_crash_is_an_outage_of_that_engine_not_a_lost_message() -> None:
    def crash(segment: str, source: str, target: str) -> str:
        raise KeyError("model vocabulary")

    loop = Loop(engines=[FakeEngine(name="buggy", transform=crash), FakeEngine(name="backup")])

    reply = loop.outbound("Some reply.", conversation())

    assert reply.engine == "backup"
    assert "unexpected KeyError" in next(
        f.detail for f in reply.flags if f.code == "engine_fallback"
    )


def test_routing_rules_pick_the_engine_per_pair() -> None:
    argos = FakeEngine(name="argos")
    deepl = FakeEngine(name="deepl")
    apertium = FakeEngine(name="apertium")
    chain = EngineChain(
        [apertium, argos, deepl],
        rules=[
            RoutingRule(source="fa", engines=("argos",)),
            RoutingRule(target="de", engines=("deepl",)),
        ],
    )

    def served(source: str, target: str) -> str:
        return chain.translate_batch(["x"], source=source, target=target).route.engine_name

    assert served("fa", "en") == "argos"
    assert served("en", "de") == "deepl"
    assert served("es", "en") == "apertium"
    assert served("pt-BR", "de") == "deepl"


def test_a_rule_falls_back_to_the_other_engines_unless_exclusive() -> None:
    argos = FakeEngine(name="argos", fail_with=ServiceUnavailableError("down", service="argos"))
    others = FakeEngine(name="apertium")
    shared = EngineChain([others, argos], rules=[RoutingRule(source="fa", engines=("argos",))])
    only = EngineChain(
        [others, argos], rules=[RoutingRule(source="fa", engines=("argos",), exclusive=True)]
    )

    assert shared.translate_batch(["x"], source="fa", target="en").route.engine_name == "apertium"
    with pytest.raises(AllEnginesFailedError):
        only.translate_batch(["x"], source="fa", target="en")


def test_a_rule_naming_an_engine_not_in_the_chain_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="deepl"):
        EngineChain([FakeEngine(name="apertium")], rules=[RoutingRule(engines=("deepl",))])


def test_concurrency_per_engine_is_limited() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def slow(segment: str, source: str, target: str) -> str:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.02)
        with lock:
            in_flight -= 1
        return segment

    chain = EngineChain([FakeEngine(name="slow", transform=slow)], max_concurrency={"slow": 2})
    threads = [
        threading.Thread(
            target=chain.translate_batch, args=(["x"],), kwargs={"source": "en", "target": "es"}
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert peak == 2
    assert chain.guard(chain.engines[0]).status().in_flight == 0


class _HangingEngine(FakeEngine):
    """Answers synchronously, but its async calls wait until `release` is set."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def atranslate_batch(self, segments, *, source, target, options=None):  # type: ignore[no-untyped-def, override]
        self.started.set()
        await self.release.wait()
        return self.translate_batch(segments, source=source, target=target, options=options)


def test_a_cancelled_probe_leaves_the_breaker_half_open_not_open_forever() -> None:
    async def scenario() -> None:
        engine = _HangingEngine(name="primary")
        chain = EngineChain([engine], breaker=BreakerPolicy(failure_threshold=1, cooldown=0.01))
        guard = chain.guard(engine)
        guard.record(ServiceUnavailableError("down", service="primary"))  # opens it
        await asyncio.sleep(0.02)
        assert guard.state is BreakerState.HALF_OPEN

        probe = asyncio.create_task(chain.atranslate_batch(["a"], source="en", target="es"))
        await engine.started.wait()
        probe.cancel()  # e.g. a timeout around the caller
        with pytest.raises(asyncio.CancelledError):
            await probe

        engine.release.set()
        result = await chain.atranslate_batch(["a"], source="en", target="es")
        assert result.route.engine_name == "primary"  # a new probe went through
        assert guard.state is BreakerState.CLOSED

    asyncio.run(scenario())


def test_async_callers_wait_for_a_slot_freed_by_a_thread_and_cancelled_waiters_leak_none() -> None:
    async def scenario() -> None:
        engine = _HangingEngine(name="slow")
        chain = EngineChain([engine], max_concurrency={"slow": 1})
        guard = chain.guard(engine)
        held = threading.Event()
        freed = threading.Event()

        def hold_the_slot() -> None:
            with guard.slot():
                held.set()
                freed.wait()

        thread = threading.Thread(target=hold_the_slot)
        thread.start()
        held.wait()
        waiters = [
            asyncio.create_task(chain.atranslate_batch(["a"], source="en", target="es"))
            for _ in range(3)
        ]
        await asyncio.sleep(0.05)
        assert guard.status().in_flight == 1
        assert not engine.started.is_set()
        waiters[0].cancel()  # a waiter given up on must not take the slot with it
        freed.set()
        engine.release.set()
        results = await asyncio.gather(*waiters[1:])
        thread.join()
        assert [r.route.engine_name for r in results] == ["slow", "slow"]
        assert guard.status().in_flight == 0

    asyncio.run(scenario())
