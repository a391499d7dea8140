"""XLIFF 2.1 / 1.2 and TMX: exact round trips, files from translators' tools, refused files."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tl_loop import ConfigurationError, MissingDependencyError
from tl_loop.kb import (
    ExchangeUnit,
    export_tmx,
    export_xliff,
    import_tmx,
    import_xliff,
    token_problems,
)
from tl_loop.kb._exchange_xml import lxml_etree
from tl_loop.stores import MemoryEntry

etree = pytest.importorskip("lxml.etree")  # the kb extra

XLIFF2 = "{urn:oasis:names:tc:xliff:document:2.0}"
XLIFF12 = "{urn:oasis:names:tc:xliff:document:1.2}"
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

UNITS = [
    ExchangeUnit(
        id="a1042.s0",
        source_text="  Tu pedido ⟦0⟧ <llega> \"mañana\" & 'pronto'\r\n ⟦1⟧ ⟦0⟧  ",
        target_text="Your order ⟦0⟧ <arrives> tomorrow ⟦1⟧ ⟦0⟧",
        note="term check: «pedido»\n  second line ",
    ),
    ExchangeUnit(id="a1042.s1", source_text="⟦3⟧", target_text=None, note=""),
    ExchangeUnit(id="a7:s-2_x", source_text="", target_text=""),
]


# --- strategies -------------------------------------------------------------------------------


def texts(*, xml_only: bool) -> st.SearchStrategy[str]:
    characters = st.characters(codec="utf-8")  # every code point but surrogates
    if xml_only:
        characters = characters.filter(lambda c: not NOT_XML.match(c))
    pieces = st.one_of(
        st.text(characters, max_size=8),
        st.integers(0, 30).map(lambda n: f"⟦{n}⟧"),
        st.sampled_from([" ", "  ", "\n", "\r\n", "\t", "<", "&", '"', "'", "]]>", "⟦", "⟧"]),
    )
    return st.lists(pieces, max_size=8).map("".join)


def units(*, xml_only: bool) -> st.SearchStrategy[list[ExchangeUnit]]:
    unit = st.builds(
        ExchangeUnit,
        id=st.from_regex(r"[A-Za-z0-9_.:-]{1,10}", fullmatch=True),
        source_text=texts(xml_only=xml_only),
        target_text=st.none() | texts(xml_only=xml_only),
        note=st.none() | texts(xml_only=True),
    )
    return st.lists(unit, max_size=6, unique_by=lambda u: u.id)


LANGUAGES = st.sampled_from(["es", "en", "pt-BR", "fr", "zh-Hant", "de"])

memory_entries = st.builds(
    MemoryEntry,
    source_text=texts(xml_only=True),
    target_text=texts(xml_only=True),
    source=st.just("es"),
    target=st.sampled_from(["en", "pt-BR", "fr"]),
    glossary_version=st.none() | st.text(st.characters(codec="ascii", min_codepoint=32)),
    origin=st.sampled_from(["approved", "edited", "imported"]),
    author=st.none() | texts(xml_only=True).filter(lambda a: "⟦" not in a),
    created_at=st.datetimes(timezones=st.just(UTC)),
)


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.1", "1.2"])
def test_concrete_units_round_trip_exactly(version: str) -> None:
    data = export_xliff(UNITS, source="es", target="en", version=version)  # type: ignore[arg-type]
    assert import_xliff(data) == ("es", "en", UNITS)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(units(xml_only=False), LANGUAGES, LANGUAGES)
def test_xliff21_round_trips_any_text(batch: list[ExchangeUnit], source: str, target: str) -> None:
    data = export_xliff(batch, source=source, target=target)
    assert import_xliff(data) == (source, target, batch)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(units(xml_only=True))
def test_xliff12_round_trips_any_xml_text(batch: list[ExchangeUnit]) -> None:
    data = export_xliff(batch, source="es", target="pt-BR", version="1.2")
    assert import_xliff(data) == ("es", "pt-BR", batch)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(memory_entries, max_size=6))
def test_tmx_round_trips_entries(entries: list[MemoryEntry]) -> None:
    back = import_tmx(export_tmx(entries))
    assert [(e.source_text, e.target_text, e.source, e.target) for e in back] == [
        (e.source_text, e.target_text, e.source, e.target) for e in entries
    ]
    assert [(e.glossary_version, e.author, e.created_at) for e in back] == [
        (e.glossary_version, e.author, e.created_at) for e in entries
    ]
    assert {e.origin for e in back} <= {"imported"}


# --- what the files look like to a translator's tool -------------------------------------------


def test_xliff21_follows_the_core_schema_structure() -> None:
    root = etree.fromstring(export_xliff(UNITS, source="es", target="pt_br"))
    assert root.tag == f"{XLIFF2}xliff"
    assert (root.get("version"), root.get("srcLang"), root.get("trgLang")) == ("2.1", "es", "pt-BR")
    (file,) = root
    assert file.tag == f"{XLIFF2}file"
    assert file.get("canResegment") == "no"
    first = file[0]
    # notes, when present, come before the segments (the OASIS schema's order)
    assert [child.tag for child in first] == [f"{XLIFF2}notes", f"{XLIFF2}segment"]
    segment = first[1]
    assert segment.get("state") == "translated"
    assert [child.tag for child in segment] == [f"{XLIFF2}source", f"{XLIFF2}target"]
    # the repeated ⟦0⟧ gets its own id: ids of inline codes are unique within a source
    assert [ph.get("id") for ph in segment[0]] == ["0", "1", "0-2"]
    assert all(ph.tag == f"{XLIFF2}ph" and not ph.text for ph in segment[0])
    untranslated = file[1][1]
    assert untranslated.get("state") == "initial"
    assert [child.tag for child in untranslated] == [f"{XLIFF2}source"]


def test_xliff12_uses_x_placeholders_and_marks_drafts_for_review() -> None:
    root = etree.fromstring(export_xliff(UNITS, source="es", target="en", version="1.2"))
    assert (root.tag, root.get("version")) == (f"{XLIFF12}xliff", "1.2")
    file = root[0]
    assert (file.get("source-language"), file.get("target-language")) == ("es", "en")
    unit = file.find(f"{XLIFF12}body")[0]
    assert unit.tag == f"{XLIFF12}trans-unit"
    assert unit.get("id") == "a1042.s0"
    assert [x.get("id") for x in unit.find(f"{XLIFF12}source")] == ["0", "1", "0-2"]
    target = unit.find(f"{XLIFF12}target")
    assert target.get("state") == "needs-review-translation"
    assert [x.tag for x in target] == [f"{XLIFF12}x"] * 3


# The XLIFF 1.2 strict schema (xliff-core-1.2-strict.xsd), transcribed for the elements tl_loop
# writes: element names, nesting, order, required attributes, and the state values. xml:space is
# checked by hand below; declaring it would mean fetching xml.xsd.
XLIFF12_SCHEMA = b"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:xlf="urn:oasis:names:tc:xliff:document:1.2"
    targetNamespace="urn:oasis:names:tc:xliff:document:1.2" elementFormDefault="qualified">
  <xs:simpleType name="state"><xs:restriction base="xs:string">
    <xs:enumeration value="final"/><xs:enumeration value="needs-adaptation"/>
    <xs:enumeration value="needs-l10n"/><xs:enumeration value="needs-review-adaptation"/>
    <xs:enumeration value="needs-review-l10n"/><xs:enumeration value="needs-review-translation"/>
    <xs:enumeration value="needs-translation"/><xs:enumeration value="new"/>
    <xs:enumeration value="signed-off"/><xs:enumeration value="translated"/>
  </xs:restriction></xs:simpleType>
  <xs:simpleType name="state-qualifier"><xs:restriction base="xs:string">
    <xs:enumeration value="exact-match"/><xs:enumeration value="fuzzy-match"/>
    <xs:enumeration value="id-match"/><xs:enumeration value="leveraged-mt"/>
    <xs:enumeration value="leveraged-tm"/><xs:enumeration value="mt-suggestion"/>
    <xs:enumeration value="tm-suggestion"/>
  </xs:restriction></xs:simpleType>
  <xs:complexType name="text" mixed="true">
    <xs:sequence><xs:element ref="xlf:x" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>
  <xs:element name="xliff"><xs:complexType>
    <xs:sequence maxOccurs="unbounded"><xs:element ref="xlf:file"/></xs:sequence>
    <xs:attribute name="version" use="required"><xs:simpleType>
      <xs:restriction base="xs:string"><xs:enumeration value="1.2"/></xs:restriction>
    </xs:simpleType></xs:attribute>
  </xs:complexType></xs:element>
  <xs:element name="file">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="header" minOccurs="0"/>
        <xs:element ref="xlf:body"/>
      </xs:sequence>
      <xs:attribute name="original" type="xs:string" use="required"/>
      <xs:attribute name="source-language" type="xs:language" use="required"/>
      <xs:attribute name="datatype" type="xs:NMTOKEN" use="required"/>
      <xs:attribute name="target-language" type="xs:language"/>
    </xs:complexType>
    <xs:key name="unit-id"><xs:selector xpath=".//xlf:trans-unit"/><xs:field xpath="@id"/></xs:key>
  </xs:element>
  <xs:element name="body"><xs:complexType>
    <xs:sequence>
      <xs:element ref="xlf:trans-unit" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType></xs:element>
  <xs:element name="trans-unit"><xs:complexType>
    <xs:sequence>
      <xs:element name="source" type="xlf:text"/>
      <xs:element name="target" minOccurs="0"><xs:complexType mixed="true">
        <xs:complexContent><xs:extension base="xlf:text">
          <xs:attribute name="state" type="xlf:state"/>
          <xs:attribute name="state-qualifier" type="xlf:state-qualifier"/>
        </xs:extension></xs:complexContent>
      </xs:complexType></xs:element>
      <xs:element name="note" type="xs:string" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
    <xs:attribute name="id" type="xs:string" use="required"/>
    <xs:anyAttribute namespace="http://www.w3.org/XML/1998/namespace" processContents="skip"/>
  </xs:complexType></xs:element>
  <xs:element name="x"><xs:complexType>
    <xs:attribute name="id" type="xs:string" use="required"/>
  </xs:complexType></xs:element>
</xs:schema>"""


def assert_valid_xliff12(data: bytes) -> None:
    schema = etree.XMLSchema(etree.fromstring(XLIFF12_SCHEMA))
    document = etree.fromstring(data)
    assert schema.validate(document), schema.error_log
    units = document.iter(f"{XLIFF12}trans-unit")
    assert all(u.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve" for u in units)


def test_the_xliff12_schema_check_can_fail() -> None:
    data = export_xliff(UNITS, source="es", target="en", version="1.2")
    note_first = data.replace(b"<source/>", b"<note/><source/>")
    with pytest.raises(AssertionError, match="note"):
        assert_valid_xliff12(note_first)


@pytest.mark.parametrize("batch", [UNITS, []])
def test_xliff12_follows_the_12_schema_structure(batch: list[ExchangeUnit]) -> None:
    assert_valid_xliff12(export_xliff(batch, source="es", target="pt_br", version="1.2"))


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(units(xml_only=True))
def test_any_xliff12_export_follows_the_12_schema_structure(batch: list[ExchangeUnit]) -> None:
    assert_valid_xliff12(export_xliff(batch, source="zh-Hant", target="de", version="1.2"))


def test_an_xliff12_file_with_a_prefixed_namespace_is_read() -> None:
    data = b"""<x:xliff xmlns:x="urn:oasis:names:tc:xliff:document:1.2" version="1.2">
<x:file original="o" source-language="es" target-language="en" datatype="plaintext"><x:body>
<x:trans-unit id="u"><x:source>Hola <x:x id="0"/></x:source></x:trans-unit>
</x:body></x:file></x:xliff>"""
    assert import_xliff(data)[2] == [ExchangeUnit(id="u", source_text="Hola ⟦0⟧", target_text=None)]


def test_control_characters_travel_as_cp_in_21_and_are_refused_in_12() -> None:
    unit = ExchangeUnit(id="u", source_text="bell\x07 ⟦0⟧", target_text=None)
    data = export_xliff([unit], source="es", target="en")
    assert b'<cp hex="0007"/>' in data
    assert import_xliff(data)[2] == [unit]
    with pytest.raises(ConfigurationError, match="U\\+0007"):
        export_xliff([unit], source="es", target="en", version="1.2")


# --- files coming back from translators ---------------------------------------------------------

FROM_A_CAT_TOOL_21 = """<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.1" srcLang="es" trgLang="en">
  <file id="f1">
    <unit id="a1.s0">
      <notes><note category="tl_loop">check «pedido»</note></notes>
      <segment state="final">
        <source>Su pedido <ph id="0"/> llega</source>
        <target>Your <mrk id="m1" type="term">order</mrk> <ph id="0"/><!-- ok --> arrives</target>
      </segment>
      <ignorable><source> </source></ignorable>
      <segment state="reviewed">
        <source>¡Gracias!</source>
        <target>Thanks!</target>
      </segment>
    </unit>
    <unit id="a1.s1">
      <segment><source>Hola <ph id="1"/></source><target>Hi</target></segment>
    </unit>
    <unit id="a1.s2">
      <segment><source>Uno.</source><target>One.</target></segment>
      <segment><source>Dos.</source></segment>
    </unit>
  </file>
</xliff>"""


def test_an_edited_xliff21_file_comes_back_with_tokens_restored() -> None:
    source, target, back = import_xliff(FROM_A_CAT_TOOL_21.encode())
    assert (source, target) == ("es", "en")
    assert back[0] == ExchangeUnit(
        id="a1.s0",
        source_text="Su pedido ⟦0⟧ llega ¡Gracias!",
        target_text="Your order ⟦0⟧ arrives Thanks!",
        note="check «pedido»",
    )
    assert token_problems(back[0]) == []
    # a dropped token is returned, not hidden, and token_problems reports it
    assert back[1].target_text == "Hi"
    assert token_problems(back[1]) == ["unit a1.s1: ⟦1⟧ is missing from the target"]
    # half-translated units are untranslated
    assert back[2].target_text is None


def test_an_older_tools_xliff11_file_is_read() -> None:
    data = b"""<?xml version="1.0"?>
<xliff version="1.1" xmlns="urn:oasis:names:tc:xliff:document:1.1">
 <file original="kb" source-language="es" target-language="fr" datatype="plaintext"><body>
  <group id="g"><trans-unit id="u1"><source>Hola <x id="0"/></source>
   <target state="translated"><g id="b">Bonjour</g> <x id="0"/></target>
   <note from="reviewer">ok</note></trans-unit></group>
 </body></file>
</xliff>"""
    assert import_xliff(data) == (
        "es",
        "fr",
        [ExchangeUnit(id="u1", source_text="Hola ⟦0⟧", target_text="Bonjour ⟦0⟧", note="ok")],
    )


def test_token_problems_counts_each_token() -> None:
    def problems(source: str, target: str | None) -> list[str]:
        return token_problems(ExchangeUnit(id="u", source_text=source, target_text=target))

    assert problems("⟦0⟧ a ⟦1⟧", "⟦1⟧ b ⟦0⟧") == []  # reordering is fine
    assert problems("⟦0⟧", None) == []
    assert problems("⟦0⟧", "⟦0⟧ ⟦0⟧ ⟦2⟧") == [
        "unit u: ⟦0⟧ appears 2 times in the target, 1 in the source",
        "unit u: ⟦2⟧ is in the target but not in the source",
    ]


# --- TMX from other tools ---------------------------------------------------------------------


def test_a_tmx_from_another_tool_imports_with_the_given_glossary_version() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<tmx version="1.4"><header creationtool="X" creationtoolversion="1" segtype="sentence"
  o-tmf="x" adminlang="en" srclang="es-ES" datatype="plaintext"/>
<body>
 <tu creationdate="20240105T101500Z" creationid="ana" changeid="ben">
  <tuv xml:lang="es-ES"><seg>Hola <hi>mundo</hi></seg></tuv>
  <tuv xml:lang="en-GB"><seg>Hello world</seg></tuv>
  <tuv xml:lang="fr-FR"><seg>Bonjour le monde</seg></tuv>
 </tu>
</body></tmx>"""
    entries = import_tmx(data, glossary_version="acme-7")
    assert [(e.source, e.target, e.source_text, e.target_text) for e in entries] == [
        ("es-ES", "en-GB", "Hola mundo", "Hello world"),
        ("es-ES", "fr-FR", "Hola mundo", "Bonjour le monde"),
    ]
    assert {(e.glossary_version, e.origin, e.author) for e in entries} == {
        ("acme-7", "imported", "ben")
    }
    assert entries[0].created_at == datetime(2024, 1, 5, 10, 15, tzinfo=UTC)


def test_tmx_with_foreign_formatting_codes_is_refused_with_its_line() -> None:
    data = b"""<tmx version="1.4"><header srclang="es"/><body>
<tu><tuv xml:lang="es"><seg><bpt i="1">&lt;b&gt;</bpt>Hola<ept i="1">&lt;/b&gt;</ept></seg></tuv>
<tuv xml:lang="en"><seg>Hi</seg></tuv></tu></body></tmx>"""
    with pytest.raises(ConfigurationError, match=r"line 2: inline element <bpt>"):
        import_tmx(data)


# --- refused files ----------------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xliff [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.1" srcLang="es" trgLang="en">
<file id="f"><unit id="u"><segment><source>&secret;</source></segment></unit></file></xliff>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE tmx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<tmx version="1.4"><header srclang="es"/><body><tu><tuv xml:lang="es"><seg>&b;</seg></tuv>
<tuv xml:lang="en"><seg>x</seg></tuv></tu></body></tmx>"""


def test_entity_declarations_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="XXE"):
        import_xliff(XXE)
    with pytest.raises(ConfigurationError, match="XXE"):
        import_tmx(LAUGHS)


TMX_BODY = b"""<tmx version="1.4"><header srclang="es"/><body><tu><tuv xml:lang="es"><seg>a</seg>
</tuv><tuv xml:lang="en"><seg>b</seg></tuv></tu></body></tmx>"""


@pytest.mark.parametrize(
    "doctype",
    [
        # libxml2 applies internal ATTLIST defaults even without DTD loading: a hidden author
        b'<!DOCTYPE tmx [<!ATTLIST tu creationid CDATA "mallory">]>',
        b'<?xml version="1.0"?><!-- x --><!DOCTYPE tmx SYSTEM "a>[" [<!NOTATION n SYSTEM "n">]>',
    ],
)
def test_any_internal_dtd_subset_is_refused(doctype: bytes) -> None:
    with pytest.raises(ConfigurationError, match="XXE"):
        import_tmx(doctype + TMX_BODY)
    # the same file with only an external DTD named (never fetched) is read
    external = import_tmx(b'<!DOCTYPE tmx SYSTEM "tmx14.dtd">' + TMX_BODY)
    assert [(e.target_text, e.author) for e in external] == [("b", None)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<xliff version='2.1'", "line 1: not well-formed"),
        (b"<tmx/>", "root element is <tmx>"),
        (
            FROM_A_CAT_TOOL_21.replace('<ph id="0"/><!--', '<ph id="brand"/><!--').encode(),
            r"unit 'a1.s0' line 8: placeholder <ph id='brand'>",
        ),
        (FROM_A_CAT_TOOL_21.replace(' trgLang="en"', "").encode(), "trgLang"),
    ],
)
def test_bad_xliff_files_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        import_xliff(data)


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([ExchangeUnit(id="article 1", source_text="x", target_text=None)], "NMTOKEN"),
        ([ExchangeUnit(id="u", source_text="x", target_text=None)] * 2, "used twice"),
    ],
)
def test_bad_unit_ids_are_refused(batch: list[ExchangeUnit], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        export_xliff(batch, source="es", target="en")


def test_unknown_version_and_bad_language_are_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"'2\.1' or '1\.2'"):
        export_xliff(UNITS, source="es", target="en", version="2.0")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="target language"):
        export_xliff(UNITS, source="es", target="english please")


def test_without_lxml_the_install_command_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lxml_etree.cache_clear()
    monkeypatch.setitem(sys.modules, "lxml.etree", None)
    try:
        with pytest.raises(MissingDependencyError, match="lxml") as caught:
            export_tmx([])
        assert caught.value.install == "pip install 'tl-loop[kb]'"
    finally:
        lxml_etree.cache_clear()
