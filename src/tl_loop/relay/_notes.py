"""The notes and replies the relay writes into a helpdesk, composed in one place as pure functions.

Inbound, the translation reaches the agent as an internal note: the languages and detection
confidence, the translation, the review flags, and the original. Outbound, an agent writes an
internal note that starts with the trigger (`#tl Thanks, it ships today`); the relay translates
it and posts the public reply, or, when the review holds it, a note saying why. `#tl?` asks for a
preview note instead of a reply. Every note ends with `OWN_NOTE_MARKER`, so adapters recognise
the webhook that our own note fires and drop it.

Customer text (and an engine's output) is untrusted: HTML is cleaned by nh3 (an allowlist
sanitizer) and plain text is escaped before it enters an HTML note; a plain-text note gets the
text with every tag removed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from tl_loop._models import ContentType, Translation
from tl_loop.helpdesk._adapter import OWN_NOTE_MARKER

__all__ = [
    "NoteComposer",
    "Trigger",
    "parse_trigger",
    "safe_html",
    "safe_text",
    "sanitize_html",
]

NoteFormat = Literal["html", "text"]


@dataclass(frozen=True, slots=True)
class Trigger:
    """An agent note addressed to the relay: `reply` (send it) or `preview` (show it to me)."""

    mode: Literal["reply", "preview"]
    text: str


def _trigger_pattern(trigger: str) -> re.Pattern[str]:
    # Leading tags (`<p>`, `<div>`) and spaces may come before the trigger in an HTML note; the
    # trigger must end at a space, a tag or the end, so "#tlx" is not "#tl".
    return re.compile(
        r"^(?P<lead>\s*(?:<[^>]*>\s*)*)" + re.escape(trigger) + r"(?=\s|&nbsp;|<|$)(?:\s|&nbsp;)*"
    )


@cache
def _patterns(trigger: str, preview: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    ordered = sorted([("reply", trigger), ("preview", preview)], key=lambda p: -len(p[1]))
    return tuple((mode, _trigger_pattern(text)) for mode, text in ordered)


def parse_trigger(
    text: str, *, trigger: str = "#tl", preview_trigger: str = "#tl?"
) -> Trigger | None:
    """The agent's request in a note, or None when the note does not start with a trigger.

    The trigger is removed; leading markup of an HTML note is kept. A trigger with nothing
    after it is not a request.
    """
    for mode, pattern in _patterns(trigger, preview_trigger):
        match = pattern.match(text)
        if match is None:
            continue
        rest = match.group("lead") + text[match.end() :]
        if not safe_text(rest, "html").strip():
            return None
        return Trigger("reply" if mode == "reply" else "preview", rest)
    return None


@cache
def _note_tags() -> frozenset[str]:
    import nh3

    # Images and image maps in a note load remote content when an agent opens the ticket.
    return frozenset(nh3.ALLOWED_TAGS - {"img", "area", "map"})


def sanitize_html(text: str) -> str:
    """Clean untrusted HTML with nh3: scripts, styles, event handlers and images removed."""
    import nh3

    return nh3.clean(text, tags=set(_note_tags()))


def safe_html(text: str, content_type: ContentType) -> str:
    """Untrusted text as an HTML fragment: HTML sanitized, text and Markdown escaped."""
    if content_type == "html":
        return sanitize_html(text)
    return html.escape(text).replace("\n", "<br>\n")


def safe_text(text: str, content_type: ContentType) -> str:
    """Untrusted text for a plain-text note: every tag (and a script's content) removed.

    `&lt;` stays escaped, so no tag can be re-formed from the text.
    """
    import nh3

    cleaned = nh3.clean(text, tags=set())
    for entity, char in (("&amp;", "&"), ("&quot;", '"'), ("&#39;", "'"), ("&nbsp;", " ")):
        cleaned = cleaned.replace(entity, char)
    if content_type == "html":
        cleaned = re.sub(r"[ \t]*\n\s*", "\n", cleaned).strip()
    return cleaned


def stamp_text(ref: str) -> str:
    """How a journal reference reads in a note: `ref <hex>`."""
    return f"ref {ref}"


STAMP_ROOM = len(stamp_text("0" * 12)) + 1
"""Characters the journal reference adds to a note (`ref <12 hex> ` before the marker)."""


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


@dataclass(frozen=True, slots=True)
class NoteComposer:
    """Writes the notes and replies of the transport in HTML or plain text.

    Args:
        format: `html` (default) or `text` notes.
        trigger: mentioned in the inbound note's hint line.
        preview_trigger: likewise.
    """

    format: NoteFormat = "html"
    trigger: str = "#tl"
    preview_trigger: str = "#tl?"

    # -- building blocks -----------------------------------------------------------------

    def _body(self, text: str, content_type: ContentType) -> str:
        if self.format == "html":
            return f"<blockquote>{safe_html(text, content_type)}</blockquote>"
        return safe_text(text, content_type)

    def _line(self, text: str, *, bold: bool = False) -> str:
        if self.format == "text":
            return text
        escaped = html.escape(text)
        return f"<p><strong>{escaped}</strong></p>" if bold else f"<p>{escaped}</p>"

    def _flags(self, translation: Translation) -> str:
        if not translation.flags:
            return self._line("Review flags: none")
        items = [f"{f.severity.value} {f.code}: {f.detail}" for f in translation.flags]
        if self.format == "text":
            return "Review flags:\n" + "\n".join(f"- {item}" for item in items)
        listed = "".join(f"<li>{html.escape(item)}</li>" for item in items)
        return f"<p>Review flags:</p><ul>{listed}</ul>"

    def _note(self, *blocks: str) -> str:
        joiner = "\n" if self.format == "html" else "\n\n"
        return joiner.join((*blocks, OWN_NOTE_MARKER))

    # -- the notes -----------------------------------------------------------------------

    def inbound_note(
        self,
        translation: Translation,
        *,
        original: bool = True,
        part: tuple[int, int] | None = None,
    ) -> str:
        """The note showing a customer message translated for the agent.

        Args:
            translation: the translated customer message.
            original: quote the original; False points to the customer's message instead
                (a note that must stay under the helpdesk's size limit).
            part: `(n, total)` when the translation is split over several notes: the flags
                go with the first part, the answer hint with the last.
        """
        source = translation.source_language or "unknown"
        header = (
            f"tl_loop: customer wrote in {source} (confidence "
            f"{_percent(translation.audit.detection_confidence)}), translated to "
            f"{translation.target_language} by {translation.engine or 'no engine'}"
        )
        number, total = part or (1, 1)
        if total > 1:
            header += f" (part {number} of {total})"
        hint = (
            f'Answer with a note starting "{self.trigger} " to send it translated, '
            f'or "{self.preview_trigger} " to preview the translation.'
        )
        blocks = [
            self._line(header, bold=True),
            self._line("Translation:" if total == 1 else f"Translation, part {number}:"),
            self._body(translation.translated, translation.content_type),
        ]
        if number == 1:
            blocks.append(self._flags(translation))
        if number == total:
            if original:
                blocks += [
                    self._line(f"Original ({source}):"),
                    self._body(translation.original, translation.content_type),
                ]
            else:
                blocks.append(self._line(
                    f"Original ({source}): the customer's message in this conversation (not "
                    "quoted here: the note would exceed the helpdesk's size limit)."
                ))  # fmt: skip
            blocks.append(self._line(hint))
        return self._note(*blocks)

    def append_line(self, note: str, text: str) -> str:
        """`note` with one more line before tl_loop's marker (a note without one gets it)."""
        body = note.removesuffix(OWN_NOTE_MARKER).rstrip()
        return self._note(*([body] if body else []), self._line(text))

    def preview_note(self, translation: Translation) -> str:
        """The note showing the agent what their reply would look like (nothing was sent)."""
        header = (
            f"tl_loop preview (not sent): your reply in {translation.target_language}, "
            f"decision would be {translation.decision.value}"
        )
        return self._note(
            self._line(header, bold=True),
            self._body(translation.translated, translation.content_type),
            *self._read_back(translation),
            self._flags(translation),
        )

    def _read_back(self, translation: Translation) -> tuple[str, ...]:
        """What the customer will read, translated back into the agent's language."""
        back = translation.back_translation
        if back is None:
            return ()
        lines = [
            self._line(f"What it says, read back in {back.language}:", bold=True),
            self._body(back.text, translation.content_type),
        ]
        if back.differences:
            lines.append(self._line("Differences that matter: " + "; ".join(back.differences)))
        return tuple(lines)

    def held_note(self, translation: Translation) -> str:
        """The note saying a reply was held for review, with its flags and the draft."""
        header = (
            "tl_loop held this reply for review: it was NOT sent to the customer. "
            "Fix the problem below and send it again, or reply without the trigger."
        )
        return self._note(
            self._line(header, bold=True),
            self._flags(translation),
            self._line(f"Draft ({translation.target_language}):"),
            self._body(translation.translated, translation.content_type),
        )

    def queued_note(self, translation: Translation, *, item_id: str, link: str) -> str:
        """The note saying a held reply waits in the review queue, with its id and link."""
        header = (
            "tl_loop held this reply for review: it was NOT sent to the customer yet. "
            f"It waits in the review queue as item {item_id}; a reviewer's approval or edit "
            "sends it, a rejection is told here."
        )
        return self._note(
            self._line(header, bold=True),
            self._link(link),
            self._flags(translation),
            self._line(f"Draft ({translation.target_language}):"),
            self._body(translation.translated, translation.content_type),
        )

    def rejected_note(self, *, item_id: str, reviewer: str | None) -> str:
        """The note telling the agent a held reply was rejected in review (nothing sent)."""
        return self._note(
            self._line(
                f"tl_loop: {reviewer or 'a reviewer'} rejected the held reply (review item "
                f"{item_id}); it was NOT sent to the customer. Write a new reply.",
                bold=True,
            )
        )

    def _link(self, link: str) -> str:
        if self.format == "text":
            return f"Review it at {link}"
        escaped = html.escape(link)
        return f'<p>Review it at <a href="{escaped}">{escaped}</a></p>'

    def flags_note(self, translation: Translation) -> str:
        """The note listing review flags of a reply that was sent anyway."""
        return self._note(
            self._line(
                f"tl_loop sent your reply in {translation.target_language} with review flags:",
                bold=True,
            ),
            self._flags(translation),
        )

    @staticmethod
    def stamp(note: str, ref: str) -> str:
        """The note with the journal's reference before its closing marker (`ref … — tl_loop`).

        After a note write that may have arrived, the relay looks for this reference in the
        conversation before sending the note again.
        """
        body = note.removesuffix(OWN_NOTE_MARKER)
        return f"{body}{stamp_text(ref)} {OWN_NOTE_MARKER}"

    def failure_note(self, reason: str) -> str:
        """The note telling agents the relay could not finish a request."""
        return self._note(self._line(f"tl_loop could not complete this request: {reason}"))

    def dead_letter_note(self, *, what: str, reason: str) -> str:
        """The note telling agents that work was given up while the helpdesk was down."""
        return self._note(
            self._line(
                f"tl_loop gave up on {what} while the helpdesk could not be reached: {reason}. "
                "It was NOT posted; please check and send it again.",
                bold=True,
            )
        )

    # -- the reply -----------------------------------------------------------------------

    def reply(self, translation: Translation, *, disclosure: str | None = None) -> str:
        """The public reply: the translation, and with `disclosure`, that line and the original.

        The reply keeps the agent note's content type, so it is posted with that type.
        """
        content_type = translation.content_type
        text = translation.translated
        if content_type == "html":
            text = sanitize_html(text)
        if disclosure is None:
            return text
        if content_type == "html":
            return (
                f"{text}\n<hr>\n<p><em>{html.escape(disclosure)}</em></p>\n"
                f"<blockquote>{sanitize_html(translation.original)}</blockquote>"
            )
        return f"{text}\n\n---\n{disclosure}\n\n{translation.original}"
