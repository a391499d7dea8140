"""Zendesk for tl_loop: verify and parse Zendesk webhooks, build Support and Guide requests.

```python
from tl_loop_zendesk import ZendeskAdapter

adapter = ZendeskAdapter.from_env()  # ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN, ...
adapter.verify_webhook(body, headers)
event = adapter.parse_event(body, headers)
```
"""

from __future__ import annotations

from tl_loop_zendesk._adapter import ZendeskAdapter

__all__ = ["ZendeskAdapter"]
