"""Publishing drafts through an adapter, pulling a help center, and the `tl-loop kb` commands."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path

import httpx
from kb_support import fake_config, write_samples
from pytest_httpx import HTTPXMock

from tl_loop import Article, HelpdeskAdapter, HelpdeskEvent, HelpdeskMessage
from tl_loop.cli import main
from tl_loop.kb import kb_publish, kb_pull, translate_folder

BASE = "https://help.example.com"


class TinyAdapter(HelpdeskAdapter):
    """Just the knowledge-base half of an adapter."""

    name = "tiny"
    supports_kb = True
    base_url = BASE

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        raise NotImplementedError

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        raise NotImplementedError

    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        raise NotImplementedError

    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        raise NotImplementedError

    def build_post_note(self, conversation_id: str, text: str, **_: object) -> httpx.Request:
        raise NotImplementedError

    def build_post_reply(self, conversation_id: str, text: str, **_: object) -> httpx.Request:
        raise NotImplementedError

    def build_list_articles(self, locale: str) -> httpx.Request:
        return httpx.Request("GET", f"{BASE}/{locale}/articles")

    def parse_articles(self, response: httpx.Response) -> list[Article]:
        return [Article(**item) for item in response.json()["articles"]]

    def build_publish_translation(
        self, article: Article, *, locale: str, title: str, body: str, draft: bool = True
    ) -> httpx.Request:
        payload = {"title": title, "body": body, "draft": draft, "from": article.locale}
        return httpx.Request("POST", f"{BASE}/articles/{article.id}/{locale}", json=payload)


def test_publish_pushes_each_approved_translation_once_as_a_draft(
    tmp_path: Path, httpx_mock: HTTPXMock
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_samples(src)
    translate_folder(src, out_dir=out, targets=["es"], config=fake_config(), workers=0)
    for remote in ("101", "102", "refunds"):
        httpx_mock.add_response(method="POST", url=f"{BASE}/articles/{remote}/es", json={})

    report = kb_publish(out, adapter=TinyAdapter())
    assert sorted(report.published) == [
        ("guides/reset-0.md", "es"), ("guides/reset-1.md", "es"), ("refunds.html", "es")
    ]  # fmt: skip
    bodies = {r.url.path: json.loads(r.content) for r in httpx_mock.get_requests()}
    sent = bodies["/articles/101/es"]
    assert sent["title"] == "[es] Reset your password"
    assert sent["draft"] is True
    assert sent["body"].startswith("# [es] Reset your password")
    assert "---" not in sent["body"]  # front matter is not part of the body

    again = kb_publish(out, adapter=TinyAdapter())  # nothing changed: nothing sent
    assert again.published == []


def test_a_refused_publish_is_reported_and_retried_next_time(
    tmp_path: Path, httpx_mock: HTTPXMock
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_samples(src, count=1)
    translate_folder(src, out_dir=out, targets=["es"], config=fake_config(), workers=0)
    httpx_mock.add_response(method="POST", url=f"{BASE}/articles/101/es", status_code=422)
    httpx_mock.add_response(method="POST", url=f"{BASE}/articles/refunds/es", json={})
    report = kb_publish(out, adapter=TinyAdapter())
    assert [(a, loc) for a, loc, _ in report.failed] == [("guides/reset-0.md", "es")]
    httpx_mock.add_response(method="POST", url=f"{BASE}/articles/101/es", json={})
    assert kb_publish(out, adapter=TinyAdapter()).published == [("guides/reset-0.md", "es")]


def test_pull_writes_a_folder_the_job_translates(tmp_path: Path, httpx_mock: HTTPXMock) -> None:
    articles = [{"id": "7", "title": "Billing: FAQ", "body": "<p>Pay by card.</p>", "locale": "en"}]
    httpx_mock.add_response(url=f"{BASE}/en/articles", json={"articles": articles})
    assert kb_pull(TinyAdapter(), locale="en", dest=tmp_path / "src") == 1
    translate_folder(tmp_path / "src", out_dir=tmp_path / "out", targets=["es"],
                     config=fake_config(), workers=0)  # fmt: skip
    text = (tmp_path / "out" / "es" / "7.html").read_text()
    assert 'title: "[es] Billing: FAQ"' in text
    assert "<p>[es] Pay by card.</p>" in text


def test_pull_keeps_every_file_inside_its_folder_whatever_the_ids(
    tmp_path: Path, httpx_mock: HTTPXMock
) -> None:
    dest = tmp_path / "pulled" / "src"
    dest.mkdir(parents=True)
    outside = tmp_path / "pulled" / "victim.html"
    outside.write_text("untouched")
    (dest / "link.html").symlink_to(outside)  # planted: must be replaced, not written through
    hostile = ["../../x", "..", "../victim", "/etc/passwd", "a/b", "link"]
    articles = [{"id": i, "title": i, "body": "<p>x</p>", "locale": "en"} for i in hostile]
    httpx_mock.add_response(url=f"{BASE}/en/articles", json={"articles": articles})

    assert kb_pull(TinyAdapter(), locale="en", dest=dest) == len(hostile)

    written = sorted(path.name for path in dest.iterdir())
    assert len(written) == len(hostile)
    assert all(path.parent == dest and not path.is_symlink() for path in dest.iterdir())
    assert outside.read_text() == "untouched"
    assert not (tmp_path / "x.html").exists()
    assert not (tmp_path / "pulled" / "x.html").exists()
    # The front matter keeps the real id, so translations publish back to the same article.
    assert 'id: "../../x"' in (dest / "..%2F..%2Fx.html").read_text()


# The fake engine and lenient checks of `fake_config`, as a user writes them in the file.
FAKE_TOML = """
engines = ["fake"]

[engine.fake.translations]
"Contact ⟦0⟧our team⟦1⟧ any day." = "Contacto."

[review]
max_untranslated_share = 1.0
wrong_language_confidence = 1.01
"""


def test_the_kb_commands_translate_report_and_round_trip_xliff(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    write_samples(src, count=1)
    config = tmp_path / "tl-loop.toml"
    config.write_text(FAKE_TOML, encoding="utf-8")

    def tl_loop(*argv: str, stdout: io.StringIO, stderr: io.StringIO | None = None) -> int:
        return main([*argv, "--config", str(config)], stdout=stdout, stderr=stderr)

    stdout, stderr = io.StringIO(), io.StringIO()
    argv = ["kb", "translate", str(src), "--to", "es", "--out", str(out), "--workers", "0"]
    assert tl_loop(*argv, stdout=stdout, stderr=stderr) == 0
    assert "flagged 2" in stdout.getvalue()
    assert "segments" in stderr.getvalue()  # the progress bars and summary

    stdout = io.StringIO()
    assert tl_loop("kb", "status", str(src), "--out", str(out), stdout=stdout) == 0
    assert "flagged\tes\trefunds.html\ttoken_parity" in stdout.getvalue()

    xlf = tmp_path / "es.xlf"
    stdout = io.StringIO()
    tl_loop("kb", "export", "--out", str(out), "--to", "es", str(xlf), stdout=stdout)
    assert xlf.read_bytes().startswith(b"<?xml")
    stdout = io.StringIO()
    tl_loop("kb", "import", "--out", str(out), str(xlf), stdout=stdout)
    assert stdout.getvalue().startswith("stored ")
