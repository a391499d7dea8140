"""Configuration: TOML and environment, validated with errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tl_loop import ConfigurationError, Loop, TlLoopConfig
from tl_loop.engines import BreakerState

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tl-loop.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_file_builds_a_loop(tmp_path: Path) -> None:
    glossary = ROOT / "glossaries" / "acme.csv"
    config = TlLoopConfig.load(
        write(
            tmp_path,
            f"""
agent_languages = ["en", "fr"]
engines = ["fake"]
glossary = "{glossary}"
formality = "formal"

[[routing]]
source = "fa"
engines = ["fake"]

[breaker]
failure_threshold = 2
cooldown_seconds = 5

[concurrency]
fake = 3

[review]
hold_at = "warning"
max_length_ratio = 2.0
""",
        )
    )

    with Loop.from_config(config) as loop:
        assert loop.agent_languages == ("en", "fr")
        assert loop.parts.glossary is not None
        assert loop.parts.formality == "formal"
        assert loop.parts.policy.thresholds.max_length_ratio == 2.0
        engine = loop.chain.engines[0]
        assert loop.chain.guard(engine).policy.failure_threshold == 2
        assert loop.chain.guard(engine).status().max_concurrency == 3
        assert loop.chain.guard(engine).state is BreakerState.CLOSED


def test_a_relative_glossary_path_is_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "brand.en-es.tsv").write_text("dashboard\tpanel de control\n", encoding="utf-8")
    config = TlLoopConfig.load(write(tmp_path, 'glossary = "brand.en-es.tsv"\n'))
    assert config.glossary == tmp_path / "brand.en-es.tsv"


def test_a_wrong_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"review\.hold_att"):
        TlLoopConfig.load(write(tmp_path, '[review]\nhold_att = "error"\n'))


def test_a_bad_language_tag_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="agent_languages"):
        TlLoopConfig.load(write(tmp_path, 'agent_languages = ["english!"]\n'))


def test_broken_toml_and_missing_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        TlLoopConfig.load(write(tmp_path, "engines = [\n"))
    with pytest.raises(ConfigurationError, match="not found"):
        TlLoopConfig.load(tmp_path / "missing.toml")


def test_a_rule_naming_an_unconfigured_engine_fails_when_the_chain_is_built(
    tmp_path: Path,
) -> None:
    config = TlLoopConfig.load(
        write(tmp_path, 'engines = ["fake"]\n[[routing]]\nengines = ["deepl"]\n')
    )
    with pytest.raises(ConfigurationError, match="deepl"):
        config.build_chain()


def test_an_unknown_engine_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"known engines: .*apertium"):
        TlLoopConfig(engines=["nope"]).build_chain()


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'engines = ["apertium"]\nagent_languages = ["en"]\n')
    config = TlLoopConfig.from_env(
        {
            "TL_LOOP_CONFIG": str(path),
            "TL_LOOP_ENGINES": "fake, apertium",
            "TL_LOOP_AGENT_LANGUAGES": "de",
            "TL_LOOP_LANGUAGES": "de,en,es",
        }
    )
    assert config.engines == ["fake", "apertium"]
    assert config.agent_languages == ["de"]
    assert config.detection.languages == ["de", "en", "es"]


def test_nothing_is_read_from_the_environment_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_LOOP_ENGINES", "fake")
    assert TlLoopConfig().engines == ["apertium"]


def test_a_memory_path_is_relative_to_the_file_and_builds_a_sqlite_memory(tmp_path: Path) -> None:
    config = TlLoopConfig.load(
        write(tmp_path, 'engines = ["fake"]\n[memory]\npath = "tm.sqlite3"\n')
    )
    assert config.memory.path == tmp_path / "tm.sqlite3"
    with Loop.from_config(config) as loop:
        assert loop.parts.memory is not None


def test_review_rules_per_channel_are_loaded(tmp_path: Path) -> None:
    config = TlLoopConfig.load(
        write(
            tmp_path,
            """
engines = ["fake"]
[review]
hold_at = "error"
[[review.rules]]
channel = "email"
hold_at = "warning"
""",
        )
    )
    [rule] = config.review.policy_rules()
    assert rule.channel == "email"
    assert rule.policy.hold_at == "warning"
