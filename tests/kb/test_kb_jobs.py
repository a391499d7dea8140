"""Knowledge-base runs on fake engines, in this process: structure, reuse, increments, review."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from kb_support import BOILERPLATE, fake_config, write_samples

from tl_loop.kb import (
    export_xliff,
    import_xliff,
    kb_export_xliff,
    kb_import_xliff,
    kb_status,
    translate_folder,
)
from tl_loop.kb._executors import LoopSpec, warm_loop
from tl_loop.testing import FakeEngine


def sent(spec: LoopSpec) -> list[str]:
    engine = warm_loop(spec).chain.engines[0]
    assert isinstance(engine, FakeEngine)
    return [segment for _, _, segments in engine.calls for segment in segments]


def test_output_keeps_every_byte_of_structure(tmp_path: Path) -> None:
    write_samples(tmp_path / "src")
    summary = translate_folder(
        tmp_path / "src", out_dir=tmp_path / "out", targets=["es"],
        loop_factory="kb_support:identity_loop", workers=0,
    )  # fmt: skip
    assert summary.translated == 5
    for source in (tmp_path / "src").rglob("*.*"):
        relative = source.relative_to(tmp_path / "src")
        if source.suffix != ".json":  # JSON is re-serialised; its values are kept
            assert (tmp_path / "out" / "es" / relative).read_bytes() == source.read_bytes()


def test_only_text_is_translated(tmp_path: Path) -> None:
    write_samples(tmp_path / "src")
    translate_folder(
        tmp_path / "src", out_dir=tmp_path / "out", targets=["fr"], config=fake_config(),
        workers=0,
    )  # fmt: skip
    markdown = (tmp_path / "out" / "fr" / "guides" / "reset-0.md").read_text()
    assert 'title: "[fr] Reset your password"' in markdown
    assert "tags: [account, password]" in markdown
    assert "\n```\ncurl https://example.com/api/reset\n```\n" in markdown
    assert "[fr] Go to the [sign-in page](https://example.com/login)" in markdown
    html = (tmp_path / "out" / "fr" / "refunds.html").read_text()
    assert 'title="[fr] Read the policy"' in html
    assert 'alt="[fr] A receipt"' in html
    assert "<h1>[fr] Refunds</h1>" in html
    macros = json.loads((tmp_path / "out" / "fr" / "macros.json").read_text())
    assert macros[0]["body"] == "[fr] Your order {{ticket.id}} is late."


def test_boilerplate_is_translated_once_per_job(tmp_path: Path) -> None:
    write_samples(tmp_path / "src", count=4)
    spec = LoopSpec(factory="kb_support:counting_loop")
    before = len(sent(spec))
    summary = translate_folder(
        tmp_path / "src", out_dir=tmp_path / "out", targets=["es"],
        loop_factory=spec.factory, workers=0,
    )  # fmt: skip
    segments = sent(spec)[before:]
    assert len(segments) == len(set(segments)) == summary.engine_segments
    assert segments.count("Contact ⟦0⟧our team⟦1⟧ any day.") == 1
    assert segments.count("Need more help?") == 1
    assert summary.segments > summary.engine_segments


def test_a_rerun_translates_only_what_changed_and_status_shows_outdated(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_samples(src, count=3)
    spec = LoopSpec(factory="kb_support:counting_loop")
    translate_folder(src, out_dir=out, targets=["es", "fr"], loop_factory=spec.factory, workers=0)
    assert {s.state for s in kb_status(src, out_dir=out)} == {"current"}

    edited = src / "guides" / "reset-1.md"
    edited.write_text(edited.read_text().replace("any day.", "any day.\n\nA brand new line."))
    states = {(s.article, s.locale): s.state for s in kb_status(src, out_dir=out)}
    assert states[("guides/reset-1.md", "es")] == "outdated"
    assert states[("guides/reset-0.md", "es")] == "current"

    before = len(sent(spec))
    summary = translate_folder(
        src, out_dir=out, targets=["es", "fr"], loop_factory=spec.factory, workers=0
    )
    assert sorted(sent(spec)[before:]) == ["A brand new line.", "A brand new line."]
    assert (summary.translated, summary.up_to_date) == (2, 10)
    assert "[fr] A brand new line." in (out / "fr" / "guides" / "reset-1.md").read_text()
    assert {s.state for s in kb_status(src, out_dir=out)} == {"current"}


def test_a_bad_article_is_reported_and_skipped(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_samples(src)
    (src / "broken.md").write_bytes(b"---\ntitle: no end\n")
    (src / "latin1.html").write_bytes("<p>caf\xe9</p>".encode("latin-1"))
    summary = translate_folder(src, out_dir=out, targets=["es"], config=fake_config(), workers=0)
    assert set(summary.errors) == {"broken.md", "latin1.html"}
    assert summary.translated == 5
    review = [json.loads(line) for line in (out / "review.jsonl").read_text().splitlines()]
    assert {r["article"] for r in review if r["status"] == "error"} == {"broken.md", "latin1.html"}
    assert {s.state for s in kb_status(src, out_dir=out) if s.article == "broken.md"} == {
        "unreadable"
    }


def test_flagged_articles_go_to_the_review_file_and_are_not_publishable(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_samples(src)
    # The engine drops the link of the boilerplate: a token_parity error.
    config = fake_config(translations={"Contact ⟦0⟧our team⟦1⟧ any day.": "Contacto."})
    summary = translate_folder(src, out_dir=out, targets=["es"], config=config, workers=0)
    assert summary.flagged == 3  # the two guides and the HTML page share the sentence
    review = [json.loads(line) for line in (out / "review.jsonl").read_text().splitlines()]
    assert {r["article"] for r in review} == {
        "guides/reset-0.md",
        "guides/reset-1.md",
        "refunds.html",
    }
    assert all("token_parity" in {f["code"] for f in r["flags"]} for r in review)
    states = {s.article: s.state for s in kb_status(src, out_dir=out)}
    assert states["refunds.html"] == "flagged"
    assert states["welcome.txt"] == "current"


def test_xliff_round_trip_puts_the_translator_first(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_samples(src)
    config = fake_config(translations={"Contact ⟦0⟧our team⟦1⟧ any day.": "Contacto."})
    translate_folder(src, out_dir=out, targets=["es"], config=config, workers=0)

    data, count = kb_export_xliff(out, locale="es", version="1.2")
    source, target, units = import_xliff(data)
    assert (source, target, len(units)) == ("en", "es", count)
    by_source = {unit.source_text: unit for unit in units}
    assert by_source["Contact ⟦0⟧our team⟦1⟧ any day."].target_text == "Contacto."
    # The translator fixes the flagged segment (and breaks a token in another one).
    edited = [
        replace(unit, target_text="Escribe a ⟦0⟧nuestro equipo⟦1⟧.", state="final")
        if unit.target_text == "Contacto."
        else replace(unit, target_text="¿Ayuda?", state="reviewed")
        if unit.source_text == "Need more help?"
        else replace(unit, target_text="Ir ⟦0⟧.", state="final")
        if unit.source_text.startswith("Go to")
        else unit  # left as the machine draft, still "needs-review-translation"
        for unit in units
    ]
    report = kb_import_xliff(export_xliff(edited, source="en", target="es"), out_dir=out)
    assert [unit for unit, _ in report.rejected] == [
        u.id for u in units if u.source_text.startswith("Go to")
    ]

    summary = translate_folder(src, out_dir=out, targets=["es"], config=config, workers=0)
    assert summary.engine_segments == 0
    assert summary.from_memory == report.stored
    html = (out / "es" / "refunds.html").read_text()
    assert '¿Ayuda? Escribe a <a href="https://example.com/contact">nuestro equipo</a>.' in html
    assert {s.state for s in kb_status(src, out_dir=out)} == {"current"}


def test_engine_failure_fails_the_articles_and_the_next_run_retries(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_samples(src)
    summary = translate_folder(
        src, out_dir=out, targets=["de"], loop_factory="kb_support:down_loop", workers=0
    )
    assert summary.failed == 5
    assert not (out / "de").exists()
    assert {s.state for s in kb_status(src, out_dir=out)} == {"failed"}
    summary = translate_folder(src, out_dir=out, targets=["de"], config=fake_config(), workers=0)
    assert (summary.failed, summary.translated) == (0, 5)


def test_unknown_locale_tags_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a language tag"):
        translate_folder(tmp_path, out_dir=tmp_path / "o", targets=["e s"], workers=0)


def test_boilerplate_constant_matches_the_sample() -> None:
    assert "our team" in BOILERPLATE
