"""`Webhooks`: posts signed webhooks to a relay's ASGI app in process."""

from __future__ import annotations

import anyio
import httpx

from tl_loop.relay import Relay, create_app
from tl_loop.testing import MemoryHelpdesk


class Webhooks:
    """Posts to the relay's ASGI app in process (no lifespan: jobs run by `relay.drain()`)."""

    def __init__(self, relay: Relay, adapter: MemoryHelpdesk) -> None:
        self.relay = relay
        self.adapter = adapter
        self.app = create_app(relay, workers=False)

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://relay") as client:
                return await client.request(method, path, **kwargs)  # type: ignore[arg-type]

        return anyio.run(send)

    def post(
        self, body: bytes, *, adapter: str = "memory", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        signed = self.adapter.sign(body) if headers is None else headers
        return self.request("POST", f"/webhooks/{adapter}", content=body, headers=signed)

    def customer(
        self, event_id: str, text: str, *, conversation: str = "c1", **kw: object
    ) -> httpx.Response:
        body = MemoryHelpdesk.event_body(
            event_id=event_id,
            conversation_id=conversation,
            text=text,
            **kw,  # type: ignore[arg-type]
        )
        return self.post(body)

    def agent(
        self, event_id: str, text: str, *, conversation: str = "c1", **kw: object
    ) -> httpx.Response:
        body = MemoryHelpdesk.event_body(
            event_id=event_id,
            conversation_id=conversation,
            text=text,
            kind="agent_note",
            **kw,  # type: ignore[arg-type]
        )
        return self.post(body)
