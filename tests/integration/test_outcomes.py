"""Customer outcomes per language, end to end: the relay talks to a platform emulator, the
customer rates, and the outcomes report and the `/outcomes` page (in Chromium) show it.

A Spanish conversation goes through translation and is rated well; an English one (the agent's
own language) is rated badly. The report must keep them apart, per language and translated or
not, with the ratings the platform's own API returned.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_emulators_e2e import (
    SPANISH,
    Running,
    running,  # noqa: F401  (the module-scoped fixture: relay under uvicorn + emulator)
)
from test_review_browser import BROWSER_ARGS, CHROMIUM

from tl_loop.relay import OutcomesCollector
from tl_loop.review import OutcomeGroup, render_outcomes_table

RATED = (
    "chatwoot",
    "freshdesk",
    "helpscout",
    "intercom",
    "salesforce",
    "zendesk",
)  # platforms with ratings
TOKEN = "outcomes-review-token-0123456789"


@pytest.fixture(autouse=True, scope="module")
def review_token() -> Iterator[None]:
    # The /outcomes page signs reviewers in like /review; the relay reads the token when a
    # request comes, so setting it for the module is enough.
    previous = os.environ.get("TL_LOOP_REVIEW_TOKEN")
    os.environ["TL_LOOP_REVIEW_TOKEN"] = TOKEN
    yield
    if previous is None:
        os.environ.pop("TL_LOOP_REVIEW_TOKEN", None)
    else:
        os.environ["TL_LOOP_REVIEW_TOKEN"] = previous


def converse(setup: Running, text: str, reply: str, score: int) -> None:
    emulator = setup.emulator
    conversation = emulator.open_conversation()
    if emulator.adapter().name == "freshdesk":
        # Freshdesk keeps a ticket's first message as its description: a follow-up is the case.
        greeting = "Hola" if text == SPANISH else "Hello"
        emulator.store.add_message(
            conversation, greeting, author="customer", public=True, content_type="text"
        )
    setup.send(emulator.customer_message(conversation, text))
    key = emulator.conversation_key(conversation)  # the platform's id, as the relay records it
    stored = str(conversation.id)  # the emulator's own, for its notes and replies
    audit = setup.relay.audit
    assert audit is not None
    deadline = time.monotonic() + 20
    while not any(row.conversation_id == key for row in audit.rows()):
        assert time.monotonic() < deadline, "the relay never handled the customer message"
        time.sleep(0.05)
    if any(row.conversation_id == key and row.engine for row in audit.rows()):
        # Some platforms' note webhooks point at the latest note: let the relay's own land first.
        emulator.wait_for(lambda: emulator.notes(stored), timeout=20)
    setup.send(emulator.agent_note(conversation, f"#tl {reply}"))
    emulator.wait_for(lambda: emulator.replies(stored), timeout=20)
    emulator.store.rate(conversation, score)


def group(groups: list[OutcomeGroup], language: str, translated: bool) -> OutcomeGroup:
    [found] = [g for g in groups if g.language == language and g.translated == translated]
    return found


def test_outcomes_per_language_from_the_platforms_ratings(running: Running) -> None:  # noqa: F811
    platform = running.emulator.adapter().name
    if platform not in RATED:
        pytest.skip(f"{platform} has no ratings API tl_loop reads (docs/outcomes.md)")
    converse(running, SPANISH, "Your order ships today.", score=5)
    converse(running, "Hello, my order has not arrived yet.", "Your order ships today.", score=1)
    groups = OutcomesCollector.for_relay(running.relay, ttl=0).groups()

    spanish, english = group(groups, "es", True), group(groups, "en", False)
    assert (spanish.rated, spanish.csat) == (1, 1.0)
    assert (english.rated, english.csat) == (1, 0.0)
    assert spanish.fcr == 1.0
    assert spanish.median_resolution_hours is not None
    assert spanish.review_rate == 0.0
    table = render_outcomes_table(groups)
    assert max(len(line) for line in table.splitlines()) <= 100
    assert "es" in table


def test_the_outcomes_page_in_chromium(running: Running, tmp_path: Path) -> None:  # noqa: F811
    if running.emulator.adapter().name != "zendesk":
        pytest.skip("one platform is enough for the page")
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        pytest.skip(f"no chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    converse(running, SPANISH, "Your order ships today.", score=4)
    refused = httpx.get(f"{running.url}/outcomes", timeout=10)
    assert refused.status_code == 401

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=BROWSER_ARGS,
            headless=True,
        )
        try:
            page: Any = browser.new_context().new_page()
            page.goto(f"{running.url}/outcomes?token={TOKEN}")
            assert page.locator("svg#chart-csat").count() == 1
            assert page.locator("svg#chart-csat rect").count() >= 2
            cells = page.locator("table#outcomes td").all_inner_texts()
            assert "es" in cells
            shot = tmp_path / "outcomes.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert shot.stat().st_size > 5_000
