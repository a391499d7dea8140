"""End to end on the real Debian Apertium: structure kept, Spanish out, a re-run sends nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kb_support import write_samples

from tl_loop import TlLoopConfig
from tl_loop.kb import kb_status, translate_folder

pytestmark = [
    pytest.mark.apertium,
    pytest.mark.skipif(shutil.which("lt-proc") is None, reason="Apertium is not installed"),
]


def test_apertium_translates_a_folder_and_keeps_its_structure(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_samples(src)
    config = TlLoopConfig(engines=["apertium"])
    first = translate_folder(src, out_dir=out, targets=["es"], config=config, workers=0)
    assert (first.translated, first.failed, first.errors) == (5, 0, {})

    markdown = (out / "es" / "guides" / "reset-0.md").read_text()
    assert markdown.startswith("---\nid: 101\ntitle: ")
    assert "tags: [account, password]\n" in markdown
    assert "contraseña" in markdown
    assert "](https://example.com/login)" in markdown
    assert "\n```\ncurl https://example.com/api/reset\n```\n" in markdown
    html = (out / "es" / "refunds.html").read_text()
    assert '<a href="https://example.com/r"' in html
    assert '<img src="/a.png" alt="' in html
    assert "Reembolsos" in html or "reembolsos" in html
    assert "{{ticket.requester.name}}" in (out / "es" / "welcome.txt").read_text()

    again = translate_folder(src, out_dir=out, targets=["es"], config=config, workers=0)
    assert (again.engine_segments, again.up_to_date) == (0, 5)
    assert {s.state for s in kb_status(src, out_dir=out)} <= {"current", "flagged"}
