"""Operations that take more than one request, built up front by a pure adapter.

Some helpdesk operations need an answer before the next request can be written: Salesforce
sends an e-mail reply only once it has read the customer's address, and a Knowledge draft
translation is created first and filled in second. The adapter stays pure: its builder returns
the first request with `then(request, follow)`, where `follow` turns that request's response
into the next request (or None when the operation is complete). `HelpdeskClient` sends the
whole chain as one read or one write.

```python
first = httpx.Request("POST", url, json={"articleId": "kA0…", "language": "fr"})
return then(first, lambda response: httpx.Request("PATCH", draft_url(response), json=fields))
```
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

__all__ = ["follow_up", "then"]

_KEY = "tl_loop.then"

Follow = Callable[[httpx.Response], "httpx.Request | None"]


def then(request: httpx.Request, follow: Follow) -> httpx.Request:
    """`request`, marked so the client sends `follow(response)` after it succeeds.

    The mark rides in `request.extensions`, which transports ignore.
    """
    request.extensions = {**request.extensions, _KEY: follow}
    return request


def follow_up(request: httpx.Request, response: httpx.Response) -> httpx.Request | None:
    """The request that continues `request`'s operation after `response`, if any.

    Raises:
        ServiceError: whatever `follow` raises when the answer does not allow a next step
            (e.g. a case without any customer e-mail address).
    """
    follow = request.extensions.get(_KEY)
    return follow(response) if callable(follow) else None
