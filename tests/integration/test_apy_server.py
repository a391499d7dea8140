"""The APy engine against a real Debian `apertium-apy` server on a loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx
import pytest

from tl_loop import InvalidRequestError, ServiceError, ServiceUnavailableError
from tl_loop.engines import TOKEN_PATTERN, APyEngine, RetryPolicy, SegmentResult
from tl_loop.testing import EngineContract

APY = shutil.which("apertium-apy")
MODES = Path("/usr/share/apertium/modes")

pytestmark = [
    pytest.mark.apertium,
    pytest.mark.skipif(APY is None, reason="apertium-apy is not installed"),
]

# APy has no option to choose the address and listens on every interface; tests listen on
# loopback only, by starting APy's own `main()` with Tornado's bind pinned to 127.0.0.1.
_LAUNCH = """
import sys
import tornado.tcpserver

_bind = tornado.tcpserver.TCPServer.bind

def bind(self, port, address=None, *args, **kwargs):
    return _bind(self, port, "127.0.0.1", *args, **kwargs)

tornado.tcpserver.TCPServer.bind = bind
from apertium_apy.apy import main

sys.argv[0] = "apertium-apy"
main()
"""
QUICK = RetryPolicy(attempts=2, initial_wait=0.05, max_wait=0.2)


def _interpreter() -> str:
    """The Python that runs `apertium-apy` (Debian's, not this virtualenv's)."""
    assert APY is not None
    first = Path(APY).read_text(encoding="utf-8").splitlines()[0]
    return first.removeprefix("#!").strip().split()[0] if first.startswith("#!") else "python3"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End APy and the pipelines it started (its own process group), and reap it."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def apy_server(workdir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start APy on a free loopback port, wait until it lists pairs, stop it afterwards."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with (workdir / "apy.log").open("wb") as log:
        process = subprocess.Popen(
            [_interpreter(), "-c", _LAUNCH, "-p", str(port), "-t", "20", str(MODES)],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown reaches the pipelines
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log_text = (workdir / "apy.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"apertium-apy exited with {process.returncode}:\n{log_text}")
            try:
                if httpx.get(f"{url}/listPairs", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("apertium-apy did not answer /listPairs within 30 s")
            time.sleep(0.2)
        yield url, process
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with apy_server(tmp_path_factory.mktemp("apy")) as (url, _process):
        yield url


@pytest.fixture
def apy(server: str) -> Iterator[APyEngine]:
    with APyEngine(base_url=server, retry=QUICK) as engine:
        yield engine


def test_pairs_are_discovered(apy: APyEngine) -> None:
    pairs = apy.pairs()

    assert {("en", "es"), ("es", "en")} <= pairs
    assert ("es", "pt-BR") in pairs  # APy's por_BR
    assert apy.supports("en-US", "es")


def test_a_support_sentence_is_translated(apy: APyEngine) -> None:
    [result] = apy.translate_batch(
        ["Thank you for your patience. Your refund has been approved."], source="en", target="es"
    )

    assert "gracias" in result.text.lower()
    assert "reembolso" in result.text.lower()
    assert "  " not in result.text
    assert not result.text.startswith(" ")


def test_tokens_survive(apy: APyEngine) -> None:
    [result] = apy.translate_batch(
        ["Your order ⟦0⟧ has shipped to ⟦1⟧. Call ⟦2⟧⟦3⟧ today."], source="en", target="es"
    )

    assert sorted(TOKEN_PATTERN.findall(result.text)) == ["⟦0⟧", "⟦1⟧", "⟦2⟧", "⟦3⟧"]


def test_unknown_words_are_reported_and_unmarked(apy: APyEngine) -> None:
    [result] = apy.translate_batch(
        ["The flurbogizmo is broken and I want a refund."], source="en", target="es"
    )

    assert "flurbogizmo" in result.unknown_words
    assert "flurbogizmo" in result.text
    assert "*" not in result.text


def test_literal_marks_survive_and_are_not_unknown_words(apy: APyEngine) -> None:
    [result] = apy.translate_batch(
        ["Hi @team, order #12345 costs 5 * 3."], source="en", target="es"
    )

    assert "@" in result.text
    assert "#12345" in result.text
    assert "5 * 3" in result.text
    assert result.unknown_words == ()


def test_a_batch_comes_back_in_order(apy: APyEngine) -> None:
    segments = ["Good morning.", "The package arrived broken.", "", "Thank you!", "Goodbye."]

    results = apy.translate_batch(segments, source="en", target="es")

    singles = [apy.translate_batch([s], source="en", target="es")[0].text for s in segments]
    assert [r.text for r in results] == singles
    assert results[2].text == ""


def test_spanish_to_english(apy: APyEngine) -> None:
    [result] = apy.translate_batch(["Quiero un reembolso."], source="es", target="en")

    assert "refund" in result.text or "repayment" in result.text


def test_a_long_message_is_not_truncated(apy: APyEngine) -> None:
    # APy alone drops input beyond ~40 KB (measured); pieces of 1500 characters do not.
    segment = " ".join(f"Sentence number {n} is here." for n in range(1600))  # ~47 KB

    [result] = apy.translate_batch([segment], source="en", target="es")

    assert "1599" in result.text
    assert result.text.count("aquí") == 1600


def test_an_unsupported_pair_fails_over(apy: APyEngine) -> None:
    with pytest.raises(ServiceError, match="no such pair") as caught:
        apy.translate_batch(["Hello"], source="en", target="de")

    assert not isinstance(caught.value, InvalidRequestError)
    assert caught.value.failover
    assert not apy.supports("en", "de")


def test_async_path(server: str) -> None:
    async def run() -> list[SegmentResult]:
        async with httpx.AsyncClient() as client:
            engine = APyEngine(base_url=server, async_http_client=client)
            return await engine.atranslate_batch(
                ["Good morning ⟦0⟧.", "The flurbogizmo is broken."], source="en", target="es"
            )

    first, second = anyio.run(run)
    assert "⟦0⟧" in first.text
    assert second.unknown_words == ("flurbogizmo",)


def test_a_server_that_dies_is_unavailable_and_retryable(tmp_path: Path) -> None:
    with apy_server(tmp_path) as (url, process):
        engine = APyEngine(base_url=url, retry=QUICK)
        assert engine.translate_batch(["Hello."], source="en", target="es")[0].text
        _stop(process)

        with pytest.raises(ServiceUnavailableError) as caught:
            engine.translate_batch(["Hello."], source="en", target="es")
        engine.close()

    assert caught.value.retryable
    assert caught.value.failover


class TestAPyServerContract(EngineContract):
    @pytest.fixture
    def contract_engine(self, apy: APyEngine) -> APyEngine:
        return apy

    @pytest.fixture
    def contract_pair(self) -> tuple[str, str]:
        return ("en", "es")
