"""`compute_stats`: every figure per language pair and engine, from hand-built rows and items."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sacrebleu.metrics.chrf import CHRF
from sacrebleu.metrics.ter import TER
from stats_builders import T0, item, row

from tl_loop.review import Durations, EditEffort, compute_stats, post_edit_scores, render_table


def test_volume_characters_and_decisions_are_counted_per_pair_and_engine() -> None:
    rows = [
        row(decision="send", characters=120, billed=120),
        row(decision="send_flagged", characters=80, billed=None, flags=("number_mismatch",)),
        row(decision="hold", characters=50, billed=50, flags=("token_parity", "token_parity")),
        row(decision="send", characters=0, billed=0),
        row(source="es", target="en", engine="deepl", characters=300, billed=310),
    ]
    stats = compute_stats(rows, [], post_edit=False)
    en_es, es_en = stats.groups
    assert (en_es.source_language, en_es.target_language, en_es.engine) == ("en", "es", "apertium")
    assert en_es.translations == 4
    assert en_es.characters_sent == 250
    assert (en_es.billed_characters, en_es.billed_rows) == (170, 3)
    assert en_es.decisions == {"hold": 1, "send": 2, "send_flagged": 1}
    assert en_es.flagged_share == pytest.approx(0.5)
    assert en_es.held_share == pytest.approx(0.25)
    # A flag raised twice on one translation counts that translation once.
    assert en_es.flag_codes == {"number_mismatch": 1, "token_parity": 1}
    assert (es_en.engine, es_en.billed_characters) == ("deepl", 310)
    assert stats.total.translations == 5
    assert stats.total.characters_sent == 550


def test_the_same_pair_through_two_engines_is_two_groups() -> None:
    stats = compute_stats(
        [row(engine="apertium"), row(engine="deepl"), row(engine=None)], [], post_edit=False
    )
    assert [g.engine for g in stats.groups] == [None, "apertium", "deepl"]


def test_memory_share_is_segments_served_by_the_memory() -> None:
    stats = compute_stats(
        [row(segments=4, memory_hits=1, cache_hits=1), row(segments=4, memory_hits=3)],
        [],
        post_edit=False,
    )
    (group,) = stats.groups
    assert group.memory_share == pytest.approx(0.5)
    assert group.cache_hits == 1


def test_review_states_and_the_edit_share() -> None:
    items = [
        item(1, state="pending", wait=None),
        item(2, state="approved"),
        item(3, state="edited", final="Gracias por esperar."),
        item(4, state="rejected"),
    ]
    (group,) = compute_stats([], items, post_edit=False).groups
    assert group.reviews == {"pending": 1, "approved": 1, "edited": 1, "rejected": 1}
    assert group.edit_share == pytest.approx(1 / 3)
    assert group.translations == 0
    assert group.flagged_share is None


def test_time_to_approval_takes_approved_and_edited_items_and_held_ones_apart() -> None:
    waits = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100]  # minutes
    items = [
        item(n, state="approved" if n % 2 else "edited", final="Editado.", held=n <= 3,
             wait=timedelta(minutes=minutes))
        for n, minutes in enumerate(waits, start=1)
    ]  # fmt: skip
    items.append(item(20, state="rejected", wait=timedelta(days=3)))  # not an approval
    (group,) = compute_stats([], items, post_edit=False).groups
    assert group.time_to_approval == Durations(10, 5.5 * 60, 9 * 60)
    assert group.held_time_to_approval == Durations(3, 2 * 60, 3 * 60)


def test_nearest_rank_p90_is_an_observed_value() -> None:
    assert Durations.of([30.0]) == Durations(1, 30.0, 30.0)
    assert Durations.of([]) == Durations(0, None, None)
    assert Durations.of(range(1, 21)).p90_seconds == 18


def test_since_leaves_out_older_rows_and_items() -> None:
    rows = [row(created=T0), row(created=T0 + timedelta(days=2))]
    items = [item(1, created=T0), item(2, created=T0 + timedelta(days=2), state="approved")]
    stats = compute_stats(rows, items, since=T0 + timedelta(days=1), post_edit=False)
    assert stats.total.translations == 1
    assert stats.total.reviews == {"approved": 1}
    assert stats.since == T0 + timedelta(days=1)


def test_post_edit_effort_matches_sacrebleu_on_a_known_pair() -> None:
    draft, final = "Abra el tablero de su cuenta.", "Abra el panel de control de su cuenta."
    items = [item(1, draft=draft, final=final), item(2, state="approved")]
    (group,) = compute_stats([], items).groups
    assert group.post_edit_items == 1  # approved items are not post-edits
    assert group.chrf == pytest.approx(CHRF().sentence_score(draft, [final]).score)
    expected_ter = TER(normalized=True, asian_support=True).sentence_score(draft, [final]).score
    assert group.ter == pytest.approx(expected_ter)
    assert 0 < (group.ter or 0) < 100
    assert 0 < (group.chrf or 0) < 100


def test_chrf_is_the_mean_per_message_and_ter_is_sacrebleus_corpus_ter() -> None:
    pairs = [
        ("Abra el tablero.", "Abra el panel de control."),
        ("Su pedido llega mañana por la tarde.", "Su pedido llegará mañana por la tarde."),
        ("Gracias.", "Muchas gracias por su paciencia."),
    ]
    items = [item(n, draft=d, final=f) for n, (d, f) in enumerate(pairs)]
    (group,) = compute_stats([], items).groups
    drafts, finals = [d for d, _ in pairs], [f for _, f in pairs]
    mean_chrf = sum(CHRF().sentence_score(d, [f]).score for d, f in pairs) / len(pairs)
    corpus_ter = TER(normalized=True, asian_support=True).corpus_score(drafts, [finals]).score
    assert group.chrf == pytest.approx(mean_chrf)
    assert group.ter == pytest.approx(corpus_ter)
    assert post_edit_scores(pairs) == pytest.approx((mean_chrf, corpus_ter))


def test_an_effort_cache_scores_each_edit_once() -> None:
    cache: dict[str, EditEffort] = {}
    edited = item(1, draft="Su tablero.", final="Su panel.")
    first = compute_stats([], [edited], effort_cache=cache).total
    assert set(cache) == {edited.id}
    cache[edited.id] = EditEffort(chrf=12.0, ter_edits=1, ter_words=4)  # the cached score is used
    second = compute_stats([], [edited], effort_cache=cache).total
    assert first.chrf != 12.0
    assert (second.chrf, second.ter) == (12.0, 25.0)


def test_ter_counts_word_edits_per_final_word() -> None:
    # One substitution; the final has seven tokens, because normalisation splits the period off.
    scores = post_edit_scores([("the cat sat on the mat.", "the cat sat on a mat.")])
    assert scores is not None
    assert scores[1] == pytest.approx(100 / 7)  # seven tokens with the period
    assert post_edit_scores([("Same text.", "Same text.")]) == (100.0, 0.0)
    assert post_edit_scores([]) is None


def test_html_markup_is_not_scored_as_text() -> None:
    plain = compute_stats([], [item(1, draft="Su tablero.", final="Su panel.")]).groups[0]
    marked = compute_stats(
        [],
        [item(1, draft="<p>Su <b>tablero</b>.</p>", final="<p>Su <b>panel</b>.</p>",
              content_type="html")],
    ).groups[0]  # fmt: skip
    assert marked.chrf == pytest.approx(plain.chrf)
    assert marked.ter == pytest.approx(plain.ter)


def test_json_has_every_documented_figure() -> None:
    stats = compute_stats([row(decision="hold")], [item(1, final="Gracias.")])
    data = json.loads(stats.to_json())
    group = data["groups"][0]
    assert set(group) >= {
        "source_language", "target_language", "engine", "translations", "characters_sent",
        "billed_characters", "billed_rows", "segments", "cache_hits", "memory_hits",
        "memory_share", "decisions", "flagged_share", "held_share", "flag_codes", "reviews",
        "edit_share", "post_edit", "time_to_approval", "held_time_to_approval",
    }  # fmt: skip
    assert group["held_share"] == 1.0
    assert group["billed_characters"] is None  # no engine reported what it billed
    assert group["reviews"] == {"pending": 0, "approved": 0, "edited": 1, "rejected": 0}
    assert group["time_to_approval"] == {"count": 1, "median_seconds": 600.0, "p90_seconds": 600.0}
    assert data["total"]["source_language"] is None
    assert data["since"] is None


def test_the_table_has_one_line_per_group_and_a_total() -> None:
    stats = compute_stats(
        [row(decision="hold", billed=100), row(source="es", target="en", engine="deepl")],
        [item(1, final="Gracias.", wait=timedelta(hours=3))],
    )
    lines = render_table(stats).splitlines()
    en_es = next(line for line in lines if line.startswith("en→es"))
    assert "apertium" in en_es
    assert "100.0%" in en_es  # held share
    assert "3.0h" in en_es  # time to approval
    es_en = next(line for line in lines if line.startswith("es→en"))
    assert es_en.split()[4] == "-"  # no billed figure reported
    assert lines[-1].startswith("all")


def test_hints_left_in_replies_are_counted_most_ignored_first() -> None:
    rows = [
        row(flags=("hint_idiom", "hint_contraction")),
        row(flags=("hint_idiom",)),
        row(flags=("glossary_violation",)),
    ]
    group = compute_stats(rows, [], post_edit=False).groups[0]
    assert group.hints_sent == {"idiom": 2, "contraction": 1}
