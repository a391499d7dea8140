"""`HelpdeskClient`: sends an adapter's requests, with a retry rule for reads and one for writes.

Both rules are `tl_loop.http`'s, the same the engines use. Reads (fetch a conversation) are
retried on any retryable failure (timeouts, outages, rate limits) with bounded backoff and the
platform's `Retry-After`. Writes (a note, a reply) are not idempotent, so they are retried only
when the request surely never reached the helpdesk: the connection could not be opened, or the
platform answered 429. After a timeout, a dropped connection or a 5xx the note may have been
stored, so the client raises a non-retryable error instead of risking a duplicate reply.

For platforms that authenticate with OAuth (`HelpdeskAdapter.token_provider`) the client puts
the token on each request: fetched on first use, shared by every thread sending through this
adapter, renewed before it expires and once after a 401 (a refused request is safe to resend).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Self

import httpx

from tl_loop._models import ContentType
from tl_loop.helpdesk._adapter import HelpdeskAdapter, HelpdeskMessage
from tl_loop.helpdesk._chain import follow_up
from tl_loop.helpdesk._outcomes import Rating
from tl_loop.helpdesk._timeline import Timeline, chronological, timeline
from tl_loop.http import RetryPolicy, transport_errors, write_failure

__all__ = ["HelpdeskClient"]


class HelpdeskClient:
    """Sends one adapter's requests over HTTP. Safe to share between threads.

    ```python
    client = HelpdeskClient(adapter)
    messages = client.get_messages("4821")
    client.post_note("4821", "<p>Translation …</p>")
    ```

    Args:
        adapter: the platform whose requests to send and whose errors to map.
        http_client: an `httpx.Client` to send with (proxies, TLS, test transports); by default
            one is opened with `timeout`.
        timeout: seconds for one request.
        retry: how reads (and writes that surely did not arrive) are retried.
        max_pages: most pages read for one conversation, so a looping cursor cannot hang a job.
        sleep: how to wait between tries (tests pass a no-op).
    """

    def __init__(
        self,
        adapter: HelpdeskAdapter,
        *,
        http_client: httpx.Client | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        max_pages: int = 50,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.adapter = adapter
        self.retry = retry or RetryPolicy()
        self.max_pages = max_pages
        self._timeout = timeout
        self._client = http_client
        self._owns_client = http_client is None
        self._sleep = sleep
        self._lock = threading.Lock()

    @property
    def service(self) -> str:
        """The adapter's name, used in error messages."""
        return self.adapter.name

    # -- reads -------------------------------------------------------------------------------

    def read(self, request: httpx.Request) -> httpx.Response:
        """Send a read, retrying retryable failures; return the successful response.

        A chain (see `then`) is read step by step; the last answer is returned.

        Raises:
            ServiceError: the mapped error once retries are used up or the error is final.
        """
        step: httpx.Request | None = request
        while step is not None:
            response = self._read_one(step)
            step = follow_up(step, response)
        return response

    def _read_one(self, request: httpx.Request) -> httpx.Response:
        def attempt() -> httpx.Response:
            response = self._send(request, write=False)
            self._raise_for_status(response)
            return response

        return self.retry.call(attempt, sleep=self._sleep)

    def get_messages(self, conversation_id: str) -> list[HelpdeskMessage]:
        """Every message of a conversation, oldest first (`chronological`: the order the
        relay's "latest message" rests on), following the adapter's pagination.

        Raises:
            ServiceError: a page could not be read.
        """
        return self._read_conversation(conversation_id)[0]

    def _read_conversation(
        self, conversation_id: str
    ) -> tuple[list[HelpdeskMessage], Rating | None]:
        messages: list[HelpdeskMessage] = []
        rating: Rating | None = None
        request: httpx.Request | None = self.adapter.build_get_messages(conversation_id)
        pages = 0
        while request is not None and pages < self.max_pages:
            response = self.read(request)
            messages.extend(self.adapter.parse_messages(response))
            if pages == 0:
                rating = self.adapter.rating_in_messages(conversation_id, response)
            request = self.adapter.next_page(response)
            pages += 1
        return chronological(messages), rating

    def get_ratings(self) -> list[Rating]:
        """Every customer satisfaction rating the platform lists (none where it has no API).

        Raises:
            ServiceError: a page could not be read.
        """
        ratings: list[Rating] = []
        request = self.adapter.build_list_ratings()
        pages = 0
        while request is not None and pages < self.max_pages:
            response = self.read(request)
            ratings.extend(self.adapter.parse_ratings(response))
            request = self.adapter.next_page(response)
            pages += 1
        return ratings

    def get_outcome(self, conversation_id: str) -> tuple[Timeline, Rating | None]:
        """How the conversation was resolved (see `Timeline`), and the rating it carries
        itself where the platform keeps one on the conversation (Intercom)."""
        messages, rating = self._read_conversation(conversation_id)
        return timeline(conversation_id, messages), rating

    # -- writes ------------------------------------------------------------------------------

    def write(self, request: httpx.Request) -> httpx.Response:
        """Send a write at most once, unless the helpdesk surely never received it.

        Retried (bounded): the connection could not be opened, or a 429 rate limit. A chain
        (see `then`) is one write sent step by step; its GET steps are reads.

        Raises:
            ServiceError: `retryable` is True only when the request surely did not arrive
                (retrying later is safe); False when it was refused, or when it may have
                arrived (timeout, dropped connection, 5xx), so the caller must not retry.
        """
        step: httpx.Request | None = request
        while step is not None:
            response = self._read_one(step) if step.method == "GET" else self._write_one(step)
            step = follow_up(step, response)
        return response

    def _write_one(self, request: httpx.Request) -> httpx.Response:
        def attempt() -> httpx.Response:
            response = self._send(request, write=True)
            error = self.adapter.error_for(response)
            if error is not None:
                raise write_failure(error, method=request.method, path=request.url.path)
            return response

        return self.retry.call(attempt, sleep=self._sleep)

    def post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Response:
        """Add an internal note (a write: see `write`)."""
        request = self.adapter.build_post_note(conversation_id, text, content_type=content_type)
        return self.write(request)

    def post_reply(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Response:
        """Send a public reply to the customer (a write: see `write`)."""
        request = self.adapter.build_post_reply(conversation_id, text, content_type=content_type)
        return self.write(request)

    def set_language(self, conversation_id: str, language: str) -> bool:
        """Record the customer language on the ticket; False when nothing was sent (the
        platform has no place for it, it is not configured, or the language is already set).

        Platforms whose write replaces a whole set are read first and written back with
        their other values (`HelpdeskAdapter.build_language_read`).
        """
        adapter = self.adapter
        read = adapter.build_language_read(conversation_id)
        if read is None:
            request = adapter.build_set_language(conversation_id, language)
        else:
            request = adapter.build_set_language_from(conversation_id, language, self.read(read))
        if request is None:
            return False
        self.write(request)
        return True

    # -- plumbing ----------------------------------------------------------------------------

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self._timeout)
            return self._client

    def _send(self, request: httpx.Request, *, write: bool) -> httpx.Response:
        """Send once, with the adapter's OAuth token if it has one (renewed once after a 401)."""
        provider = self.adapter.token_provider
        if provider is None:
            return self._send_as_is(request, write=write)
        token = provider.get(self._fetch_token)
        provider.grant.authorize(request, token)
        response = self._send_as_is(request, write=write)
        if response.status_code != 401:
            return response
        # Revoked, or expired before its time. A 401 is a refusal, so even a write may be
        # sent again; a second 401 with a brand-new token is the credentials' fault.
        provider.invalidate(token)
        provider.grant.authorize(request, provider.get(self._fetch_token))
        return self._send_as_is(request, write=write)

    def _send_as_is(self, request: httpx.Request, *, write: bool) -> httpx.Response:
        with transport_errors(
            self.service, request=request if write else None, what="the helpdesk"
        ):
            return self._http().send(request)

    def _fetch_token(self, token_request: httpx.Request) -> httpx.Response:
        # Read semantics even before a write: nothing of the write has left yet, so a token
        # endpoint that times out leaves the write safe to try again.
        with transport_errors(self.service, what="the OAuth token endpoint"):
            return self._http().send(token_request)

    def _raise_for_status(self, response: httpx.Response) -> None:
        error = self.adapter.error_for(response)
        if error is not None:
            raise error

    def close(self) -> None:
        """Close the HTTP client this object opened (not one it was given)."""
        with self._lock:
            if self._owns_client and self._client is not None:
                self._client.close()
                self._client = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<HelpdeskClient adapter={self.adapter.name!r}>"
