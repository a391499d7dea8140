"""Translation engines: the interface, the built-in engines, the chain and the registry.

Each built-in engine's module loads when its name is first used (`tl_loop.engines.DeepLEngine`,
or `create_engine("deepl")`), so `import tl_loop` costs no engine's import time and needs none
of their optional dependencies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tl_loop.engines._base import (
    TOKEN_PATTERN,
    Capabilities,
    Engine,
    SegmentResult,
    TranslateOptions,
)
from tl_loop.engines._chain import ChainResult, EngineChain, Hop, Route
from tl_loop.engines._guard import BreakerPolicy, BreakerState, EngineGuard, GuardStatus
from tl_loop.engines._guard_ledger import GuardLedger, GuardRecord, InMemoryGuardLedger
from tl_loop.engines._http import HTTPEngine, HTTPFlow, RetryPolicy
from tl_loop.engines._registry import create_engine, engine_names, load_engine_class
from tl_loop.engines._routing import RoutingRule

if TYPE_CHECKING:
    from tl_loop.engines._amazon import AmazonEngine
    from tl_loop.engines._apertium import ApertiumEngine
    from tl_loop.engines._apy import APyEngine
    from tl_loop.engines._argos import ArgosEngine, ArgosModel, install_model, list_models
    from tl_loop.engines._aws_credentials import AWSCredentialProvider, resolve_aws_credentials
    from tl_loop.engines._azure import AzureEngine
    from tl_loop.engines._deepl import DeepLEngine
    from tl_loop.engines._google import GoogleTranslateEngine
    from tl_loop.engines._google_auth import (
        GoogleCredentials,
        application_default_credentials,
        load_credentials_file,
    )
    from tl_loop.engines._google_v3 import GoogleTranslateV3Engine
    from tl_loop.engines._libretranslate import LibreTranslateEngine
    from tl_loop.engines._llm import LLMEngine

__all__ = [
    "TOKEN_PATTERN",
    "APyEngine",
    "AWSCredentialProvider",
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
    "GoogleCredentials",
    "GoogleTranslateEngine",
    "GoogleTranslateV3Engine",
    "GuardLedger",
    "GuardRecord",
    "GuardStatus",
    "HTTPEngine",
    "HTTPFlow",
    "Hop",
    "InMemoryGuardLedger",
    "LLMEngine",
    "LibreTranslateEngine",
    "RetryPolicy",
    "Route",
    "RoutingRule",
    "SegmentResult",
    "TranslateOptions",
    "application_default_credentials",
    "create_engine",
    "engine_names",
    "install_model",
    "list_models",
    "load_credentials_file",
    "load_engine_class",
    "resolve_aws_credentials",
]

_LAZY = {
    "AmazonEngine": "_amazon",
    "AWSCredentialProvider": "_aws_credentials",
    "resolve_aws_credentials": "_aws_credentials",
    "ApertiumEngine": "_apertium",
    "APyEngine": "_apy",
    "ArgosEngine": "_argos",
    "ArgosModel": "_argos",
    "install_model": "_argos",
    "list_models": "_argos",
    "AzureEngine": "_azure",
    "DeepLEngine": "_deepl",
    "GoogleTranslateEngine": "_google",
    "GoogleTranslateV3Engine": "_google_v3",
    "GoogleCredentials": "_google_auth",
    "application_default_credentials": "_google_auth",
    "load_credentials_file": "_google_auth",
    "LibreTranslateEngine": "_libretranslate",
    "LLMEngine": "_llm",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tl_loop.engines' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tl_loop.engines.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value
