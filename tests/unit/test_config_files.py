"""Configuration files: `[protection]` reaches the loop, and paths default beside the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tl_loop import ConfigurationError, load_config


def test_protection_settings_reach_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "tl-loop.toml"
    path.write_text(
        "[protection]\ndisabled = [\"hashtag\"]\npatterns = ['\\bTKT-\\d{4}\\b']\n",
        encoding="utf-8",
    )
    protection = load_config(path).loop_options()["protection"]
    assert protection.disabled == frozenset({"hashtag"})
    assert protection.patterns == (r"\bTKT-\d{4}\b",)


def test_without_a_protection_section_every_family_is_on(tmp_path: Path) -> None:
    path = tmp_path / "tl-loop.toml"
    path.write_text('engines = ["apertium"]\n', encoding="utf-8")
    assert load_config(path).loop_options()["protection"] is None


@pytest.mark.parametrize(
    ("entry", "says"),
    [('disabled = ["hashtags"]', "unknown protection family 'hashtags'"),
     ("patterns = ['(unclosed']", "(unclosed")],
)  # fmt: skip
def test_a_wrong_entry_is_refused_when_the_file_is_read(
    tmp_path: Path, entry: str, says: str
) -> None:
    path = tmp_path / "tl-loop.toml"
    path.write_text(f"[protection]\n{entry}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="protection") as caught:
        load_config(path)
    assert says in str(caught.value)


def test_the_relay_files_default_to_the_configuration_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "deploy"
    folder.mkdir()
    path = folder / "tl-loop.toml"
    path.write_text('engines = ["apertium"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # started from elsewhere, as a service manager would
    relay = load_config(path).relay
    assert relay.queue_path.parent == folder
    assert relay.store_path("review").parent == folder
