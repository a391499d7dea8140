"""`tl-loop glossary suggest`'s core: corrections reviewers repeat become glossary entries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from stats_builders import item

from tl_loop import Glossary
from tl_loop.review import (
    ReviewItem,
    find_replacements,
    suggest_glossary_entries,
    suggestions_to_csv,
    suggestions_to_json,
    suggestions_to_tsv,
)

DASHBOARD = [
    ("Open the dashboard of your account.", "Abra el tablero de su cuenta.",
     "Abra el panel de control de su cuenta."),
    ("The dashboard shows your invoice.", "El tablero muestra su factura.",
     "El panel de control muestra su factura."),
    ("Go to the dashboard now.", "Vaya al tablero ahora.", "Vaya al panel de control ahora."),
    ("Your dashboard is ready.", "Su tablero está listo.", "Su panel de control está listo."),
]  # fmt: skip
BRAND = [
    ("Acme Cloud is down.", "Nube Acme está caída.", "Acme Cloud está caída."),
    ("Restart Acme Cloud.", "Reinicie Nube Acme.", "Reinicie Acme Cloud."),
    ("Acme Cloud works again.", "Nube Acme funciona otra vez.", "Acme Cloud funciona otra vez."),
]
OTHER = [
    ("Thanks for your patience.", "Gracias por su paciencia.", None),
    ("Your invoice is attached.", "Su factura está adjunta.", None),
    ("Open the invoice now.", "Abra la factura ahora.", None),
    ("The update is live.", "La actualización está activa.", None),
    ("Check the status page.", "Consulte la página de estado.", None),
]


def items_from(*groups: Sequence[tuple[str, str, str | None]], start: int = 0) -> list[ReviewItem]:
    built = []
    for number, (original, draft, final) in enumerate(
        (triple for group in groups for triple in group), start=start
    ):
        state = "approved" if final is None else "edited"
        built.append(item(number, original=original, draft=draft, final=final, state=state))
    return built


def test_replacements_are_aligned_word_spans() -> None:
    assert find_replacements(
        "Abra el tablero de su cuenta.", "Abra el panel de control de su cuenta."
    ) == [("tablero", "panel de control")]
    # A reordered name aligns as one span around the word it keeps.
    assert find_replacements("Reinicie Nube Acme.", "Reinicie Acme Cloud.") == [
        ("Nube Acme", "Acme Cloud")
    ]


def test_numbers_punctuation_case_and_long_rewrites_are_not_term_corrections() -> None:
    assert find_replacements("Pedido 123.", "Pedido 456.") == []
    assert find_replacements("Hola, mundo.", "Hola; mundo.") == []
    assert find_replacements("El Tablero.", "El tablero.") == []
    assert (
        find_replacements(
            "Su pedido llegará mañana por la tarde sin falta.",
            "Recibirá el paquete el martes a primera hora.",
        )
        == []
    )


def test_a_correction_made_in_enough_items_is_proposed_with_its_source_term() -> None:
    suggestions = suggest_glossary_entries(items_from(DASHBOARD, OTHER), min_count=3)
    (found,) = suggestions
    assert (found.draft_term, found.final_term) == ("tablero", "panel de control")
    assert found.source_term == "dashboard"
    assert (found.source_language, found.target_language) == ("en", "es")
    assert found.count == 4
    assert not found.do_not_translate
    assert len(found.examples) == 3


def test_min_count_counts_distinct_items() -> None:
    twice_in_one = [("The dashboard, the dashboard.", "El tablero, el tablero.",
                     "El panel de control, el panel de control.")]  # fmt: skip
    items = items_from(DASHBOARD[:2], twice_in_one)
    assert [s.count for s in suggest_glossary_entries(items, min_count=3)] == [3]
    assert suggest_glossary_entries(items_from(DASHBOARD[:2], OTHER), min_count=3) == []
    assert len(suggest_glossary_entries(items_from(DASHBOARD[:2]), min_count=2)) == 1


def test_a_restored_name_becomes_a_do_not_translate_entry() -> None:
    (found,) = suggest_glossary_entries(items_from(BRAND, OTHER), min_count=3)
    assert found.source_term == "Acme Cloud"
    assert found.do_not_translate


def test_kept_counts_reviews_that_left_the_draft_term_alone() -> None:
    kept = [("Open the board.", "Abra el tablero.", None)]  # approved: tablero was fine here
    (found,) = suggest_glossary_entries(items_from(DASHBOARD, kept), min_count=3)
    assert found.kept == 1


def test_without_a_convincing_source_term_the_suggestion_has_none() -> None:
    # The same source words everywhere: nothing tells which one was mistranslated.
    same = [("Thanks a lot.", "Muchas gracias.", "Mil gracias."),
            ("Thanks a lot.", "Muchas gracias.", "Mil gracias."),
            ("Thanks a lot.", "Muchas gracias.", "Mil gracias.")]  # fmt: skip
    more = [("Thanks a lot.", "Muchas gracias.", None)] * 3
    (found,) = suggest_glossary_entries(items_from(same, more), min_count=3)
    assert (found.draft_term, found.final_term, found.source_term) == ("Muchas", "Mil", None)


def test_corrections_the_glossary_already_has_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "brand.en-es.tsv"
    path.write_text("dashboard\tpanel de control\n", encoding="utf-8")
    items = items_from(DASHBOARD, BRAND, OTHER)
    found = suggest_glossary_entries(items, min_count=3, glossary=Glossary.load(path))
    assert [s.final_term for s in found] == ["Acme Cloud"]


def test_pairs_are_kept_apart() -> None:
    items = items_from(DASHBOARD[:2]) + [
        item(10 + n, original=o, draft=d, final=f, target="pt")
        for n, (o, d, f) in enumerate(DASHBOARD[2:])
    ]
    assert suggest_glossary_entries(items, min_count=3) == []


def test_tsv_output_loads_as_a_glossary_and_keeps_unknown_sources_as_comments() -> None:
    same = [("Thanks a lot.", "Muchas gracias.", "Mil gracias.")] * 3
    suggestions = suggest_glossary_entries(items_from(DASHBOARD, BRAND, same), min_count=3)
    text = suggestions_to_tsv(suggestions)
    glossary = Glossary.from_tsv(text, source="en", target="es")
    assert {(t.term, t.replacement) for t in glossary.terms_for("en", "es")} == {
        ("dashboard", "panel de control"),
        ("Acme Cloud", None),
    }
    assert "# source term not found: 'Muchas' → 'Mil'" in text


def test_csv_output_loads_as_a_glossary_across_pairs() -> None:
    french = [
        (o, d.replace("tablero", "tableau"), f.replace("panel de control", "tableau de bord"))
        for o, d, f in [
            ("Open the dashboard.", "Ouvrez le tablero.", "Ouvrez le panel de control."),
            ("The dashboard is new.", "Le tablero est neuf.", "Le panel de control est neuf."),
            ("See the dashboard.", "Voyez le tablero.", "Voyez le panel de control."),
        ]
    ]
    french_items = [
        item(50 + n, original=o, draft=d.replace("tableau", "planche"), final=f, target="fr")
        for n, (o, d, f) in enumerate(french)
    ]
    suggestions = suggest_glossary_entries(
        items_from(DASHBOARD, BRAND, OTHER) + french_items, min_count=3
    )
    text, left_out = suggestions_to_csv(suggestions)
    assert left_out == 0
    glossary = Glossary.from_csv(text)
    assert len(glossary) == 2  # dashboard (es and fr in one row) and Acme Cloud (DNT)
    terms = {t.term: t.replacement for t in glossary.terms_for("en", "fr")}
    assert terms["dashboard"] == "tableau de bord"
    assert terms["Acme Cloud"] is None


def test_json_output_has_the_examples() -> None:
    suggestions = suggest_glossary_entries(items_from(DASHBOARD), min_count=3)
    (data,) = json.loads(suggestions_to_json(suggestions))
    assert data["source_term"] == "dashboard"
    assert data["count"] == 4
    assert data["examples"][0]["final"].startswith("Su panel de control")  # newest first
