"""Quality of the Debian Apertium pairs, measured the same way for each, side by side.

Run with `.venv/bin/python bench/bench_apertium_pairs.py [--kb-sentences 30]`.

(a) X → en: the eight support sentences of `apertium_pairs_corpus.py` in each language the
    pairs read, translated into English by the route the loop would take (direct, or through
    es), scored with chrF against the English they mean (0–100, one reference, so the absolute
    figure is low even for good output: compare rows), with the share of words Apertium marked
    unknown.
(b) en → X → en: real sentences from the Jekyll documentation in ../shared/realworld (or
    $TL_LOOP_REALWORLD), translated into each language that has a way back and back again;
    chrF of the round trip against the source. A round trip blames both directions; es, the
    most mature pair, is the yardstick.

Figures and the verdict per pair are in docs/engines-apertium.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
from pathlib import Path

from apertium_pairs_corpus import ENGLISH, SENTENCES
from tl_loop.engines import ApertiumEngine, EngineChain
from tl_loop.text import chrf

ROUND_TRIP = ["es", "ca", "gl", "fr", "pt", "it", "oc", "an", "eo", "sr", "hr", "bs"]
_PROSE = re.compile(r"^[A-Z][A-Za-z ,;'’()-]+[.]$")


def realworld() -> Path:
    configured = os.environ.get("TL_LOOP_REALWORLD")
    return (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[2] / "shared" / ("realworld")
    )


def kb_sentences(limit: int) -> list[str]:
    """Plain prose sentences of 6–25 words from the Jekyll docs, in file order."""
    found: list[str] = []
    for path in sorted((realworld() / "kb" / "jekyll-docs").glob("*.md")):
        text = re.sub(r"\A---.*?---", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
        text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
        for line in text.splitlines():
            for sentence in re.split(r"(?<=\.)\s+", line.strip()):
                if _PROSE.match(sentence) and 6 <= len(sentence.split()) <= 25:
                    found.append(sentence)
                    if len(found) == limit:
                        return found
    return found


def translate(
    chain: EngineChain, texts: list[str], source: str, target: str
) -> tuple[list[str], float, str]:
    """The outputs, the share of words marked unknown, and the route taken."""
    result = chain.translate_batch(texts, source=source, target=target)
    words = sum(len(text.split()) for text in texts)
    unknown = sum(len(r.unknown_words) for r in result.results)
    return [r.text for r in result.results], unknown / words, " → ".join(result.route.languages)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb-sentences", type=int, default=30)
    args = parser.parse_args()
    # Every installed mode, the ones left out by default (UNUSABLE_MODES) too: this is what
    # tells them apart.
    chain = EngineChain([ApertiumEngine(skip_modes=())], pivots=("en", "es"))
    with contextlib.closing(chain):
        print("(a) X → en, 8 support sentences, chrF against the meant English")
        print(f"{'lang':<8} {'route':<14} {'chrF':>5} {'unknown':>8}  example")
        for language, sentences in SENTENCES.items():
            if not chain.supports(language, "en"):
                print(f"{language:<8} not served (install the pair)")
                continue
            outputs, unknown, route = translate(chain, sentences, language, "en")
            score = statistics.mean(chrf(o, r) for o, r in zip(outputs, ENGLISH, strict=True))
            print(f"{language:<8} {route:<14} {score:5.1f} {unknown:8.0%}  {outputs[7]!r}")

        source = kb_sentences(args.kb_sentences)
        if not source:
            print(f"\n(b) skipped: no Jekyll docs under {realworld()}", file=sys.stderr)
            return 0
        print(f"\n(b) en → X → en, {len(source)} sentences of the Jekyll docs, chrF vs source")
        print(f"{'lang':<8} {'route there':<14} {'chrF':>5} {'unknown':>8}  example")
        for language in ROUND_TRIP:
            if not (chain.supports("en", language) and chain.supports(language, "en")):
                print(f"{language:<8} no way there and back")
                continue
            there, unknown, route = translate(chain, source, "en", language)
            back, _, _ = translate(chain, there, language, "en")
            score = statistics.mean(chrf(b, s) for b, s in zip(back, source, strict=True))
            print(f"{language:<8} {route:<14} {score:5.1f} {unknown:8.0%}  {there[0]!r}")
        print(f"\nexample source: {source[0]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
