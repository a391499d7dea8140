"""The `tl-loop` contract a script relies on: where `--config` may go, what the environment
overrides, `--version`. Run through `tl_loop.cli.main`, as the installed command runs it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tl_loop import __version__, load_config
from tl_loop.cli import main


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
