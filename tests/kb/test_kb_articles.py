"""Reading articles: front matter kept byte-exact, only the listed keys translated."""

from __future__ import annotations

import json

import pytest

from tl_loop.kb import ArticleError, parse_article
from tl_loop.kb._articles import render_article
from tl_loop.kb._segments import denormalize, normalize

FRONT = (
    "---\r\n"
    "id: 360001   # the Zendesk id\r\n"
    "title: Reset your password\r\n"
    "description: 'It''s quick'\r\n"
    'summary: "Keep: this"\r\n'
    "tags: [account]\r\n"
    "---\r\n"
    "Body text.\r\n"
)


def test_untouched_fields_render_the_file_byte_for_byte() -> None:
    article = parse_article("a.md", FRONT.encode(), kind="markdown")
    assert render_article(article, {}) == FRONT
    assert render_article(article, {f.name: f.text for f in article.fields}) == FRONT


def test_only_the_listed_keys_are_fields_and_quoting_follows_the_source() -> None:
    article = parse_article("a.md", FRONT.encode(), kind="markdown")
    assert [f.name for f in article.fields] == ["front:title", "front:description", "body"]
    assert article.fields[1].text == "It's quick"
    out = render_article(
        article,
        {"front:title": "Restablecer: contraseña", "front:description": "Es rápido, ¿no?"},
    )
    assert 'title: "Restablecer: contraseña"\r\n' in out  # ": " needs quotes in YAML
    assert "description: 'Es rápido, ¿no?'\r\n" in out  # single-quoted stays single-quoted
    assert 'summary: "Keep: this"\r\n' in out
    assert "id: 360001   # the Zendesk id" in out
    assert article.remote_id == "360001"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"---\ntitle: x\nno end\n", "never closed"),
        (b"---\njust words\n---\nbody", "not 'key: value'"),
        (b"\xff\xfeoops", "not UTF-8"),
    ],
)
def test_broken_articles_say_what_is_wrong(raw: bytes, problem: str) -> None:
    with pytest.raises(ArticleError, match=problem):
        parse_article("bad.md", raw, kind="markdown")


def test_macro_lists_translate_their_text_keys_and_keep_the_rest() -> None:
    raw = json.dumps([{"id": 7, "title": "Late", "body": "Order {{ticket.id}} is late.", "x": "k"}])
    article = parse_article("m.json", raw.encode(), kind="json")
    assert [f.name for f in article.fields] == ["0.title", "0.body"]
    out = json.loads(render_article(article, {"0.title": "Tarde"}))
    assert out == [{"id": 7, "title": "Tarde", "body": "Order {{ticket.id}} is late.", "x": "k"}]


def test_a_segment_is_the_same_key_wherever_its_tokens_are_numbered() -> None:
    first, placeholders = normalize("Contact ⟦7⟧ or ⟦9⟧.")
    second, _ = normalize("Contact ⟦0⟧ or ⟦1⟧.")
    assert first == second == "Contact ⟦0⟧ or ⟦1⟧."
    assert denormalize("Contacte ⟦1⟧ o ⟦0⟧.", placeholders) == "Contacte ⟦9⟧ o ⟦7⟧."
    assert "⟦7⟧" not in denormalize("Contacte ⟦5⟧.", placeholders)  # invented: not restored


def test_front_matter_values_are_read_as_yaml_and_spliced_byte_exact() -> None:
    raw = (
        "\ufeff---\n"
        'title: "Reset your password" # shown in the menu\n'
        'summary: "Caf\\xE9 \\u00e9 \\"quoted\\""\n'
        "description: >\n  How to reset a forgotten password\n  from the sign-in page.\n\n"
        "note: |\n  First line\n  Second line\n"
        "intro: Steps that go\n  on the next line\n"
        "# a comment kept as is\n"
        "id: 42\n"
        "---\n"
        "Body.\n"
    )
    keys = ("title", "summary", "description", "note", "intro")
    article = parse_article("a.md", raw.encode(), kind="markdown", keys=keys)
    texts = {f.name: f.text for f in article.fields}
    assert texts["front:title"] == "Reset your password"  # the comment is not the title
    assert texts["front:summary"] == 'Café é "quoted"'  # YAML escapes, not JSON's
    assert texts["front:description"] == "How to reset a forgotten password from the sign-in page."
    assert texts["front:note"] == "First line\nSecond line"
    assert texts["front:intro"] == "Steps that go on the next line"
    assert texts["body"] == "Body.\n"
    assert article.remote_id == "42"
    assert render_article(article, {}) == raw
    assert render_article(article, texts) == raw

    out = render_article(
        article,
        {
            "front:title": "Restablecer tu contraseña",
            "front:description": "Cómo restablecer una contraseña olvidada.",
            "front:note": "Primera línea\nSegunda línea",
        },
    )
    assert out.startswith('\ufeff---\ntitle: "Restablecer tu contraseña" # shown in the menu\n')
    assert "description: >\n  Cómo restablecer una contraseña olvidada.\n\nnote: |\n" in out
    assert "note: |\n  Primera línea\n  Segunda línea\nintro: Steps that go\n" in out


def test_front_matter_that_is_not_yaml_says_where() -> None:
    with pytest.raises(ArticleError, match="line 3"):
        parse_article("bad.md", b"---\nid: 1\ntitle: Steps: from here\n---\nbody", kind="markdown")
