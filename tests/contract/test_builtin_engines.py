"""Every built-in engine passes the contract suite that third-party engines use."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tl_loop.engines import ApertiumEngine, Engine
from tl_loop.testing import EngineContract, FakeEngine


class TestFakeEngineContract(EngineContract):
    @pytest.fixture
    def contract_engine(self) -> Engine:
        return FakeEngine()

    @pytest.fixture
    def contract_pair(self) -> tuple[str, str]:
        return ("en", "es")


@pytest.fixture(scope="module")
def apertium() -> Iterator[Engine]:
    with ApertiumEngine() as engine:
        yield engine


@pytest.mark.apertium
@pytest.mark.skipif(shutil.which("lt-proc") is None, reason="Apertium is not installed")
class TestApertiumContract(EngineContract):
    @pytest.fixture
    def contract_engine(self, apertium: Engine) -> Engine:
        return apertium

    @pytest.fixture
    def contract_pair(self) -> tuple[str, str]:
        return ("en", "es")
