"""`RelaySettings`: the `[relay]` and `[adapters.<name>]` tables of the configuration file.

Data only: `tl_loop.relay` runs what they describe, `tl_loop.review` opens the stores they
name, and `load_config` reads them with the rest of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tl_loop._errors import ConfigurationError
from tl_loop._models import LanguageTag

__all__ = ["RelaySettings", "problems"]


def problems(error: ValidationError, prefix: str = "") -> str:
    """A pydantic error as `key.path: what is wrong` clauses, joined by `; `."""
    return "; ".join(
        f"{prefix}{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
        if e["loc"]
        else e["msg"].removeprefix("Value error, ")
        for e in error.errors()
    )


class RelaySettings(BaseModel):
    """How the relay listens, queues, and talks to agents and customers.

    Args:
        host: the address to listen on.
        port: the port to listen on.
        queue_path: the SQLite queue file (relative paths are taken from the config file).
        queue_url: a PostgreSQL connection string for a queue shared by several relays
            (any replica takes any webhook); replaces `queue_path`. See docs/relay.md,
            "Running several relays".
        queue_table_prefix: the shared queue's tables are `<prefix>_jobs`, `<prefix>_steps`
            and `<prefix>_conversations`.
        workers: worker threads translating and posting.
        ack_budget_ms: when acknowledging a webhook takes longer than this, workers slow
            down (for a second) so webhooks are acknowledged first; 0 disables it.
        lease_seconds: how long a claimed job is held before another worker may take it over
            (a crashed worker's job); must exceed the longest job.
        poll_seconds: how often an idle worker looks for due retries.
        max_attempts: tries per job for failures that are safe to retry.
        retry_backoff_seconds: the first wait before a retry, doubled each time.
        outage_limit_seconds: how long a job waits for a helpdesk that cannot be reached
            (or keeps refusing with 429) before it is given up as dead and the agent is told;
            default 24 h.
        outage_backoff_max_seconds: the longest wait between two tries while a helpdesk is
            down (the wait doubles from `retry_backoff_seconds` up to this).
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
        max_body_bytes: largest webhook body accepted (counted as it streams in, with or
            without a Content-Length).
        body_timeout: seconds a webhook body may take to arrive in all (408 after).
        header_timeout: seconds a connection may take to send a request's headers, and may
            stay idle between requests, before it is closed.
        max_connections: open connections at most; over it the longest-idle one is closed.
            The process's open-files limit is raised to fit, or this is lowered to fit it.
        max_requests_in_flight: webhooks handled at once; more are answered 503 with
            Retry-After (helpdesks redeliver) while `/healthz` keeps answering.
        replay_window_hours: refuse (200 `stale` with the reason, one log line) a webhook
            whose signed event time (`HelpdeskAdapter.signed_at`) is older than this many
            hours (default 72). It outlasts the longest documented redelivery (Salesforce
            keeps retrying an outbound message for 24 h), so a late redelivery is still
            taken, and answered `duplicate` if it was seen; a webhook captured and replayed
            later is refused even after its dedupe key is forgotten. At most
            `retention_days`.
        readiness_probe_seconds: how often `/readyz` re-checks the queue file (SQLite's
            quick_check) and has each engine translate a short sentence; results in between
            are cached.
        forwarded_allow_ips: proxies trusted to say the client's address in
            `X-Forwarded-For` (uvicorn's `forwarded_allow_ips`), for `allow_from` lists
            behind a load balancer.
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
    queue_url: str | None = None
    queue_table_prefix: str = "tl_loop_relay"
    workers: int = Field(default=2, ge=1, le=64)
    ack_budget_ms: float = Field(default=10.0, ge=0)
    lease_seconds: float = Field(default=120.0, gt=0)
    poll_seconds: float = Field(default=0.25, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    retry_backoff_seconds: float = Field(default=5.0, ge=0)
    outage_limit_seconds: float = Field(default=86400.0, gt=0)
    outage_backoff_max_seconds: float = Field(default=300.0, gt=0)
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
    body_timeout: float = Field(default=30.0, gt=0)
    header_timeout: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=1000, ge=1)
    max_requests_in_flight: int = Field(default=256, ge=1)
    replay_window_hours: float = Field(default=72.0, gt=0)
    forwarded_allow_ips: list[str] = Field(default_factory=list)
    readiness_probe_seconds: float = Field(default=30.0, ge=0)
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

    @model_validator(mode="after")
    def _consistent(self) -> RelaySettings:
        if self.trigger.startswith(self.preview_trigger):
            raise ValueError(
                f"relay.trigger {self.trigger!r} starts with preview_trigger "
                f"{self.preview_trigger!r}; every note would be a preview. Pick distinct ones"
            )
        window = self.replay_window_hours
        if window > self.retention_days * 24:
            named = "" if "replay_window_hours" in self.model_fields_set else ", the default"
            raise ValueError(
                f"relay.replay_window_hours ({window:g}{named}) is longer than "
                f"relay.retention_days ({self.retention_days:g} days): a replay after the "
                "duplicates are forgotten would be posted again. Shorten the window or keep "
                "finished jobs longer"
            )
        for kind in ("review", "audit"):
            if getattr(self, f"{kind}_path") is not None and getattr(self, f"{kind}_url"):
                raise ValueError(
                    f"relay.{kind}_path and relay.{kind}_url are both set; keep "
                    f"{kind}_url for PostgreSQL or {kind}_path for SQLite"
                )
        return self

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, source: str = "configuration", base: Path | None = None
    ) -> RelaySettings:
        """Validate the whole parsed TOML (its `relay` and `adapters` tables).

        Relative paths are taken from `base` (the file's folder) when it is given.

        Raises:
            ConfigurationError: names each wrong key and what is wrong with it.
        """
        relay = dict(data.get("relay") or {})
        relay["adapters"] = data.get("adapters") or {}
        try:
            settings = cls.model_validate(relay)
        except ValidationError as error:
            raise ConfigurationError(f"{source}: {problems(error, 'relay.')}") from error
        return settings if base is None else settings.resolved(base)

    def resolved(self, base: Path) -> RelaySettings:
        """These settings with relative store paths taken from `base` (the file's folder)."""
        paths = {"queue_path": self.queue_path, "review_path": self.review_path,
                 "audit_path": self.audit_path}  # fmt: skip
        return self.model_copy(
            update={
                name: base / path
                for name, path in paths.items()
                if path is not None and str(path) != ":memory:" and not path.is_absolute()
            }
        )

    def store_path(self, kind: Literal["review", "audit"]) -> Path:
        """The SQLite file of the review queue or audit log: the one named, else beside the
        job queue (`<queue_path stem>-review.sqlite3`)."""
        named = self.review_path if kind == "review" else self.audit_path
        if named is not None:
            return named
        if str(self.queue_path) == ":memory:":
            return self.queue_path
        return self.queue_path.with_name(f"{self.queue_path.stem}-{kind}.sqlite3")
