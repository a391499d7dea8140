"""Small helpers for helpdesk adapter authors: headers, JSON, errors, pages, languages, KB.

Every adapter reads webhooks, maps error bodies and follows pages; these helpers are the one
copy of that plumbing. Adapters import them from `tl_loop`, never from this private module:

```python
from tl_loop import HelpdeskAdapter, error_body, header, json_body, with_detail

class AcmeAdapter(HelpdeskAdapter):
    name = "acme"

    def parse_event(self, body, headers):
        payload = json_body(body, service=self.name)
        delivery = header(headers, "X-Acme-Delivery")
        ...

    def error_for(self, response):
        error = super().error_for(response)
        detail = str(error_body(response).get("message") or "")
        return None if error is None else with_detail(error, response, detail)
```

None of them does network or file I/O or keeps anything between calls.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html import escape
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from tl_loop._errors import (
    ConfigurationError,
    InvalidRequestError,
    ServiceError,
    ServiceResponseError,
)
from tl_loop._models import ContentType, normalize_tag
from tl_loop.helpdesk._adapter import Article, body_event_id
from tl_loop.http import clamp_wait, response_origin, retry_after_seconds

__all__ = [
    "article_from",
    "as_id",
    "as_mapping",
    "body_event_id",
    "env_int",
    "epoch_seconds",
    "error_body",
    "header",
    "html_to_markdown",
    "iso_timestamp",
    "json_body",
    "language_from_labels",
    "language_hint",
    "next_page_request",
    "numeric_id",
    "path_segment",
    "require_env",
    "response_array",
    "response_object",
    "retry_after_from",
    "seconds_until",
    "text_to_html",
    "translation_target",
    "with_detail",
]

_Json = TypeVar("_Json", dict[str, Any], list[Any])

# -- headers and payloads --------------------------------------------------------------------


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header `name`, matched case-insensitively; None when it is absent.

    Web frameworks hand webhook headers over as plain dicts in whatever case the sender used;
    this reads those and `httpx.Headers` (which joins a repeated header with commas) alike.
    """
    wanted = name.lower()
    found = None
    for key, value in headers.items():
        if key.lower() == wanted:
            found = value
    return found


def json_body(body: bytes, *, service: str, hint: str | None = None) -> dict[str, Any]:
    """The JSON object a webhook body holds.

    Args:
        body: the raw request body.
        service: the adapter's name, which the error carries.
        hint: how the admin fixes a body that is not JSON, e.g. "set the webhook's request
            format to JSON".

    Raises:
        InvalidRequestError: the body is not JSON, or JSON but not an object.
    """
    try:
        try:
            payload = json.loads(body)
        except UnicodeDecodeError:
            # Invalid UTF-8 is repaired like lone surrogates are (text/_repair.py): the
            # signature covered the raw bytes, and the message must still reach the agent.
            payload = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        problem = "the webhook body is not JSON"
        message = f"{problem}; {hint}" if hint else problem
        raise InvalidRequestError(message, service=service) from None
    except RecursionError:
        raise InvalidRequestError(
            "the webhook body is nested too deeply to be a helpdesk payload", service=service
        ) from None
    if not isinstance(payload, dict):
        raise InvalidRequestError("the webhook body is not a JSON object", service=service)
    return payload


def response_object(response: httpx.Response, *, service: str) -> dict[str, Any]:
    """The JSON object an API response holds.

    Raises:
        ServiceResponseError: the body is not a JSON object (the message names the path).
    """
    return _expect(response, dict, service)


def response_array(response: httpx.Response, *, service: str) -> list[Any]:
    """The JSON array an API response holds (for APIs that list without an envelope).

    Raises:
        ServiceResponseError: the body is not a JSON array (the message names the path).
    """
    return _expect(response, list, service)


def as_mapping(value: object) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else an empty one.

    Optional parts of a payload then chain without checks:
    `as_mapping(as_mapping(payload.get("data")).get("item")).get("id")`.
    """
    return value if isinstance(value, Mapping) else {}


def as_id(value: object) -> str | None:
    """An id from a payload (a JSON number or string) as a string.

    Returns:
        None when the value is absent or empty, or not an id at all (true/false, a fraction,
        an object or a list).
    """
    if isinstance(value, bool) or value is None or value == "":
        return None
    return str(value) if isinstance(value, int | str) else None


def numeric_id(value: str) -> int | str:
    """An id as a JSON number when it is all ASCII digits (what most APIs expect in request
    bodies), else the string as given."""
    return int(value) if value.isascii() and value.isdigit() else value


def iso_timestamp(value: object) -> str | None:
    """A payload time as ISO 8601: epoch seconds become UTC (`2023-11-14T22:13:20Z`), strings
    pass through as they are, anything else is None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC).isoformat().replace("+00:00", "Z")
    return value if isinstance(value, str) else None


def epoch_seconds(value: object) -> float | None:
    """A payload time as seconds since the epoch: numbers pass through (milliseconds are
    recognised by size), ISO 8601 strings are parsed (naive ones taken as UTC); else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
        return seconds / 1000 if seconds > 1e11 else seconds
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def path_segment(value: object) -> str:
    """An id made safe to put in a URL path: every reserved character percent-encoded, so
    `1/../../users/me` stays one segment, and `.` / `..` (which URL normalisation would
    resolve) encoded too. Use it for every id that came from a webhook or a response.

    ```python
    assert path_segment("1/../x") == "1%2F..%2Fx"
    assert path_segment("..") == "%2E%2E"
    ```
    """
    text = str(value)
    if text in (".", ".."):
        return text.replace(".", "%2E")
    return quote(text, safe="")


# -- languages -------------------------------------------------------------------------------


def language_hint(value: object) -> str | None:
    """A language tag read from a payload (`pt_br` → `pt-BR`), or None.

    A locale field is a hint for the loop, never a reason to reject a webhook: a missing,
    empty or malformed value is simply None.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return normalize_tag(value)
    except ValueError:
        return None


def language_from_labels(labels: object, *, prefix: str) -> str | None:
    """The language of the first label `<prefix><tag>` (e.g. `lang-es`) whose tag is valid.

    Args:
        labels: the payload's list of label or tag names; anything but a list has none.
        prefix: the prefix that marks a language label.
    """
    for label in labels if isinstance(labels, list) else []:
        if (
            isinstance(label, str)
            and label.startswith(prefix)
            and (tag := language_hint(label.removeprefix(prefix))) is not None
        ):
            return tag
    return None


# -- markup ----------------------------------------------------------------------------------


def text_to_html(text: str, content_type: ContentType) -> str:
    """`text` as an HTML body: HTML passes through; plain text and Markdown are escaped and
    their line breaks kept as `<br>` (Markdown is shown as typed, not rendered)."""
    if content_type == "html":
        return text
    return escape(text).replace("\n", "<br>")


@functools.cache
def _markdown_converter() -> Any:
    # markdownify pulls BeautifulSoup and soupsieve (~0.25 s): load them when a note is
    # first rendered as Markdown, not when an adapter is imported.
    from markdownify import MarkdownConverter

    class _ToMarkdown(MarkdownConverter):
        """markdownify, less what a chat message must not show (scripts and styles), and with
        `<br>` as a plain line break: chat platforms show a newline as a newline."""

        def convert_br(self, el: object, text: str, parent_tags: object) -> str:
            return "\n"

        def convert_script(self, el: object, text: str, parent_tags: object) -> str:
            return ""

        def convert_style(self, el: object, text: str, parent_tags: object) -> str:
            return ""

    return _ToMarkdown(
        heading_style="ATX", bullets="-", escape_misc=False, escape_underscores=False,
        escape_asterisks=False,
    )  # fmt: skip


def html_to_markdown(html: str) -> str:
    """Render an HTML fragment as Markdown with markdownify: paragraphs, line breaks,
    headings, numbered and bulleted lists, bold, italics, code and `<pre>` blocks, links,
    images and tables; scripts and styles are dropped, other tags keep their text.

    For platforms whose messages render Markdown and would show HTML tags literally
    (Chatwoot messages, Front comments).
    """
    # Text stays as written (no backslash escapes): notes carry markers such as "— tl_loop"
    # that the relay looks for to recognise its own notes.
    markdown: str = _markdown_converter().convert(html)
    return re.sub(r"\n{3,}", "\n\n", markdown).strip()


# -- errors and rate limits ------------------------------------------------------------------


def error_body(response: httpx.Response) -> Mapping[str, Any]:
    """The JSON object of an error response, or an empty one when the body is not one.

    Error bodies are often empty or a proxy's HTML page; reading the platform's own message
    from them must never raise.
    """
    try:
        payload = response.json()
    except ValueError:
        return {}
    return as_mapping(payload)


def with_detail(error: ServiceError, response: httpx.Response, detail: str | None) -> ServiceError:
    """`error` (from `HelpdeskAdapter.error_for`) with the platform's own explanation added.

    The message reads `rate limited (HTTP 429 from GET /path): <detail>`; the type, status
    code and `retry_after` stay. Without a `detail`, `error` itself is returned.
    """
    if not detail:
        return error
    what = str(error).removeprefix(f"{error.service}: ").split(" (HTTP", 1)[0]
    return type(error)(
        f"{what} {response_origin(response)}: {detail}",
        service=error.service,
        status_code=error.status_code,
        retry_after=error.retry_after,
    )


def retry_after_from(headers: Mapping[str, str], *names: str) -> float | None:
    """The seconds to wait from the first of `names` that parses (`Retry-After`,
    `X-RateLimit-Retry-After`, …: delta-seconds or an HTTP date, clamped to [0, one day]);
    None when none does."""
    return retry_after_seconds(headers, *names)


def seconds_until(
    headers: Mapping[str, str], name: str, *, now: float | None = None
) -> float | None:
    """The seconds until the epoch time in header `name` (e.g. `X-RateLimit-Reset`), never
    below zero; None when the header is absent or not a finite number.

    Args:
        headers: the response headers.
        name: the header holding the reset time in epoch seconds.
        now: the current epoch time; by default the server's (its `Date` header, so a skewed
            local clock neither shortens nor stretches the wait), else this machine's.
    """
    try:
        reset = float(header(headers, name) or "")
    except ValueError:
        return None
    return clamp_wait(reset - (_server_time(headers) if now is None else now))


# -- pagination ------------------------------------------------------------------------------


def next_page_request(
    response: httpx.Response,
    *,
    headers: Mapping[str, str],
    link: object = None,
    params: Mapping[str, str | int] | None = None,
) -> httpx.Request | None:
    """The GET for the page after `response`, or None when there is none.

    Args:
        response: the page just read.
        headers: the headers the request needs (authorization).
        link: the platform's next-page URL from the page (absolute, or relative to the page's
            URL); used when it is a non-empty string.
        params: otherwise, query parameters to set on the page's URL, e.g. `{"page": 3}` or
            `{"before": "812"}`; None or empty means there is no next page.
    """
    url = response.request.url
    if isinstance(link, str) and link:
        return httpx.Request("GET", url.join(link), headers=headers)
    if params:
        return httpx.Request("GET", url.copy_merge_params(params), headers=headers)
    return None


# -- configuration ---------------------------------------------------------------------------


def require_env(environ: Mapping[str, str] | None, *names: str, service: str) -> Mapping[str, str]:
    """The environment a `from_env` reads: `environ`, or the process's when None.

    Raises:
        ConfigurationError: some of `names` are unset or empty; the message names them all.
    """
    env = os.environ if environ is None else environ
    missing = [name for name in names if not env.get(name)]
    if missing:
        variables = "variables" if len(missing) > 1 else "variable"
        raise ConfigurationError(f"{service}: set the environment {variables} {', '.join(missing)}")
    return env


def env_int(env: Mapping[str, str], name: str, *, service: str) -> int | None:
    """The whole number in environment variable `name`; None when it is unset or empty.

    Raises:
        ConfigurationError: the variable is set to something else than ASCII digits.
    """
    value = env.get(name)
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):
        raise ConfigurationError(f"{service}: {name} must be a whole number, not {value!r}")
    return int(value)


# -- knowledge base --------------------------------------------------------------------------


def article_from(item: Mapping[str, Any], *, locale: str, body: str = "body") -> Article:
    """An `Article` from a platform's article object with `id`, `title` and `updated_at`, its
    text under the key `body`; the article is its own source (`source_id` is its `id`).

    Raises:
        KeyError: `item` has no `id` (filter those out first).
    """
    return Article(
        id=str(item["id"]),
        title=str(item.get("title") or ""),
        body=str(item.get(body) or ""),
        locale=locale,
        updated_at=item.get("updated_at"),
        source_id=str(item["id"]),
    )


def translation_target(article: Article, locale: str) -> tuple[str, bool]:
    """Where a translation of `article` into `locale` goes: the source article's id, and
    whether `article` already is that translation (update it) rather than its source (create
    one). Locales are compared case-insensitively."""
    return article.source_id or article.id, article.locale.lower() == locale.lower()


# -- private ---------------------------------------------------------------------------------


def _expect(response: httpx.Response, shape: type[_Json], service: str) -> _Json:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, shape):
        raise ServiceResponseError(
            f"expected a JSON {'object' if shape is dict else 'array'} from "
            f"{response.request.url.path}",
            service=service,
            status_code=response.status_code,
        )
    return payload


def _server_time(headers: Mapping[str, str]) -> float:
    date = header(headers, "date")
    if date:
        try:
            return parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            pass
    return time.time()
