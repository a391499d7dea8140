"""Translation engines: the interface, the built-in engines, the chain and the registry."""

from tl_loop.engines._apertium import ApertiumEngine
from tl_loop.engines._base import (
    TOKEN_PATTERN,
    Capabilities,
    Engine,
    SegmentResult,
    TranslateOptions,
)
from tl_loop.engines._chain import ChainResult, EngineChain, Hop, Route
from tl_loop.engines._guard import BreakerPolicy, BreakerState, EngineGuard, GuardStatus
from tl_loop.engines._http import HTTPEngine, HTTPFlow, RetryPolicy
from tl_loop.engines._registry import create_engine, engine_names, load_engine_class
from tl_loop.engines._routing import RoutingRule

__all__ = [
    "TOKEN_PATTERN",
    "ApertiumEngine",
    "BreakerPolicy",
    "BreakerState",
    "Capabilities",
    "ChainResult",
    "Engine",
    "EngineChain",
    "EngineGuard",
    "GuardStatus",
    "HTTPEngine",
    "HTTPFlow",
    "Hop",
    "RetryPolicy",
    "Route",
    "RoutingRule",
    "SegmentResult",
    "TranslateOptions",
    "create_engine",
    "engine_names",
    "load_engine_class",
]
