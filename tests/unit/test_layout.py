"""The house rules that keep the code easy to live in, checked on every run.

Layering and import cycles are checked by `lint-imports` (contracts in pyproject.toml); these
are the rules it cannot express.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 600


def test_importing_tl_loop_loads_no_engine_module() -> None:
    probe = (
        "import sys, tl_loop\n"
        "engines = {'_amazon', '_apertium', '_apy', '_argos', '_azure', '_deepl', '_google',\n"
        "           '_google_v3', '_libretranslate', '_llm'}\n"
        "print(sorted(m for m in sys.modules if m.rsplit('.', 1)[-1] in engines))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


def test_a_named_engine_loads_on_first_use() -> None:
    probe = (
        "import sys, tl_loop.engines as e\n"
        "assert 'tl_loop.engines._deepl' not in sys.modules\n"
        "print(e.DeepLEngine.__module__)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "tl_loop.engines._deepl", done.stderr


def test_no_module_is_over_600_lines() -> None:
    sources = [*ROOT.joinpath("src").rglob("*.py"), *ROOT.joinpath("adapters").rglob("*.py")]
    long = {
        str(path.relative_to(ROOT)): count
        for path in sources
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these modules (over {MAX_LINES} lines): {long}"
