"""For helpdesk adapter authors: the adapter interface and the helpers the built-in adapters share.

```python
from tl_loop.helpdesk import HelpdeskAdapter, HelpdeskEvent, json_body, verify_signature
```

`HelpdeskClient` sends an adapter's requests (retry rules for reads and writes, OAuth tokens
through `TokenProvider`).

The adapter classes live in their own packages (`tl_loop_zendesk`, ...), found through the
`tl_loop.adapters` entry points; see `docs/helpdesks/`.
"""

from tl_loop.helpdesk._adapter import (
    OWN_NOTE_MARKER,
    PATH_SECRET_HEADER,
    PEER_HEADER,
    Article,
    EventKind,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    WebhookReply,
    adapter_names,
    carries_own_marker,
    hmac_digest,
    load_adapter_class,
    verify_signature,
)
from tl_loop.helpdesk._chain import follow_up, then
from tl_loop.helpdesk._client import HelpdeskClient
from tl_loop.helpdesk._jwt_bearer import JwtBearerGrant
from tl_loop.helpdesk._outcomes import Rating, parse_time
from tl_loop.helpdesk._payload import (
    article_from,
    as_id,
    as_mapping,
    body_event_id,
    env_int,
    epoch_seconds,
    error_body,
    header,
    html_to_markdown,
    iso_timestamp,
    json_body,
    language_from_labels,
    language_hint,
    next_page_request,
    numeric_id,
    path_segment,
    require_env,
    response_array,
    response_object,
    retry_after_from,
    seconds_until,
    text_to_html,
    translation_target,
    with_detail,
)
from tl_loop.helpdesk._settings import AdapterSettings, Setting
from tl_loop.helpdesk._timeline import Timeline, chronological, timeline
from tl_loop.http import AccessToken, ClientCredentialsGrant, TokenGrant, TokenProvider

__all__ = [
    "OWN_NOTE_MARKER",
    "PATH_SECRET_HEADER",
    "PEER_HEADER",
    "AccessToken",
    "AdapterSettings",
    "Article",
    "ClientCredentialsGrant",
    "EventKind",
    "HelpdeskAdapter",
    "HelpdeskClient",
    "HelpdeskEvent",
    "HelpdeskMessage",
    "JwtBearerGrant",
    "Rating",
    "Setting",
    "Timeline",
    "TokenGrant",
    "TokenProvider",
    "WebhookReply",
    "adapter_names",
    "article_from",
    "as_id",
    "as_mapping",
    "body_event_id",
    "carries_own_marker",
    "chronological",
    "env_int",
    "epoch_seconds",
    "error_body",
    "follow_up",
    "header",
    "hmac_digest",
    "html_to_markdown",
    "iso_timestamp",
    "json_body",
    "language_from_labels",
    "language_hint",
    "load_adapter_class",
    "next_page_request",
    "numeric_id",
    "parse_time",
    "path_segment",
    "require_env",
    "response_array",
    "response_object",
    "retry_after_from",
    "seconds_until",
    "text_to_html",
    "then",
    "timeline",
    "translation_target",
    "verify_signature",
    "with_detail",
]
