"""Knowledge-base jobs: segments sent vs a naive per-article run, re-runs, and throughput.

500 generated articles (half HTML, half Markdown, front matter with title and description),
each with about 30 % of its sentences drawn from a shared pool of boilerplate. Measured in one
run, side by side:

1. engine segments of a kb job vs a naive run (each article translated on its own through
   `Loop.translate`, no cache shared between articles): target ≤ 70 %;
2. engine segments of a re-run after editing 5 % of the articles vs the first run: target ≤ 6 %;
3. throughput (articles and segments per second) with 1 and 2 worker processes, on Apertium
   when it is installed, else on the fake engine.

    .venv/bin/python bench/bench_kb.py [--articles 500] [--throughput-articles 200]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from tl_loop import Loop, TlLoopConfig
from tl_loop.kb import translate_folder
from tl_loop.kb._articles import load_article, scan_folder
from tl_loop.testing import FakeEngine

WORDS = [
    "account",
    "order",
    "invoice",
    "refund",
    "payment",
    "card",
    "password",
    "email",
    "profile",
    "subscription",
    "plan",
    "device",
    "app",
    "settings",
    "team",
    "member",
    "report",
    "export",
    "import",
    "data",
    "file",
    "page",
    "link",
    "button",
    "menu",
    "screen",
    "address",
    "delivery",
    "package",
    "tracking",
    "number",
    "store",
    "product",
    "price",
    "discount",
    "coupon",
    "cart",
    "checkout",
    "receipt",
    "tax",
    "country",
    "language",
    "time",
    "zone",
    "notification",
    "message",
    "chat",
    "agent",
]
VERBS = [
    "open",
    "click",
    "select",
    "enter",
    "change",
    "update",
    "delete",
    "create",
    "check",
    "review",
    "save",
    "send",
]
BOILERPLATE = [
    "Was this article helpful?",
    "Need more help? Contact [our support team](https://example.com/contact) any time.",
    "Our team answers within one business day.",
    "Sign in to your account before you start.",
    "Changes can take a few minutes to appear.",
    "If the problem persists, clear your browser cache and try again.",
    "You can also reach us by chat from the help center.",
    "Related articles are listed at the end of this page.",
    "Screenshots may differ slightly from what you see.",
    "This feature is available on every plan.",
]


def sentence(rng: random.Random) -> str:
    words = rng.sample(WORDS, 6)
    return f"{rng.choice(VERBS).capitalize()} the {words[0]} {words[1]} and the {words[2]} " \
        f"{words[3]} from the {words[4]} {words[5]} page {rng.randint(1, 999)}."  # fmt: skip


def article(rng: random.Random, index: int, html: bool) -> str:
    sentences = [sentence(rng) for _ in range(14)] + rng.sample(BOILERPLATE, 6)
    rng.shuffle(sentences)
    front = f"---\nid: {1000 + index}\ntitle: {sentence(rng)[:-1]}\n" \
        f"description: \"{sentence(rng)}\"\n---\n"  # fmt: skip
    paragraphs = [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]
    if html:
        body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
        return front + f"<h1>Article {index}</h1>\n{body}\n"
    return front + f"# Article {index}\n\n" + "\n\n".join(paragraphs) + "\n"


def generate(root: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for index in range(count):
        html = index % 2 == 0
        suffix = "html" if html else "md"
        (root / f"a{index:04d}.{suffix}").write_text(article(rng, index, html), encoding="utf-8")


def edit(root: Path, share: float, seed: int = 11) -> int:
    rng = random.Random(seed)
    files = sorted(root.iterdir())
    chosen = rng.sample(files, round(len(files) * share))
    for path in chosen:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(" page ", " section ", 1), encoding="utf-8")
    return len(chosen)


def naive_segments(root: Path) -> int:
    """Each article on its own: a fresh loop (and cache) per article, as a script would do."""
    total = 0
    for path in scan_folder(root):
        engine = FakeEngine()
        loop = Loop(engines=[engine])
        for field in load_article(root, path, keys=("title", "description")).fields:
            loop.translate(field.text, source="en", target="es", content_type=field.content_type)
        total += engine.segments_sent
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--throughput-articles", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_kb_"))
    try:
        src = work / "src"
        src.mkdir()
        generate(src, args.articles)
        fake = TlLoopConfig(engines=["fake"])

        naive = naive_segments(src)
        first = translate_folder(src, out_dir=work / "out", targets=["es"], config=fake, workers=0)
        print(f"articles: {args.articles} (half HTML, half Markdown; 30 % boilerplate)")
        print(f"naive per-article run: {naive} engine segments")
        print(
            f"kb job:                {first.engine_segments} engine segments "
            f"= {first.engine_segments / naive:.1%} of naive (target ≤ 70 %)"
        )
        edited = edit(src, 0.05)
        rerun = translate_folder(src, out_dir=work / "out", targets=["es"], config=fake, workers=0)
        print(
            f"re-run after editing {edited} articles: {rerun.engine_segments} engine segments "
            f"= {rerun.engine_segments / first.engine_segments:.1%} of the first run "
            f"(target ≤ 6 %); {rerun.up_to_date} up to date, {rerun.translated} rewritten"
        )

        apertium = shutil.which("lt-proc") is not None
        config = TlLoopConfig(engines=["apertium"]) if apertium else fake
        small = work / "small"
        small.mkdir()
        generate(small, args.throughput_articles, seed=3)
        print(f"throughput on {'Apertium' if apertium else 'the fake engine'} (en→es), "
              f"{args.throughput_articles} articles, cold start included:")  # fmt: skip
        for workers in (1, 2):
            started = time.perf_counter()
            result = translate_folder(
                small, out_dir=work / f"tp{workers}", targets=["es"], config=config,
                workers=workers,
            )  # fmt: skip
            seconds = time.perf_counter() - started
            print(
                f"  {workers} worker(s): {seconds:6.1f} s, "
                f"{result.translated / seconds:6.1f} articles/s, "
                f"{result.engine_segments / seconds:7.1f} engine segments/s"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
