"""tl_loop adapter for Front: verify and parse webhooks, build API requests.

```python
from tl_loop_front import FrontAdapter

adapter = FrontAdapter.from_env()  # FRONT_API_TOKEN, FRONT_WEBHOOK_SECRET, FRONT_WEBHOOK_KIND
adapter.verify_webhook(body, headers)
event = adapter.parse_event(body, headers)
```
"""

from __future__ import annotations

from tl_loop_front._adapter import FrontAdapter, WebhookKind

__all__ = ["FrontAdapter", "WebhookKind"]
