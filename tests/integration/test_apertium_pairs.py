"""The Debian Apertium pairs beyond en/es/ca/gl/fr/pt, on the real binaries: their codes as
BCP-47, Serbian in both scripts, routes through the en/es pivots, and `tl-loop engines`' graph.

Each test needs its pair's package and is skipped, naming it, when it is missing.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tl_loop import Conversation, Decision, Loop, UnsupportedLanguageError
from tl_loop.cli import main
from tl_loop.engines import ApertiumEngine, EngineChain

if shutil.which("lt-proc") is None:
    pytest.skip("Apertium is not installed (no lt-proc on PATH)", allow_module_level=True)

pytestmark = pytest.mark.apertium

MODES = Path("/usr/share/apertium/modes")


def needs(*modes: str) -> pytest.MarkDecorator:
    missing = [mode for mode in modes if not (MODES / f"{mode}.mode").is_file()]
    packages = {"isl-eng": "isl-eng", "mkd-eng": "mkd-eng", "eu-en": "eu-en", "eo-en": "eo-en",
                "en-eo": "eo-en", "ita-spa": "spa-ita", "hbs-eng": "hbs-eng",
                "eng-hbs_SR": "hbs-eng", "ro-es": "es-ro", "spa-ast": "spa-ast"}  # fmt: skip
    return pytest.mark.skipif(
        bool(missing),
        reason="needs "
        + ", ".join(f"apertium-{packages.get(m, m)} (mode {m})" for m in missing)
        + ": run scripts/bootstrap",
    )


@pytest.fixture(scope="module")
def engine() -> Iterator[ApertiumEngine]:
    with ApertiumEngine() as shared:
        yield shared


def translate(engine: ApertiumEngine | EngineChain, text: str, source: str, target: str) -> str:
    if isinstance(engine, EngineChain):
        return engine.translate_batch([text], source=source, target=target).results[0].text
    return engine.translate_batch([text], source=source, target=target)[0].text


@needs("isl-eng", "mkd-eng", "eu-en")
@pytest.mark.parametrize(
    ("source", "text", "word"),
    [
        ("is", "Hvenær verður pöntunin mín send?", "order"),
        ("mk", "Каде е мојот пакет?", "package"),
        ("eu", "Ezin naiz nire kontuan sartu.", "account"),
    ],
)
def test_one_way_pairs_read_the_customer_into_english(
    engine: ApertiumEngine, source: str, text: str, word: str
) -> None:
    assert (source, "en") in engine.pairs()
    assert not engine.supports("en", source)  # Debian ships these one way only
    assert word in translate(engine, text, source, "en")


@needs("hbs-eng", "eng-hbs_SR")
def test_serbian_in_cyrillic_reads_like_serbian_in_latin(engine: ApertiumEngine) -> None:
    cyrillic = translate(engine, "Када ће моја поруџбина бити послата?", "sr", "en")
    latin = translate(engine, "Kada će moja porudžbina biti poslata?", "sr-Latn", "en")
    assert cyrillic == latin
    assert "When" in cyrillic


@needs("hbs-eng", "eng-hbs_SR")
def test_serbian_croatian_and_bosnian_are_read_and_not_written_by_default(
    engine: ApertiumEngine,
) -> None:
    assert {("sr", "en"), ("hr", "en"), ("bs", "en")} <= engine.pairs()
    # English → hbs leaves half the words English: measured unfit, left out unless asked for.
    assert not engine.supports("en", "sr")
    assert engine.skipped_modes() == ("eng-hbs_BS", "eng-hbs_HR", "eng-hbs_SR")


@needs("hbs-eng", "eng-hbs_SR")
def test_a_reply_to_a_serbian_customer_says_the_pair_is_left_out_and_how_to_use_it(
    engine: ApertiumEngine,
) -> None:
    loop = Loop(engines=EngineChain([engine]))
    customer = Conversation(customer_language="sr", customer_language_confidence=0.99)

    reply = loop.outbound("Your order ships today.", customer)

    assert reply.decision is Decision.HOLD  # nothing unreadable reaches the customer
    with pytest.raises(UnsupportedLanguageError) as refused:
        EngineChain([engine]).translate_batch(["Your order ships today."], source="en", target="sr")
    message = str(refused.value)
    assert "eng-hbs_SR is installed but left out (skip_modes)" in message
    assert "skip_modes = [] under [engine.apertium]" in message
    assert "tl-loop models install en sr" in message  # and the ways to a better engine


@needs("hbs-eng", "eng-hbs_SR")
def test_asked_for_serbian_is_written_in_latin_script() -> None:
    with ApertiumEngine(skip_modes=()) as engine:
        assert {("en", "sr-Latn"), ("en", "hr"), ("en", "bs")} <= engine.pairs()
        serbian = translate(engine, "The milk is white.", "en", "sr")
        assert not re.search(r"[\u0400-\u04ff]", serbian)
        assert not engine.supports("en", "sr-Cyrl")  # no generator writes Cyrillic


@needs("isl-eng", "eng-spa")
def test_icelandic_reaches_spanish_through_english(engine: ApertiumEngine) -> None:
    chain = EngineChain([engine], pivots=("en", "es"))
    [route, *_] = chain.routes("is", "es")
    assert route.languages == ("is", "en", "es")
    result = chain.translate_batch(["Hvenær verður pöntunin mín send?"], source="is", target="es")
    assert "pedido" in result.results[0].text or "orden" in result.results[0].text


@needs("ita-spa", "spa-eng")
def test_italian_reaches_english_through_spanish(engine: ApertiumEngine) -> None:
    chain = EngineChain([engine], pivots=("en", "es"))
    assert chain.routes("it", "en")[0].languages == ("it", "es", "en")
    assert "order" in translate(chain, "Dov'è il mio ordine?", "it", "en")


@needs("en-eo", "eo-en")
def test_esperanto_goes_both_ways(engine: ApertiumEngine) -> None:
    assert translate(engine, "Where is my order?", "en", "eo").startswith("Kie")
    assert "account" in translate(engine, "Mi ne povas ensaluti en mian konton.", "eo", "en")


@needs("isl-eng", "hbs-eng", "ita-spa", "ro-es", "spa-ast")
def test_engines_shows_direct_pivot_and_one_way_routes_and_coverage() -> None:
    out = io.StringIO()
    assert main(["engines", "--no-probe"], stdout=out, stderr=io.StringIO()) == 0
    rows = {line.split()[0]: line for line in out.getvalue().splitlines() if line.startswith("  ")}
    assert re.search(r"direct \(apertium\)\s+—$", rows["is"])  # into English only
    assert re.search(r"via es \(apertium\)\s+via es \(apertium\)$", rows["it"])
    assert re.search(r"^\s+ast\s+—\s+via es", rows["ast"])  # Asturian is written, not read
    assert "of the 75 languages lingua detects, with en:" in out.getvalue()
    assert "left out as unfit (skip_modes): eng-hbs_BS, eng-hbs_HR, eng-hbs_SR" in out.getvalue()

    out = io.StringIO()
    assert main(["engines", "--graph", "--json"], stdout=out, stderr=io.StringIO()) == 0
    graph = json.loads(out.getvalue())
    languages = {row["language"]: row for row in graph["languages"]}
    assert languages["is"]["to_hub"] == {"via": [], "engines": "apertium"}
    assert languages["is"]["from_hub"] is None
    assert languages["ro"]["to_hub"] == {"via": ["es"], "engines": "apertium+apertium"}
    coverage = graph["coverage"]
    assert {"it", "eo", "es", "ca", "fr", "pt"} <= set(coverage["both"])
    assert {"is", "mk", "eu", "ro", "sr", "hr", "bs"} <= set(coverage["into"])
    assert "el" in coverage["none"]
    assert graph["detectable"] == 75
    total = sum(len(group) for group in coverage.values())
    assert total == 74  # every detectable language but the hub, once


def test_the_graph_centres_on_the_hub_asked_for() -> None:
    out = io.StringIO()
    assert main(["engines", "--graph", "--json", "--hub", "es"], stdout=out,
                stderr=io.StringIO()) == 0  # fmt: skip
    graph = json.loads(out.getvalue())
    assert graph["hub"] == "es"
    assert "es" not in {row["language"] for row in graph["languages"]}
    assert any(row["language"] == "en" for row in graph["languages"])
