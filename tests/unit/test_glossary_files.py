"""Glossary files as users have them: TSV with a header row, TBX exports with regional tags
and an external DTD."""

from __future__ import annotations

from pathlib import Path

import pytest

from tl_loop import Glossary, GlossaryError, Loop
from tl_loop.testing import FakeEngine

TBX_EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE martif SYSTEM "TBXBasiccoreStructV02.dtd">
<martif type="TBX-Basic" xml:lang="en-US">
 <martifHeader><fileDesc><sourceDesc><p>exported</p></sourceDesc></fileDesc></martifHeader>
 <text><body>
  <termEntry id="c1">
   <langSet xml:lang="en-US"><tig><term>refund</term></tig></langSet>
   <langSet xml:lang="es-ES"><tig><term>reembolso</term></tig></langSet>
  </termEntry>
 </body></text>
</martif>
"""


@pytest.mark.parametrize("header", ["en\tes", "EN\tES", "en-US\tes-ES", "source\ttarget"])
def test_a_tsv_header_row_is_a_header_not_a_term(header: str) -> None:
    glossary = Glossary.from_tsv(f"{header}\nurgent\turgente\n", source="en", target="es")
    assert [t.term for t in glossary.terms_for("en", "es")] == ["urgent"]
    loop = Loop(engines=[FakeEngine(transform=lambda s, _a, _b: s)], glossary=glossary)
    # an engine that copies its input shows what the glossary forced: "urgente" → "urgent",
    # and no longer the header's "es" → "en" ("Esto en urgent")
    translated = loop.translate("Esto es urgente", source="es", target="en").translated
    assert translated == "Esto es urgent"


def test_a_tsv_header_names_the_pair_when_the_file_name_does_not(tmp_path: Path) -> None:
    path = tmp_path / "terms.tsv"
    path.write_text("en\tes\nrefund\treembolso\n", encoding="utf-8")
    glossary = Glossary.load(path)
    assert glossary.languages == {"en", "es"}


def test_a_tsv_header_naming_another_pair_is_refused_with_a_fix() -> None:
    with pytest.raises(GlossaryError, match=r"header row names es → en .* pass source="):
        Glossary.from_tsv("es\ten\nurgente\turgent\n", source="en", target="es")


def test_a_term_that_only_looks_like_a_header_stays_a_term() -> None:
    glossary = Glossary.from_tsv("Acme\tAcme\nrefund\treembolso\n", source="en", target="es")
    assert {t.term for t in glossary.terms_for("en", "es")} == {"Acme", "refund"}


def test_tbx_export_with_regional_tags_and_an_external_dtd_applies_to_the_base_pair() -> None:
    glossary = Glossary.from_tbx(TBX_EXPORT)
    for source, target in [("en", "es"), ("en-US", "es-ES"), ("en-GB", "es-MX")]:
        assert [(t.term, t.replacement) for t in glossary.terms_for(source, target)] == [
            ("refund", "reembolso")
        ]
    loop = Loop(engines=[FakeEngine(transform=lambda s, _a, _b: s)], glossary=glossary)
    reply = loop.translate("Your refund is on its way.", source="en", target="es")
    assert reply.translated == "Your reembolso is on its way."


def test_tbx_declarations_of_its_own_are_still_refused() -> None:
    unsafe = TBX_EXPORT.replace('.dtd">', '.dtd" [<!ENTITY boom "x">]>')
    with pytest.raises(GlossaryError, match=r"remove the \[\.\.\.\] declarations"):
        Glossary.from_tbx(unsafe)
