"""Whether approving a held reply would send the customer text that is not in their language.

A reply is held with its draft in the customer's language, unless the translation failed or was
skipped: then the draft is the agent's own text (an English draft for a Greek customer), and
approving it as it is would send that text. The flags the loop raised say so; a draft equal to
the original says so too when the flags were lost (an older item, a custom policy).
"""

from __future__ import annotations

from collections.abc import Mapping

from tl_loop._models import same_language
from tl_loop.review._items import ReviewItem

__all__ = ["language_problem"]

# Flag code → why the draft is not in the customer's language, in the reviewer's words.
_REASONS: Mapping[str, str] = {
    "engine_failed": "the translation failed (no engine answered), so the draft is the agent's "
    "text as written",
    "unsupported_language": "no engine here translates {source} → {target}, so the draft is the "
    "agent's text as written",
    "customer_language_unknown": "the customer's language was not known, so the reply was not "
    "translated",
    "wrong_language": "the draft does not read as {target}",
    "untranslated": "most of the draft is the agent's {source} text left as it was",
}


def language_problem(item: ReviewItem) -> str | None:
    """Why approving `item` as it is would send its customer text not in their language.

    Only held outbound replies are checked (approving one sends the draft); None when the
    draft is fine to send, or the item is of another kind. The caller adds what to do instead
    in its own words (the page's box, the command line's `review edit`).
    """
    if item.direction != "outbound" or not item.held:
        return None
    source, target = item.source_language, item.target_language
    reasons = [
        _REASONS[flag.code].format(source=source, target=target)
        for flag in item.flags
        if flag.code in _REASONS
    ]
    unchanged = item.draft.strip() == item.original.strip()
    if unchanged and not reasons and not same_language(source, target):
        reasons.append(f"the draft is the agent's {source} text unchanged")
    if not reasons:
        return None
    return (
        f"This draft is not in {target}, the customer's language: "
        f"{'; '.join(dict.fromkeys(reasons))}. Approving it would send it as it is."
    )
