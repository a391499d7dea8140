"""Relay settings: the [relay] and [adapters.*] tables of the loop's TOML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tl_loop import ConfigurationError
from tl_loop.relay import RelaySettings, build_adapters, load_config_file
from tl_loop.testing import MemoryHelpdesk

CONFIG = """
engines = ["fake"]
agent_languages = ["en"]

[relay]
port = 9000
queue_path = "data/queue.sqlite3"
trigger = "!tr"
preview_trigger = "!tr?"

[adapters.desk]
class = "tl_loop.testing._memory_helpdesk:MemoryHelpdesk"
base_url = "http://helpdesk.test"
webhook_secret_env = "DESK_SECRET"
agent_languages = ["de"]
"""


def test_one_file_configures_the_loop_and_the_relay(tmp_path: Path) -> None:
    path = tmp_path / "tl-loop.toml"
    path.write_text(CONFIG, encoding="utf-8")
    config, settings = load_config_file(path)
    assert config.engines == ["fake"]
    assert settings.port == 9000
    assert settings.queue_path == tmp_path / "data" / "queue.sqlite3"
    assert (settings.trigger, settings.preview_trigger) == ("!tr", "!tr?")
    [(name, adapter)] = build_adapters(settings, {"DESK_SECRET": "s3cret"}).items()
    assert name == "desk"
    assert isinstance(adapter, MemoryHelpdesk)
    assert "s3cret" not in repr(adapter)


def test_a_missing_secret_variable_is_named(tmp_path: Path) -> None:
    path = tmp_path / "tl-loop.toml"
    path.write_text(CONFIG, encoding="utf-8")
    _, settings = load_config_file(path)
    with pytest.raises(ConfigurationError, match="DESK_SECRET is not set"):
        build_adapters(settings, {})


def test_an_unknown_adapter_lists_the_installed_ones() -> None:
    settings = RelaySettings.from_mapping({"adapters": {"nodesk": {}}})
    with pytest.raises(ConfigurationError, match="unknown helpdesk adapter 'nodesk'"):
        build_adapters(settings, {})


def test_a_bad_relay_key_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"relay\.wrokers"):
        RelaySettings.from_mapping({"relay": {"wrokers": 2}})


def test_a_trigger_that_would_shadow_the_preview_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="starts with preview_trigger"):
        RelaySettings.from_mapping({"relay": {"trigger": "#tl?", "preview_trigger": "#tl"}})
