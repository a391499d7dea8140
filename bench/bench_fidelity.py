"""Fidelity on real Apertium en→es: what survives byte-exact, what is caught, what is a false alarm.

Run: .venv/bin/python bench/bench_fidelity.py   (needs Apertium with eng-spa installed)

Each case of tests/fidelity_corpus.py (helpdesk placeholders, format strings, ICU, identifiers
agents type), inside an English support sentence, goes through `Loop.translate` en→es, once with
the default protection and once with every span family turned off (what an engine does to
text nobody masked). Prints, side by side: the share of must-keep strings that came back
byte-exact, the damaged replies and how many carried a `fidelity` flag and were not sent as
`send`, and the intact replies that carried a fidelity flag (false alarms).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fidelity_corpus import cases, damaged
from tl_loop import Loop, Protection
from tl_loop.engines import ApertiumEngine
from tl_loop.text._protection import FAMILIES


def run(loop: Loop, label: str) -> dict[str, float]:
    corpus = cases()
    kept = total = hurt = caught = held_or_flagged = intact = alarms = noisy = 0
    by_family: Counter[str] = Counter()
    for case in corpus:
        reply = loop.translate(case.sentence, source="en", target="es")
        lost = damaged(case, reply.translated)
        total += len(case.keep)
        kept += len(case.keep) - len(lost)
        codes = reply.flag_codes
        if lost:
            hurt += 1
            by_family[case.family] += 1
            caught += "fidelity" in codes or "token_parity" in codes
            held_or_flagged += reply.decision != "send"
        else:
            intact += 1
            alarms += "fidelity" in codes
            noisy += "unknown_words" in codes
    print(
        f"{label:28s} {len(corpus):5d} {kept / total:8.1%} {hurt:8d} {caught:7d} "
        f"{held_or_flagged:9d} {intact:7d} {alarms:7d} ({alarms / max(intact, 1):.1%}) "
        f"{noisy:6d}"
    )
    if by_family:
        print(f"{'':28s} damaged by family: {dict(by_family.most_common())}")
    return {"survival": kept / total, "alarms": alarms / max(intact, 1)}


def main() -> None:
    engine = ApertiumEngine()
    print(
        f"{'protection':28s} {'cases':>5s} {'survive':>8s} {'damaged':>8s} {'caught':>7s} "
        f"{'not send':>9s} {'intact':>7s} {'alarms':>7s}         {'unk.w':>6s}"
    )
    on = run(Loop(engines=[engine]), "every family (default)")
    off = run(
        Loop(engines=[engine], protection=Protection(disabled=frozenset(FAMILIES))),
        "no family masked",
    )
    print(f"survival ratio default/unmasked: {on['survival'] / off['survival']:.2f}x")


if __name__ == "__main__":
    main()
