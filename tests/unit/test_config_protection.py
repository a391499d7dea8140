"""`[protection]` in the configuration file reaches the loop, and a wrong entry is refused early."""

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
