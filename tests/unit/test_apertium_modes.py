"""Apertium mode discovery, code mapping and stream (de)formatting: pure functions, no processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tl_loop import ConfigurationError, MissingDependencyError
from tl_loop.engines._apertium import (
    ApertiumEngine,
    bcp47_to_apertium,
    deformat,
    discover_modes,
    mode_name_to_pairs,
    mode_stages,
    parse_mode,
    reformat,
    split_long,
)

MODE_NAMES = [
    "eng-spa",
    "spa-eng",
    "spa-eng_US",
    "eng-cat",
    "eng-cat_valencia",
    "eng-cat_iec2017",
    "eng-cat_valencia_uni",
    "cat-eng",
    "en-gl",
    "fr-es",
    "es-pt",
    "es-pt_BR",
    "pt-es",
    "eco-es-fr",
    "hbs-eng",
    "eng-hbs",
    "eng-hbs_SR",
    "eng-hbs_HR",
    "eng-hbs_BS",
    "Cyrl-Latn",
    "isl-eng",
    "en-eo-bytecode",
]


@pytest.fixture
def modes_dir(tmp_path: Path) -> Path:
    for name in MODE_NAMES:
        (tmp_path / f"{name}.mode").write_text("lt-proc 'x.bin'\n", encoding="utf-8")
    (tmp_path / "README").write_text("not a mode", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "pair"),
    [
        ("eng-spa", ("en", "es")),
        ("spa-eng", ("es", "en")),
        ("cat-eng", ("ca", "en")),
        ("en-gl", ("en", "gl")),
        ("fr-es", ("fr", "es")),
        ("pt-es", ("pt", "es")),
        ("eng-cat_valencia", ("en", "ca-valencia")),
        ("es-pt_BR", ("es", "pt-BR")),
        ("spa-eng_US", ("es", "en-US")),
        ("isl-eng", ("is", "en")),
        ("mkd-eng", ("mk", "en")),
        ("spa-arg", ("es", "an")),
        ("spa-ast", ("es", "ast")),
        ("ita-cat", ("it", "ca")),
        ("es-oc_aran", ("es", "oc-aranes")),
        ("eng-hbs_SR", ("en", "sr-Latn")),
        ("eng-hbs_HR", ("en", "hr")),
        ("eng-hbs_BS", ("en", "bs")),
        ("eng-cat_iec2017", None),
        ("eng-cat_valencia_uni", None),
        ("por-cat_pre2017", None),
        ("cat-por_PTpre1990", None),
        ("eng-hbs", None),  # a macrolanguage names no one language to write
        ("eco-es-fr", None),
        ("en-eo-bytecode", None),
        ("Cyrl-Latn", None),
        ("README", None),
    ],
)
def test_mode_names_map_to_bcp47_pairs(name: str, pair: tuple[str, str] | None) -> None:
    assert mode_name_to_pairs(name) == ((pair,) if pair else ())


def test_a_serbo_croatian_source_serves_serbian_croatian_and_bosnian() -> None:
    assert mode_name_to_pairs("hbs-eng") == (("sr", "en"), ("hr", "en"), ("bs", "en"))
    assert bcp47_to_apertium("sr-Cyrl") == "hbs"


def test_discovery_keeps_plain_pairs_and_known_variants(modes_dir: Path) -> None:
    modes = discover_modes(modes_dir)
    assert set(modes) == {
        ("en", "es"),
        ("es", "en"),
        ("es", "en-US"),
        ("en", "ca"),
        ("en", "ca-valencia"),
        ("ca", "en"),
        ("en", "gl"),
        ("fr", "es"),
        ("es", "pt"),
        ("es", "pt-BR"),
        ("pt", "es"),
        ("sr", "en"),
        ("hr", "en"),
        ("bs", "en"),
        ("is", "en"),
    }
    # A spelling variant never takes the plain pair's place.
    assert modes[("en", "ca")].name == "eng-cat.mode"


def test_modes_measured_unfit_are_left_out_unless_asked_for(modes_dir: Path) -> None:
    assert ("en", "sr-Latn") not in discover_modes(modes_dir)
    assert {("en", "sr-Latn"), ("en", "hr"), ("en", "bs")} <= set(
        discover_modes(modes_dir, skip=())
    )
    engine = ApertiumEngine(modes_dir=modes_dir)
    assert not engine.supports("en", "sr")
    assert engine.skipped_modes() == ("eng-hbs_BS", "eng-hbs_HR", "eng-hbs_SR")
    assert ApertiumEngine(modes_dir=modes_dir, skip_modes=()).supports("en", "hr")
    assert not ApertiumEngine(modes_dir=modes_dir, skip_modes=["eng-spa"]).supports("en", "es")
    with pytest.raises(ConfigurationError, match=r"write skip_modes = \['eng-spa'\]"):
        ApertiumEngine(modes_dir=modes_dir, skip_modes="eng-spa")


def test_serbian_takes_the_installed_script_unless_another_is_asked_for(modes_dir: Path) -> None:
    engine = ApertiumEngine(modes_dir=modes_dir, skip_modes=())
    assert engine.supports("en", "sr")  # written in Latin script, the only one installed
    assert engine.supports("en", "sr-Latn")
    assert not engine.supports("en", "sr-Cyrl")
    assert engine.supports("sr-Cyrl", "en")  # read through the transliterator
    assert not engine.supports("en", "is")  # isl-eng is one way


def test_the_transliterator_runs_before_the_serbo_croatian_analyser(modes_dir: Path) -> None:
    assert mode_stages(modes_dir / "hbs-eng.mode") == (
        modes_dir / "Cyrl-Latn.mode",
        modes_dir / "hbs-eng.mode",
    )
    assert mode_stages(modes_dir / "eng-hbs_SR.mode") == (modes_dir / "eng-hbs_SR.mode",)
    (modes_dir / "Cyrl-Latn.mode").unlink()  # an older package without it: the mode alone
    assert mode_stages(modes_dir / "hbs-eng.mode") == (modes_dir / "hbs-eng.mode",)


def test_missing_modes_dir_means_no_pairs(tmp_path: Path) -> None:
    assert discover_modes(tmp_path / "absent") == {}
    engine = ApertiumEngine(modes_dir=tmp_path / "absent")
    assert engine.pairs() == frozenset()
    assert not engine.is_available()


def test_region_and_variant_requests_fall_back_to_the_base_language(modes_dir: Path) -> None:
    engine = ApertiumEngine(modes_dir=modes_dir)
    assert engine.supports("pt-BR", "es")  # only pt-es installed
    assert engine.supports("en-GB", "es-MX")
    assert engine.supports("es", "pt-BR")  # exact variant mode
    assert engine.supports("en", "ca-valencia")
    assert not engine.supports("en", "de")
    assert not engine.supports("not a tag", "es")


def test_version_changes_when_modes_change(modes_dir: Path) -> None:
    before = ApertiumEngine(modes_dir=modes_dir).version
    (modes_dir / "oci-cat.mode").write_text("lt-proc 'y.bin'\n", encoding="utf-8")
    assert ApertiumEngine(modes_dir=modes_dir).version != before


def test_parse_mode_adds_null_flush_and_fills_parameters() -> None:
    text = (
        "lt-proc -w '/d/a b.bin' | cg-proc -w '/d/r.bin' | apertium-tagger -g $2 '/d/p.prob'"
        " | vislcg3 -g '/d/g.cg3' | lt-proc $1 '/d/gen.bin'\n"
    )
    assert parse_mode(text) == (
        ("lt-proc", "-z", "-w", "/d/a b.bin"),
        ("cg-proc", "-z", "-w", "/d/r.bin"),
        ("apertium-tagger", "-z", "-g", "/d/p.prob"),
        ("vislcg3", "-g", "/d/g.cg3"),
        ("lt-proc", "-z", "-g", "/d/gen.bin"),
    )


@pytest.mark.parametrize(
    ("tag", "code"), [("en", "eng"), ("es", "spa"), ("pt-BR", "por"), ("gl", "glg"), ("xx", "xx")]
)
def test_bcp47_to_apertium_package_codes(tag: str, code: str) -> None:
    assert bcp47_to_apertium(tag) == code


def test_deformat_escapes_stream_characters_and_protects_tokens() -> None:
    assert deformat("Order ⟦0⟧ [a]^b$/c@d<e>{f}\\g") == (
        "Order [⟦0⟧] \\[a\\]\\^b\\$\\/c\\@d\\<e\\>\\{f\\}\\\\g.[]"
    )
    # Literal * and # travel as superblanks so they cannot pass for unknown-word marks.
    assert deformat("5 * 3 #x") == "5 [*] 3 [#]x.[]"


def test_deformat_keeps_line_breaks_and_marks_paragraph_ends() -> None:
    assert deformat("Hi\nthere\n\nBye") == "Hi[\n]there.[][\n\n]Bye.[]"
    assert deformat("a\0b") == "ab.[]"


def test_reformat_strips_marks_and_reports_unknown_words() -> None:
    text, unknown = reformat("El *Zorblaxian @widget y #cosa está roto..[]")
    assert text == "El Zorblaxian widget y cosa está roto."
    assert unknown == ("Zorblaxian", "widget", "cosa")


def test_reformat_keeps_literal_marks_from_the_source() -> None:
    text, unknown = reformat("5 [*] 3 y [#]*hash \\@user..[]")
    assert text == "5 * 3 y #hash @user."
    assert unknown == ("hash",)


def test_reformat_restores_whitespace_and_tidies_spaces() -> None:
    text, _ = reformat(" Quiero[\n] mi  dinero[  ]atrás [⟦0⟧]..[]")
    assert text == "Quiero\nmi dinero  atrás ⟦0⟧."


def test_deformat_then_identity_pipeline_gives_text_back() -> None:
    source = "Hi ⟦0⟧,\n\ta/b [x] {y} <z> ^w$ 5 * 3 #7 a@b c\\d\n\nEnd"
    text, unknown = reformat(deformat(source))
    assert text == source
    assert unknown == ()


def test_split_long_cuts_at_sentence_ends_and_loses_nothing() -> None:
    text = "This is one sentence. " * 200
    pieces = split_long(text, 500)
    assert "".join(pieces) == text
    assert all(len(piece) <= 500 for piece in pieces)
    assert all(piece.endswith(". ") for piece in pieces)


def test_split_long_never_cuts_a_token() -> None:
    text = "x" * 9 + "⟦12⟧" + "y" * 20
    pieces = split_long(text, 10)
    assert "".join(pieces) == text
    assert any("⟦12⟧" in piece for piece in pieces)


def test_translating_without_apertium_names_the_install_command(tmp_path: Path) -> None:
    engine = ApertiumEngine(modes_dir=tmp_path / "absent")
    with pytest.raises(MissingDependencyError, match="apt-get install apertium"):
        engine.translate_batch(["Hello."], source="en", target="es")


def test_pipelines_per_pair_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="pipelines_per_pair"):
        ApertiumEngine(pipelines_per_pair=0)
