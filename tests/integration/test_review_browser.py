"""The reviewer page in a real headless browser: Debian's chromium driven by Playwright.

The relay runs as `python -m tl_loop.relay` (uvicorn) on loopback with a real SQLite review
queue; the helpdesk is `MemoryHelpdeskServer`. An agent's `#tl` reply whose translation changes a
number is held (policy `hold_at = "warning"`); a reviewer signs in with the token link, edits
the draft in the textarea and approves, and the helpdesk receives exactly one public reply with
the edited text. Forged and cross-site posts are refused, and the agent's `<script>` never runs.

Needs `pip install playwright` (never `playwright install`: the browser is Debian's
`/usr/bin/chromium`, installed by scripts/bootstrap).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relay_servers import RelayProcess
from tl_loop.testing import MemoryHelpdesk, MemoryHelpdeskServer

CHROMIUM = "/usr/bin/chromium"
if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
    pytest.skip(
        f"no chromium at {CHROMIUM}: install Debian's chromium (scripts/bootstrap)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: pip install playwright"
)

SECRET = "browser-webhook-secret"
TOKEN = "browser-review-token-0123456789abcdef"
SCRIPT = "<script>alert(1)</script>"
AGENT_TEXT = f"Your order ships in 3 days. {SCRIPT}"
DRAFT = f"Su pedido se envía en 5 días. {SCRIPT}"
EDITED = "Su pedido se envía en 3 días. ¡Gracias por su paciencia!"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def write_config(directory: Path, helpdesk_url: str, *, fake_pairs: str = "") -> Path:
    config = directory / "tl-loop.toml"
    config.write_text(
        f"""
engines = ["fake"]
agent_languages = ["en"]

[engine.fake]
{fake_pairs}

[engine.fake.translations]  # the tags reach the engine as tokens, in a segment of their own
"Your order ships in 3 days." = "Su pedido se envía en 5 días."
"⟦0⟧alert(1)⟦1⟧" = "⟦0⟧alert(1)⟦1⟧"

[detection]
languages = ["en", "es"]

[review]
hold_at = "warning"

[relay]
queue_path = "queue.sqlite3"
review_path = "review.sqlite3"
workers = 1
poll_seconds = 0.1
http_timeout = 3
lease_seconds = 12

[adapters.memory]
class = "tl_loop.testing._memory_helpdesk:MemoryHelpdesk"
base_url = "{helpdesk_url}"
webhook_secret_env = "TL_BROWSER_WEBHOOK_SECRET"
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def helpdesk() -> Iterator[MemoryHelpdeskServer]:
    with MemoryHelpdeskServer() as server:
        yield server


def relay_process(config: Path) -> RelayProcess:
    """The relay of `config` with the page's token sign-in, whatever the shell says."""
    env = {"TL_BROWSER_WEBHOOK_SECRET": SECRET, "TL_LOOP_REVIEW_TOKEN": TOKEN}
    process = RelayProcess(config, env=env)
    process.env.pop("TL_LOOP_REVIEW_AUTH", None)
    return process


@pytest.fixture
def relay(tmp_path: Path, helpdesk: MemoryHelpdeskServer) -> Iterator[RelayProcess]:
    with relay_process(write_config(tmp_path, helpdesk.url)) as process:
        yield process


@pytest.fixture
def page() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=BROWSER_ARGS,  # Playwright gives each launch a new empty profile
            headless=True,
        )
        try:
            context = browser.new_context()
            yield context.new_page()
        finally:
            browser.close()


def hold_a_reply(relay: RelayProcess, helpdesk: MemoryHelpdeskServer) -> None:
    adapter = MemoryHelpdesk(base_url=helpdesk.url, webhook_secret=SECRET)
    body = MemoryHelpdesk.event_body(
        event_id="note-1", conversation_id="c1", text=f"#tl {AGENT_TEXT}",
        kind="agent_note", customer_language="es",
    )  # fmt: skip
    response = relay.post(adapter, body)
    assert response.status_code == 202
    helpdesk.wait_for(lambda: helpdesk.notes("c1"))  # the "held for review" note
    assert helpdesk.replies() == []


def test_a_reviewer_edits_and_approves_a_held_reply_in_a_real_browser(
    relay: RelayProcess, helpdesk: MemoryHelpdeskServer, page: Any
) -> None:
    hold_a_reply(relay, helpdesk)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    # Without the token: refused, nothing of the item shown.
    refused = page.goto(f"{relay.url}/review")
    assert refused.status == 401
    assert "Your order" not in page.content()

    # The token link signs in (and the script takes the token out of the address bar).
    signed = page.goto(f"{relay.url}/review?token={TOKEN}")
    assert signed.status == 200
    page.wait_for_function("!window.location.search.includes('token')")
    assert signed.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in signed.headers["content-security-policy"]
    rows = page.locator("table.items tbody tr")
    assert rows.count() == 1
    assert "en → es" in rows.first.inner_text()
    assert "number_mismatch" in rows.first.inner_text()

    rows.first.locator("a").click()
    page.wait_for_url(re.compile(r"/review/[0-9a-f]{32}$"))
    item_url = page.url
    # The agent's <script> is shown as text on both sides and never runs.
    assert SCRIPT in page.locator("#original").inner_text()
    assert SCRIPT in page.locator("#draft").inner_text()
    assert page.locator("#original script, #draft script").count() == 0
    assert page.locator("#original mark.flag").all_inner_texts() == ["3"]
    assert page.locator("#draft mark.flag").all_inner_texts() == ["5"]
    assert page.locator("#final").input_value() == DRAFT

    # A forged or missing CSRF token is refused, with the reviewer's own cookie.
    item_id = item_url.rsplit("/", 1)[1]
    for form in ({"csrf": "forged"}, {}):
        forged = page.context.request.post(
            f"{relay.url}/review/{item_id}/edit", form={**form, "final": "hijacked"}
        )
        assert forged.status == 403
    # A form on another site cannot post with the reviewer's cookie (SameSite=Strict).
    page.route(
        "http://evil.test/**",
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<form id="f" method="post" action="{relay.url}/review/{item_id}/reject">'
            '<input name="csrf" value="guess"></form>'
            '<script>document.getElementById("f").submit()</script>',
        ),
    )
    with page.expect_response(re.compile(rf"/review/{item_id}/reject$")) as cross_site:
        page.goto("http://evil.test/attack")
    assert cross_site.value.status in (401, 403)
    assert helpdesk.replies() == []

    # Edit the draft and approve: the plain Approve is disabled once the text differs.
    page.goto(item_url)
    page.locator("#final").fill(EDITED)
    assert page.locator("#approve").is_disabled()
    page.locator("#save-approve").click()
    page.wait_for_url(re.compile(r"/review\?decided="))
    assert "edited by token" in page.locator(".notice").inner_text()
    assert page.locator("table.items tbody tr td.empty").count() == 1

    [reply] = helpdesk.wait_for(lambda: helpdesk.replies("c1"))
    assert reply.body == EDITED
    time.sleep(1.0)  # time for a duplicate to show up
    assert len(helpdesk.replies()) == 1
    page.goto(item_url)
    assert "edited by token" in page.locator(".decided").inner_text()
    assert page.locator("#final").count() == 0
    assert dialogs == []


GREEK = "Η επιστροφή χρημάτων σας στάλθηκε σήμερα."


@pytest.fixture
def relay_without_greek(tmp_path: Path, helpdesk: MemoryHelpdeskServer) -> Iterator[RelayProcess]:
    pairs = 'pairs = [["en", "es"], ["es", "en"]]  # no engine for Greek'
    with relay_process(write_config(tmp_path, helpdesk.url, fake_pairs=pairs)) as process:
        yield process


def test_an_english_draft_for_a_greek_customer_is_not_approved_by_mistake(
    relay_without_greek: RelayProcess, helpdesk: MemoryHelpdeskServer, page: Any
) -> None:
    relay = relay_without_greek
    adapter = MemoryHelpdesk(base_url=helpdesk.url, webhook_secret=SECRET)
    body = MemoryHelpdesk.event_body(
        event_id="note-el", conversation_id="c7", text="#tl Your refund was sent today.",
        kind="agent_note", customer_language="el",
    )  # fmt: skip
    response = relay.post(adapter, body)
    assert response.status_code == 202
    helpdesk.wait_for(lambda: helpdesk.notes("c7"))  # the "held for review" note

    page.goto(f"{relay.url}/review?token={TOKEN}")
    page.locator("table.items tbody tr a").first.click()
    page.wait_for_url(re.compile(r"/review/[0-9a-f]{32}$"))
    item_url = page.url
    problem = page.locator("#language-problem").inner_text()
    assert "This draft is not in el, the customer's language" in problem
    assert "no engine here translates en → el" in problem
    # The conversation id opens the ticket in the helpdesk (the adapter's ticket_url).
    link = page.locator("#ticket-link")
    assert link.inner_text() == "c7"
    assert link.get_attribute("href") == f"{helpdesk.url}/conversations/c7"

    # Approving the English draft is refused and nothing is sent.
    with page.expect_response(re.compile(r"/approve$")) as refused:
        page.locator("#approve").click()
    assert refused.value.status == 422
    assert "check the language" in page.locator("h1").inner_text()
    assert helpdesk.replies() == []

    # The reviewer writes the reply in Greek: that is sent, once.
    page.goto(item_url)
    page.locator("#final").fill(GREEK)
    page.locator("#save-approve").click()
    page.wait_for_url(re.compile(r"/review\?decided="))
    [reply] = helpdesk.wait_for(lambda: helpdesk.replies("c7"))
    assert reply.body == GREEK
