"""`tl-loop demo`: a scripted support conversation through the loop, both sides shown.

A Spanish-speaking customer writes to an English-speaking agent of the fictional brand Acme
Cloud; the agent answers by hand and with a placeholder-laden macro. Everything runs on the
configured engines (Apertium by default, offline) with the sample brand glossary.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TextIO

from tl_loop._config import TlLoopConfig
from tl_loop._errors import ConfigurationError
from tl_loop._loop import Loop
from tl_loop._models import Conversation, Message, Translation

__all__ = ["run_demo", "sample_glossary_path"]

_SPANISH: tuple[tuple[str, str], ...] = (
    ("customer", "Hola, compré una suscripción de Acme Cloud la semana pasada, pero no puedo "
                 "entrar en mi panel de control."),
    ("agent", "Hi Lucía, thanks for writing. I have reset your two-factor authentication. "
              "Can you try again?"),
    ("customer", "Ya funciona, gracias. Pero me han cobrado dos veces el pedido #48213."),
    ("macro", "Hi {{ticket.requester.first_name}}, we have issued a refund of $59.99 for order "
              "#48213. You will see it in your billing page at https://acme.example/billing "
              "within 5 days."),
    ("customer", "ok gracias!!"),
    ("agent", "You are welcome. Is there anything else I can do for you today?"),
)  # fmt: skip

# No installed Apertium pair has Portuguese ↔ English: the chain pivots through Spanish.
_PORTUGUESE: tuple[tuple[str, str], ...] = (
    ("customer", "Olá, a minha encomenda #51870 ainda não chegou. Podem verificar, por favor?"),
    ("agent", "Hello João, your order #51870 left our warehouse today."),
)

# No engine here reads Greek: the message still reaches the agent, flagged, never lost.
_GREEK: tuple[tuple[str, str], ...] = (
    ("customer", "Γεια σας, η παραγγελία μου #51999 δεν έχει φτάσει ακόμα."),
)

_CONVERSATIONS = (
    ("A Spanish-speaking customer, an English-speaking agent", _SPANISH),
    ("A Portuguese-speaking customer (pivot through Spanish)", _PORTUGUESE),
    ("A Greek-speaking customer (no engine for Greek here)", _GREEK),
)


def sample_glossary_path() -> Path:
    """The sample Acme Cloud glossary: packaged with the wheel, or in a source checkout."""
    packaged = resources.files("tl_loop").joinpath("glossaries/acme.csv")
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[3] / "glossaries" / "acme.csv"
    if checkout.is_file():
        return checkout
    raise ConfigurationError("the sample glossary acme.csv is missing; pass --glossary PATH")


def _show(out: TextIO, who: str, translation: Translation, conversation: Conversation) -> None:
    arrow = f"{translation.source_language or '?'} → {translation.target_language}"
    print(f"┌─ {who}  ({arrow}, engine: {translation.engine or 'none'})", file=out)
    print(f"│  wrote:  {translation.original}", file=out)
    if translation.skipped:
        print("│  (no translation needed)", file=out)
    else:
        print(f"│  reads:  {translation.translated}", file=out)
    audit = translation.audit
    if audit.detected_language:
        print(
            f"│  detected {audit.detected_language} ({audit.detection_confidence:.0%}); "
            f"conversation language: {conversation.customer_language}",
            file=out,
        )
    for flag in translation.flags:
        print(f"│  ⚑ {flag.code} ({flag.severity.value}): {flag.detail}", file=out)
    print(f"└─ decision: {translation.decision.value}\n", file=out)


def _play(
    loop: Loop, script: tuple[tuple[str, str], ...], conversation: Conversation, out: TextIO
) -> None:
    for role, text in script:
        if role == "customer":
            translation = loop.inbound(Message(text=text), conversation)
            _show(out, "Customer → agent", translation, conversation)
            continue
        # A macro's placeholders are filled by the helpdesk after translation, so they must
        # come back untouched: the demo shows them as they would be sent.
        translation = loop.outbound(Message(text=text), conversation)
        label = "Agent → customer" + (" (macro)" if role == "macro" else "")
        _show(out, label, translation, conversation)


def run_demo(config: TlLoopConfig, *, glossary: Path | None = None, out: TextIO) -> int:
    """Run the scripted conversation and print it; returns the exit status."""
    config = config.model_copy(update={"glossary": glossary or sample_glossary_path()})
    with Loop.from_config(config) as loop:
        names = ", ".join(engine.name for engine in loop.chain.engines)
        print(f"tl_loop demo: engines {names}; glossary {config.glossary}\n", file=out)
        for number, (title, script) in enumerate(_CONVERSATIONS, start=1):
            print(f"══ {title} ══\n", file=out)
            _play(loop, script, loop.conversation(id=f"demo-{number}"), out)
        stats = loop.cache.stats
        print(f"cache: {stats.hits} hits, {stats.misses} misses", file=out)
    return 0
