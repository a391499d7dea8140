"""Zammad for tl_loop: verify and parse trigger webhooks, build article and KB requests.

```python
from tl_loop_zammad import ZammadAdapter

adapter = ZammadAdapter.from_env()  # ZAMMAD_BASE_URL, ZAMMAD_TOKEN, ZAMMAD_WEBHOOK_SECRET
adapter.verify_webhook(body, headers)
event = adapter.parse_event(body, headers)
```
"""

from __future__ import annotations

from tl_loop_zammad._adapter import ZammadAdapter

__all__ = ["ZammadAdapter"]
