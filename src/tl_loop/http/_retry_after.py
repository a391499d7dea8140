"""How long a service asks us to wait: one parser for every `Retry-After`-style header.

Services say it as delta-seconds (`120`), as an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`),
or in their own headers holding either. Whatever they send, the answer is a finite number of
seconds in [0, one day]: a negative or past value means "now", `nan`/`inf`/garbage is ignored
(the retry policy's own backoff applies), and a wait longer than a day is capped so a typo in
a proxy cannot park a job for a year.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

__all__ = ["MAX_RETRY_AFTER", "clamp_wait", "parse_retry_after", "retry_after_seconds"]

MAX_RETRY_AFTER = 86_400.0
"""The longest wait any service can ask for, in seconds (one day)."""


def clamp_wait(seconds: float) -> float | None:
    """`seconds` within [0, MAX_RETRY_AFTER]; None when it is not a finite number."""
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait for a `Retry-After` value (delta-seconds or HTTP date), or None.

    Args:
        value: the header's value, as sent.
        now: the current time for HTTP dates; by default this machine's clock.
    """
    if value is None or not value.strip():
        return None
    try:
        return clamp_wait(float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT; a naive parse means "-0000"
        moment = moment.replace(tzinfo=UTC)
    return clamp_wait((moment - (now or datetime.now(UTC))).total_seconds())


def retry_after_seconds(response: httpx.Response | Mapping[str, str], *names: str) -> float | None:
    """The wait asked for by the first of `names` (default `Retry-After`) that parses.

    Args:
        response: a response, or just its headers.
        names: header names to try in order, e.g. `"x-ratelimit-retry-after", "retry-after"`.
    """
    headers = response.headers if isinstance(response, httpx.Response) else response
    lowered = {key.lower(): value for key, value in headers.items()}
    for name in names or ("retry-after",):
        seconds = parse_retry_after(lowered.get(name.lower()))
        if seconds is not None:
            return seconds
    return None
