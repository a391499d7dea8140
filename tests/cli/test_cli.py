"""The `tl-loop` command line: its JSON contract, its errors, and the demo, on real Apertium."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tl_loop.cli import main

needs_apertium = pytest.mark.skipif(
    shutil.which("lt-proc") is None, reason="Apertium is not installed (run scripts/bootstrap)"
)


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_translate_json_with_the_fake_engine_has_the_documented_fields() -> None:
    code, out, _ = run("translate", "--engine", "fake", "--from", "en", "--to", "es", "--json",
                       "Order #48213 ships today.")  # fmt: skip
    assert code == 0
    result = json.loads(out)
    assert result["translation"] == "[es] Order #48213 ships today."
    assert result["source_language"] == "en"
    assert result["target_language"] == "es"
    assert result["engine"] == "fake"
    assert result["decision"] in {"send", "send_flagged", "hold"}
    assert isinstance(result["flags"], list)


def test_lines_makes_one_json_object_per_input_line() -> None:
    code, out, _ = run("translate", "--engine", "fake", "--from", "en", "--to", "fr", "--json",
                       "--lines", "-", stdin="First line\n\nSecond line\nThird line\n")  # fmt: skip
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["original"] for row in rows] == ["First line", "", "Second line", "Third line"]
    assert [row["line"] for row in rows] == [1, 2, 3, 4]


def test_a_bad_glossary_names_the_file_and_line(tmp_path: Path) -> None:
    glossary = tmp_path / "brand.en-es.tsv"
    glossary.write_text("dashboard\tpanel de control\nbroken line without tab\n", encoding="utf-8")
    code, _, err = run("translate", "--engine", "fake", "--glossary", str(glossary),
                       "--from", "en", "--to", "es", "hello")  # fmt: skip
    assert code == 2
    assert f"{glossary}:2" in err
    assert len(err.strip().splitlines()) == 1


def test_a_bad_language_tag_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        run("translate", "--to", "español", "hola")
    assert caught.value.code == 2


def test_no_engine_available_says_what_to_install(tmp_path: Path) -> None:
    config = tmp_path / "tl-loop.toml"
    config.write_text(f'[engine.apertium]\nmodes_dir = "{tmp_path / "none"}"\n', encoding="utf-8")
    code, _, err = run("--config", str(config), "translate", "--to", "es", "hello")
    assert code == 2
    assert "no engine is available" in err
    assert "apt-get install apertium" in err


@needs_apertium
def test_translate_with_apertium_gives_spanish_and_keeps_the_order_number() -> None:
    code, out, _ = run("translate", "--from", "en", "--to", "es", "--json",
                       "Your order #48213 has been shipped.")  # fmt: skip
    assert code == 0
    result = json.loads(out)
    assert "#48213" in result["translation"]
    assert "orden" in result["translation"] or "pedido" in result["translation"]
    assert result["engine"] == "apertium"


@needs_apertium
def test_an_unsupported_pair_names_the_installed_pairs_and_how_to_add_more() -> None:
    code, _, err = run("translate", "--from", "de", "--to", "en", "Hallo")
    assert code == 2
    assert "de→en" in err
    assert "installed pairs:" in err
    assert "tl-loop models install de en" in err
    assert "deepl (DEEPL_AUTH_KEY)" in err


def test_detect_json_gives_a_bcp47_tag_and_confidence() -> None:
    code, out, _ = run("detect", "--json", "Η παραγγελία μου δεν έχει φτάσει ακόμα")
    assert code == 0
    result = json.loads(out)
    assert result["language"] == "el"
    assert 0.5 < result["confidence"] <= 1.0


@needs_apertium
def test_engines_lists_apertium_pairs() -> None:
    code, out, _ = run("engines", "--json")
    assert code == 0
    [apertium] = json.loads(out)
    assert apertium["available"] is True
    assert "en-es" in apertium["pairs"]


@needs_apertium
def test_the_installed_command_runs_the_demo() -> None:
    command = Path(sys.executable).with_name("tl-loop")
    done = subprocess.run([str(command), "demo"], capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Customer → agent" in done.stdout
    assert "Agent → customer" in done.stdout
    assert "{{ticket.requester.first_name}}" in done.stdout  # the macro's placeholder survived
    assert "#48213" in done.stdout
    assert "detected es" in done.stdout
    assert "translated through pt → es → en" in done.stdout  # the Portuguese customer, pivoted
    assert "unsupported_language" in done.stdout  # the Greek message reaches the agent, flagged


def test_models_install_and_list_use_argos_real_package_format(tmp_path: Path) -> None:
    pytest.importorskip("ctranslate2")
    pytest.importorskip("argostranslate.package")
    from argos_model import build_package

    package = build_package(tmp_path / "build", source="en", target="es")
    config = tmp_path / "tl-loop.toml"
    config.write_text(
        f'[engine.argos]\npackages_dir = "{tmp_path / "packages"}"\n', encoding="utf-8"
    )

    code, out, err = run("--config", str(config), "models", "install", str(package))
    assert code == 0, err
    assert "translate-en_es" in out

    code, out, _ = run("--config", str(config), "models", "list", "--json")
    [model] = json.loads(out)
    assert (model["source"], model["target"]) == ("en", "es")


def test_installing_a_file_that_is_not_a_model_says_so(tmp_path: Path) -> None:
    pytest.importorskip("argostranslate.package")
    bogus = tmp_path / "broken.argosmodel"
    bogus.write_bytes(b"not a zip file")

    code, _, err = run("models", "install", str(bogus))

    assert code == 2
    assert "broken.argosmodel" in err


def test_serve_without_adapters_says_how_to_configure_them(tmp_path: Path) -> None:
    config = tmp_path / "tl-loop.toml"
    config.write_text('engines = ["fake"]\n', encoding="utf-8")

    code, _, err = run("--config", str(config), "serve", "--port", "0")

    assert code == 2
    assert "adapter" in err
    assert len(err.strip().splitlines()) == 1


def test_text_with_no_language_asks_for_from() -> None:
    code, _, err = run("translate", "--engine", "fake", "--to", "es", "👍 12345")
    assert code == 2
    assert "--from" in err
