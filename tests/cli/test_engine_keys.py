"""Cloud engines take their keys from the environment: the vendor's variables, or
`<option>_env` in the TOML file; a misspelt option names the known ones."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pytest_httpx import HTTPXMock

from tl_loop import ConfigurationError, load_config
from tl_loop.cli import main

# Each cloud engine, the vendor variables its `from_env()` reads, and nothing in the file.
VENDOR_VARIABLES = {
    "deepl": {"DEEPL_AUTH_KEY": "k:fx"},
    "google": {"GOOGLE_TRANSLATE_API_KEY": "k"},
    "google-v3": {"GOOGLE_CLOUD_PROJECT": "acme", "GOOGLE_OAUTH_ACCESS_TOKEN": "t"},
    "azure": {"AZURE_TRANSLATOR_KEY": "k", "AZURE_TRANSLATOR_REGION": "westeurope"},
    "amazon": {"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s",
               "AWS_REGION": "eu-west-1"},
    "llm": {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "TL_LOOP_LLM_MODEL": "m"},
}  # fmt: skip


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variables in VENDOR_VARIABLES.values():
        for name in variables:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TL_LOOP_CONFIG", raising=False)


@pytest.mark.parametrize("engine", sorted(VENDOR_VARIABLES))
def test_each_cloud_engine_builds_from_its_vendor_variables(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in VENDOR_VARIABLES[engine].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TL_LOOP_ENGINES", engine)
    code, out, err = run("engines", "--no-probe", "--json")
    assert code == 0, err
    [row] = json.loads(out)
    assert (row["name"], row["available"]) == (engine, True)


@pytest.mark.parametrize("engine", sorted(VENDOR_VARIABLES))
def test_a_missing_vendor_variable_is_named(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_LOOP_ENGINES", engine)
    code, _, err = run("engines", "--no-probe")
    assert code == 2
    assert "is not set" in err
    assert any(name in err for name in VENDOR_VARIABLES[engine])


def test_the_deepl_key_from_the_environment_is_the_one_sent(
    httpx_mock: HTTPXMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPL_AUTH_KEY", "secret:fx")
    httpx_mock.add_response(
        url="https://api-free.deepl.com/v2/translate",
        json={"translations": [{"detected_source_language": "EN", "text": "Hallo"}]},
    )
    code, out, err = run("translate", "--engine", "deepl", "--from", "en", "--to", "de", "Hello")
    assert (code, out) == (0, "Hallo\n"), err
    [request] = httpx_mock.get_requests()
    assert request.headers["Authorization"] == "DeepL-Auth-Key secret:fx"


def test_an_option_env_in_the_file_reads_that_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpx_mock: HTTPXMock
) -> None:
    config = tmp_path / "tl-loop.toml"
    config.write_text(
        'engines = ["deepl"]\n[engine.deepl]\napi_key_env = "ACME_DEEPL_KEY"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match="ACME_DEEPL_KEY is not set"):
        load_config(config).build_chain()
    monkeypatch.setenv("ACME_DEEPL_KEY", "from-variable:fx")
    httpx_mock.add_response(
        url="https://api-free.deepl.com/v2/translate",
        json={"translations": [{"detected_source_language": "EN", "text": "Hola"}]},
    )
    code, _, err = run("translate", "--config", str(config), "--from", "en", "--to", "es", "Hi")
    assert code == 0, err
    assert (
        httpx_mock.get_requests()[0].headers["Authorization"] == "DeepL-Auth-Key from-variable:fx"
    )


def test_a_misspelt_option_lists_the_known_ones(tmp_path: Path) -> None:
    config = tmp_path / "tl-loop.toml"
    config.write_text('engines = ["deepl"]\n[engine.deepl]\napi_kye = "x"\n', encoding="utf-8")
    code, _, err = run("engines", "--no-probe", "--config", str(config))
    assert code == 2
    assert "unknown option api_kye for deepl; known: api_key, base_url" in err
    assert "http_client" not in err
