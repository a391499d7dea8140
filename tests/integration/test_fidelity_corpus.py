"""The fidelity targets on real Apertium en→es, over the corpus in tests/fidelity_corpus.py.

- ≥ 99 % of the strings each case must keep come back byte-exact;
- every damaged reply carries a fidelity (or token parity) flag and is not sent as `send`,
  also when nothing is masked (what an engine does to text no rule recognised);
- ≤ 3 % of intact replies carry a fidelity flag;
- `unknown_words` never names a piece of an intact identifier.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from fidelity_corpus import Case, cases, damaged
from tl_loop import Decision, Loop, Protection, Translation
from tl_loop.engines import ApertiumEngine
from tl_loop.text import FAMILIES

if shutil.which("lt-proc") is None:
    pytest.skip("Apertium is not installed (no lt-proc on PATH)", allow_module_level=True)

pytestmark = pytest.mark.apertium


@pytest.fixture(scope="module")
def engine() -> Iterator[ApertiumEngine]:
    apertium = ApertiumEngine()
    if not apertium.supports("en", "es"):
        pytest.skip("the Apertium en-es pair (apertium-eng-spa) is not installed")
    yield apertium
    apertium.close()


def translate_all(loop: Loop) -> list[tuple[Case, Translation]]:
    return [(case, loop.translate(case.sentence, source="en", target="es")) for case in cases()]


def test_identifiers_survive_and_intact_replies_raise_no_alarm(engine: ApertiumEngine) -> None:
    results = translate_all(Loop(engines=[engine]))
    total = sum(len(case.keep) for case, _ in results)
    lost = {case.sentence: damaged(case, reply.translated) for case, reply in results}
    assert 1 - sum(map(len, lost.values())) / total >= 0.99, {k: v for k, v in lost.items() if v}

    intact = [reply for case, reply in results if not lost[case.sentence]]
    alarms = [reply.translated for reply in intact if "fidelity" in reply.flag_codes]
    assert len(alarms) <= 0.03 * len(intact), alarms
    for case, reply in results:
        if lost[case.sentence]:
            assert {"fidelity", "token_parity"} & set(reply.flag_codes), reply.translated
            assert reply.decision != Decision.SEND
        for flag in reply.flags:
            if flag.code == "unknown_words" and not lost[case.sentence]:
                named = flag.detail.split(": ", 1)[1].split(", ")
                assert not [w for w in named if any(w in keep for keep in case.keep)], flag


def test_every_damaged_reply_is_caught_when_nothing_is_masked(engine: ApertiumEngine) -> None:
    loop = Loop(engines=[engine], protection=Protection(disabled=frozenset(FAMILIES)))
    results = translate_all(loop)
    hurt = [(case, reply) for case, reply in results if damaged(case, reply.translated)]
    assert len(hurt) > len(results) / 3  # Apertium really damages what nobody masks
    for case, reply in hurt:
        assert "fidelity" in reply.flag_codes, (case.sentence, reply.translated)
        assert reply.decision == Decision.HOLD
    intact = [reply for case, reply in results if not damaged(case, reply.translated)]
    alarms = [reply.translated for reply in intact if "fidelity" in reply.flag_codes]
    assert len(alarms) <= 0.03 * len(intact), alarms
