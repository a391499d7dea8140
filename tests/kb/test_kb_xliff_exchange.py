"""XLIFF for translators: schema-valid files, inline codes a CAT tool can show, honest import.

Exports are validated against the XLIFF 2.1 core and 1.2 schemas (authored test data after the
OASIS schemas, tests/kb/data/xliff) and read back with translate-toolkit, an independent reader
(GPL: a test dependency only, never imported by tl_loop).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from kb_support import fake_config
from lxml import etree

from tl_loop.kb import (
    ExchangeUnit,
    InlineCode,
    export_xliff,
    import_xliff,
    kb_export_xliff,
    kb_import_xliff,
    translate_folder,
)

translate_storage = pytest.importorskip("translate.storage.xliff")
translate_storage2 = pytest.importorskip("translate.storage.xliff2")

_DATA = Path(__file__).parent / "data"
_SCHEMAS = {"2.1": "xliff_core_2.1_subset.xsd", "1.2": "xliff_core_1.2_subset.xsd"}
_NS = {
    "2.1": "urn:oasis:names:tc:xliff:document:2.0",
    "1.2": "urn:oasis:names:tc:xliff:document:1.2",
}


def _valid(data: bytes, version: str) -> None:
    schema = etree.XMLSchema(etree.parse(str(_DATA / "xliff" / _SCHEMAS[version])))
    assert schema.validate(etree.fromstring(data)), schema.error_log


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The authored help-center article, machine-translated by the fake engine."""
    out = tmp_path_factory.mktemp("xliff") / "out"
    summary = translate_folder(
        _DATA / "markdown", out_dir=out, targets=["es"], config=fake_config(), workers=0
    )
    assert summary.failed == 0
    return out


@pytest.mark.parametrize("version", ["2.1", "1.2"])
def test_kb_export_is_schema_valid_and_round_trips(job: Path, version: Any) -> None:
    data, count = kb_export_xliff(job, locale="es", include="all", version=version)
    _valid(data, version)
    source, target, units = import_xliff(data)
    assert (source, target, len(units)) == ("en", "es", count)
    assert all(unit.state == "translated" for unit in units)  # machine drafts, not reviewed
    assert not any(unit.reviewed for unit in units)


def test_xliff21_codes_say_what_they_stand_for(job: Path) -> None:
    data, _ = kb_export_xliff(job, locale="es", include="all", version="2.1")
    text = data.decode()
    assert 'dispStart="bold" dispEnd="/bold"' in text  # **never**
    assert 'dispStart="link https://acme.example/reset" dispEnd="/link"' in text
    assert '<ph id="0" dataRef="d0" disp="code" type="fmt"/>' in text  # <code>--force</code>
    assert '<data id="d0">' in text  # the source markup travels in <originalData>
    store = translate_storage2.Xliff2File.parsestring(data)
    by_id = {unit.getid(): unit for unit in store.units}
    ours = {unit.id: unit for unit in import_xliff(data)[2]}
    assert by_id.keys() == ours.keys()
    for ident, unit in ours.items():  # the other reader sees the same text around the codes
        assert by_id[ident].source == _without_tokens(unit.source_text)


def test_xliff12_codes_carry_the_source_markup(job: Path) -> None:
    data, _ = kb_export_xliff(job, locale="es", include="all", version="1.2")
    store = translate_storage.xlifffile.parsestring(data)
    sources = [str(unit.source) for unit in store.units]
    assert any("will **never** ask" in source for source in sources)  # <bpt>**</bpt>…<ept>
    assert any("[sign-in guide][guide]" in source for source in sources)
    assert not any(unit.isapproved() for unit in store.units)


def _without_tokens(text: str) -> str:
    return re.sub(r"⟦\d+⟧", "", text)


def _review(data: bytes, version: str, ident: str, target: str, how: str) -> bytes:
    """Do what a translator's tool does: edit one unit's target and confirm it."""
    root = etree.fromstring(data)
    ns = {"x": _NS[version]}
    if version == "2.1":
        unit = root.find(f".//x:unit[@id='{ident}']", ns)
        segment = unit.find("x:segment", ns)
        segment.set("state", how)
        node = segment.find("x:target", ns)
    else:
        unit = root.find(f".//x:trans-unit[@id='{ident}']", ns)
        node = unit.find("x:target", ns)
        if how == "approved":
            unit.set("approved", "yes")
        else:
            node.set("state", how)
    for child in list(node):
        child.tail = None
    node.text = target.split("⟦")[0]
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@pytest.mark.parametrize(
    ("version", "how"),
    [("2.1", "final"), ("2.1", "reviewed"), ("1.2", "approved"), ("1.2", "final")],
)
def test_import_stores_only_what_a_person_reviewed(tmp_path: Path, version: Any, how: str) -> None:
    src, out = _DATA / "markdown", tmp_path / "out"
    translate_folder(src, out_dir=out, targets=["es"], config=fake_config(), workers=0)
    data, count = kb_export_xliff(out, locale="es", include="all", version=version)
    plain = next(u for u in import_xliff(data)[2] if "⟦" not in u.source_text)
    returned = _review(data, version, plain.id, "Texto revisado.", how)
    untouched = kb_import_xliff(data, out_dir=out)  # sent back as exported: all drafts
    assert (untouched.stored, untouched.drafts) == (0, count)

    report = kb_import_xliff(returned, out_dir=out)

    assert (report.stored, report.drafts, report.rejected) == (1, count - 1, [])
    again = translate_folder(src, out_dir=out, targets=["es"], config=fake_config(), workers=0)
    assert again.from_memory == 1
    assert "Texto revisado." in (out / "es" / "help-center-extensions.md").read_text()


def test_crossing_pairs_become_sc_and_ec_and_round_trip() -> None:
    codes = (
        InlineCode("markup", "<b>"),
        InlineCode("markup", "<i>"),
        InlineCode("markup", "</b>"),
        InlineCode("markup", "</i>"),
        InlineCode("placeholder", "{{ticket.id}}"),
    )
    unit = ExchangeUnit(
        "u1", "⟦0⟧Bold ⟦1⟧both⟦2⟧ italic⟦3⟧ ⟦4⟧", "⟦0⟧Negrita ⟦1⟧ambas⟦2⟧ cursiva⟦3⟧ ⟦4⟧",
        state="final", codes=codes,
    )  # fmt: skip
    for version in ("2.1", "1.2"):
        data = export_xliff([unit], source="en", target="es", version=version)  # type: ignore[arg-type]
        _valid(data, version)
        (back,) = import_xliff(data)[2]
        assert back == unit
        assert back.reviewed
    text = export_xliff([unit], source="en", target="es").decode()
    assert '<sc id="0" dataRef="d0" disp="bold" type="fmt"/>' in text
    assert '<ec startRef="0" dataRef="d2" disp="/bold" type="fmt"/>' in text
    assert (
        '<ph id="4" dataRef="d4" disp="{{ticket.id}}" equiv="{{ticket.id}}" type="other"/>' in text
    )
