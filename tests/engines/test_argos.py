"""The Argos engine on real `.argosmodel` packages built offline (tests/argos_model.py).

The packages hold copy models: output = input with a few words swapped, so outputs are exact.
They go through argostranslate's real install and listing code and CTranslate2's real loading.
"""

from __future__ import annotations

import socket
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ctranslate2")
pytest.importorskip("sentencepiece")
pytest.importorskip("argostranslate.package")

from tl_loop import ConfigurationError, MissingDependencyError, UnsupportedLanguageError
from tl_loop.engines._argos import (
    ArgosEngine,
    install_model,
    list_models,
    split_sentences,
)
from tl_loop.engines._argos_packages import argos_code_candidates, argos_to_bcp47
from tl_loop.testing import EngineContract

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from argos_model import build_package


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any download attempt (MiniSBD, stanza, package index) fails at once, by name."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"network access attempted: {args[:2]}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(scope="session")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny packages: en→es (Hello↔Hola, world↔mundo, ...), es→en, en→fr, and a digit mangler."""
    out = tmp_path_factory.mktemp("argos-archives")
    return {
        "en_es": build_package(out, source="en", target="es"),
        "es_en": build_package(out, source="es", target="en", lexicon={"Hola": "Hello"}),
        "en_fr": build_package(out, source="en", target="fr", lexicon={"Hello": "Bonjour"}),
        "en_de": build_package(
            out, source="en", target="de", lexicon={"Hello": "Hola", "0": "7"}, version="2.0"
        ),
    }


@pytest.fixture(scope="session")
def packages_dir(tmp_path_factory: pytest.TempPathFactory, archives: dict[str, Path]) -> Path:
    """A packages folder with en→es, es→en and en→fr, installed by argostranslate's code."""
    folder = tmp_path_factory.mktemp("argos-packages")
    for name in ("en_es", "es_en", "en_fr"):
        install_model(archives[name], packages_dir=folder)
    return folder


@pytest.fixture
def engine(packages_dir: Path) -> Iterator[ArgosEngine]:
    with ArgosEngine(packages_dir=packages_dir) as engine:
        yield engine


class TestArgosContract(EngineContract):
    @pytest.fixture
    def contract_engine(self, engine: ArgosEngine) -> ArgosEngine:
        return engine

    @pytest.fixture
    def contract_pair(self) -> tuple[str, str]:
        return ("en", "es")


def test_install_and_list_models(archives: dict[str, Path], tmp_path: Path) -> None:
    model = install_model(archives["en_es"], packages_dir=tmp_path)
    assert (model.code, model.source, model.target, model.version) == (
        "translate-en_es",
        "en",
        "es",
        "1.0",
    )
    assert model.path == tmp_path / "translate-en_es-1.0"
    assert (model.path / "model" / "model.bin").is_file()
    assert list_models(packages_dir=tmp_path) == [model]


def test_list_models_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert list_models(packages_dir=tmp_path / "nothing") == []


def test_install_refuses_an_archive_with_loose_files(tmp_path: Path) -> None:
    archive = tmp_path / "loose.argosmodel"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("metadata.json", '{"from_code": "en", "to_code": "es"}')
        zipped.writestr("model/model.bin", b"")
    packages = tmp_path / "packages"
    with pytest.raises(ConfigurationError, match="exactly one top-level folder"):
        install_model(archive, packages_dir=packages)
    assert not packages.exists() or not any(packages.iterdir())


def test_install_refuses_a_file_that_is_not_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "model.argosmodel"
    archive.write_text("not a zip")
    with pytest.raises(ConfigurationError, match="zip archive"):
        install_model(archive, packages_dir=tmp_path / "packages")
    with pytest.raises(ConfigurationError, match="no such file"):
        install_model(tmp_path / "absent.argosmodel", packages_dir=tmp_path / "packages")


def test_translates_exactly(engine: ArgosEngine) -> None:
    results = engine.translate_batch(
        ["Hello world.", "My order is late, Zoë. ID ABC_123 costs 5 €."], source="en", target="es"
    )
    # Unknown characters come back through replace_unknowns; "_" is not turned into a space.
    assert [r.text for r in results] == [
        "Hola mundo.",
        "My pedido is late, Zoë. ID ABC_123 costs 5 €.",
    ]
    assert all(r.extra["route"] == "en>es" for r in results)


def test_whitespace_paragraphs_and_empty_segments_are_kept(engine: ArgosEngine) -> None:
    segments = ["  Hello world.  Thanks!\n\nHello again. ", "", "   "]
    results = engine.translate_batch(segments, source="en", target="es")
    assert [r.text for r in results] == ["  Hola mundo.  Gracias!\n\nHola again. ", "", "   "]
    assert results[1].score is None
    assert results[2].score is None


def test_a_request_is_one_batch_call(packages_dir: Path) -> None:
    engine = ArgosEngine(packages_dir=packages_dir)
    segments = ["Hello world. Thanks!", "Hello world.", "I need help.\nMy order?", "Hello"]
    engine.translate_batch(segments, source="en", target="es")
    stats = engine.stats
    assert stats.batch_calls == 1
    assert stats.sentences == 5  # "Hello world." is sent once
    assert stats.models_loaded == 1
    engine.translate_batch(segments, source="en", target="es")
    assert engine.stats.batch_calls == 2
    assert engine.stats.models_loaded == 1  # the model stays warm


def test_scores_are_token_probabilities(engine: ArgosEngine) -> None:
    results = engine.translate_batch(["Hello world.", "Thanks!"], source="en", target="es")
    # The copy model is certain of every token.
    assert all(r.score is not None and 0.99 < r.score <= 1.0 for r in results)


def test_protected_tokens_survive(engine: ArgosEngine) -> None:
    [result] = engine.translate_batch(
        ["Hello ⟦0⟧, your order ⟦12⟧ ships."], source="en", target="es"
    )
    assert result.text == "Hola ⟦0⟧, your pedido ⟦12⟧ ships."
    assert "tokens" not in result.extra


def test_mangled_tokens_are_repaired_by_translating_around_them(
    archives: dict[str, Path], tmp_path: Path
) -> None:
    install_model(archives["en_de"], packages_dir=tmp_path)  # this model turns 0 into 7
    engine = ArgosEngine(packages_dir=tmp_path)
    [plain, protected] = engine.translate_batch(
        ["Hello A0.", "Hello ⟦0⟧ and ⟦1⟧."], source="en", target="de"
    )
    assert plain.text == "Hola A7."
    assert protected.text == "Hola ⟦0⟧ and ⟦1⟧."
    assert protected.extra["tokens"] == "split"


def test_pivots_through_english(engine: ArgosEngine) -> None:
    assert ("es", "fr") in engine.pairs()
    assert ("fr", "es") not in engine.pairs()
    before = engine.stats.batch_calls
    [result] = engine.translate_batch(["Hola mundo."], source="es", target="fr")
    assert result.text == "Bonjour mundo."  # es→en: Hola→Hello; en→fr: Hello→Bonjour
    assert result.extra["route"] == "es>en>fr"
    assert engine.stats.batch_calls == before + 2


def test_regional_tags_use_the_base_language(engine: ArgosEngine) -> None:
    assert engine.supports("en-US", "es-MX")
    [result] = engine.translate_batch(["Hello world."], source="en-US", target="es-MX")
    assert result.text == "Hola mundo."


def test_argos_codes_map_to_bcp47() -> None:
    assert argos_to_bcp47("zt") == "zh-Hant"
    assert argos_to_bcp47("pb") == "pt-BR"
    assert argos_to_bcp47("es") == "es"
    assert argos_code_candidates("pt-BR") == ["pb", "pt"]
    assert argos_code_candidates("zh-TW") == ["zt"]
    assert argos_code_candidates("zh") == ["zh"]


def test_a_missing_pair_names_the_package_to_install(engine: ArgosEngine) -> None:
    assert not engine.supports("de", "es")
    with pytest.raises(UnsupportedLanguageError) as caught:
        engine.translate_batch(["Hallo"], source="de", target="es")
    message = str(caught.value)
    assert "argospm install translate-de_es" in message
    assert "translate-de_en and translate-en_es" in message
    assert "en→es" in message  # what is installed


def test_many_threads_share_one_engine(packages_dir: Path) -> None:
    engine = ArgosEngine(packages_dir=packages_dir, inter_threads=2)
    expected = ["Hola mundo.", "My pedido ⟦0⟧ is late.", "Gracias!"]
    failures: list[str] = []

    def work() -> None:
        for _ in range(15):
            results = engine.translate_batch(
                ["Hello world.", "My order ⟦0⟧ is late.", "Thanks!"], source="en", target="es"
            )
            if [r.text for r in results] != expected:
                failures.append(repr(results))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert engine.stats.models_loaded == 1  # concurrent first calls loaded the model once
    assert engine.stats.batch_calls == 8 * 15


def test_missing_dependency_is_reported_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, packages_dir: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # as if not installed
    engine = ArgosEngine(packages_dir=packages_dir)
    assert engine.pairs() == frozenset()
    assert not engine.is_available()
    assert engine.version == "unavailable"
    with pytest.raises(MissingDependencyError) as caught:
        engine.translate_batch(["Hello"], source="en", target="es")
    assert caught.value.install == "pip install 'tl-loop[argos]'"
    assert "pip install 'tl-loop[argos]'" in str(caught.value)


def test_engine_install_refresh_and_version(archives: dict[str, Path], tmp_path: Path) -> None:
    engine = ArgosEngine(packages_dir=tmp_path)
    assert not engine.is_available()
    empty_version = engine.version
    model = engine.install(archives["en_es"])
    assert model.code == "translate-en_es"
    assert engine.pairs() == {("en", "es")}
    assert engine.version != empty_version
    assert engine.translate_batch(["Hello"], source="en", target="es")[0].text == "Hola"


def test_close_unloads_and_the_next_call_reloads(packages_dir: Path) -> None:
    engine = ArgosEngine(packages_dir=packages_dir)
    engine.translate_batch(["Hello"], source="en", target="es")
    engine.close()
    engine.close()
    assert engine.translate_batch(["Hello"], source="en", target="es")[0].text == "Hola"
    assert engine.stats.models_loaded == 2


def test_bad_options_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="beam_size"):
        ArgosEngine(beam_size=0)
    with pytest.raises(ConfigurationError, match="device"):
        ArgosEngine(device="tpu")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "Hello world. How are you?\n\nFine!",
        "  leading and trailing  ",
        "one line\nnext line",
        "Wait… what?! OK.",
        "",
        "word " * 200,
        "x" * 900 + " ⟦1⟧",
    ],
)
def test_split_sentences_gives_the_text_back(text: str) -> None:
    parts = split_sentences(text, max_chars=100)
    assert "".join(piece for piece, _ in parts) == text
    assert all(len(piece) <= 100 for piece, is_sentence in parts if is_sentence)
    assert all(piece.strip() == piece for piece, is_sentence in parts if is_sentence)
    assert all(not piece.strip() for piece, is_sentence in parts if not is_sentence)


def test_long_sentences_are_cut_at_spaces_and_never_inside_tokens() -> None:
    parts = split_sentences("a" * 30 + "⟦12⟧" + "b" * 30, max_chars=32)
    sentences = [piece for piece, is_sentence in parts if is_sentence]
    assert sentences == ["a" * 30, "⟦12⟧" + "b" * 28, "bb"]


def test_output_matches_argostranslates_own_translate(
    archives: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Parity with the reference path; needs the full argostranslate install (stanza, minisbd)."""
    pytest.importorskip("onnx")
    try:
        import argostranslate.translate as argos_translate
    except ImportError:
        pytest.skip("argostranslate.translate needs stanza (full argostranslate install)")
    from argostranslate import settings

    out = tmp_path_factory.mktemp("argos-parity")
    archive = build_package(out, source="en", target="es", with_splitter=True)
    folder = out / "packages"
    monkeypatch.setattr(settings, "package_data_dir", folder)
    monkeypatch.setattr(settings, "package_dirs", [folder])
    install_model(archive)  # the default folder: argostranslate's settings
    sentences = ["Hello world.", "I need help with my order. Thanks!", "Zoë, ID 42."]
    expected = [argos_translate.translate(s, "en", "es") for s in sentences]
    engine = ArgosEngine(packages_dir=folder)
    assert [r.text for r in engine.translate_batch(sentences, source="en", target="es")] == expected
    argos_translate.installed_translates.clear()
    argos_translate.get_installed_languages.cache_clear()
