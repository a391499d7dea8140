"""Freshdesk for tl_loop: authenticate automation webhooks, build ticket and solution requests.

```python
from tl_loop_freshdesk import FreshdeskAdapter

adapter = FreshdeskAdapter.from_env()  # FRESHDESK_DOMAIN, FRESHDESK_API_KEY, ...
adapter.verify_webhook(body, headers)
event = adapter.parse_event(body, headers)
```
"""

from __future__ import annotations

from tl_loop_freshdesk._adapter import FreshdeskAdapter

__all__ = ["FreshdeskAdapter"]
