"""Protection cost: `protect` + `restore` on support replies, HTML and Markdown snippets.

Run: .venv/bin/python bench/bench_protect.py

Times one `protect` call plus one `restore` of the untranslated segments per message, after a
warm-up (compiled regexes cached), and prints p50/p90 per content type. Target: protect on a
200-character plain-text support reply at p50 ≤ 50 µs; the ratio to that target is printed for
protect alone and for protect + restore.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from tl_loop import protect
from tl_loop._models import ContentType

TARGET_US = 50.0
PRODUCTS = ["AcmeSync", "the mobile app", "your dashboard", "the billing page", "two-factor login"]
AMOUNTS = ["$59.99", "€20", "12,50 EUR", "USD 15", "£7.49"]
OPENERS = ["Hi {{ticket.requester.first_name}}", "Hello {name}", "Hi there", "Dear customer"]


def replies(count: int) -> list[str]:
    """Support replies of exactly 200 characters, varied like real ones."""
    out = []
    for i in range(count):
        text = (
            f"{OPENERS[i % 4]}, thanks for your patience with order #{48000 + i}. "
            f"We refunded {AMOUNTS[i % 5]} and {PRODUCTS[i % 5]} should work again now. "
            f"If it does not, please reply and we will take another look within {i % 7 + 1} days."
        )
        out.append(text[:200].ljust(200))
    return out


def html_snippets(count: int) -> list[str]:
    """HTML replies of a few hundred characters: blocks, inline tags, a link, an attribute."""
    out = []
    for i in range(count):
        out.append(
            f"<p>Hi <b>{{{{ticket.requester.first_name}}}}</b>,</p>\n"
            f"<p>Your order <a href='https://acme.example/orders/{48000 + i}' title='Open the "
            f"order'>#{48000 + i}</a> shipped today &amp; should arrive within {i % 5 + 2} days. "
            f"We refunded <strong>{AMOUNTS[i % 5]}</strong> to your card.</p>\n"
            f"<ul><li>Restart {PRODUCTS[i % 5]}.</li><li>Sign in again with "
            f"<code>jane.doe@example.com</code>.</li></ul>\n"
            f"<p>Questions? Write to support@acme.example or see www.acme.example/help.</p>"
        )
    return out


def markdown_snippets(count: int) -> list[str]:
    """Markdown help-centre snippets: a heading, a paragraph, a list, a link, code."""
    out = []
    for i in range(count):
        out.append(
            f"## Resetting {PRODUCTS[i % 5]}\n\n"
            f"If **{PRODUCTS[i % 5]}** stops syncing, follow these steps. It takes about "
            f"{i % 9 + 1} minutes.\n\n"
            f"1. Open *Settings* and choose `Reset sync`.\n"
            f"2. Sign in again; see [the guide](https://acme.example/help/{i}) for details.\n"
            f"3. Check that order #{48000 + i} shows {AMOUNTS[i % 5]} as refunded.\n\n"
            f"```\nacme sync --reset\n```\n\n"
            f"Still stuck? Reply to this e-mail and mention ticket ORD-2024-{i:04d}.\n"
        )
    return out


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile of `values`."""
    return statistics.quantiles(values, n=100)[q - 1]


def measure(messages: list[str], content_type: ContentType, *, restore: bool) -> list[float]:
    """Microseconds per message for protect (and restore), best of three passes each."""
    runs: list[list[float]] = []
    for _ in range(3):
        times = []
        for text in messages:
            started = time.perf_counter()
            doc = protect(text, content_type=content_type)
            if restore:
                doc.restore(doc.segments)
            times.append((time.perf_counter() - started) * 1e6)
        runs.append(times)
    return [min(values) for values in zip(*runs, strict=True)]


def main() -> None:
    """Print p50/p90 per content type; the ratio to the target for text."""
    cases: list[tuple[str, ContentType, Callable[[int], list[str]], int]] = [
        ("text", "text", replies, 200),
        ("html", "html", html_snippets, 50),
        ("markdown", "markdown", markdown_snippets, 50),
    ]
    for _, content_type, make, count in cases:  # warm up the regex caches
        for text in make(count)[:5]:
            doc = protect(text, content_type=content_type)
            doc.restore(doc.segments)
    print(f"{'case':<28}{'chars':>7}{'p50 µs':>10}{'p90 µs':>10}{'p50/target':>12}")
    for name, content_type, make, count in cases:
        messages = make(count)
        size = statistics.mean(len(m) for m in messages)
        for restore in (False, True):
            label = f"{name} ({'protect+restore' if restore else 'protect'})"
            times = measure(messages, content_type, restore=restore)
            p50, p90 = percentile(times, 50), percentile(times, 90)
            ratio = f"{p50 / TARGET_US:.2f}x" if name == "text" else ""
            print(f"{label:<28}{size:>7.0f}{p50:>10.1f}{p90:>10.1f}{ratio:>12}")
    print(f"target: text protect p50 ≤ {TARGET_US:.0f} µs")


if __name__ == "__main__":
    main()
