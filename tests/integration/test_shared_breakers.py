"""Breakers and rate-limit pauses shared by relay replicas, on real Redis and PostgreSQL.

Each replica is a chain with its own connection to the one ledger, as separate processes
would have. What one replica learns about an engine (it is down, it asked us to wait) every
replica acts on: nobody keeps calling an engine that is known to be sick.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tl_loop import (
    ConfigurationError,
    Loop,
    RateLimitError,
    ServiceUnavailableError,
    load_config,
)
from tl_loop.engines import (
    BreakerPolicy,
    BreakerState,
    EngineChain,
    GuardLedger,
    GuardRecord,
    InMemoryGuardLedger,
)
from tl_loop.stores import PostgresGuardLedger, RedisGuardLedger
from tl_loop.testing import FakeEngine

LedgerFactory = Callable[[], GuardLedger]


@pytest.fixture(params=["memory", "redis", "postgres"])
def new_ledger(request: pytest.FixtureRequest) -> Iterator[LedgerFactory]:
    """Makes ledgers that all see one store: a new connection per call, like a new replica."""
    opened: list[GuardLedger] = []
    if request.param == "memory":
        shared = InMemoryGuardLedger()

        def make() -> GuardLedger:
            return shared
    elif request.param == "redis":
        pytest.importorskip("redis")
        url = request.getfixturevalue("redis_url")
        prefix = f"test:{uuid.uuid4().hex}:"

        def make() -> GuardLedger:
            opened.append(RedisGuardLedger(url, prefix=prefix))
            return opened[-1]
    else:
        pytest.importorskip("psycopg")
        url = request.getfixturevalue("postgres_url")
        table = f"breakers_{uuid.uuid4().hex[:12]}"

        def make() -> GuardLedger:
            opened.append(PostgresGuardLedger(url, table=table))
            return opened[-1]

    yield make
    for ledger in opened:
        ledger.close()


def replica(ledger: GuardLedger, *engines: FakeEngine, cooldown: float = 60) -> EngineChain:
    return EngineChain(
        list(engines), breaker=BreakerPolicy(failure_threshold=3, cooldown=cooldown), ledger=ledger
    )


def down(name: str = "primary") -> FakeEngine:
    return FakeEngine(name=name, fail_with=ServiceUnavailableError("502", service=name))


# The ledger's contract -----------------------------------------------------------------------


def test_a_record_is_written_only_over_the_version_that_was_read(
    new_ledger: LedgerFactory,
) -> None:
    ledger = new_ledger()
    record, version = ledger.read("deepl")
    assert (record, version) == (GuardRecord(), 0)
    opened = GuardRecord(failures=5, opened_at=ledger.now(), last_error="HTTP 503")

    assert ledger.write("deepl", opened, version=0)
    assert not ledger.write("deepl", GuardRecord(), version=0)  # another replica was first

    assert new_ledger().read("deepl") == (opened, 1)
    assert new_ledger().read("azure") == (GuardRecord(), 0)  # one record per engine


def test_failures_counted_at_once_by_many_replicas_are_all_kept(new_ledger: LedgerFactory) -> None:
    engine = FakeEngine(name="primary")
    chains = [
        EngineChain([engine], breaker=BreakerPolicy(failure_threshold=10_000), ledger=new_ledger())
        for _ in range(4)
    ]
    error = ServiceUnavailableError("502", service="primary")

    def fail(chain: EngineChain) -> None:
        for _ in range(25):
            chain.guard(engine).record(error)

    threads = [threading.Thread(target=fail, args=(chain,)) for chain in chains]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert chains[0].guard(engine).status().consecutive_failures == 100


# What replicas learn from each other ---------------------------------------------------------


def test_an_engine_one_replica_saw_fail_is_skipped_by_the_others(
    new_ledger: LedgerFactory,
) -> None:
    sick_a, sick_b = down(), down()
    first = replica(new_ledger(), sick_a, FakeEngine(name="backup"))
    second = replica(new_ledger(), sick_b, FakeEngine(name="backup"))

    for _ in range(3):
        first.translate_batch(["Hola"], source="es", target="en")

    result = second.translate_batch(["Hola"], source="es", target="en")
    assert result.route.engine_name == "backup"  # served, nothing lost
    assert sick_b.calls == []  # and the sick engine was not asked again
    status = second.guard(sick_b).status()
    assert (status.state, status.shared) == (BreakerState.OPEN, True)
    assert "502" in (status.last_error or "")


def test_a_429_with_a_wait_pauses_the_engine_for_every_replica(new_ledger: LedgerFactory) -> None:
    limited = FakeEngine(
        name="deepl",
        fail_with=RateLimitError("HTTP 429", service="deepl", retry_after=30),
        failures=1,
    )
    other = FakeEngine(name="deepl")
    first = replica(new_ledger(), limited, FakeEngine(name="backup"))
    second = replica(new_ledger(), other, FakeEngine(name="backup"))

    assert first.translate_batch(["Hola"], source="es", target="en").route.engine_name == "backup"
    result = second.translate_batch(["Hola"], source="es", target="en")

    assert result.route.engine_name == "backup"
    assert other.calls == []  # the engine asked for 30 s of quiet: nobody calls it
    assert result.failures == ()  # the paused engine went to the end of the routes
    resume = r"rate limited .* calls resume in (2\d|30) s"
    with pytest.raises(ServiceUnavailableError, match=resume):
        second.guard(other).admit("deepl")
    assert 25 < second.guard(other).status().paused_seconds <= 30
    assert second.guard(other).state is BreakerState.CLOSED  # one 429 is not an outage


def test_only_one_replica_probes_a_half_open_engine(new_ledger: LedgerFactory) -> None:
    engine = FakeEngine(name="primary")
    first = replica(new_ledger(), engine, cooldown=0.2)
    second = replica(new_ledger(), engine, cooldown=0.2)
    for _ in range(3):
        first.guard(engine).record(ServiceUnavailableError("502", service="primary"))
    assert second.guard(engine).state is BreakerState.OPEN
    _wait_for(lambda: second.guard(engine).state is BreakerState.HALF_OPEN)

    probe = first.guard(engine).admit("primary")
    assert probe is not None
    with pytest.raises(ServiceUnavailableError, match="a probe is out"):
        second.guard(engine).admit("primary")

    first.guard(engine).record(None, probe)  # the probe succeeded: closed for everyone
    assert second.guard(engine).admit("primary") is None
    assert second.guard(engine).state is BreakerState.CLOSED


def test_the_probe_of_a_replica_that_died_lapses(new_ledger: LedgerFactory) -> None:
    engine = FakeEngine(name="primary")
    dead = replica(new_ledger(), engine, cooldown=0.3)
    alive = replica(new_ledger(), engine, cooldown=0.3)
    for _ in range(3):
        dead.guard(engine).record(ServiceUnavailableError("502", service="primary"))
    _wait_for(lambda: alive.guard(engine).state is BreakerState.HALF_OPEN)
    assert dead.guard(engine).admit("primary") is not None  # ...and it never tells the outcome
    with pytest.raises(ServiceUnavailableError, match="a probe is out"):
        alive.guard(engine).admit("primary")

    _wait_for(lambda: _admits(alive, engine))  # the dead replica's claim lapsed
    assert alive.translate_batch(["Hola"], source="es", target="en").route.engine_name == "primary"
    assert alive.guard(engine).state is BreakerState.CLOSED


# When the shared ledger itself is down --------------------------------------------------------


def _unreachable_port() -> int:
    with socket.socket() as probe:  # free a moment ago, so nothing listens there
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_dead_redis_leaves_each_replica_its_own_breaker(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pytest.importorskip("redis")
    ledger = RedisGuardLedger(f"redis://127.0.0.1:{_unreachable_port()}/0", timeout=0.2)
    sick = down()
    chain = replica(ledger, sick, FakeEngine(name="backup"))

    with caplog.at_level(logging.WARNING, logger="tl_loop.engines"):
        results = [chain.translate_batch(["Hola"], source="es", target="en") for _ in range(10)]

    assert all(result.route.engine_name == "backup" for result in results)  # nothing lost
    assert len(sick.calls) == 3  # the breaker still opened, in this process
    warnings = [r for r in caplog.records if "shared breaker ledger" in r.getMessage()]
    assert len(warnings) == 1  # one timeout and one line, not one per message
    chain.close()


# Configuration --------------------------------------------------------------------------------


def test_a_shared_backend_without_a_url_says_what_to_write(tmp_path: Path) -> None:
    config = tmp_path / "tl-loop.toml"
    config.write_text('[breaker]\nbackend = "redis"\n')
    with pytest.raises(ConfigurationError, match=r'url = "redis://'):
        load_config(config, environ={})


@pytest.mark.redis
def test_two_loops_from_one_config_share_their_breakers(tmp_path: Path, redis_url: str) -> None:
    pytest.importorskip("redis")
    config = tmp_path / "tl-loop.toml"
    prefix = f"test:{uuid.uuid4().hex}:"
    config.write_text(
        f'engines = ["fake"]\n[breaker]\nbackend = "redis"\nurl = "{redis_url}"\n'
        f'prefix = "{prefix}"\nfailure_threshold = 2\n'
    )
    first = Loop.from_config(load_config(config, environ={}))
    second = Loop.from_config(load_config(config, environ={}))
    try:
        [engine] = first.chain.engines
        for _ in range(2):
            first.chain.guard(engine).record(ServiceUnavailableError("down", service="fake"))
        [engine] = second.chain.engines
        assert second.chain.guard(engine).status().state is BreakerState.OPEN
    finally:
        first.close()
        second.close()


def _admits(chain: EngineChain, engine: FakeEngine) -> bool:
    try:
        probe = chain.guard(engine).admit(engine.name)
    except ServiceUnavailableError:
        return False
    if probe is not None:
        chain.guard(engine).free(probe)
    return True


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    event = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        event.wait(0.02)
    raise AssertionError("condition not met in time")
