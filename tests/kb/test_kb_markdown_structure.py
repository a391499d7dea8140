"""Markdown as help centers write it keeps its structure through `kb translate` and the loop.

The structure is compared with markdown-it-py (see `markdown_structure`): the real Jekyll docs
and an authored article with MkDocs/Material extensions go through the real Apertium en→es; the
fast tests use an engine that upper-cases, so what was translated and what was kept is visible.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from markdown_structure import compare

from tl_loop import Loop, ReviewPolicy, Thresholds, TlLoopConfig
from tl_loop.kb import translate_folder
from tl_loop.testing import FakeEngine

_REPO = Path(__file__).resolve().parents[2]
_REALWORLD = Path(os.environ.get("TL_LOOP_REALWORLD", _REPO.parent / "shared" / "realworld"))
_JEKYLL = _REALWORLD / "kb" / "jekyll-docs"
_AUTHORED = Path(__file__).parent / "data" / "markdown"

needs_apertium = pytest.mark.skipif(shutil.which("lt-proc") is None, reason="no Apertium")


def _translate_and_compare(src: Path, out: Path) -> tuple[dict[str, tuple[str, ...]], int, int]:
    summary = translate_folder(
        src, out_dir=out, targets=["es"], config=TlLoopConfig(engines=["apertium"]), workers=0
    )
    assert (summary.failed, summary.errors) == (0, {})
    problems: dict[str, tuple[str, ...]] = {}
    prose = translated = 0
    for path in sorted(src.glob("*.md")):
        result = compare(path.read_text(encoding="utf-8"), (out / "es" / path.name).read_text())
        prose, translated = prose + result.prose, translated + result.translated
        if result.problems:
            problems[path.name] = result.problems
    return problems, prose, translated


@pytest.mark.apertium
@needs_apertium
@pytest.mark.skipif(not _JEKYLL.is_dir(), reason="realworld material not found")
def test_every_jekyll_article_keeps_its_structure_and_its_prose_is_translated(
    tmp_path: Path,
) -> None:
    problems, prose, translated = _translate_and_compare(_JEKYLL, tmp_path / "out")

    assert problems == {}
    assert prose > 1000
    assert translated / prose > 0.95  # the rest: names and commands Apertium does not know


@pytest.mark.apertium
@needs_apertium
def test_admonitions_tabs_references_and_footnotes_survive_apertium(tmp_path: Path) -> None:
    problems, prose, translated = _translate_and_compare(_AUTHORED, tmp_path / "out")

    assert problems == {}
    assert translated / prose > 0.9
    output = (tmp_path / "out" / "es" / "help-center-extensions.md").read_text()
    for kept in (
        "[API reference]",
        "][guide]",
        "[Support Team][]",
        "!!! warning ",
        "??? tip\n",
        "{ .md-button }",
        "{: #troubleshooting .hidden}",
        "{#reset-password}",
        "&nbsp;",
        "![reset-screen.png][screen]",
        "[^1]",
        "    acme-cli reset --user you@example.com\n",
        '<code\nclass="option">--force</code>',
    ):
        assert kept in output
    assert "**profesor**," in output
    front = output.split("\n---\n")[0]
    assert front.startswith('---\ntitle: "')
    assert '" # shown in the menu\n' in front
    assert "description: >\n  " in front
    assert "sign-in page" not in front  # translated
    assert front.endswith("\ntags: [account, password]")


def _upper_loop() -> Loop:
    engine = FakeEngine(transform=lambda text, source, target: text.upper(), name="upper")
    thresholds = Thresholds(max_untranslated_share=1.0, wrong_language_confidence=1.01)
    return Loop(engines=[engine], policy=ReviewPolicy(thresholds=thresholds))


def _upper(markdown: str) -> str:
    return (
        _upper_loop()
        .translate(markdown, source="en", target="es", content_type="markdown")
        .translated
    )


def test_reference_labels_are_kept_and_link_text_translated() -> None:
    source = (
        "See the [API docs][api], the [Guide][] and [support].\n\n"
        "[api]: https://acme.example/api\n[guide]: /guide\n[Support]: /help\n"
    )
    assert _upper(source) == (
        "SEE THE [API DOCS][api], THE [Guide][] AND [support].\n\n"
        "[api]: https://acme.example/api\n[guide]: /guide\n[Support]: /help\n"
    )


def test_brackets_that_are_not_links_are_prose() -> None:
    assert _upper("Press [Enter] to go on.\n") == "PRESS [ENTER] TO GO ON.\n"


def test_admonition_and_tab_markers_kept_titles_and_bodies_translated() -> None:
    source = (
        '!!! note "Read this"\n    Your plan renews.\n\n    - Check the date.\n\n'
        '=== "Windows"\n\n    Open the menu.\n\n???+ tip\n\tUse the app.\nAfter the box.\n'
    )
    assert _upper(source) == (
        '!!! note "READ THIS"\n    YOUR PLAN RENEWS.\n\n    - CHECK THE DATE.\n\n'
        '=== "WINDOWS"\n\n    OPEN THE MENU.\n\n???+ tip\n\tUSE THE APP.\nAFTER THE BOX.\n'
    )


def test_code_fenced_inside_list_items_is_kept() -> None:
    source = "1. Run this:\n\n    ```bash\n    npm run build:all\n    ```\n\n2. Done.\n"
    assert _upper(source) == (
        "1. RUN THIS:\n\n    ```bash\n    npm run build:all\n    ```\n\n2. DONE.\n"
    )


def test_attribute_lists_entities_footnotes_and_link_titles() -> None:
    source = (
        "## Set up {#set-up}\n\nA&nbsp;word.[^note] Click [here](/x 'More help'){: .btn}.\n"
        "{: .lead}\n\n[^note]: A footnote text.\n"
    )
    assert _upper(source) == (
        "## SET UP {#set-up}\n\nA&nbsp;WORD.[^note] CLICK [HERE](/x 'MORE HELP'){: .btn}.\n"
        "{: .lead}\n\n[^note]: A FOOTNOTE TEXT.\n"
    )


def test_inline_html_split_across_lines_and_file_name_alt_text() -> None:
    source = "Use <code\nclass='x'>--force</code> here.\n\n![logo.png](/img/logo.png)\n"
    assert (
        _upper(source)
        == "USE <code\nclass='x'>--force</code> HERE.\n\n![logo.png](/img/logo.png)\n"
    )


def test_liquid_blocks_are_kept() -> None:
    source = "{% highlight ruby %}\ndef foo\n{% endhighlight %}\n\nText {{ page.title }} here.\n"
    assert _upper(source) == (
        "{% highlight ruby %}\ndef foo\n{% endhighlight %}\n\nTEXT {{ page.title }} HERE.\n"
    )


def test_emphasis_markers_stay_glued_to_their_words() -> None:
    def spaced(text: str, source: str, target: str) -> str:
        return text.replace("⟦0⟧", "⟦0⟧ ").replace("⟦3⟧", " ⟦3⟧")

    loop = Loop(engines=[FakeEngine(transform=spaced, name="spaced")])
    result = loop.translate(
        "I _had_ to see the **teacher**.", source="en", target="es", content_type="markdown"
    )
    assert result.translated == "I _had_ to see the **teacher**."


def test_docusaurus_admonitions_and_github_alerts_keep_their_markers() -> None:
    source = (
        ":::tip Before you start\n\nCheck your plan.\n\n:::\n\n"
        ":::note[Read this]\nIt renews.\n:::\n\n> [!WARNING]\n> Back up first.\n"
    )
    assert _upper(source) == (
        ":::tip BEFORE YOU START\n\nCHECK YOUR PLAN.\n\n:::\n\n"
        ":::note[READ THIS]\nIT RENEWS.\n:::\n\n> [!WARNING]\n> BACK UP FIRST.\n"
    )


def test_mdx_imports_and_fences_shown_inside_fences_are_kept() -> None:
    source = (
        "import Tabs from '@theme/Tabs';\n\nPick one.\n\n"
        '``` title="Example"\n!!! note\n\n    ``` markdown\n    * item\n    ```\n```\n\nDone.\n'
    )
    assert _upper(source) == source.replace("Pick one.", "PICK ONE.").replace("Done.", "DONE.")
