"""`tl-loop stats` and `tl-loop glossary suggest|check` against SQLite stores in tmp_path."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stats_builders import item, row

from tl_loop import Glossary
from tl_loop.cli import main
from tl_loop.review import SQLiteAuditLog, SQLiteReviewQueue

NOW = datetime.now(UTC)
EDITS = [
    ("Open the dashboard of your account.", "Abra el tablero de su cuenta.",
     "Abra el panel de control de su cuenta."),
    ("The dashboard shows your invoice.", "El tablero muestra su factura.",
     "El panel de control muestra su factura."),
    ("Go to the dashboard now.", "Vaya al tablero ahora.", "Vaya al panel de control ahora."),
]  # fmt: skip


def run(config: Path | None, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    options = ["--config", str(config)] if config is not None else []
    code = main([*options, *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A relay configuration whose stores hold three edits, an old row and fresh rows."""
    path = tmp_path / "tl-loop.toml"
    path.write_text(
        'engines = ["fake"]\n[relay]\nreview_path = "review.sqlite3"\n'
        'audit_path = "audit.sqlite3"\n',
        encoding="utf-8",
    )
    with SQLiteAuditLog(tmp_path / "audit.sqlite3") as audit:
        audit.add(row(decision="hold", characters=30, billed=30, created=NOW))
        audit.add(row(decision="send", characters=70, billed=70, created=NOW))
        audit.add(row(decision="send", characters=500, created=NOW - timedelta(days=40)))
    with SQLiteReviewQueue(tmp_path / "review.sqlite3") as queue:
        for number, (original, draft, final) in enumerate(EDITS):
            queue.add(item(number, original=original, draft=draft, final=final,
                           created=NOW - timedelta(days=number * 20)))  # fmt: skip
        approved = ["Thanks.", "Check the status page.", "The update is live."]
        for number, original in enumerate(approved, start=9):
            queue.add(item(number, original=original, draft="-", state="approved", created=NOW))
    return path


def test_stats_json_reads_the_configured_stores(config: Path) -> None:
    code, out, _ = run(config, "stats", "--json")
    assert code == 0
    data = json.loads(out)
    (group,) = data["groups"]
    assert (group["source_language"], group["target_language"]) == ("en", "es")
    assert group["translations"] == 3
    assert group["characters_sent"] == 600
    assert group["reviews"]["edited"] == 3
    assert group["post_edit"]["items"] == 3


def test_stats_since_limits_the_window(config: Path) -> None:
    code, out, _ = run(config, "stats", "--since", "7", "--json")
    assert code == 0
    (group,) = json.loads(out)["groups"]
    assert group["translations"] == 2
    assert group["held_share"] == 0.5
    assert group["reviews"] == {"pending": 0, "approved": 3, "edited": 1, "rejected": 0}


def test_stats_table_is_readable(config: Path) -> None:
    code, out, _ = run(config, "stats")
    assert code == 0
    assert out.startswith("translation statistics, all time")
    assert any(line.startswith("en→es") and "apertium" in line for line in out.splitlines())


def test_stats_with_empty_stores_says_where_it_looked(tmp_path: Path) -> None:
    path = tmp_path / "tl-loop.toml"
    path.write_text('engines = ["fake"]\n[relay]\nqueue_path = "relay.sqlite3"\n', "utf-8")
    code, out, err = run(path, "stats")
    assert code == 0
    assert out.splitlines()[-1].startswith("all")
    assert "relay.audit_path" in err


def test_stats_without_a_configuration_file_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TL_LOOP_CONFIG", raising=False)
    code, _, err = run(None, "stats")
    assert code == 2
    assert "--config FILE or set TL_LOOP_CONFIG" in err


def test_since_must_be_a_positive_number_of_days() -> None:
    with pytest.raises(SystemExit):
        run(None, "stats", "--since", "-3")


def test_glossary_suggest_prints_tsv_ready_for_a_glossary(config: Path) -> None:
    code, out, _ = run(config, "glossary", "suggest")
    assert code == 0
    glossary = Glossary.from_tsv(out, source="en", target="es")
    assert [(t.term, t.replacement) for t in glossary.terms_for("en", "es")] == [
        ("dashboard", "panel de control")
    ]


def test_glossary_suggest_min_count_and_since(config: Path) -> None:
    code, out, err = run(config, "glossary", "suggest", "--since", "30", "--format", "json")
    assert code == 0
    assert json.loads(out) == []  # two edits in the window, three needed
    assert "no correction was made in 3 or more" in err
    code, out, _ = run(config, "glossary", "suggest", "--since", "30", "--min-count", "2",
                       "--format", "json")  # fmt: skip
    assert [s["final_term"] for s in json.loads(out)] == ["panel de control"]


def test_glossary_suggest_csv_and_the_configured_glossary(config: Path, tmp_path: Path) -> None:
    code, out, _ = run(config, "glossary", "suggest", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["en"], r["es"], r["dnt"]) for r in rows] == [("dashboard", "panel de control", "no")]
    glossary = tmp_path / "brand.csv"
    glossary.write_text("en,es\ndashboard,panel de control\n", encoding="utf-8")
    config.write_text(f'glossary = "brand.csv"\n{config.read_text("utf-8")}', encoding="utf-8")
    code, out, _ = run(config, "glossary", "suggest", "--format", "csv")
    assert code == 0
    assert out == ""  # already in the glossary


def test_glossary_check_prints_entries_and_version(tmp_path: Path) -> None:
    path = tmp_path / "brand.en-es.tsv"
    path.write_text("dashboard\tpanel de control\nAcme Cloud\tAcme Cloud\n", encoding="utf-8")
    code, out, _ = run(None, "glossary", "check", str(path))
    assert code == 0
    version = Glossary.load(path).version
    assert out.strip() == (
        f"{path}: 2 entries (1 do-not-translate), languages en, es, version {version}"
    )


def test_glossary_check_of_a_bad_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "brand.en-es.tsv"
    path.write_text("dashboard\tpanel de control\nno tab here\n", encoding="utf-8")
    code, _, err = run(None, "glossary", "check", str(path))
    assert code == 2
    assert re.search(r"brand\.en-es\.tsv:2", err)


def test_the_default_view_fits_100_columns_in_plain_words_and_wide_shows_all(
    config: Path,
) -> None:
    code, out, _ = run(config, "stats")
    assert code == 0
    assert max(map(len, out.splitlines())) <= 100
    header = out.splitlines()[1]
    assert "messages" in header
    assert "chrF" not in header
    code, out, _ = run(config, "stats", "--wide")
    assert code == 0
    assert "chrF" in out.splitlines()[1]
