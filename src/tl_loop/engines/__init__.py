"""Translation engines: the interface, the built-in engines, the chain and the registry."""

from tl_loop.engines._amazon import AmazonEngine
from tl_loop.engines._apertium import ApertiumEngine
from tl_loop.engines._apy import APyEngine
from tl_loop.engines._argos import ArgosEngine, ArgosModel, install_model, list_models
from tl_loop.engines._azure import AzureEngine
from tl_loop.engines._base import (
    TOKEN_PATTERN,
    Capabilities,
    Engine,
    SegmentResult,
    TranslateOptions,
)
from tl_loop.engines._chain import ChainResult, EngineChain, Hop, Route
from tl_loop.engines._deepl import DeepLEngine
from tl_loop.engines._google import GoogleTranslateEngine
from tl_loop.engines._google_v3 import GoogleTranslateV3Engine
from tl_loop.engines._guard import BreakerPolicy, BreakerState, EngineGuard, GuardStatus
from tl_loop.engines._http import HTTPEngine, HTTPFlow, RetryPolicy
from tl_loop.engines._libretranslate import LibreTranslateEngine
from tl_loop.engines._llm import LLMEngine
from tl_loop.engines._registry import create_engine, engine_names, load_engine_class
from tl_loop.engines._routing import RoutingRule

__all__ = [
    "TOKEN_PATTERN",
    "APyEngine",
    "AmazonEngine",
    "ApertiumEngine",
    "ArgosEngine",
    "ArgosModel",
    "AzureEngine",
    "BreakerPolicy",
    "BreakerState",
    "Capabilities",
    "ChainResult",
    "DeepLEngine",
    "Engine",
    "EngineChain",
    "EngineGuard",
    "GoogleTranslateEngine",
    "GoogleTranslateV3Engine",
    "GuardStatus",
    "HTTPEngine",
    "HTTPFlow",
    "Hop",
    "LLMEngine",
    "LibreTranslateEngine",
    "RetryPolicy",
    "Route",
    "RoutingRule",
    "SegmentResult",
    "TranslateOptions",
    "create_engine",
    "engine_names",
    "install_model",
    "list_models",
    "load_engine_class",
]
