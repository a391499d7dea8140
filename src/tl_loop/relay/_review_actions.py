"""What a reviewer may do with a pending item on the reviewer page: the forms it offers, and the
decision each form asks for, refused with a reason when it would do something else.

Two kinds of item:

- held (a reply waiting for this decision, or a knowledge-base article): the draft is sent as
  approved or edited ("Save edit & approve"). Approving a draft that is not in the customer's
  language is refused unless the reviewer ticks the box that says they mean it.
- delivered (a reply sent with review flags, a customer message posted for the agents): the
  text already reached its reader, so nothing decided here is sent. The page offers "Save
  correction (not sent)" for the translation memory instead of an edit that would look sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from tl_loop.relay._review_html import Markup, escape, render
from tl_loop.review import ReviewItem, ReviewState, language_problem

__all__ = ["Refusal", "actions", "decision"]

_ANYWAY = "yes"


class Refusal(Exception):
    """A form the item does not allow: the page shows `heading` and `message` with `status`."""

    def __init__(self, heading: str, message: str, status: int) -> None:
        super().__init__(message)
        self.heading = heading
        self.message = message
        self.status = status


def _delivered(item: ReviewItem) -> str:
    if item.direction == "outbound":
        return (
            "This reply was already sent to the customer, with review flags; nothing decided "
            "here is sent again. Say whether the translation was right, or save a better one "
            "for the translation memory. If the customer needs a correction, write to them in "
            "the helpdesk."
        )
    return (
        "This customer message was already translated for the agents, with review flags; "
        "nothing decided here is sent. Say whether the translation was right, or save a "
        "better one for the translation memory."
    )


def _blocked(item: ReviewItem) -> str | None:
    problem = language_problem(item)
    if problem is None:
        return None
    target, source = item.target_language, item.source_language
    return (
        f"{problem} Write the reply in {target} in the box and use Save edit & approve, reject "
        f"it, or approve anyway if this customer reads {source}."
    )


def actions(item: ReviewItem, csrf: str) -> Markup:
    """The forms for a pending item."""
    common = {"id": item.id, "csrf": csrf, "target": item.target_language}
    if not item.held:
        return render(
            "delivered.html",
            **common,
            delivered=_delivered(item),
            draft_attr=item.draft,
            draft_text=item.draft,
        )
    problem = _blocked(item)
    return render(
        "actions.html",
        **common,
        draft_attr=item.draft,
        draft_text=item.draft,
        problem=Markup(
            f'<p class="notice blocked" id="language-problem" role="alert">{escape(problem)}</p>\n'
            if problem
            else ""
        ),
        anyway=Markup(
            f'<label class="anyway"><input type="checkbox" name="anyway" value="{_ANYWAY}" '
            f'id="anyway"> Approve anyway: this customer reads {escape(item.source_language)}'
            "</label>"
            if problem
            else ""
        ),
    )


def decision(
    action: str, item: ReviewItem, form: Mapping[str, str]
) -> tuple[ReviewState, str | None]:
    """The state and final text a form asks for.

    Raises:
        Refusal: an unknown action, an empty text, an edit of a delivered item, or approving
            a draft that is not in the customer's language without saying so.
    """
    if action == "reject":
        return ReviewState.REJECTED, None
    if action == "approve":
        return _approval(item, form)
    if action not in ("edit", "correct"):
        raise Refusal(
            "Cannot do that", f"unknown action {action!r}: use approve, edit or reject", 400
        )
    if action == "edit" and not item.held:
        raise Refusal("Already sent", f"Nothing was changed. {_delivered(item)}", 409)
    if action == "correct" and item.held:
        raise Refusal(
            "Not sent yet",
            "This reply waits for your decision: use Save edit & approve to send your text.",
            409,
        )
    # Browsers send textarea line breaks as CRLF; the draft uses LF.
    final = form.get("final", "").replace("\r\n", "\n")
    if not final.strip():
        raise Refusal("Cannot do that", "the edited text is empty; reject the item instead", 400)
    if final == item.draft:
        return _approval(item, form)
    return ReviewState.EDITED, final


def _approval(item: ReviewItem, form: Mapping[str, str]) -> tuple[ReviewState, None]:
    problem = _blocked(item)
    if problem and form.get("anyway") != _ANYWAY:
        raise Refusal("Not approved: check the language", problem, 422)
    return ReviewState.APPROVED, None
