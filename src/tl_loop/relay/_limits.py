"""Notes that fit the helpdesk: each platform caps the size of a note (`max_note_chars`).

A note over the cap is refused (Chatwoot answers 422 over 150,000 characters) and the agent
would get nothing. An inbound note first leaves out the quoted original: it is the customer's
message, right there in the conversation. If the translation alone is still too long, it is
split over several notes ("part 2 of 3"), cut at paragraph, line, sentence or word boundaries
and never inside a tag or an entity. Any other note over the cap (a preview, a held draft) is
shortened, with a line saying so; tl_loop's marker always stays at its end.
"""

from __future__ import annotations

import re

from tl_loop._models import Translation
from tl_loop.helpdesk._adapter import OWN_NOTE_MARKER
from tl_loop.relay._notes import NoteComposer, sanitize_html

__all__ = ["fit_note", "inbound_notes", "split_text"]

MAX_PARTS = 10
"""Most notes one translation is split into; past that the rest is pointed to, not posted."""

# Where a long text may be cut, best first: after a block or a paragraph, a line, a sentence,
# a word.
_BOUNDARIES = (
    re.compile(r"</(?:p|div|li|ul|ol|blockquote|h[1-6]|pre|table|tr)>|\n\s*\n", re.IGNORECASE),
    re.compile(r"<br\s*/?>|\n", re.IGNORECASE),
    re.compile(r"[.!?。！？]\s"),
    re.compile(r"\s"),
)


def split_text(text: str, size: int) -> list[str]:
    """`text` in pieces of at most `size` characters, cut at the best boundary in each."""
    if size < 1:
        raise ValueError("size must be positive")
    pieces: list[str] = []
    rest = text
    while len(rest) > size:
        cut = _cut_point(rest, size)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def _cut_point(text: str, size: int) -> int:
    window = text[:size]
    for pattern in _BOUNDARIES:
        ends = [m.end() for m in pattern.finditer(window) if _outside_markup(window, m.end())]
        # A boundary in the first half would make many tiny parts: try a finer one instead.
        good = [end for end in ends if end > size // 2]
        if good:
            return good[-1]
    cut = size
    while cut > 1 and not _outside_markup(text, cut):
        cut -= 1
    return cut


def _outside_markup(text: str, index: int) -> bool:
    """True when cutting before `index` splits no tag (`<…>`) and no entity (`&…;`)."""
    if text.rfind("<", 0, index) > text.rfind(">", 0, index):
        return False
    amp = text.rfind("&", max(0, index - 10), index)
    return amp == -1 or ";" in text[amp:index] or " " in text[amp:index]


def inbound_notes(
    composer: NoteComposer, translation: Translation, limit: int | None, *, reserve: int = 0
) -> list[str]:
    """The inbound note, or the notes it becomes so that each is at most `limit` characters
    once `reserve` more are added (the journal reference)."""
    helpdesk_limit = limit
    if limit is not None:
        limit -= reserve
    note = composer.inbound_note(translation)
    if limit is None or len(note) <= limit:
        return [note]
    note = composer.inbound_note(translation, original=False)
    if len(note) <= limit:
        return [note]
    empty = translation.model_copy(update={"translated": ""})
    overhead = max(
        len(composer.inbound_note(empty, original=False, part=(1, MAX_PARTS))),
        len(composer.inbound_note(empty, original=False, part=(MAX_PARTS, MAX_PARTS))),
    )
    size = limit - overhead
    while size > 0:
        pieces = split_text(translation.translated, size)
        shown = pieces[:MAX_PARTS]
        notes = [
            composer.inbound_note(
                translation.model_copy(update={"translated": piece}),
                original=False,
                part=(number, len(shown)),
            )
            for number, piece in enumerate(shown, start=1)
        ]
        # Escaping and sanitising may lengthen a piece: try smaller pieces until all fit.
        if all(len(part) <= limit for part in notes):
            if len(pieces) > MAX_PARTS:
                left = sum(len(piece) for piece in pieces[MAX_PARTS:])
                notes[-1] = composer.append_line(
                    notes[-1],
                    f"… {left} more characters of the translation are not shown; the full "
                    "message is the customer's, in this conversation.",
                )
            return [fit_note(part, helpdesk_limit, composer, reserve=reserve) for part in notes]
        size = size * 4 // 5
    return [fit_note(note, helpdesk_limit, composer, reserve=reserve)]


def fit_note(note: str, limit: int | None, composer: NoteComposer, *, reserve: int = 0) -> str:
    """`note` if it fits in `limit` characters with `reserve` to spare (the journal reference
    stamped in later), else shortened with a line saying so."""
    if limit is None or len(note) <= limit - reserve:
        return note
    pointer = f"… (shortened: this helpdesk takes at most {limit} characters in a note)"
    limit -= reserve
    body = note.removesuffix(OWN_NOTE_MARKER).rstrip()
    room = limit - len(composer.append_line("", pointer)) - 2
    while room > 0:
        kept = split_text(body, room)[0]
        if composer.format == "html":
            kept = sanitize_html(kept)  # closes the tags the cut left open
        shortened = composer.append_line(kept, pointer)
        if len(shortened) <= limit:
            return shortened
        room = room * 4 // 5
    return composer.append_line("", pointer)[-limit:]
