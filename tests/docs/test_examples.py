"""Every code example in README.md and docs/ runs (or, marked check-only, compiles and imports)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from examples import ROOT, Example, examples

from tl_loop import ConfigurationError, TlLoopConfig

PYTHON = examples(("python",))
TOML = examples(("toml",))


def _imports_only(code: str) -> str:
    tree = ast.parse(code)
    # tl_loop's own imports: a renamed module or name fails; the user's own packages may be absent.
    kept = [
        node for node in ast.walk(tree)
        if (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tl_loop"))
        or (isinstance(node, ast.Import) and any(a.name.startswith("tl_loop") for a in node.names))
    ]  # fmt: skip
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))


# Interactive examples (`>>> ...`) run as doctests with tl_loop's public names in scope.
_DOCTEST = """
import doctest, sys, tl_loop
text = sys.stdin.read()
test = doctest.DocTestParser().get_doctest(text, dict(vars(tl_loop)), "example", None, 0)
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
runner.run(test)
sys.exit(1 if runner.failures else 0)
"""


@pytest.mark.parametrize("example", PYTHON, ids=lambda e: e.id)
def test_python_example_runs(example: Example, tmp_path: Path) -> None:
    interactive = example.code.lstrip().startswith(">>>")
    if not interactive:
        compile(example.code, example.id, "exec")
    code = _imports_only(example.code) if example.check_only else example.code
    shutil.copytree(ROOT / "glossaries", tmp_path / "glossaries")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TL_LOOP_")}
    done = subprocess.run(
        [sys.executable, "-c", _DOCTEST if interactive else code], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120, input=code if interactive else None,
    )  # fmt: skip
    assert done.returncode == 0, f"{example.id} failed:\n{(done.stdout + done.stderr)[-3000:]}"


@pytest.mark.parametrize("example", TOML, ids=lambda e: e.id)
def test_toml_example_parses_and_validates(example: Example) -> None:
    data = tomllib.loads(example.code)
    if set(data) & {"project", "tool", "build-system"} or example.check_only:
        return  # packaging snippets, not tl-loop configuration
    try:
        TlLoopConfig.from_mapping(data, source=example.id)
    except ConfigurationError as error:
        pytest.fail(str(error))
