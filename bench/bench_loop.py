"""Loop overhead over the bare engine call, and a cache hit through the loop.

Run: .venv/bin/python bench/bench_loop.py

(b) For 200-character support replies, the time `Loop.outbound` adds on top of the bare
    `FakeEngine.translate_batch` call (protect, cache miss, restore, checks, decision, audit),
    measured side by side on the same messages. Target: p50 ≤ 300 µs.
(c) The same reply again: served from the cache through the whole loop. Target: p50 ≤ 20 µs
    for the cache lookup itself, and the loop's total on a hit is printed beside it.
"""

from __future__ import annotations

import statistics
import time

from tl_loop import Conversation, Loop, Message, TranslationCache, cache_key
from tl_loop.testing import FakeEngine

PRODUCTS = ["AcmeSync", "the mobile app", "your dashboard", "the billing page", "two-factor login"]


def replies(count: int) -> list[str]:
    out = []
    for i in range(count):
        text = (
            f"Hi {{{{ticket.requester.first_name}}}}, thanks for your patience with order "
            f"#{48000 + i}. We refunded $59.99 and {PRODUCTS[i % 5]} should work again now. "
            f"If it does not, please reply and we will take another look within {i % 7 + 1} days."
        )
        out.append(text[:200].ljust(200))
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    messages = replies(200)
    engine = FakeEngine()
    loop = Loop(engines=[engine], cache=TranslationCache(maxsize=100_000))
    conversation = Conversation(customer_language="es")
    loop.outbound(Message(text="Warm up the detector and the regexes."), conversation)

    bare, total, hit = [], [], []
    for text in messages:
        started = time.perf_counter()
        engine.translate_batch([text], source="en", target="es")
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        loop.outbound(Message(text=text), conversation)
        total.append(time.perf_counter() - started)
        started = time.perf_counter()
        loop.outbound(Message(text=text), conversation)
        hit.append(time.perf_counter() - started)
    # The loop's own work: its total minus the bare engine call on the same message.
    overhead = [t - b for t, b in zip(total, bare, strict=True)]

    def key(text: str) -> str:
        return cache_key(
            engine="fake@1", engine_version="1", source="en", target="es",
            content_type="text", formality=None, glossary_version="g1", text=text,
        )  # fmt: skip

    cache: TranslationCache[str] = TranslationCache()
    for text in messages:
        cache.put(key(text), text)
    lookups = []
    for _ in range(5):
        for text in messages:
            started = time.perf_counter()
            cache.get(key(text))
            lookups.append(time.perf_counter() - started)

    us = 1e6
    print("bench_loop: 200 support replies of 200 characters, en→es, FakeEngine")
    print(f"  bare engine call     p50 {p(bare, 50) * us:8.1f} µs")
    print(
        f"  loop.outbound (miss) p50 {p(total, 50) * us:8.1f} µs   p90 {p(total, 90) * us:8.1f} µs"
    )
    print(
        f"  (b) loop overhead    p50 {p(overhead, 50) * us:8.1f} µs"
        f"   p90 {p(overhead, 90) * us:8.1f} µs"
        f"   target ≤ 300 µs → {p(overhead, 50) * us / 300:.2f}× of target"
    )
    print(f"  loop.outbound (hit)  p50 {p(hit, 50) * us:8.1f} µs   (whole loop, served from cache)")
    print(f"  (c) cache_key + get  p50 {p(lookups, 50) * us:8.1f} µs"
          f"   target ≤ 20 µs → {p(lookups, 50) * us / 20:.2f}× of target")  # fmt: skip
    print(f"  hit vs miss through the loop: {p(total, 50) / p(hit, 50):.1f}× faster on a hit")


if __name__ == "__main__":
    main()
