"""Benchmark: Apertium spawned per message vs the warm ApertiumEngine pipeline, en→es.

Run with `.venv/bin/python bench/bench_apertium.py [--messages 200] [--spawn-samples 50]`.

(a) `apertium eng-spa` spawned per message (the usual way from a script): a sample of the
    messages, scaled to the full set so the run stays short;
(b) the warm engine, one message per `translate_batch` call;
(c) the warm engine, one `translate_batch` call for all messages.
Spawned and warm calls are interleaved so both see the same machine load.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import statistics
import subprocess
import time
from collections.abc import Callable

from tl_loop.engines._apertium import ApertiumEngine

GREETINGS = ["Hello", "Hi", "Good morning", "Good evening", "Dear support team"]
BODIES = [
    "my order {n} has not arrived yet.",
    "I want a refund for order {n}.",
    "can you tell me where my package {n} is?",
    "I paid {n} euros twice for the same order.",
    "the product in order {n} is broken and I want to return it.",
    "please cancel my subscription number {n}.",
    "I need a new invoice for order {n}.",
    "the delivery of order {n} was late by {d} days.",
    "can I change the address of order {n}?",
    "I was charged {d} times for order {n}, please help me.",
]
CLOSINGS = [
    "Thank you.",
    "Thanks for your help.",
    "Best regards.",
    "I am waiting for an answer.",
    "",
]


def support_messages(count: int) -> list[str]:
    """`count` varied support messages: greeting, a request with numbers, a closing."""
    combos = itertools.product(GREETINGS, BODIES, CLOSINGS)
    messages = []
    for i, (greeting, body, closing) in enumerate(itertools.islice(itertools.cycle(combos), count)):
        text = f"{greeting}, {body.format(n=48_213 + 17 * i, d=2 + i % 5)} {closing}"
        messages.append(text.strip())
    return messages


def spawn(message: str) -> str:
    """Translate one message the slow way: a fresh `apertium eng-spa` process pipeline."""
    done = subprocess.run(
        ["apertium", "eng-spa"], input=message, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def timed(call: Callable[[], object]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    """Run the three measurements and print totals, per-message p50 and the speed-up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--spawn-samples", type=int, default=50)
    args = parser.parse_args()
    messages = support_messages(args.messages)
    samples = min(args.spawn_samples, len(messages))
    step = max(1, len(messages) // samples)

    with ApertiumEngine() as engine:

        def translate(batch: list[str]) -> Callable[[], object]:
            return lambda: engine.translate_batch(batch, source="en", target="es")

        warm_up = timed(translate(messages[:1]))
        spawned: list[float] = []
        warm: list[float] = []
        for i, message in enumerate(messages):
            if i % step == 0 and len(spawned) < samples:
                spawned.append(timed(functools.partial(spawn, message)))
            warm.append(timed(translate([message])))
        batch = timed(translate(messages))

    n = len(messages)
    spawn_p50, warm_p50 = statistics.median(spawned), statistics.median(warm)
    spawn_total = statistics.fmean(spawned) * n
    print(f"{n} support messages, en→es; pipeline start on first use: {warm_up * 1000:.0f} ms")
    print(
        f"(a) spawn `apertium eng-spa` per message: {samples} sampled, scaled to {n}: "
        f"total ≈ {spawn_total:.2f} s, p50 {spawn_p50 * 1000:.1f} ms/message"
    )
    print(
        f"(b) warm engine, one message per call:     total {sum(warm):.3f} s, "
        f"p50 {warm_p50 * 1000:.2f} ms/message"
    )
    print(
        f"(c) warm engine, one batch of {n}:          total {batch:.3f} s, "
        f"{batch / n * 1000:.2f} ms/message"
    )
    print(
        f"speed-up (a)/(b): p50 {spawn_p50 / warm_p50:.0f}×, total "
        f"{spawn_total / sum(warm):.0f}× (target ≥ 20×); (a)/(c) total {spawn_total / batch:.0f}×"
    )


if __name__ == "__main__":
    main()
