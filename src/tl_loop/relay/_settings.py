"""`RelaySettings`: the `[relay]` and `[adapters.<name>]` tables of the loop's TOML file.

```toml
engines = ["apertium"]              # the loop itself: see TlLoopConfig

[relay]
host = "0.0.0.0"
port = 8080
queue_path = "relay.sqlite3"        # relative to this file
review_path = "review.sqlite3"      # held and flagged replies (or review_url: PostgreSQL)
workers = 2
trigger = "#tl"
preview_trigger = "#tl?"
disclosure = true

[adapters.zendesk]                  # the table name is the webhook path: /webhooks/zendesk
subdomain = "acme"
email = "bot@acme.example"
api_token_env = "ZENDESK_API_TOKEN" # `<option>_env`: read the option from this variable
webhook_secret_env = "ZENDESK_WEBHOOK_SECRET"
```

An adapter table may name its class with `type = "<entry point>"` (default: the table name) or
`class = "package.module:ClassName"`, or say `from_env = true` to build it with the adapter's own
`from_env()`. Secrets belong in the environment, never in the file.
"""

from __future__ import annotations

import importlib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tl_loop._config import TlLoopConfig
from tl_loop._errors import ConfigurationError
from tl_loop._models import LanguageTag
from tl_loop.helpdesk._adapter import HelpdeskAdapter, load_adapter_class
from tl_loop.review import (
    AuditLog,
    PostgresAuditLog,
    PostgresReviewQueue,
    ReviewQueue,
    SQLiteAuditLog,
    SQLiteReviewQueue,
)

__all__ = ["RelaySettings", "build_adapters", "load_config_file"]

_RESERVED = frozenset({"type", "class", "from_env", "agent_languages"})


class RelaySettings(BaseModel):
    """How the relay listens, queues, and talks to agents and customers.

    Args:
        host: the address to listen on.
        port: the port to listen on.
        queue_path: the SQLite queue file (relative paths are taken from the config file).
        workers: worker threads translating and posting.
        ack_budget_ms: when acknowledging a webhook takes longer than this, workers slow
            down (for a second) so webhooks are acknowledged first; 0 disables it.
        lease_seconds: how long a claimed job is held before another worker may take it over
            (a crashed worker's job); must exceed the longest job.
        poll_seconds: how often an idle worker looks for due retries.
        max_attempts: tries per job for failures that are safe to retry.
        retry_backoff_seconds: the first wait before a retry, doubled each time.
        retention_days: how long finished jobs are kept; duplicates are recognised this long.
        trigger: the prefix of an agent note that sends a translated public reply.
        preview_trigger: the prefix of an agent note that asks for a translated preview.
        note_format: `html` (default) or `text` notes.
        disclosure: add a line telling the customer the reply was machine-translated, with the
            agent's original below it.
        disclosure_text: that line, in the agent's language (it is translated too).
        flag_note: after a reply sent with review flags, post a note listing them.
        agent_languages: what agents read; by default the loop's `agent_languages`.
        http_timeout: seconds for one helpdesk API request.
        max_body_bytes: largest webhook body accepted.
        review_path: the SQLite review queue; default `<queue_path stem>-review.sqlite3`
            beside the queue. Held replies wait here for a reviewer.
        review_url: a PostgreSQL connection string for a review queue shared by several
            relays and the CLI; replaces `review_path`.
        review_flagged: also queue replies sent with review flags, for review afterwards.
        audit: record every translation in the audit log (for `tl-loop stats`).
        audit_path: the SQLite audit log; default `<queue_path stem>-audit.sqlite3`.
        audit_url: a PostgreSQL connection string for a shared audit log; replaces
            `audit_path`.
        review_auth: how the reviewer page at `/review` authenticates: `token` (default),
            `basic` or `none` (loopback only); see docs/review-page.md.
        review_token_env: the environment variable holding the reviewer page's token
            (default `TL_LOOP_REVIEW_TOKEN`).
        public_url: the relay's address as reviewers reach it (`https://relay.example.com`),
            for links in notes; without it notes give the path `/review/<id>`.
        adapters: one table per helpdesk; see the module docstring.
    """

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    queue_path: Path = Path("tl-loop-relay.sqlite3")
    workers: int = Field(default=2, ge=1, le=64)
    ack_budget_ms: float = Field(default=10.0, ge=0)
    lease_seconds: float = Field(default=120.0, gt=0)
    poll_seconds: float = Field(default=0.25, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    retry_backoff_seconds: float = Field(default=5.0, ge=0)
    retention_days: float = Field(default=7.0, gt=0)
    trigger: str = Field(default="#tl", min_length=1)
    preview_trigger: str = Field(default="#tl?", min_length=1)
    note_format: Literal["html", "text"] = "html"
    disclosure: bool = False
    disclosure_text: str = "This reply was machine-translated; the original is below."
    flag_note: bool = True
    agent_languages: list[LanguageTag] | None = None
    http_timeout: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=1_000_000, gt=0)
    review_path: Path | None = None
    review_url: str | None = None
    review_flagged: bool = True
    audit: bool = True
    audit_path: Path | None = None
    audit_url: str | None = None
    review_auth: Literal["token", "basic", "none"] | None = None
    review_token_env: str | None = None
    public_url: str | None = None
    adapters: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, source: str = "configuration", base: Path | None = None
    ) -> RelaySettings:
        """Validate the whole parsed TOML (its `relay` and `adapters` tables).

        Raises:
            ConfigurationError: names each wrong key and what is wrong with it.
        """
        relay = dict(data.get("relay") or {})
        relay["adapters"] = data.get("adapters") or {}
        try:
            settings = cls.model_validate(relay)
        except ValidationError as error:
            problems = "; ".join(
                f"relay.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            )
            raise ConfigurationError(f"{source}: {problems}") from error
        if settings.trigger.startswith(settings.preview_trigger):
            raise ConfigurationError(
                f"{source}: relay.trigger {settings.trigger!r} starts with preview_trigger "
                f"{settings.preview_trigger!r}; every note would be a preview. Pick distinct ones"
            )
        for kind in ("review", "audit"):
            if relay.get(f"{kind}_path") is not None and relay.get(f"{kind}_url") is not None:
                raise ConfigurationError(
                    f"{source}: relay.{kind}_path and relay.{kind}_url are both set; keep "
                    f"{kind}_url for PostgreSQL or {kind}_path for SQLite"
                )
        if base is not None:
            paths = {"queue_path": settings.queue_path, "review_path": settings.review_path,
                     "audit_path": settings.audit_path}  # fmt: skip
            settings = settings.model_copy(
                update={
                    name: base / path
                    for name, path in paths.items()
                    if path is not None and not path.is_absolute()
                }
            )
        return settings

    def _beside_queue(self, suffix: str) -> Path:
        if str(self.queue_path) == ":memory:":
            return self.queue_path
        return self.queue_path.with_name(f"{self.queue_path.stem}-{suffix}.sqlite3")

    def open_review_queue(self) -> ReviewQueue:
        """The review queue these settings name: PostgreSQL at `review_url`, else SQLite.

        Raises:
            ConfigurationError: a bad connection string.
            ServiceUnavailableError: PostgreSQL cannot be reached.
        """
        if self.review_url:
            return PostgresReviewQueue(self.review_url)
        return SQLiteReviewQueue(self.review_path or self._beside_queue("review"))

    def open_audit_log(self) -> AuditLog | None:
        """The audit log these settings name, or None when `audit` is off.

        Raises:
            ConfigurationError: a bad connection string.
            ServiceUnavailableError: PostgreSQL cannot be reached.
        """
        if not self.audit:
            return None
        if self.audit_url:
            return PostgresAuditLog(self.audit_url)
        return SQLiteAuditLog(self.audit_path or self._beside_queue("audit"))


def load_config_file(path: str | os.PathLike[str]) -> tuple[TlLoopConfig, RelaySettings]:
    """Read one TOML file into the loop's configuration and the relay's settings.

    Raises:
        ConfigurationError: the file is missing, not TOML, or has a wrong key or value.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigurationError(f"{path}: configuration file not found") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path}: not valid TOML: {error}") from error
    relay = RelaySettings.from_mapping(data, source=str(path), base=path.parent)
    loop_data = {key: value for key, value in data.items() if key not in ("relay", "adapters")}
    config = TlLoopConfig.from_mapping(loop_data, source=str(path))
    if config.glossary is not None and not config.glossary.is_absolute():
        config = config.model_copy(update={"glossary": path.parent / config.glossary})
    memory = config.memory.path
    if memory is not None and not memory.is_absolute():
        # Like the glossary: the memory the relay learns into is found from the file.
        memory_config = config.memory.model_copy(update={"path": path.parent / memory})
        config = config.model_copy(update={"memory": memory_config})
    return config, relay


def _adapter_class(name: str, table: Mapping[str, Any]) -> type[HelpdeskAdapter]:
    spec = table.get("class")
    if spec is None:
        return load_adapter_class(str(table.get("type", name)))
    module_name, _, attribute = str(spec).partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ConfigurationError(
            f"adapters.{name}.class = {spec!r} cannot be imported ({error}); "
            "write it as 'package.module:ClassName'"
        ) from error
    if not (isinstance(found, type) and issubclass(found, HelpdeskAdapter)):
        raise ConfigurationError(f"adapters.{name}.class = {spec!r} is not a HelpdeskAdapter")
    return found


def _options(name: str, table: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key, value in table.items():
        if key in _RESERVED:
            continue
        if key.endswith("_env"):
            variable = str(value)
            if variable not in env:
                raise ConfigurationError(
                    f"adapters.{name}.{key}: environment variable {variable} is not set; "
                    f"export it with the value for {key[:-4]!r}"
                )
            options[key[:-4]] = env[variable]
        else:
            options[key] = value
    return options


def build_adapters(
    settings: RelaySettings, environ: Mapping[str, str] | None = None
) -> dict[str, HelpdeskAdapter]:
    """Build each configured adapter, credentials read from the environment.

    Raises:
        ConfigurationError: an unknown adapter, a missing variable, or options it refuses.
    """
    env = os.environ if environ is None else environ
    adapters: dict[str, HelpdeskAdapter] = {}
    for name, table in settings.adapters.items():
        cls = _adapter_class(name, table)
        try:
            if table.get("from_env"):
                from_env = getattr(cls, "from_env", None)
                if from_env is None:
                    raise ConfigurationError(f"adapters.{name}: {cls.__name__} has no from_env()")
                adapters[name] = from_env(env)
            else:
                adapters[name] = cls(**_options(name, table, env))
        except (TypeError, KeyError) as error:
            raise ConfigurationError(
                f"adapters.{name}: {cls.__name__} refused the options ({error}); "
                "check the option names in its documentation"
            ) from error
    return adapters


def adapter_agent_languages(settings: RelaySettings, name: str) -> list[str] | None:
    """The agent languages for one adapter: its own table's, else the relay's, else None."""
    table = settings.adapters.get(name, {})
    value = table.get("agent_languages")
    return list(value) if value else settings.agent_languages
