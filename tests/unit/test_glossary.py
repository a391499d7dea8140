"""Brand glossary: formats, validation errors, terms per direction, compliance check, export."""

from __future__ import annotations

from pathlib import Path

import pytest

from tl_loop import (
    ConfigurationError,
    Glossary,
    GlossaryEntry,
    GlossaryError,
    GlossaryTerm,
    TermViolation,
)

SAMPLES = Path(__file__).resolve().parents[2] / "glossaries"

TBX3 = """<?xml version="1.0" encoding="UTF-8"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
  <tbxHeader><fileDesc><sourceDesc><p>test</p></sourceDesc></fileDesc></tbxHeader>
  <text><body>
    <conceptEntry id="c1">
      <descrip type="doNotTranslate">yes</descrip>
      <langSec xml:lang="en"><termSec><term>AcmeSync</term></termSec></langSec>
    </conceptEntry>
    <conceptEntry id="c2">
      <langSec xml:lang="en"><termSec><term>workspace</term></termSec></langSec>
      <langSec xml:lang="es"><termSec><term>espacio   de
        trabajo</term></termSec></langSec>
    </conceptEntry>
  </body></text>
</tbx>
"""


def _tbx2(body: str) -> str:
    return f'<martif type="TBX-Basic" xml:lang="en"><text><body>\n{body}\n</body></text></martif>'


def _error(excinfo: pytest.ExceptionInfo[GlossaryError]) -> tuple[str | None, int | None, str]:
    return excinfo.value.path, excinfo.value.line, excinfo.value.problem


# --- loading each format ----------------------------------------------------------------------


def test_sample_csv_loads_with_all_languages_and_flags() -> None:
    glossary = Glossary.load(SAMPLES / "acme.csv")
    assert len(glossary) >= 20
    assert glossary.name == "acme"
    assert glossary.languages == {"en", "es", "fr", "de", "pt", "pt-BR", "ca"}
    acme = glossary.entries[0]
    assert acme.terms == {"en": "Acme Cloud"}
    assert acme.do_not_translate
    assert acme.note.startswith("Company and product name")


def test_sample_tsv_infers_the_pair_from_the_file_name() -> None:
    glossary = Glossary.load(SAMPLES / "acme.en-es.tsv")
    assert glossary.languages == {"en", "es"}
    assert GlossaryTerm("refund", "reembolso", False) in glossary.terms_for("en", "es")
    assert GlossaryTerm("Acme Cloud", None, False) in glossary.terms_for("en", "es")


def test_sample_tbx_uses_the_preferred_term_and_tbx_flags() -> None:
    glossary = Glossary.load(SAMPLES / "acme.tbx")
    by_en = {entry.terms["en"]: entry for entry in glossary.entries}
    assert by_en["dashboard"].terms["es"] == "panel de control"  # "tablero" is deprecated
    assert by_en["Flows"].do_not_translate
    assert by_en["Flows"].case_sensitive
    assert by_en["dashboard"].note == "The page a customer sees after signing in"


def test_tbx_v3_with_namespace_concept_entries_and_wrapped_terms() -> None:
    glossary = Glossary.from_tbx(TBX3)
    assert glossary.terms_for("en", "es") == (
        GlossaryTerm("workspace", "espacio de trabajo", False),
        GlossaryTerm("AcmeSync", None, False),
    )


def test_tsv_accepts_crlf_comments_and_blank_lines() -> None:
    text = "# brand terms\r\n\r\nrefund\treembolso\r\nAcmeSync\tAcmeSync\r\n"
    glossary = Glossary.from_tsv(text, source="EN", target="es")
    assert [e.terms for e in glossary.entries] == [
        {"en": "refund", "es": "reembolso"},
        {"en": "AcmeSync", "es": "AcmeSync"},
    ]
    assert [e.do_not_translate for e in glossary.entries] == [False, True]


def test_csv_trims_cells_and_normalises_tags() -> None:
    glossary = Glossary.from_csv('EN, pt_br ,note\n refund , reembolso ,"money back, in full"\n')
    entry = glossary.entries[0]
    assert entry.terms == {"en": "refund", "pt-BR": "reembolso"}
    assert entry.note == "money back, in full"


def test_load_with_explicit_pair_overrides_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "brand.en-GB-pt-BR.tsv"
    path.write_text("colour\tcor\n", encoding="utf-8")
    assert Glossary.load(path).languages == {"en-GB", "pt-BR"}
    assert Glossary.load(path, source="en", target="pt").languages == {"en", "pt"}


# --- validation errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("refund\treembolso\nbilling\tfacturación\textra\n", 2, "expected 2 tab-separated columns"),
        ("refund\treembolso\n\nbilling facturación\n", 3, "no TAB found"),
        ("refund\t\n", 1, "the es term '' is empty"),
        ("refund \treembolso\n", 1, "leading or trailing whitespace"),
        ("re\x07fund\treembolso\n", 1, "control character U+0007"),
        ("refund\tree\u2028mbolso\n", 1, "control character U+2028"),
        ("refund\treembolso\n" + "a" * 1025 + "\tb\n", 2, "1025 UTF-8 bytes"),
        ("refund\treembolso\nbilling\tcobro\nrefund\tdevolución\n", 3, "already defined on line 1"),
    ],
)
def test_tsv_errors_name_the_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(GlossaryError) as excinfo:
        Glossary.from_tsv(text, source="en", target="es", path="acme.en-es.tsv")
    path, got_line, problem = _error(excinfo)
    assert (path, got_line) == ("acme.en-es.tsv", line)
    assert fragment in problem
    assert str(excinfo.value).startswith(f"acme.en-es.tsv:{line}: ")


def test_tsv_source_terms_differing_in_case_both_become_case_sensitive() -> None:
    glossary = Glossary.from_tsv("US\tEE. UU.\nus\tnosotros\n", source="en", target="es")
    assert all(entry.case_sensitive for entry in glossary.entries)
    assert glossary.check("us", "nosotros", source="en", target="es") == ()


def test_tsv_without_entries_or_with_one_language_is_refused() -> None:
    with pytest.raises(GlossaryError, match="no entries"):
        Glossary.from_tsv("# only a comment\n", source="en", target="es")
    with pytest.raises(GlossaryError, match="both 'es'"):
        Glossary.from_tsv("a\tb\n", source="es", target="ES")
    with pytest.raises(ConfigurationError, match="not a language tag"):
        Glossary.from_tsv("a\tb\n", source="english", target="es")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("en,spanish\n", 1, "header 'spanish' is neither a language tag"),
        ("en,es,EN\n", 1, "appears twice"),
        ("dnt,note\n", 1, "names no language column"),
        ("en,es\nrefund,reembolso\nbilling\n", 3, "expected 2 columns as in the header, got 1"),
        ("en,es,dnt\nAcme,,maybe\n", 2, "dnt must be yes or no"),
        ("en,es,case_sensitive\nrefund,reembolso,sí\n", 2, "case_sensitive must be yes or no"),
        ("en,es,fr\n\nrefund,,\n", 3, "only the en term 'refund' is given"),
        ("en,es\nrefund,reembolso\nrepayment,Reembolso\n", 3, "es term 'Reembolso' is already"),
        ('en,es\nrefund,"reem"bolso\n', 2, "malformed CSV"),
        ("en,es\nre\x0bfund,reembolso\n", 2, "control character U+000B"),
    ],
)
def test_csv_errors_name_the_line_and_problem(text: str, line: int, fragment: str) -> None:
    with pytest.raises(GlossaryError) as excinfo:
        Glossary.from_csv(text, path="brand.csv")
    assert _error(excinfo)[:2] == ("brand.csv", line)
    assert fragment in excinfo.value.problem


def test_csv_case_variants_are_allowed_when_both_are_case_sensitive() -> None:
    text = "en,es,dnt,case_sensitive\nFlows,,yes,yes\nflows,flujos,no,yes\n"
    assert len(Glossary.from_csv(text)) == 2


_EN = '<langSet xml:lang="en"><tig><term>refund</term></tig></langSet>'
_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;">\n]>\n<martif>&lol2;</martif>'
)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (_BOMB, 2, "DOCTYPE declarations are not allowed"),
        (
            _tbx2('<termEntry id="t1"><langSet><tig><term>x</term></tig></langSet></termEntry>'),
            2,
            "entry 't1': <langSet> has no xml:lang",
        ),
        (_tbx2(f'<termEntry id="t2">\n{_EN}</termEntry>'), 2, "entry 't2': only the en term"),
        (
            _tbx2(
                '<termEntry id="t3"><descrip type="doNotTranslate">perhaps</descrip></termEntry>'
            ),
            2,
            "doNotTranslate must be yes or no",
        ),
        (_tbx2(f"<termEntry>\n{_EN}\n</langSet>"), 4, "not well-formed XML: mismatched tag"),
        ('<?xml version="1.0"?>\n<glossary/>', 2, "root element is <glossary>"),
        (_tbx2(f"<termEntry>{_EN.replace('refund', 'a&ent;')}</termEntry>"), 2, "undefined entity"),
    ],
)
def test_tbx_errors_name_line_entry_and_problem(text: str, line: int, fragment: str) -> None:
    with pytest.raises(GlossaryError) as excinfo:
        Glossary.from_tbx(text, path="brand.tbx")
    assert _error(excinfo)[:2] == ("brand.tbx", line)
    assert fragment in excinfo.value.problem


def test_load_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(GlossaryError, match="file not found") as missing:
        Glossary.load(tmp_path / "nope.csv")
    assert missing.value.path == str(tmp_path / "nope.csv")
    with pytest.raises(
        GlossaryError, match=r"unknown glossary format '\.xlsx'.*\.tsv.*\.csv.*\.tbx"
    ):
        Glossary.load(tmp_path / "brand.xlsx")
    unnamed = tmp_path / "brand.tsv"
    unnamed.write_text("a\tb\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match="pass source= and target="):
        Glossary.load(unnamed)
    latin1 = tmp_path / "latin.csv"
    latin1.write_bytes("en,es\nbilling,facturaci\xf3n\n".encode("latin-1"))
    with pytest.raises(GlossaryError, match="not UTF-8") as bad:
        Glossary.load(latin1)
    assert bad.value.line == 2


def test_load_picks_the_format_by_a_case_insensitive_extension_and_drops_a_bom(
    tmp_path: Path,
) -> None:
    csv_file = tmp_path / "brand.CSV"
    csv_file.write_text("\ufeffen,es,dnt\nAcme,,yes\nrefund,reembolso,no\n", encoding="utf-8")
    tbx_file = tmp_path / "brand.TBX"
    tbx_file.write_text(TBX3, encoding="utf-8")
    from_csv, from_tbx = Glossary.load(csv_file), Glossary.load(tbx_file)
    assert [e.terms["en"] for e in from_csv.entries] == ["Acme", "refund"]
    assert from_csv.entries[0].do_not_translate
    assert from_csv.name == "brand"
    assert from_tbx.entries[1].terms == {"en": "workspace", "es": "espacio de trabajo"}


def test_parsed_entries_are_the_public_entry_type_and_compare_equal() -> None:
    parsed = Glossary.from_tsv("refund\treembolso\n", source="en", target="es").entries[0]
    built = GlossaryEntry({"en": "refund", "es": "reembolso"})
    assert isinstance(parsed, GlossaryEntry)
    assert parsed == built
    assert hash(parsed) == hash(built)


# --- version ----------------------------------------------------------------------------------


def test_version_is_stable_and_tracks_terms_and_flags_only() -> None:
    first = Glossary.load(SAMPLES / "acme.csv")
    again = Glossary.load(SAMPLES / "acme.csv")
    assert first.version == again.version
    assert len(first.version) == 16
    base = "en,es,note\nrefund,reembolso,a\nbilling,facturación,b\n"
    reordered_renoted = "en,es,note\nbilling,facturación,x\nrefund,reembolso,y\n"
    changed_term = "en,es,note\nrefund,devolución,a\nbilling,facturación,b\n"
    changed_flag = "en,es,case_sensitive\nrefund,reembolso,yes\nbilling,facturación,no\n"
    version = Glossary.from_csv(base).version
    assert Glossary.from_csv(reordered_renoted).version == version
    assert Glossary.from_csv(changed_term).version != version
    assert Glossary.from_csv(changed_flag).version != version
    as_tsv = Glossary.from_tsv(
        "refund\treembolso\nbilling\tfacturación\n", source="en", target="es"
    )
    assert as_tsv.version == version  # same content, other format


# --- terms per direction ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def acme() -> Glossary:
    return Glossary.load(SAMPLES / "acme.csv")


def test_terms_en_to_es_are_forced_and_dnt_longest_first(acme: Glossary) -> None:
    terms = acme.terms_for("en", "es")
    assert terms[0] == GlossaryTerm(
        "two-factor authentication", "autenticación de dos factores", False
    )
    assert [len(t.term) for t in terms] == sorted((len(t.term) for t in terms), reverse=True)
    assert GlossaryTerm("dashboard", "panel de control", False) in terms
    assert GlossaryTerm("Flows", None, True) in terms


def test_terms_es_to_en_reverse_and_keep_brand_names(acme: Glossary) -> None:
    terms = {t.term: t.replacement for t in acme.terms_for("es", "en")}
    assert terms["ticket de soporte"] == "support ticket"
    assert terms["facturación"] == "billing"
    # The DNT entries have only an English spelling: that spelling is protected in Spanish too.
    assert terms["Acme Cloud"] is None
    assert terms["SSO"] is None


def test_terms_en_to_pt_br_prefer_the_regional_term_then_fall_back(acme: Glossary) -> None:
    terms = {t.term: t.replacement for t in acme.terms_for("en", "pt-BR")}
    assert terms["subscription"] == "assinatura"  # pt-BR column
    assert terms["refund"] == "reembolso"  # pt column, no pt-BR term
    portugal = {t.term: t.replacement for t in acme.terms_for("en", "pt-PT")}
    assert portugal["subscription"] == "subscrição"
    reverse = {t.term: t.replacement for t in acme.terms_for("pt_br", "en")}
    assert reverse["assinatura"] == "subscription"


def test_terms_for_rejects_a_bad_tag(acme: Glossary) -> None:
    with pytest.raises(ConfigurationError):
        acme.terms_for("en", "spanish")


def test_entry_normalises_tags_and_is_immutable() -> None:
    entry = GlossaryEntry({"PT_br": "painel", "EN": "dashboard"})
    assert dict(entry.terms) == {"pt-BR": "painel", "en": "dashboard"}
    with pytest.raises(TypeError):
        entry.terms["es"] = "panel"  # type: ignore[index]
    assert hash(entry) == hash(GlossaryEntry({"en": "dashboard", "pt-BR": "painel"}))


# --- compliance check -------------------------------------------------------------------------


def test_check_finds_a_missing_forced_term(acme: Glossary) -> None:
    violations = acme.check(
        "Your refund is on the dashboard.",
        "Tu reembolso está en el tablero.",
        source="en",
        target="es",
    )
    assert violations == (TermViolation("dashboard", "panel de control"),)
    assert "'panel de control'" in violations[0].detail


def test_check_passes_a_compliant_text_with_inflection(acme: Glossary) -> None:
    assert (
        acme.check(
            "Open a support ticket about your refunds in Acme Cloud.",
            "Abre tickets de soporte sobre tus reembolsos en Acme Cloud.",
            source="en",
            target="es",
        )
        == ()
    )


def test_check_flags_a_translated_brand_name(acme: Glossary) -> None:
    violations = acme.check(
        "Mi espacio de trabajo en acme cloud no carga.",
        "My workspace in Peak Cloud does not load.",
        source="es",
        target="en",
    )
    assert violations == (TermViolation("Acme Cloud", "Acme Cloud", do_not_translate=True),)
    assert "untranslated" in violations[0].detail


def test_check_respects_case_rules(acme: Glossary) -> None:
    # "Flows" is a case-sensitive product name; lowercase "flows" is an ordinary word.
    assert acme.check("The flows stopped.", "Los flujos pararon.", source="en", target="es") == ()
    assert acme.check("Flows stopped.", "Los flujos pararon.", source="en", target="es") == (
        TermViolation("Flows", "Flows", do_not_translate=True),
    )
    # Case-insensitive terms match whatever the writer typed.
    assert acme.check("REFUND please", "por favor", source="en", target="es") == (
        TermViolation("refund", "reembolso"),
    )


def test_check_reports_violations_in_source_order(acme: Glossary) -> None:
    violations = acme.check(
        "Flows broke my two-factor authentication and SSO.",
        "Algo rompió mi autenticación.",
        source="en",
        target="es",
    )
    assert [v.source_term for v in violations] == ["Flows", "two-factor authentication", "SSO"]


def test_check_lets_a_longer_term_hide_the_shorter_one_inside_it() -> None:
    glossary = Glossary(
        [
            GlossaryEntry({"en": "ticket", "es": "incidencia"}),
            GlossaryEntry({"en": "support ticket", "es": "ticket de soporte"}),
        ]
    )
    assert (
        glossary.check("A support ticket.", "Un ticket de soporte.", source="en", target="es") == ()
    )


# --- export -----------------------------------------------------------------------------------


def test_to_tsv_round_trips_through_from_tsv() -> None:
    original = Glossary.load(SAMPLES / "acme.en-es.tsv")
    exported = original.to_tsv("en", "es")
    assert exported.splitlines()[0] == "Acme Cloud\tAcme Cloud"
    assert "#" not in exported
    assert Glossary.from_tsv(exported, source="en", target="es").version == original.version


def test_to_tsv_from_a_multilingual_glossary_is_valid_deepl_tsv(acme: Glossary) -> None:
    exported = acme.to_tsv("es", "en")
    assert "panel de control\tdashboard\n" in exported
    assert "Acme Cloud\tAcme Cloud\n" in exported
    assert len(Glossary.from_tsv(exported, source="es", target="en")) == len(exported.splitlines())
