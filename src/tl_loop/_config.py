"""Configuration: a TOML file loaded into a pydantic model, or the environment, read on request.

Nothing is read at import time. A file looks like this (every key optional):

```toml
agent_languages = ["en"]
engines = ["apertium"]            # in order of preference
pivots = ["en", "es"]
glossary = "glossaries/acme.csv"  # relative to this file
formality = "formal"

[engine.apertium]                 # keyword options for one engine
modes_dir = "/usr/share/apertium/modes"

[[routing]]                       # per-pair preferences, first match wins
source = "fa"
engines = ["argos"]

[breaker]
failure_threshold = 5
cooldown_seconds = 30

[concurrency]                     # most calls in flight, per engine
libretranslate = 4

[cache]
maxsize = 10000
ttl_seconds = 604800
# backend = "redis"               # shared by many workers
# url = "redis://127.0.0.1:6379/0"

[memory]                          # human-approved translations (SQLite), relative to this file
path = "tl-loop-memory.sqlite3"

[detection]
languages = ["en", "es", "fr", "de"]
min_confidence = 0.8
min_letters = 12

[review]
hold_codes = ["engine_failed", "token_parity"]
hold_at = "error"
flag_at = "warning"
max_length_ratio = 2.5

[[review.rules]]                  # e-mail and KB hold on any warning; first match wins
channel = "email"
hold_at = "warning"
```
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tl_loop._back_translation import RoundTripCheck
from tl_loop._cache import CacheStore, TranslationCache
from tl_loop._errors import ConfigurationError
from tl_loop._glossary import Glossary
from tl_loop._hints import HintRules
from tl_loop._models import LanguageTag, Severity
from tl_loop._policy import PolicyRule, ReviewPolicy, Thresholds
from tl_loop._relay_settings import RelaySettings, problems
from tl_loop.engines._base import SegmentResult
from tl_loop.engines._chain import EngineChain
from tl_loop.engines._guard import BreakerPolicy
from tl_loop.engines._guard_ledger import GuardLedger
from tl_loop.engines._registry import build_engine
from tl_loop.engines._routing import RoutingRule
from tl_loop.stores import (
    PostgresGuardLedger,
    PostgresTranslationMemory,
    RedisGuardLedger,
    RedisTranslationCache,
    RedisTranslationMemory,
    SQLiteTranslationMemory,
    TranslationMemory,
)
from tl_loop.text._language import DEFAULT_LANGUAGES, LanguageDetector, StickyPolicy
from tl_loop.text._protection import Protection

__all__ = ["TlLoopConfig", "load_config"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CacheConfig(_Section):
    """The machine translation cache: in this process, or shared by many workers in Redis."""

    backend: Literal["memory", "redis"] = "memory"
    maxsize: int = Field(default=10_000, gt=0)
    ttl_seconds: float = Field(default=7 * 24 * 3600, gt=0)
    url: str | None = None
    prefix: str = "tl_loop:cache:"

    def build(self) -> CacheStore[SegmentResult]:
        """The cache these settings describe."""
        if self.backend == "redis":
            return RedisTranslationCache(self.url, prefix=self.prefix, ttl=self.ttl_seconds)
        return TranslationCache(maxsize=self.maxsize, ttl=self.ttl_seconds)


class DetectionConfig(_Section):
    """Language detection and the sticky customer-language policy."""

    languages: list[LanguageTag] = Field(default_factory=lambda: list(DEFAULT_LANGUAGES))
    min_confidence: float = Field(default=StickyPolicy().min_confidence, ge=0, le=1)
    min_letters: int = Field(default=StickyPolicy().min_letters, ge=0)


class _PolicySettings(_Section):
    """Which flags hold a reply, which only mark it, and the checks' thresholds."""

    hold_codes: list[str] = Field(default_factory=lambda: sorted(ReviewPolicy().hold_codes))
    hold_at: Severity | None = Severity.ERROR
    flag_at: Severity = Severity.WARNING
    min_length_ratio: float = Thresholds().min_length_ratio
    max_length_ratio: float = Thresholds().max_length_ratio
    max_untranslated_share: float = Thresholds().max_untranslated_share
    wrong_language_confidence: float = Thresholds().wrong_language_confidence
    min_score: float = Thresholds().min_score

    def policy(self) -> ReviewPolicy:
        """The review policy these settings describe."""
        names = {f.name for f in fields(Thresholds)}
        thresholds = Thresholds(**{k: v for k, v in self.model_dump().items() if k in names})
        return ReviewPolicy(
            hold_codes=frozenset(self.hold_codes),
            hold_at=self.hold_at,
            flag_at=self.flag_at,
            thresholds=thresholds,
        )


class ReviewRuleConfig(_PolicySettings):
    """A policy for one channel and/or customer language (`*` matches any)."""

    channel: Literal["chat", "email", "kb", "*"] = "*"
    language: str = "*"


class ReviewConfig(_PolicySettings):
    """The default review policy, and rules for particular channels and languages."""

    rules: list[ReviewRuleConfig] = Field(default_factory=list)
    round_trip: Literal["off", "outbound", "doubtful"] = "off"
    """Translate outbound replies back and flag what changed (`docs/review.md`): every reply,
    only replies another check doubts, or none (previews always read back)."""

    def round_trip_check(self) -> RoundTripCheck | None:
        """The round-trip check these settings ask for, or None when it is off."""
        return None if self.round_trip == "off" else RoundTripCheck(when=self.round_trip)

    def policy_rules(self) -> tuple[PolicyRule, ...]:
        """The per-channel and per-language rules, first match first."""
        return tuple(PolicyRule(rule.policy(), rule.channel, rule.language) for rule in self.rules)


class MemoryConfig(_Section):
    """The translation memory: human-approved translations that win over engines.

    `sqlite` (a file at `path`) for one process; `redis` or `postgres` (at `url`) for many
    workers sharing one memory.
    """

    backend: Literal["sqlite", "redis", "postgres"] = "sqlite"
    path: Path | None = None
    url: str | None = None

    def build(self) -> TranslationMemory | None:
        """The memory these settings describe, or None when none is configured."""
        if self.backend == "redis":
            return RedisTranslationMemory(self.url)
        if self.backend == "postgres":
            if not self.url:
                raise ConfigurationError("memory.url is required for the postgres backend")
            return PostgresTranslationMemory(self.url)
        return SQLiteTranslationMemory(self.path) if self.path else None


class ProtectionConfig(_Section):
    """Which span families are masked (docs/protection.md): all by default.

    `disabled` names families to leave unmasked (the fidelity check still verifies them);
    `patterns` adds regexes of your own, each match masked as a `custom` token.
    """

    disabled: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid(self) -> ProtectionConfig:
        try:
            self.build()
        except ConfigurationError as error:  # refused when the file is read, not at first use
            raise ValueError(str(error)) from error
        return self

    def build(self) -> Protection | None:
        """The protection settings, or None for the defaults.

        Raises:
            ConfigurationError: an unknown family or a pattern that does not compile.
        """
        if not self.disabled and not self.patterns:
            return None
        return Protection(disabled=frozenset(self.disabled), patterns=tuple(self.patterns))


class HintsConfig(_Section):
    """Hints before sending (docs/hints.md): translatability and the customer locale's customs.

    Off by default for outbound replies (previews always show them). `phrases` adds your own
    phrase list for `language`; `locales` your own locale expectations (TOML, as shipped).
    """

    enabled: bool = False
    language: LanguageTag = "en"
    phrases: Path | None = None
    locales: Path | None = None

    def build(self) -> HintRules | None:
        """The hint rules, or None when hints are off."""
        if not self.enabled:
            return None
        return HintRules.default().extended(
            phrases=self.phrases, language=self.language, locales=self.locales
        )


class RoutingConfig(_Section):
    """One routing rule: prefer these engines for pairs matching source → target."""

    source: str = "*"
    target: str = "*"
    engines: list[str] = Field(min_length=1)
    exclusive: bool = False


class BreakerConfig(_Section):
    """When an engine's circuit opens, for how long, and who shares what the breaker learns.

    `backend = "memory"` keeps each process's breakers to itself; `"redis"` or `"postgres"`
    (with `url`) share them, and engines' rate-limit pauses, between relay replicas.
    """

    failure_threshold: int = Field(default=BreakerPolicy().failure_threshold, ge=1)
    cooldown_seconds: float = Field(default=BreakerPolicy().cooldown, gt=0)
    backend: Literal["memory", "redis", "postgres"] = "memory"
    url: str | None = None
    prefix: str = "tl_loop:breaker:"
    table: str = "tl_loop_engine_breakers"

    @model_validator(mode="after")
    def _url_for_a_shared_backend(self) -> BreakerConfig:
        if self.backend != "memory" and not self.url:
            example = (
                "redis://redis.internal:6379/0"
                if self.backend == "redis"
                else ("postgresql://relay@db.internal/tl_loop")
            )
            raise ValueError(f'backend "{self.backend}" needs url = "{example}"')
        return self

    def policy(self) -> BreakerPolicy:
        """When a breaker opens and how long it stays open."""
        return BreakerPolicy(self.failure_threshold, self.cooldown_seconds)

    def ledger(self) -> GuardLedger | None:
        """The shared ledger these settings name, or None for per-process breakers."""
        if self.backend == "redis":
            return RedisGuardLedger(self.url, prefix=self.prefix)
        if self.backend == "postgres":
            assert self.url is not None  # checked by the validator
            return PostgresGuardLedger(self.url, table=self.table)
        return None


class TlLoopConfig(_Section):
    """Everything needed to build a `Loop`: engines, languages, glossary, cache, review policy.

    Load it with `TlLoopConfig.load(path)` or `TlLoopConfig.from_env()`; build the loop with
    `Loop.from_config(config)`.
    """

    agent_languages: list[LanguageTag] = Field(default_factory=lambda: ["en"], min_length=1)
    engines: list[str] = Field(default_factory=lambda: ["apertium"], min_length=1)
    engine: dict[str, dict[str, Any]] = Field(default_factory=dict)
    routing: list[RoutingConfig] = Field(default_factory=list)
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    concurrency: dict[str, int] = Field(default_factory=dict)
    pivots: list[LanguageTag] = Field(default_factory=lambda: ["en", "es"])
    glossary: Path | None = None
    formality: Literal["formal", "informal"] | None = None
    cache: CacheConfig = Field(default_factory=CacheConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    hints: HintsConfig = Field(default_factory=HintsConfig)
    protection: ProtectionConfig = Field(default_factory=ProtectionConfig)
    # The relay's own tables share the file: `tl-loop serve`, `review` and `stats` read them.
    relay: RelaySettings = Field(default_factory=RelaySettings)
    adapters: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _adapters_for_the_relay(self) -> TlLoopConfig:
        # The relay builds adapters from its settings; the file keeps them in their own tables.
        if self.adapters and not self.relay.adapters:
            self.relay = self.relay.model_copy(update={"adapters": dict(self.adapters)})
        return self

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TlLoopConfig:
        """Load a TOML file alone (no environment); relative paths are taken from its folder.

        `load_config(path)` is the same with the environment laid over the file.

        Raises:
            ConfigurationError: the file is missing, is not TOML, or has a wrong key or value.
        """
        return load_config(path, environ={})

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, source: str = "configuration"
    ) -> TlLoopConfig:
        """Validate a mapping (parsed TOML, say) into a configuration.

        Raises:
            ConfigurationError: names each wrong key and what is wrong with it.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise ConfigurationError(f"{source}: {problems(error)}") from error

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TlLoopConfig:
        """`load_config()`: the file `TL_LOOP_CONFIG` names (if any), the variables over it."""
        return load_config(None, environ=environ)

    def detection_languages(self) -> list[str]:
        """The languages detection chooses from: `[detection] languages` and the agents'.

        The agents' languages are always candidates: without them an agent's English note
        would be detected as the nearest language in the list and "translated" from it.
        """
        return list(dict.fromkeys([*self.detection.languages, *self.agent_languages]))

    def build_chain(self) -> EngineChain:
        """The configured engines, in order, with routing rules, breakers and limits.

        Raises:
            ConfigurationError: an unknown engine, bad engine options, or a rule naming an
                engine that is not configured.
        """
        rules = [
            RoutingRule(rule.source, rule.target, tuple(rule.engines), rule.exclusive)
            for rule in self.routing
        ]
        return EngineChain(
            [build_engine(name, self.engine.get(name, {})) for name in self.engines],
            pivots=self.pivots,
            rules=rules,
            breaker=self.breaker.policy(),
            max_concurrency=self.concurrency,
            ledger=self.breaker.ledger(),
        )

    def loop_options(self) -> dict[str, Any]:
        """Keyword arguments for `Loop(...)` / `AsyncLoop(...)`: builds engines and glossary."""
        return {
            "engines": self.build_chain(),
            "glossary": Glossary.load(self.glossary) if self.glossary else None,
            "detector": LanguageDetector(self.detection_languages()),
            "cache": self.cache.build(),
            "policy": self.review.policy(),
            "policy_rules": self.review.policy_rules(),
            "round_trip": self.review.round_trip_check(),
            "sticky": StickyPolicy(
                min_confidence=self.detection.min_confidence,
                min_letters=self.detection.min_letters,
            ),
            "agent_languages": self.agent_languages,
            "memory": self.memory.build(),
            "formality": self.formality,
            "hints": self.hints.build(),
            "protection": self.protection.build(),
        }


# Paths in the file, taken from the file's folder when relative (the engines' own folders too).
_FILE_PATHS: tuple[tuple[str, ...], ...] = (
    ("glossary",),
    ("memory", "path"),
    ("hints", "phrases"),
    ("hints", "locales"),
    ("relay", "queue_path"),
    ("relay", "review_path"),
    ("relay", "audit_path"),
    ("engine", "argos", "packages_dir"),
    ("engine", "apertium", "modes_dir"),
)


def load_config(
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> TlLoopConfig:
    """The one configuration of loop, relay, adapters and KB: a TOML file, the environment over it.

    The file is `path`, else the one `TL_LOOP_CONFIG` names, else none (the defaults). These
    variables override it, whichever way it was named: `TL_LOOP_ENGINES` (comma-separated, in
    order), `TL_LOOP_AGENT_LANGUAGES`, `TL_LOOP_LANGUAGES` (detection set), `TL_LOOP_GLOSSARY`
    (a path, from the current folder). Relative paths in the file are taken from its folder.

    Raises:
        ConfigurationError: the file is missing, is not TOML, or has a wrong key or value.
    """
    env = os.environ if environ is None else environ
    named = path if path is not None else env.get("TL_LOOP_CONFIG") or None
    data: dict[str, Any] = {}
    if named is not None:
        data = _read(Path(named))
        relay = data.setdefault("relay", {})
        if isinstance(relay, dict) and "queue_path" not in relay and "queue_url" not in relay:
            # The default queue file (and the review and audit files beside it) belongs with
            # the configuration that names the relay, not in whatever folder it was started.
            relay["queue_path"] = str(RelaySettings().queue_path)
        _resolve_paths(data, Path(named).parent)
    _overlay(data, env)
    return TlLoopConfig.from_mapping(data, source=str(named) if named else "environment")


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigurationError(f"{path}: configuration file not found") from error
    except IsADirectoryError as error:
        raise ConfigurationError(f"{path}: a folder, not a configuration file") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path}: not valid TOML: {error}") from error


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    for keys in _FILE_PATHS:
        table: Any = data
        for key in keys[:-1]:
            table = table.get(key) if isinstance(table, dict) else None
        if not isinstance(table, dict):
            continue
        value = table.get(keys[-1])
        if isinstance(value, str) and value != ":memory:" and not Path(value).is_absolute():
            table[keys[-1]] = str(base / Path(value).expanduser())


def _overlay(data: dict[str, Any], env: Mapping[str, str]) -> None:
    def listed(name: str) -> list[str] | None:
        value = env.get(name, "").strip()
        return [item.strip() for item in value.split(",") if item.strip()] or None

    if engines := listed("TL_LOOP_ENGINES"):
        data["engines"] = engines
    if agent_languages := listed("TL_LOOP_AGENT_LANGUAGES"):
        data["agent_languages"] = agent_languages
    if languages := listed("TL_LOOP_LANGUAGES"):
        detection = data.setdefault("detection", {})
        if isinstance(detection, dict):
            detection["languages"] = languages
    if glossary := env.get("TL_LOOP_GLOSSARY"):
        data["glossary"] = glossary
