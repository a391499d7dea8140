"""Constants shared by the review tests (conftest modules are not for importing)."""

from __future__ import annotations

from collections.abc import Callable

from tl_loop import ReviewPolicy, Severity
from tl_loop.relay import Relay

SECRET = "review-test-secret"
SPANISH = "Hola, mi pedido no ha llegado todavía."
TRANSLATIONS = {
    SPANISH: "Hello, my order has not arrived yet.",
    "Thank you for your patience.": "Gracias por su paciencia.",
}
# No translation for it: the fake engine answers "[es] Your order ships today, ...", which reads
# as English, so its wrong_language and untranslated warnings hold it under HOLD_WARNINGS.
DOUBTFUL = "Your order ships today, and the courier will call you before noon."

HOLD_WARNINGS = ReviewPolicy(hold_at=Severity.WARNING)
"""Holds every reply with a warning, so the fake engine's doubtful drafts wait for review."""

MakeRelay = Callable[..., Relay]
"""`make_relay(policy=..., **relay_settings)`: a new relay on the test's queue directory."""
