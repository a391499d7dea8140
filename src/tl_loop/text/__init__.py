"""Text handling: walkers (plain, HTML, Markdown), span rules, protection, token markup and
language detection. Most users meet these through `Loop`; they are public for tools that need
one step on its own (masking a text before another system sees it, checking a token round trip).

```python
from tl_loop.text import protect

document = protect("Order #4821 ships to ana@example.com", content_type="text")
assert "4821" not in document.segments[0]
```
"""

from tl_loop.text._fidelity import identifiers, missing_identifiers, prose_only
from tl_loop.text._language import LanguageDetector, choose_customer_language
from tl_loop.text._protect import ProtectedDocument, ProtectedTerm, protect
from tl_loop.text._protection import FAMILIES
from tl_loop.text._round_trip import RoundTrip, chrf, compare_round_trip
from tl_loop.text._spans import find_spans
from tl_loop.text._token_markup import TOKEN_PATTERN

__all__ = [
    "FAMILIES",
    "TOKEN_PATTERN",
    "LanguageDetector",
    "ProtectedDocument",
    "ProtectedTerm",
    "RoundTrip",
    "choose_customer_language",
    "chrf",
    "compare_round_trip",
    "find_spans",
    "identifiers",
    "missing_identifiers",
    "prose_only",
    "protect",
]
