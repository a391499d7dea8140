"""The `tl-loop` contract a script relies on: where `--config` may go, what the environment
overrides, `--version`. Run through `tl_loop.cli.main`, as the installed command runs it."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tl_loop import Loop, __version__, load_config
from tl_loop.cli import main
from tl_loop.testing import FakeEngine


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "conf" / "tl-loop.toml"
    path.parent.mkdir()
    path.write_text('engines = ["fake"]\n[relay]\nqueue_path = "relay.sqlite3"\n', encoding="utf-8")
    return path


# Every subcommand (and each action of those that have them), with arguments that let it run
# without a network: the point is that `--config FILE` after the name is accepted and used.
COMMANDS = [
    ["translate", "--from", "en", "--to", "es", "Hello"],
    ["detect", "Hola, ¿cómo está usted hoy?"],
    ["engines", "--no-probe"],
    ["models", "list"],
    ["review", "list"],
    ["stats"],
    ["glossary", "suggest"],
    ["demo"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_config_is_accepted_after_the_subcommand(argv: list[str], config: Path) -> None:
    before = run("--config", str(config), *argv)
    after = run(*argv, "--config", str(config))
    assert after[0] == before[0] == 0, after[2]
    if argv[0] not in ("demo", "engines"):
        assert after == before


def test_a_missing_file_named_after_the_subcommand_is_reported(tmp_path: Path) -> None:
    code, _, err = run("engines", "--no-probe", "--config", str(tmp_path / "nope.toml"))
    assert code == 2
    assert "nope.toml: configuration file not found" in err


@pytest.mark.parametrize(
    "argv",
    [["kb", "status", "src", "--out", "out"], ["serve"], ["review", "show", "abc"]],
    ids=["kb status", "serve", "review show"],
)
def test_nested_and_serving_commands_take_config_after_them(argv: list[str]) -> None:
    # Parsing only: argparse refuses an unknown option before anything runs.
    code, _, err = run(*argv, "--config", "/nonexistent/tl-loop.toml")
    assert code == 2
    assert "/nonexistent/tl-loop.toml" in err
    assert "unrecognized arguments" not in err


def test_the_environment_overlays_a_file_named_by_option_as_by_variable(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TL_LOOP_ENGINES", "apertium,fake")
    monkeypatch.delenv("TL_LOOP_CONFIG", raising=False)
    by_option = load_config(config)
    monkeypatch.setenv("TL_LOOP_CONFIG", str(config))
    by_variable = load_config()
    assert by_option.engines == by_variable.engines == ["apertium", "fake"]
    code, out, _ = run("--config", str(config), "engines", "--no-probe", "--json")
    assert code == 0
    assert [row["name"] for row in json.loads(out)] == ["apertium", "fake"]


def test_relative_paths_are_taken_from_the_file_folder(config: Path) -> None:
    config.write_text(
        'glossary = "brand.csv"\n[memory]\npath = "tm.sqlite3"\n'
        '[relay]\nqueue_path = "data/relay.sqlite3"\naudit_path = "/srv/audit.sqlite3"\n'
        "[adapters.memory]\nbase_url = 'http://127.0.0.1:9'\n",
        encoding="utf-8",
    )
    loaded = load_config(config, environ={})
    folder = config.parent
    assert loaded.glossary == folder / "brand.csv"
    assert loaded.memory.path == folder / "tm.sqlite3"
    assert loaded.relay.queue_path == folder / "data" / "relay.sqlite3"
    assert loaded.relay.audit_path == Path("/srv/audit.sqlite3")
    assert loaded.relay.store_path("review") == folder / "data" / "relay-review.sqlite3"
    assert loaded.relay.adapters == {"memory": {"base_url": "http://127.0.0.1:9"}}


def test_a_bad_relay_key_is_named_with_its_table(config: Path) -> None:
    config.write_text("[relay]\nwrokers = 2\n", encoding="utf-8")
    code, _, err = run("stats", "--config", str(config))
    assert code == 2
    assert "relay.wrokers" in err


def test_version_prints_the_package_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tl_loop.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"tl-loop {__version__}"


# --- translate: one exit status per outcome (docs/cli.md) ------------------------------------


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "outcome.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_an_engine_that_is_down_exits_1_and_prints_nothing(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = write(
        tmp_path,
        f'engines = ["libretranslate"]\n[engine.libretranslate]\n'
        f'base_url = "http://127.0.0.1:{port}"\nlanguages = ["en", "es"]\n',
    )
    code, out, err = run("translate", "--config", config, "--from", "en", "--to", "es", "hello")
    assert (code, out) == (1, "")
    assert "libretranslate" in err


def test_a_detected_pair_no_engine_serves_exits_2_and_prints_nothing(tmp_path: Path) -> None:
    config = write(tmp_path, 'engines = ["fake"]\n[engine.fake]\npairs = [["en", "es"]]\n')
    code, out, err = run("translate", "--config", config, "--to", "fr",
                         "Hola, quiero cambiar la dirección de envío de mi pedido.")  # fmt: skip
    assert (code, out) == (2, "")
    assert "no engine translates es→fr" in err
    assert "tl-loop models install es fr" in err


def test_an_uncertain_detection_on_a_short_text_is_refused_not_guessed() -> None:
    code, out, err = run("translate", "--engine", "fake", "--to", "es", "hello")
    assert (code, out) == (2, "")
    assert "uncertain" in err
    assert "--from" in err


def test_an_empty_message_says_it_is_empty() -> None:
    code, out, err = run("translate", "--engine", "fake", "--to", "es", "-", stdin="  \n")
    assert (code, out) == (2, "")
    assert "empty" in err


def test_a_held_translation_exits_3_with_the_draft_and_the_reasons(tmp_path: Path) -> None:
    config = write(tmp_path, 'engines = ["fake"]\n[review]\nhold_at = "info"\n')
    code, out, err = run("translate", "--config", config, "--from", "en", "--to", "es",
                         "Your order ships today.")  # fmt: skip
    assert code == 3
    assert out == "[es] Your order ships today.\n"
    assert "held for review" in err


@pytest.mark.parametrize("target", ["en", "en-US", "en-GB"])
def test_the_same_language_or_a_variant_is_the_text_itself(target: str) -> None:
    text = "Your order ships today."
    code, out, _ = run("translate", "--engine", "fake", "--from", "en", "--to", target, text)
    assert (code, out) == (0, text + "\n")
    detected = "Your order ships today and the courier will call you before noon."
    code, out, _ = run("translate", "--engine", "fake", "--to", target, detected)
    assert (code, out) == (0, detected + "\n")


def test_loop_translate_into_the_same_language_calls_no_engine() -> None:
    engine = FakeEngine()
    with Loop(engines=[engine]) as loop:
        translation = loop.translate("Your order ships today.", source="en", target="en-US")
        detected = loop.translate(
            "Your order ships today and the courier will call you.", target="en"
        )
    assert translation.translated == "Your order ships today."
    assert detected.translated == "Your order ships today and the courier will call you."
    assert engine.calls == []


LINES = (
    "Your order ships today and arrives on Monday.\n\n😀😀😀\n"
    "Thank you for your patience while we look into it.\n"
)


def test_lines_keep_alignment_with_blank_and_bad_lines() -> None:
    code, out, err = run("translate", "--engine", "fake", "--from", "en", "--to", "es",
                         "--lines", stdin=LINES.replace("😀😀😀", ""))  # fmt: skip
    assert code == 0
    assert out.split("\n")[:-1] == [
        "[es] Your order ships today and arrives on Monday.", "", "",
        "[es] Thank you for your patience while we look into it.",
    ]  # fmt: skip
    code, out, err = run("translate", "--engine", "fake", "--to", "es", "--lines", stdin=LINES)
    assert code == 2
    assert out.split("\n")[:-1] == [
        "[es] Your order ships today and arrives on Monday.", "", "",
        "[es] Thank you for your patience while we look into it.",
    ]  # fmt: skip
    assert "line 3: error: no language could be detected" in err


def test_lines_in_json_give_one_object_per_line_errors_included() -> None:
    code, out, _ = run("translate", "--engine", "fake", "--to", "es", "--lines", "--json",
                       stdin=LINES)  # fmt: skip
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 2
    assert [row["line"] for row in rows] == [1, 2, 3, 4]
    assert rows[1]["translation"] == ""
    assert "no language could be detected" in rows[2]["error"]
    assert rows[3]["status"] == 0


def test_flags_on_stderr_carry_their_line_number(tmp_path: Path) -> None:
    config = write(tmp_path, 'engines = ["fake"]\n')
    code, _, err = run("translate", "--config", config, "--from", "en", "--to", "es", "--lines",
                       stdin="Thanks!\nOpen https://acme.example/billing now.\n")  # fmt: skip
    assert code == 0
    assert all(line.startswith(("line 1: ", "line 2: ")) for line in err.splitlines())


def test_a_tsv_glossary_without_a_pair_in_its_name_takes_the_command_pair(tmp_path: Path) -> None:
    glossary = tmp_path / "brand.tsv"
    glossary.write_text("dashboard\tpanel de control\n", encoding="utf-8")
    code, out, err = run("translate", "--engine", "fake", "--glossary", str(glossary),
                         "--from", "en", "--to", "es", "Open the dashboard.")  # fmt: skip
    assert code == 0, err
    assert "panel de control" in out
    code, _, err = run("translate", "--engine", "fake", "--glossary", str(glossary), "--to", "es",
                       "Open the dashboard of your account today, please.")  # fmt: skip
    assert code == 2
    assert "give --from LANG" in err


def test_a_kb_run_to_a_language_no_engine_serves_is_a_configuration_error(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "reset.md").write_text("# Reset\n\nOpen the dashboard.\n", encoding="utf-8")
    config = write(tmp_path, 'engines = ["fake"]\n[engine.fake]\npairs = [["en", "es"]]\n')
    code, _, err = run("kb", "translate", str(src), "--to", "el", "--out", str(tmp_path / "out"),
                       "--workers", "0", "--no-progress", "--config", config)  # fmt: skip
    assert code == 2
    assert "no engine translates en→el" in err
    assert "tl-loop models install en el" in err
