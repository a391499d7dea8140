"""tl_loop adapter for Chatwoot: verify and parse webhooks, build API requests.

```python
from tl_loop_chatwoot import ChatwootAdapter

adapter = ChatwootAdapter.from_env()  # CHATWOOT_BASE_URL, CHATWOOT_ACCOUNT_ID, …
adapter.verify_webhook(body, headers)
event = adapter.parse_event(body, headers)
```
"""

from __future__ import annotations

from tl_loop_chatwoot._adapter import ChatwootAdapter

__all__ = ["ChatwootAdapter"]
