"""Drivers for sans-I/O exchanges: a generator yields requests and receives responses.

A multi-step exchange (upload a glossary, then translate; read a page, then the next) is
written once as a generator, httpx `auth_flow` style, and run by `drive` or `adrive`. The
drivers close the generator in `finally`, so an exchange interrupted by an error or a
cancellation runs its own cleanup instead of being left suspended.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import TypeVar

import httpx

__all__ = ["Flow", "adrive", "drive"]

T = TypeVar("T")

Flow = Generator[httpx.Request, httpx.Response, T]
"""An exchange: yields requests, receives their responses, returns its result."""


def drive(flow: Flow[T], send: Callable[[httpx.Request], httpx.Response]) -> T:
    """Run `flow`, sending each request it yields with `send`; return what it returns."""
    try:
        request = next(flow)
        while True:
            request = flow.send(send(request))
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        flow.close()


async def adrive(flow: Flow[T], send: Callable[[httpx.Request], Awaitable[httpx.Response]]) -> T:
    """Async `drive`."""
    try:
        request = next(flow)
        while True:
            request = flow.send(await send(request))
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        flow.close()
