"""ApertiumEngine against the real Debian Apertium packages: warm pipelines, tokens, restarts."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tl_loop import MissingDependencyError, ServiceUnavailableError, UnsupportedLanguageError
from tl_loop.engines import ApertiumEngine

if shutil.which("lt-proc") is None:
    pytest.skip("Apertium is not installed (no lt-proc on PATH)", allow_module_level=True)

pytestmark = pytest.mark.apertium

MESSAGES = [
    "Hello, I want a refund for my order.",
    "My package has not arrived yet.",
    "Can you send me a new invoice?",
    "The product is broken and I want to return it.",
    "Thank you for your help.",
    "I paid twice for the same order.",
    "Where is my order?",
    "Please cancel my subscription.",
]


@pytest.fixture(scope="module")
def engine() -> Iterator[ApertiumEngine]:
    shared = ApertiumEngine()
    with shared:
        yield shared


def translate(engine: ApertiumEngine, text: str, source: str = "en", target: str = "es") -> str:
    return engine.translate_batch([text], source=source, target=target)[0].text


def test_installed_pairs_are_discovered(engine: ApertiumEngine) -> None:
    pairs = engine.pairs()
    assert {("en", "es"), ("es", "en"), ("pt", "es"), ("en", "ca-valencia")} <= pairs
    assert engine.is_available()
    assert engine.version == engine.version


def test_english_support_sentence_becomes_spanish(engine: ApertiumEngine) -> None:
    assert translate(engine, "Hello, I want a refund for my order.") == (
        "Hola, quiero un reembolso para mi orden."
    )
    assert translate(engine, "Quiero un reembolso.", "es", "en") == "I want a repayment."


def test_protected_tokens_come_back_exactly(engine: ApertiumEngine) -> None:
    segments = [
        "Your order ⟦0⟧ has shipped to ⟦1⟧.",
        "⟦0⟧ is the tracking number.",
        "Please write to ⟦0⟧",
        "Call ⟦0⟧, ⟦1⟧ or ⟦2⟧ before ⟦3⟧!",
    ]
    results = engine.translate_batch(segments, source="en", target="es")
    for segment, result in zip(segments, results, strict=True):
        tokens = sorted(t for t in segment.split() if "⟦" in t)
        assert sorted(t for t in result.text.split() if "⟦" in t) == tokens
    assert results[0].text == "Vuestro orden ⟦0⟧ ha embarcado a ⟦1⟧."


def test_unknown_words_are_reported_and_their_marks_stripped(engine: ApertiumEngine) -> None:
    result = engine.translate_batch(
        ["The Zorblaxian adapter is broken."], source="en", target="es"
    )[0]
    assert "Zorblaxian" in result.unknown_words
    assert "Zorblaxian" in result.text
    assert not any(mark + "Zorblaxian" in result.text for mark in "*@#")


def test_literal_marks_in_the_source_are_not_unknown_words(engine: ApertiumEngine) -> None:
    result = engine.translate_batch(["I rate it 5 * 3 = 15."], source="en", target="es")[0]
    assert "5 * 3 = 15" in result.text
    assert result.unknown_words == ()


def test_line_breaks_and_outer_whitespace_survive(engine: ApertiumEngine) -> None:
    text = translate(engine, "  Hello,\nmy package has not arrived.\n\nThank you.\n")
    assert text == "  Hola,\nmi envase no ha llegado.\n\nGracias.\n"


def test_batch_keeps_order_and_matches_single_calls(engine: ApertiumEngine) -> None:
    batch = engine.translate_batch([*MESSAGES, "", "   "], source="en", target="es")
    assert [r.text for r in batch] == [translate(engine, m) for m in MESSAGES] + ["", "   "]


def test_concurrent_threads_get_the_same_outputs_as_sequential(engine: ApertiumEngine) -> None:
    jobs = [(f"{MESSAGES[i % len(MESSAGES)]} Order {i}.", i % 3) for i in range(160)]
    pairs = [("en", "es"), ("es", "en"), ("en", "ca")]

    def run(job: tuple[str, int]) -> str:
        source, target = pairs[job[1]]
        return translate(engine, job[0], source, target)

    expected = [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(run, jobs)) == expected


def test_several_pipelines_per_pair_serve_threads() -> None:
    engine = ApertiumEngine(pipelines_per_pair=3)
    with engine:
        expected = [translate(engine, m) for m in MESSAGES]
        with ThreadPoolExecutor(max_workers=6) as pool:
            assert list(pool.map(lambda m: translate(engine, m), MESSAGES * 5)) == expected * 5
        assert len(engine._pipeline_pids("en", "es")) > len(engine._pipeline_pids("es", "en"))


@pytest.mark.parametrize("which", [0, 3, -1])
def test_a_killed_pipeline_restarts_transparently(engine: ApertiumEngine, which: int) -> None:
    expected = translate(engine, MESSAGES[0])
    pids = engine._pipeline_pids("en", "es")
    os.kill(pids[which], signal.SIGKILL)
    time.sleep(0.05)
    assert translate(engine, MESSAGES[0]) == expected
    assert set(engine._pipeline_pids("en", "es")).isdisjoint(pids)


def test_a_closed_engine_starts_again_on_use() -> None:
    engine = ApertiumEngine()
    expected = translate(engine, MESSAGES[1])
    engine.close()
    engine.close()
    assert engine._pipeline_pids("en", "es") == ()
    assert translate(engine, MESSAGES[1]) == expected
    engine.close()


def test_portuguese_region_falls_back_to_portuguese(engine: ApertiumEngine) -> None:
    assert engine.supports("pt-BR", "es")
    assert translate(engine, "Eu quero um reembolso.", "pt-BR", "es") == (
        translate(engine, "Eu quero um reembolso.", "pt", "es")
    )
    assert translate(engine, "Quiero un reembolso.", "es", "pt-BR") == "Quero um reembolso."


def test_unsupported_pair_names_the_installed_pairs(engine: ApertiumEngine) -> None:
    with pytest.raises(UnsupportedLanguageError) as caught:
        engine.translate_batch(["Hallo"], source="de", target="en")
    message = str(caught.value)
    assert "installed pairs:" in message  # many pairs: summarised as the languages they join
    joined = message.split(" among ")[1].split(";")[0].split(", ")
    assert {"en", "en-US", "es"} <= set(joined)
    assert "apertium-deu-eng" in message
    assert ("en", "es") in caught.value.available


def test_a_long_segment_is_translated_whole(engine: ApertiumEngine) -> None:
    text = " ".join(f"My order number {i} has not arrived." for i in range(400))
    result = translate(engine, text)
    assert len(text) > 10_000
    assert result.count("no ha llegado.") == 400
    assert "399" in result


def test_a_stuck_pipeline_times_out_and_is_restarted(tmp_path: Path) -> None:
    stuck = tmp_path / "stuck"
    stuck.write_text("#!/bin/sh\nexec cat >/dev/null\n", encoding="utf-8")
    stuck.chmod(0o755)
    (tmp_path / "eng-spa.mode").write_text(f"{stuck} $1\n", encoding="utf-8")
    engine = ApertiumEngine(modes_dir=tmp_path, timeout=0.3)
    with engine:
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(ServiceUnavailableError) as caught:
                engine.translate_batch(["Hello."], source="en", target="es")
            assert caught.value.service == "apertium"
            assert caught.value.retryable
            assert time.monotonic() - started < 2
            assert engine._pipeline_pids("en", "es") == ()


def test_a_broken_pair_reports_the_programs_error(tmp_path: Path) -> None:
    (tmp_path / "eng-spa.mode").write_text("lt-proc '/nonexistent/x.bin'\n", encoding="utf-8")
    (tmp_path / "spa-eng.mode").write_text("no-such-apertium-program $1\n", encoding="utf-8")
    engine = ApertiumEngine(modes_dir=tmp_path)
    with engine:
        with pytest.raises(
            ServiceUnavailableError, match=r"Cannot open file '/nonexistent/x\.bin'"
        ):
            engine.translate_batch(["Hello."], source="en", target="es")
        with pytest.raises(MissingDependencyError, match="no-such-apertium-program"):
            engine.translate_batch(["Hola."], source="es", target="en")
