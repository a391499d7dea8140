"""tl_loop adapter for Help Scout: verify and parse webhooks, build API requests.

```python
from tl_loop_helpscout import HelpScoutAdapter

adapter = HelpScoutAdapter.from_env()  # HELPSCOUT_APP_ID, HELPSCOUT_APP_SECRET, …
if adapter.needs_token():
    adapter.parse_token(client.send(adapter.build_token_request()))
```
"""

from __future__ import annotations

from tl_loop_helpscout._adapter import HelpScoutAdapter

__all__ = ["HelpScoutAdapter"]
