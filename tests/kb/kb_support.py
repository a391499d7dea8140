"""Loops and sample articles for the knowledge-base tests (importable by worker processes)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from tl_loop import Loop, ReviewPolicy, Thresholds, TlLoopConfig
from tl_loop.engines import SegmentResult
from tl_loop.testing import FakeEngine

# The fake engine's "[es] text" output copies the source's words: relax the two checks that
# (rightly) flag that, so a clean run is publishable.
LENIENT = {"max_untranslated_share": 1.0, "wrong_language_confidence": 1.01}


def fake_config(**engine_options: object) -> TlLoopConfig:
    """A configuration with the fake engine and lenient checks."""
    return TlLoopConfig(
        engines=["fake"], engine={"fake": dict(engine_options)}, review=dict(LENIENT)
    )


def _lenient_policy() -> ReviewPolicy:
    return ReviewPolicy(
        thresholds=Thresholds(max_untranslated_share=1.0, wrong_language_confidence=1.01)
    )


def identity_loop() -> Loop:
    """A loop whose engine returns every segment unchanged."""
    engine = FakeEngine(transform=lambda segment, source, target: segment, name="identity")
    return Loop(engines=[engine], policy=_lenient_policy())


def counting_loop() -> Loop:
    """A fake engine with lenient checks; its calls are counted in `engine.calls`."""
    return Loop(engines=[FakeEngine(name="counting")], policy=_lenient_policy())


class _LoggingEngine(FakeEngine):
    """Slow, and appends every segment it translated to $KB_LOG (for the kill test)."""

    def translate_batch(self, segments: Sequence[str], **kwargs: object) -> list[SegmentResult]:  # type: ignore[override]
        time.sleep(0.05)
        results = super().translate_batch(segments, **kwargs)  # type: ignore[arg-type]
        with Path(os.environ["KB_LOG"]).open("a", encoding="utf-8") as log:
            log.writelines(f"{kwargs['target']}\t{segment}\n" for segment in segments)
            log.flush()
            os.fsync(log.fileno())
        return results


def logging_loop() -> Loop:
    """A slow fake engine that logs what it translates."""
    return Loop(engines=[_LoggingEngine(name="logging")], policy=_lenient_policy())


BOILERPLATE = "Need more help? Contact [our team](https://example.com/contact) any day."

MARKDOWN = """---
id: 101
title: Reset your password
description: "Steps: from the sign-in page"
tags: [account, password]
---
# Reset your password

Go to the [sign-in page](https://example.com/login) and click **Forgot password**.

```
curl https://example.com/api/reset
```

{boilerplate}
"""

HTML = """---
title: 'Refunds, explained'
---
<h1>Refunds</h1>
<p>Refunds take 5 days. <a href="https://example.com/r" title="Read the policy">Read more</a>.</p>
<img src="/a.png" alt="A receipt">
<p>Need more help? Contact <a href="https://example.com/contact">our team</a> any day.</p>
"""


def write_samples(root: Path, *, count: int = 2) -> None:
    """A Markdown and an HTML article (sharing boilerplate), a macro, and a macro list."""
    (root / "guides").mkdir(parents=True, exist_ok=True)
    for index in range(count):
        text = MARKDOWN.replace("101", str(101 + index)).format(boilerplate=BOILERPLATE)
        if index:
            text = text.replace("Reset your password", f"Reset password number {index}")
        (root / "guides" / f"reset-{index}.md").write_text(text, encoding="utf-8")
    (root / "refunds.html").write_text(HTML, encoding="utf-8")
    (root / "welcome.txt").write_text(
        "Hello {{ticket.requester.name}}, thanks for writing.\nYour order ships today.\n",
        encoding="utf-8",
    )
    (root / "macros.json").write_text(
        '[{"id": 1, "title": "Shipping delay", "body": "Your order {{ticket.id}} is late."}]',
        encoding="utf-8",
    )


def down_loop() -> Loop:
    """An engine in an outage: every call fails."""
    from tl_loop import ServiceUnavailableError

    engine = FakeEngine(name="down", fail_with=ServiceUnavailableError("down", service="down"))
    return Loop(engines=[engine], policy=_lenient_policy())
