"""Galician, which lingua cannot detect, told apart from its neighbours by its own words.

lingua has no Galician model: Galician text comes out as Spanish or Portuguese, often with high
confidence. Galician's everyday function words are, however, spelled unlike either neighbour
(`non` for `no`/`não`, `unha` for `una`/`uma`, `xa` for `ya`/`já`), so when lingua answers
Spanish or Portuguese, counting those words decides whether the text is Galician after all.
The list holds only words that are not also common Spanish or Portuguese words.
"""

from __future__ import annotations

import re

from tl_loop._models import Detection

__all__ = ["GALICIAN_NEIGHBOURS", "refine_galician"]

GALICIAN_NEIGHBOURS = frozenset({"es", "pt"})
"""The lingua languages Galician text is mistaken for; detection of `gl` needs one of them."""

_MARKERS = frozenset(
    (
        "non", "unha", "unhas", "grazas", "graciñas", "xa", "moi", "miña", "miñas", "teño",
        "tedes", "teñen", "aínda", "tamén", "coa", "coas", "polo", "pola", "polos", "polas",
        "cando", "facer", "fixen", "podo", "podedes", "axuda", "axudar", "axudade", "mañá",
        "hoxe", "onte", "vostede", "vostedes", "xeito", "ningún", "ningunha", "contrasinal",
        "enderezo", "recibín", "chegoume", "deica", "máis", "dende",
    )
)  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+")


def refine_galician(text: str, detection: Detection) -> Detection:
    """Return a Galician detection when `text` reads as Galician, else `detection` unchanged.

    Two distinctively Galician words decide it; one is enough when lingua itself was unsure.
    """
    if detection.language not in GALICIAN_NEIGHBOURS:
        return detection
    hits = sum(word in _MARKERS for word in _WORD.findall(text.casefold()))
    if hits >= 2 or (hits == 1 and detection.confidence < 0.9):
        confidence = round(min(0.99, 0.6 + 0.1 * hits), 4)
        others = tuple((tag, value) for tag, value in detection.candidates if tag != "gl")
        return Detection(
            language="gl", confidence=confidence, candidates=(("gl", confidence), *others[:2])
        )
    return detection
