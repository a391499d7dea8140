"""The ASGI app (Starlette): webhooks, health, readiness and metrics around a `Relay`.

- `POST /webhooks/{adapter}` (or `/webhooks/{adapter}/{secret}` for platforms that can only put
  a shared secret in the URL): 202 queued; 200 duplicate or ignored; 401 forged or stale;
  403 a client address the adapter does not allow; 404 unknown adapter; 400 a payload the
  adapter does not understand; 408 a body too slow to arrive; 413 too large; 503 too many
  webhooks in flight (see `_edge.py` for every limit at the edge). A platform's verification
  request (Front's `X-Front-Challenge`) is answered as the adapter says
  (`HelpdeskAdapter.webhook_reply`).
- `GET /healthz`: 200 while the process serves requests.
- `GET /readyz`: 200 when the queue is writable and an engine is available, else 503 with the
  reasons.
- `GET /metrics`: Prometheus exposition.

Webhooks are verified, parsed and written to the queue in a worker thread (SQLite and HMAC
never block the event loop) and acknowledged at once; translation happens in the relay's
worker threads, started and stopped with the app's lifespan.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from functools import partial
from typing import TYPE_CHECKING

import httpx

from tl_loop._loop import Loop
from tl_loop.helpdesk._adapter import PATH_SECRET_HEADER, PEER_HEADER, HelpdeskAdapter
from tl_loop.relay._edge import BodyRefused, ClientGone, EdgeMiddleware, read_body, set_reason
from tl_loop.relay._relay import Relay
from tl_loop.relay._settings import RelaySettings

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["create_app"]


def create_app(
    relay: Relay | None = None,
    *,
    loop: Loop | None = None,
    adapters: Mapping[str, HelpdeskAdapter] | None = None,
    settings: RelaySettings | None = None,
    http_client: httpx.Client | None = None,
    workers: bool = True,
    close_loop: bool = False,
) -> Starlette:
    """The relay as an ASGI app; `app.state.relay` is the `Relay` behind it.

    ```python
    app = create_app(loop=Loop(engines=[FakeEngine()]), adapters={"memory": adapter},
                     settings=RelaySettings(queue_path="relay.sqlite3"))
    ```

    Args:
        relay: a ready relay; otherwise one is built from `loop`, `adapters` and `settings`.
        loop: the translation loop (when `relay` is not given).
        adapters: adapter instances by webhook name (when `relay` is not given).
        settings: the relay settings (when `relay` is not given).
        http_client: for the helpdesk clients (when `relay` is not given).
        workers: start the worker threads with the app (tests may run jobs by hand instead).
        close_loop: close the loop's engines at shutdown (when the app owns the loop).

    Raises:
        ConfigurationError: neither a relay nor a loop and adapters were given.
    """
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Route

    if relay is None:
        if loop is None or adapters is None:
            from tl_loop._errors import ConfigurationError

            raise ConfigurationError("create_app needs relay=, or loop= and adapters=")
        relay = Relay(loop=loop, adapters=adapters, settings=settings, http_client=http_client)
    ready_relay = relay

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if workers:
            import anyio

            # Load language models before the first webhook: doing it under load would hold
            # the interpreter lock for seconds and stall acknowledgements.
            await anyio.to_thread.run_sync(ready_relay.warm_up)
            ready_relay.start()
        try:
            yield
        finally:
            import anyio

            await anyio.to_thread.run_sync(ready_relay.close)
            if close_loop:
                ready_relay.loop.close()

    app = Starlette(
        routes=[
            Route("/webhooks/{adapter}", _webhook, methods=["POST"]),
            # For platforms that can only put a shared secret in the URL (Salesforce's
            # Outbound Messages): the adapter reads it as PATH_SECRET_HEADER.
            Route("/webhooks/{adapter}/{secret}", _webhook, methods=["POST"]),
            Route("/healthz", _healthz, methods=["GET"]),
            Route("/readyz", _readyz, methods=["GET"]),
            Route("/metrics", _metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(EdgeMiddleware, max_requests_in_flight=relay.settings.max_requests_in_flight)
        ],
    )
    app.state.relay = relay
    from tl_loop.relay._outcomes_page import mount_outcomes_page
    from tl_loop.relay._review_page import ReviewPage, mount_review_page

    mount_review_page(app, ReviewPage.for_relay(relay))  # /review: see docs/review-page.md
    mount_outcomes_page(app, relay)  # /outcomes: see docs/outcomes.md
    return app


async def _webhook(request: Request) -> Response:
    import anyio
    from starlette.responses import JSONResponse, Response

    started = time.perf_counter()
    relay: Relay = request.app.state.relay
    settings = relay.settings
    try:
        body = await read_body(
            request, limit=settings.max_body_bytes, seconds=settings.body_timeout
        )
    except BodyRefused as refused:
        set_reason(request, refused.reason)
        # Close: the rest of the body is never read, so the connection cannot be reused.
        return JSONResponse(
            {"error": refused.reason}, status_code=refused.status, headers={"Connection": "close"}
        )
    except ClientGone:
        set_reason(request, "client closed the connection before its body arrived")
        return JSONResponse({"error": "incomplete body"}, status_code=400)
    # The relay's own headers are set here, never taken from the sender.
    headers = {
        name: value
        for name, value in request.headers.items()
        if name not in (PEER_HEADER, PATH_SECRET_HEADER)
    }
    if request.client is not None:
        headers[PEER_HEADER] = request.client.host
    if "secret" in request.path_params:
        headers[PATH_SECRET_HEADER] = request.path_params["secret"]
    client = request.client.host if request.client else None
    accepted = await anyio.to_thread.run_sync(
        partial(relay.accept, request.path_params["adapter"], body, headers, client=client)
    )
    relay.acknowledged(time.perf_counter() - started)
    if accepted.status >= 400:
        set_reason(request, str(accepted.body.get("error", "")))
    if accepted.reply is not None:  # the platform's own answer: a challenge, an acknowledgement
        reply = accepted.reply
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type)
    return JSONResponse(accepted.body, status_code=accepted.status)


async def _healthz(request: Request) -> Response:
    from starlette.responses import JSONResponse

    return JSONResponse({"status": "alive"})


async def _readyz(request: Request) -> Response:
    import anyio
    from starlette.responses import JSONResponse

    relay: Relay = request.app.state.relay
    problems = await anyio.to_thread.run_sync(relay.readiness)
    if problems:
        return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready"})


async def _metrics(request: Request) -> Response:
    import anyio
    from starlette.responses import Response

    relay: Relay = request.app.state.relay
    body, content_type = await anyio.to_thread.run_sync(relay.metrics.render)
    return Response(body, media_type=content_type)
