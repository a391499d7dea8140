"""Salesforce Service Cloud for tl_loop: Outbound Messages and Flow callouts in, case comments,
feed posts, e-mail and Messaging replies and Knowledge draft translations out.

```python
from tl_loop_salesforce import SalesforceAdapter

adapter = SalesforceAdapter.from_env()  # SALESFORCE_INSTANCE_URL, SALESFORCE_CLIENT_ID, ...
adapter.verify_webhook(body, headers)
events = adapter.parse_events(body, headers)  # an Outbound Message carries up to 100
```
"""

from __future__ import annotations

from tl_loop_salesforce._adapter import SECRET_HEADER, SalesforceAdapter

__all__ = ["SECRET_HEADER", "SalesforceAdapter"]
