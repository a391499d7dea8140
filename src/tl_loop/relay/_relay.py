"""`Relay`: webhooks in (verify, parse, queue), worker threads out (translate, write once)."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import httpx

from tl_loop._errors import ConfigurationError, InvalidRequestError, WebhookAuthError
from tl_loop._loop import Loop
from tl_loop.helpdesk._adapter import HelpdeskAdapter, HelpdeskEvent, WebhookReply
from tl_loop.helpdesk._client import HelpdeskClient
from tl_loop.http import RetryPolicy
from tl_loop.relay._decisions import record_decision, shares_a_transaction
from tl_loop.relay._metrics import RelayMetrics
from tl_loop.relay._queue import JobStore, open_job_queue
from tl_loop.relay._readiness import Readiness
from tl_loop.relay._services import Services
from tl_loop.relay._settings import (
    RelaySettings,
    adapter_agent_languages,
    adapter_allow_from,
)
from tl_loop.relay._worker import JobRunner
from tl_loop.review import (
    AuditLog,
    ReviewItem,
    ReviewQueue,
    ReviewState,
    open_audit_log,
    open_review_queue,
)
from tl_loop.review._items import check_releasable, parse_state
from tl_loop.review._stats_metrics import register_stats_metrics

__all__ = ["Accepted", "Relay"]

log = logging.getLogger("tl_loop.relay")

_PRUNE_EVERY = 3600.0
_ONE_TRY = RetryPolicy(attempts=1)


@dataclass(frozen=True, slots=True)
class Accepted:
    """How a webhook was answered: HTTP status and a short JSON body, or the adapter's own
    answer (`reply`: a verification challenge, an acknowledgement) when it has one."""

    status: int
    body: dict[str, Any]
    reply: WebhookReply | None = None


class Relay:
    """The relay's engine room, independent of the web framework. Safe to share between threads.

    ```python
    relay = Relay(loop=Loop(engines=[FakeEngine()]), adapters={"memory": adapter},
                  settings=RelaySettings(queue_path=tmp / "q.sqlite3"))
    relay.accept("memory", body, headers)   # what POST /webhooks/memory does
    relay.drain()                           # run queued jobs here (tests), or relay.start()
    ```

    Args:
        loop: the translation loop.
        adapters: adapter instances by webhook name (`/webhooks/<name>`).
        settings: queue, workers, triggers, note format.
        queue: a ready queue; by default the one `settings` name (`queue_url`: PostgreSQL,
            shared with other relays; else the SQLite file `queue_path`).
        http_client: sent through by every `HelpdeskClient` (tests, proxies).
        review: the review queue; by default the one `settings` name (`review_path` or
            `review_url`).
        audit: the audit log; by default the one `settings` name (none with `audit = false`).
        clock: seconds since the epoch, for the replay window (`replay_window_hours`); tests
            replaying webhooks captured long ago set it to just after their capture.

    Raises:
        ConfigurationError: no adapter, or a lease too short for the HTTP timeout.
    """

    def __init__(
        self,
        *,
        loop: Loop,
        adapters: Mapping[str, HelpdeskAdapter],
        settings: RelaySettings | None = None,
        queue: JobStore | None = None,
        http_client: httpx.Client | None = None,
        review: ReviewQueue | None = None,
        audit: AuditLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or RelaySettings()
        self.clock = clock
        if not adapters:
            raise ConfigurationError(
                "the relay has no helpdesk adapter; add an [adapters.<name>] table"
            )
        if self.settings.lease_seconds < 4 * self.settings.http_timeout:
            raise ConfigurationError(
                f"relay.lease_seconds ({self.settings.lease_seconds}) must be at least 4 × "
                f"relay.http_timeout ({self.settings.http_timeout}), or a slow write could "
                "outlive its lease and be sent twice"
            )
        self.loop = loop
        self.adapters = dict(adapters)
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.queue: JobStore = queue or open_job_queue(self.settings, owner=owner)
        self.review = review if review is not None else open_review_queue(self.settings)
        self.audit = audit if audit is not None else open_audit_log(self.settings)
        self.metrics = RelayMetrics(queue_counts=self.queue.overview)
        # Per-language quality figures (volume, review rate, post-edit effort) on /metrics.
        register_stats_metrics(
            self.metrics.registry, audit_log=self.audit, review_queue=self.review
        )
        self.clients = {
            # One try per request: the queue retries (a waiting job survives a restart and
            # shows in /metrics), and a write journaled as started is then never one that was
            # still sleeping between connection attempts when the process died.
            name: HelpdeskClient(
                adapter,
                http_client=http_client,
                timeout=self.settings.http_timeout,
                retry=_ONE_TRY,
            )
            for name, adapter in self.adapters.items()
        }
        languages = {
            name: tuple(adapter_agent_languages(self.settings, name) or loop.agent_languages)
            for name in self.adapters
        }
        self.runner = JobRunner(
            Services(
                loop=loop,
                adapters=self.adapters,
                clients=self.clients,
                queue=self.queue,
                settings=self.settings,
                metrics=self.metrics,
                agent_languages=languages,
                review=self.review,
                audit=self.audit,
            )
        )
        self._allow_from = {
            name: _networks(name, entries)
            for name in self.adapters
            if (entries := adapter_allow_from(self.settings, name)) is not None
        }
        self._readiness = Readiness(
            queue_path=self.queue.where,
            engines=loop.chain.engines,
            guard=loop.chain.guard,
            probe_seconds=self.settings.readiness_probe_seconds,
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_prune = 0.0
        self._prune_lock = threading.Lock()
        self._pressure_until = 0.0

    # -- webhooks ------------------------------------------------------------------------

    def accept(
        self,
        adapter_name: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        client: str | None = None,
        now: float | None = None,
    ) -> Accepted:
        """Verify, parse and queue one webhook; never translates inline.

        Returns 202 (queued), 200 (duplicate, replayed too late, or ignored), 401
        (verification failed), 403 (`client` is not in the adapter's `allow_from`), 404 (no
        such adapter) or 400 (a payload the adapter does not understand, with a one-line
        reason); 503 when the queue cannot store it. The dedupe key is the adapter's
        `replay_key`, which a replay cannot vary. A verified verification request (Front's
        challenge) gets the adapter's `WebhookReply`, and so does an accepted webhook whose
        platform wants an acknowledgement.
        """
        adapter = self.adapters.get(adapter_name)
        if adapter is None:
            self.metrics.webhooks.labels("unknown", "unknown_adapter").inc()
            known = ", ".join(sorted(self.adapters))
            return Accepted(404, {"error": f"no adapter {adapter_name!r}; configured: {known}"})
        allowed = self._allow_from.get(adapter_name)
        if allowed is not None and not _allowed(client, allowed):
            self.metrics.webhooks.labels(adapter_name, "forbidden").inc()
            return Accepted(403, {"error": f"client address {client} is not allowed"})
        try:
            adapter.verify_webhook(body, headers)
        except (WebhookAuthError, ValueError, TypeError) as error:
            log.warning("webhook for %s refused: %s", adapter_name, _one_line(error))
            self.metrics.webhooks.labels(adapter_name, "unauthorized").inc()
            return Accepted(401, {"error": "webhook verification failed"})
        reply = adapter.webhook_reply(body, headers)
        if reply is not None and not reply.process:
            self.metrics.webhooks.labels(adapter_name, "challenge").inc()
            return Accepted(reply.status, {"status": "challenge answered"}, reply=reply)
        accepted = self._queue_event(adapter_name, adapter, body, headers, now)
        if reply is not None and accepted.status < 300:
            return replace(accepted, reply=reply)
        return accepted

    def _queue_event(
        self,
        adapter_name: str,
        adapter: HelpdeskAdapter,
        body: bytes,
        headers: Mapping[str, str],
        now: float | None,
    ) -> Accepted:
        try:
            events = adapter.parse_events(body, headers)
            keyed = _keyed(adapter, events, body, headers)
            for event, _, _ in keyed:
                _check_shape(event, adapter_name)
        except InvalidRequestError as error:
            self.metrics.webhooks.labels(adapter_name, "bad_request").inc()
            return Accepted(400, {"error": _one_line(error)})
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as e:
            # A signed body of a shape the adapter did not expect (a number where an object
            # belongs, nesting 100,000 deep): the sender's mistake, not the relay's.
            self.metrics.webhooks.labels(adapter_name, "bad_request").inc()
            reason = f"unexpected webhook body ({type(e).__name__}: {_one_line(e)})"
            return Accepted(400, {"error": reason})
        # A platform may batch events (Salesforce: up to 100 notifications in one call); each
        # is queued, or dropped as a duplicate, on its own.
        outcomes: list[str] = []
        stale_reason = ""
        jobs: list[int] = []
        for event, key, signed_at in keyed:
            if event.kind == "ignored":
                outcomes.append("ignored")
                continue
            if refusal := self._stale(adapter_name, key, signed_at, now):
                outcomes.append("stale")
                stale_reason = refusal
                continue
            try:
                job_id = self.queue.enqueue(adapter_name, replace(event, event_id=key))
            except Exception as error:  # the queue is broken: say so, and let the sender retry
                log.error("cannot queue a webhook for %s: %s", adapter_name, _one_line(error))
                self._readiness.invalidate()
                self.metrics.webhooks.labels(adapter_name, "queue_error").inc()
                return Accepted(503, {"error": "the relay cannot queue webhooks now; retry later"})
            if job_id is not None:
                jobs.append(job_id)
            outcomes.append("queued" if job_id is not None else "duplicate")
        for outcome in outcomes:
            self.metrics.webhooks.labels(adapter_name, outcome).inc()
        if jobs:
            self._wake.set()
            body_out: dict[str, Any] = {"status": "queued", "job": jobs[0]}
            if len(events) > 1:
                body_out["jobs"] = jobs
            return Accepted(202, body_out)
        if "duplicate" in outcomes:
            return Accepted(200, {"status": "duplicate"})
        if "stale" in outcomes:
            # 200, not 4xx: the sender must not keep redelivering what will never be taken.
            return Accepted(200, {"status": "stale", "reason": stale_reason})
        return Accepted(200, {"status": "ignored"})

    def _stale(
        self, adapter_name: str, key: str, signed_at: float | None, now: float | None
    ) -> str | None:
        """Why the event is refused as a replay (older than the replay window), or None."""
        window = self.settings.replay_window_hours
        if signed_at is None:
            return None
        age = (self.clock() if now is None else now) - signed_at
        if age <= window * 3600:
            return None
        when = datetime.fromtimestamp(signed_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        reason = (
            f"event of {when} is {age / 3600:,.0f} h old, past the relay's {window:g} h "
            "replay window (relay.replay_window_hours); refused as a replay"
        )
        log.warning("webhook for %s refused: event %s: %s", adapter_name, key, reason)
        return reason

    def acknowledged(self, seconds: float) -> None:
        """Record how long a webhook took to acknowledge; slow ones make workers yield."""
        self.metrics.ack_seconds.observe(seconds)
        budget = self.settings.ack_budget_ms / 1000
        if budget and seconds > budget:
            # Worker threads share the interpreter lock with the web server: while
            # acknowledgements are slow, workers pause between jobs (see `_work`).
            self._pressure_until = time.monotonic() + 1.0

    # -- review --------------------------------------------------------------------------

    def decide(
        self, item_id: str, state: ReviewState | str, reviewer: str, final: str | None = None
    ) -> ReviewItem:
        """Record a reviewer's decision and queue carrying it out; returns the decided item.

        Approving or editing a held reply releases it (posts it, once) through its adapter;
        rejecting one tells the agent in a note; approvals and edits teach the translation
        memory. The work runs in a worker (`review` job keyed by the item id), in the
        conversation's order.

        Raises:
            NotFoundError: no such item.
            ReviewConflictError: the item was already decided; nothing more is queued.
            ConfigurationError: an invalid decision, or a held reply whose adapter this
                relay does not have (it is then left pending).
        """
        decision = parse_state(state)
        item = self.review.get(item_id)
        check_releasable(item, decision, self.adapters)
        decided, queued = record_decision(
            self.review, self.queue, item_id, state=decision, reviewer=reviewer, final=final
        )
        if queued:
            self._wake.set()
        return decided

    # -- health --------------------------------------------------------------------------

    def readiness(self) -> dict[str, str]:
        """What is not ready (empty when ready): the queue (writable and sound), an engine
        that translates, the worker threads. The slow checks run at most every
        `readiness_probe_seconds`."""
        problems: dict[str, str] = {}
        try:
            self.queue.check_writable()
        except Exception as error:  # any failure of the queue file means not ready
            problems["queue"] = f"not writable: {error}"
        for name, problem in self._readiness.problems().items():
            problems.setdefault(name, problem)
        if self._threads and not any(thread.is_alive() for thread in self._threads):
            problems["workers"] = "no worker thread is running"
        return problems

    # -- workers -------------------------------------------------------------------------

    def run_pending(self) -> int:
        """Handle every job that is due now, in this thread; returns how many were handled."""
        handled = 0
        while (job := self.queue.claim()) is not None:
            self.runner.run(job)
            handled += 1
        return handled

    def drain(self, *, timeout: float = 10.0) -> int:
        """Run jobs here until the queue has nothing queued or running (tests).

        Raises:
            TimeoutError: jobs were still open after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        handled = 0
        while True:
            handled += self.run_pending()
            counts = self.queue.counts()
            if counts["queued"] == 0 and counts["running"] == 0:
                return handled
            if time.monotonic() > deadline:
                raise TimeoutError(f"jobs still open after {timeout} s: {counts}")
            time.sleep(0.05)

    def warm_up(self) -> None:
        """Load what the first job would load (language models), so it happens before load."""
        self.loop.detect("Hola, buenos días. Hello, good morning.")

    def start(self) -> None:
        """Start the worker threads (idempotent); jobs left by a dead process are resumed."""
        if self._threads:
            return
        self.queue_unreleased()
        recovered = self.queue.recover_orphans()
        if recovered:
            log.info("resuming %d job(s) left running by a stopped relay", recovered)
        self._stop.clear()
        for number in range(self.settings.workers):
            thread = threading.Thread(
                target=self._work, name=f"tl-loop-worker-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, *, timeout: float = 30.0) -> None:
        """Stop the workers after their current job (a job cut short is resumed later)."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=timeout / max(1, len(self._threads)))
        self._threads = []

    def _work(self) -> None:
        while not self._stop.is_set():
            self._maybe_prune()
            try:
                job = self.queue.claim()
            except Exception:
                log.exception("cannot claim a job; retrying")
                job = None
                self._stop.wait(self.settings.poll_seconds)
            if job is None:
                self._wake.wait(self.settings.poll_seconds)
                self._wake.clear()
                continue
            started = time.monotonic()
            self.runner.run(job)
            if time.monotonic() < self._pressure_until:
                # Acknowledgements first: give the web server three times the CPU this job
                # took. The backlog waits on disk, not in memory.
                self._stop.wait(max(0.02, 3 * (time.monotonic() - started)))

    def _maybe_prune(self) -> None:
        now = time.monotonic()
        with self._prune_lock:
            if now - self._last_prune < _PRUNE_EVERY and self._last_prune:
                return
            self._last_prune = now
        removed = self.queue.prune(older_than=self.settings.retention_days * 86400)
        if removed:
            log.info("pruned %d finished job(s)", removed)
        self.queue_unreleased()

    def queue_unreleased(self) -> int:
        """Queue the release of approved or edited held replies that were never released.

        A decision is recorded in the review queue and its release in the job queue, two
        stores: a relay that dies between the two leaves a decided reply with no job. With a
        shared PostgreSQL job queue this sweep (at start and hourly) queues those releases;
        the job's dedupe key makes it a no-op for a release already queued, and a release job
        posts nothing for an item already released. Separate SQLite queues cannot tell which
        relay owns a decision, so the sweep runs only with `queue_url`. Returns how many
        releases were queued.
        """
        if not self.settings.queue_url or shares_a_transaction(self.review, self.queue):
            return 0  # nothing to sweep: one transaction wrote decision and release together
        since = datetime.now(UTC) - timedelta(days=self.settings.retention_days)
        queued = 0
        try:
            for state in (ReviewState.APPROVED, ReviewState.EDITED):
                for item in self.review.list(state=state, since=since, limit=1000):
                    if not item.releasable or item.released or item.adapter not in self.adapters:
                        continue
                    if self.queue.enqueue_review(
                        item.id, adapter=item.adapter, conversation_id=item.conversation_id
                    ):
                        queued += 1
        except Exception as error:  # the sweep must never stop the relay; it runs again
            log.warning("could not look for unreleased review decisions: %s", error)
        if queued:
            log.info("queued %d approved repl(ies) that were never released", queued)
            self._wake.set()
        return queued

    def close(self) -> None:
        """Stop the workers, close the helpdesk clients and the queue (not the loop)."""
        self.stop()
        for client in self.clients.values():
            client.close()
        self.queue.close()
        self.review.close()
        if self.audit is not None:
            self.audit.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Relay adapters={sorted(self.adapters)} queue={self.queue.where!r}>"


def _networks(
    adapter: str, entries: list[str]
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries]
    except ValueError as error:
        raise ConfigurationError(
            f"adapters.{adapter}.allow_from: {error}; list addresses or networks such as "
            '"203.0.113.7" or "203.0.113.0/24"'
        ) from error


def _allowed(
    client: str | None, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    try:
        address = ipaddress.ip_address(client or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def _keyed(
    adapter: HelpdeskAdapter,
    events: list[HelpdeskEvent],
    body: bytes,
    headers: Mapping[str, str],
) -> list[tuple[HelpdeskEvent, str, float | None]]:
    """Each event with its replay key and signed time. Events of one batch that share a key
    (a body hash) are told apart by their place in the batch, which a replay cannot change."""
    keyed = []
    seen: set[str] = set()
    for index, event in enumerate(events):
        key = adapter.replay_key(event, body, headers)
        if key in seen:
            key = f"{key}#{index}"
        seen.add(key)
        keyed.append((event, key, adapter.signed_at(event, body, headers)))
    return keyed


def _check_shape(event: HelpdeskEvent, service: str) -> None:
    """Refuse an event whose fields are not the types the queue and workers rely on."""
    for name in ("event_id", "conversation_id"):
        if not isinstance(getattr(event, name), str):
            raise InvalidRequestError(f"the webhook's {name} is not text", service=service)
    if event.kind != "ignored" and not event.conversation_id:
        raise InvalidRequestError("the webhook names no conversation", service=service)
    for name in ("message_id", "text", "author_id", "customer_language"):
        value = getattr(event, name)
        if value is not None and not isinstance(value, str):
            raise InvalidRequestError(f"the webhook's {name} is not text", service=service)


def _one_line(error: BaseException) -> str:
    """An error's message as one line of at most 300 characters, for responses and logs."""
    text = " ".join(str(error).split())
    return text if len(text) <= 300 else text[:297] + "..."
