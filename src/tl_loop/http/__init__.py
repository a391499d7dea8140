"""The one HTTP layer engines and helpdesk adapters share.

- `error_for_status`: a failed response → the error tree (`RateLimitError`, ...).
- `parse_retry_after` / `retry_after_seconds`: delta-seconds or HTTP date, clamped to [0, 1 day].
- `transport_errors`: httpx transport failures → `ServiceUnavailableError`, with the write rule
  (retryable only when nothing was sent).
- `RetryPolicy` (`should_retry`, `call`, `acall`) and `write_failure`: the read and write rules.
- `drive` / `adrive`: run a sans-I/O exchange, closing it in `finally`.
- `TokenProvider` with a `TokenGrant` (`ClientCredentialsGrant`, ...): one cached OAuth 2.0
  access token, renewed before expiry; `sign_rs256` / `load_rsa_private_key`: JWT assertions
  for the JWT bearer grant (Salesforce, Google service accounts).

```python
import httpx
from tl_loop.http import RetryPolicy, error_for_status, transport_errors

def fetch(client: httpx.Client, request: httpx.Request) -> httpx.Response:
    with transport_errors("acme"):
        response = client.send(request)
    error = error_for_status(response, service="acme")
    if error is not None:
        raise error
    return response

policy = RetryPolicy(attempts=3)
```
"""

from tl_loop.http._flow import Flow, adrive, drive
from tl_loop.http._jwt import load_rsa_private_key, sign_rs256
from tl_loop.http._oauth import AccessToken, ClientCredentialsGrant, TokenGrant, TokenProvider
from tl_loop.http._retry import RetryPolicy, write_failure
from tl_loop.http._retry_after import (
    MAX_RETRY_AFTER,
    clamp_wait,
    parse_retry_after,
    retry_after_seconds,
)
from tl_loop.http._status import describe_response, error_for_status, response_origin
from tl_loop.http._transport import NOT_SENT, transport_errors

__all__ = [
    "MAX_RETRY_AFTER",
    "NOT_SENT",
    "AccessToken",
    "ClientCredentialsGrant",
    "Flow",
    "RetryPolicy",
    "TokenGrant",
    "TokenProvider",
    "adrive",
    "clamp_wait",
    "describe_response",
    "drive",
    "error_for_status",
    "load_rsa_private_key",
    "parse_retry_after",
    "response_origin",
    "retry_after_seconds",
    "sign_rs256",
    "transport_errors",
    "write_failure",
]
