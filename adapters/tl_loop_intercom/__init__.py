"""Intercom for tl_loop: verify and parse webhooks, build conversation and article requests.

```python
from tl_loop_intercom import IntercomAdapter

adapter = IntercomAdapter.from_env()  # INTERCOM_ACCESS_TOKEN, INTERCOM_CLIENT_SECRET, ...
adapter.verify_webhook(body, headers)
event = adapter.parse_event(body, headers)
```
"""

from __future__ import annotations

from tl_loop_intercom._adapter import IntercomAdapter

__all__ = ["IntercomAdapter"]
