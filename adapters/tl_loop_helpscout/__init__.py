"""tl_loop adapter for Help Scout: verify and parse webhooks, build API requests.

```python
from tl_loop.helpdesk import HelpdeskClient
from tl_loop_helpscout import HelpScoutAdapter

adapter = HelpScoutAdapter.from_env()  # HELPSCOUT_APP_ID, HELPSCOUT_APP_SECRET, …
client = HelpdeskClient(adapter)       # fetches and renews the OAuth token itself
```
"""

from __future__ import annotations

from tl_loop_helpscout._adapter import HelpScoutAdapter

__all__ = ["HelpScoutAdapter"]
