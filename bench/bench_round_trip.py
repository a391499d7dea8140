"""Benchmark: does the round-trip check catch broken translations, and at what cost?

Run with `.venv/bin/python bench/bench_round_trip.py` (needs Apertium; scripts/bootstrap).

A labelled set is made on the spot: 40 agent replies (bench/data/round_trip_replies.txt) are
translated en→xx with Apertium over direct pairs (es, ca, gl) and pivot routes (fr, pt via es);
each translation is then kept intact or broken on purpose by a rule:

- `wrong`: another reply's translation; `truncated`: the second half of the words dropped;
- `shuffled`: the words in another order; `negation`: the target language's negation words
  removed (only replies that have a negation); `number`: a digit changed (only replies with one,
  after numbers written as words are not counted).

Every variant is translated back to English through the same loop and checked with
`RoundTripCheck`; the report gives recall per breakage kind, false alarms on intact replies, and
the extra engine time of the back-translation against the forward translation, measured side by
side in this run.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from pathlib import Path

from tl_loop import Loop, RoundTripCheck
from tl_loop.engines import ApertiumEngine

REPLIES = Path(__file__).with_name("data") / "round_trip_replies.txt"
TARGETS = {"es": "direct", "ca": "direct", "gl": "direct", "fr": "pivot es", "pt": "pivot es"}
NEGATION_WORDS = {
    "es": r"\bno\b|\bnunca\b|\bnadie\b",
    "ca": r"\bno\b|\bmai\b|\bningú\b",
    "gl": r"\bnon\b|\bnunca\b|\bninguén\b",
    "fr": r"\bne\b|\bn'|\bpas\b|\bjamais\b|\bpersonne\b",
    "pt": r"\bnão\b|\bnunca\b|\bninguém\b",
}


NEGATION_IN_ENGLISH = re.compile(r"\b(?:not|no|never|nobody|nothing|cannot)\b|n't\b", re.I)


def breakages(
    source: str, text: str, target: str, other: str, rng: random.Random
) -> dict[str, str]:
    words = text.split()
    out = {"intact": text, "wrong": other, "truncated": " ".join(words[: max(1, len(words) // 2)])}
    shuffled = words[:]
    while len(shuffled) > 3 and shuffled == words:
        rng.shuffle(shuffled)
    out["shuffled"] = " ".join(shuffled)
    dropped = re.sub(NEGATION_WORDS[target], "", text, flags=re.IGNORECASE)
    if dropped != text and NEGATION_IN_ENGLISH.search(source):
        out["negation"] = re.sub(r"\s{2,}", " ", dropped).strip()
    digits = re.findall(r"\d+", text)
    if digits:
        number = digits[0]
        out["number"] = text.replace(number, str(int(number) + 7), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    replies = [
        line.strip()
        for line in REPLIES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    check = RoundTripCheck()
    caught: dict[str, list[bool]] = {}
    forward_s = back_s = 0.0
    with Loop(engines=[ApertiumEngine()]) as loop:
        for target, route in TARGETS.items():
            # Warm both directions first: pipeline start-up is not translation cost.
            loop.translate(loop.translate("Hello.", source="en", target=target).translated,
                           source=target, target="en")  # fmt: skip
            started = time.perf_counter()
            forward = [loop.translate(r, source="en", target=target).translated for r in replies]
            forward_s += time.perf_counter() - started
            for i, (reply, translated) in enumerate(zip(replies, forward, strict=True)):
                other = forward[(i + 7) % len(forward)]
                for kind, variant in breakages(reply, translated, target, other, rng).items():
                    started = time.perf_counter()
                    back = loop.translate(variant, source=target, target="en").translated
                    back_s += time.perf_counter() - started
                    flags = check.flags(reply, back, language="en", target=target)
                    caught.setdefault(kind, []).append(bool(flags))
                    caught.setdefault(f"{kind} ({route})", []).append(bool(flags))
    print("round-trip check on Apertium, en→{es,ca,gl} direct and en→{fr,pt} through es")
    print(f"{'kind':<22}{'cases':>7}{'flagged':>9}{'rate':>8}")
    for kind in ("intact", "wrong", "truncated", "shuffled", "negation", "number"):
        for key in (kind, f"{kind} (direct)", f"{kind} (pivot es)"):
            hits = caught.get(key, [])
            if hits:
                rate = sum(hits) / len(hits)
                print(f"{key:<22}{len(hits):>7}{sum(hits):>9}{rate:>8.0%}")
    gross = caught["wrong"] + caught["truncated"] + caught["shuffled"]
    print(f"gross breakages caught: {sum(gross) / len(gross):.0%} of {len(gross)}")
    print(f"false alarms on intact replies: {sum(caught['intact']) / len(caught['intact']):.0%}")
    per_back = back_s / sum(len(v) for k, v in caught.items() if "(" not in k)
    per_forward = forward_s / (len(replies) * len(TARGETS))
    print(
        f"engine time per message: forward {per_forward * 1000:.1f} ms, back "
        f"{per_back * 1000:.1f} ms (×{per_back / per_forward:.2f} of the forward cost)"
    )


if __name__ == "__main__":
    main()
