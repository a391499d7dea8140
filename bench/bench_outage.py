"""The helpdesk down for N minutes (default 10) under default relay settings, with a kill -9.

Issue 12's check, as a repeatable run: a real relay (`python -m tl_loop.relay` under uvicorn,
`[relay]` settings left at their defaults) in front of a helpdesk on loopback
(`MemoryHelpdeskServer`). Each conversation's customer language is learnt first; then the
helpdesk goes down, and while it is down customers and agents keep writing (one webhook every
`--every` seconds, round-robin over the conversations, customer messages and `#tl` replies
taking turns). Halfway through the outage the relay is killed with SIGKILL and started again on
the same queue file. When the helpdesk comes back, the run waits for every note and reply, then
a further quiet period for doubles, and prints:

- webhooks acknowledged during the outage (all must be 202), jobs waiting, failed and dead;
- notes and replies expected, posted, missing, doubled; conversations whose order is wrong;
- seconds from the helpdesk's return to the last delivery (the relay retries at most
  `outage_backoff_max_seconds` apart, 300 s by default, and a write that gets through makes
  every waiting job due at once).

Mostly idle waiting: a 10-minute run costs seconds of CPU. Not run in CI (the suite has the
shortened version, tests/integration/test_relay_outage_e2e.py).

    .venv/bin/python bench/bench_outage.py --minutes 10
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from relay_servers import RelayProcess
from tl_loop.testing import MemoryHelpdesk, MemoryHelpdeskServer

SECRET = "bench-outage-secret"
QUIET_SECONDS = 15.0  # after the last delivery: time for a double to show up


@dataclass(frozen=True)
class Sent:
    """One webhook and the write it must cause: a note (customer) or a reply (agent)."""

    conversation: str
    event_id: str
    kind: str  # "note" or "reply"
    text: str  # what the webhook carries
    expect: str  # what the helpdesk must receive (the translation)


def customer_text(n: int) -> tuple[str, str]:
    return (f"Hola, mi pedido número {n} no ha llegado todavía.",
            f"Hello, my order number {n} has not arrived yet.")  # fmt: skip


def agent_text(n: int) -> tuple[str, str]:
    return f"Your order number {n} ships today.", f"Su pedido número {n} se envía hoy."


def write_config(directory: Path, helpdesk_url: str, count: int) -> Path:
    """Default `[relay]` settings: only where the queue lives is named."""
    pairs = dict(customer_text(n) for n in range(count)) | dict(agent_text(n) for n in range(count))
    table = "\n".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in pairs.items())
    config = directory / "tl-loop.toml"
    config.write_text(
        f"""
engines = ["fake"]
agent_languages = ["en"]

[engine.fake.translations]
{table}

[detection]
languages = ["en", "es"]

[relay]
queue_path = "queue.sqlite3"

[adapters.memory]
class = "tl_loop.testing._memory_helpdesk:MemoryHelpdesk"
base_url = "{helpdesk_url}"
webhook_secret_env = "BENCH_OUTAGE_SECRET"
""",
        encoding="utf-8",
    )
    return config


def event(sent: Sent) -> bytes:
    kind = "customer_message" if sent.kind == "note" else "agent_note"
    text = sent.text if sent.kind == "note" else f"#tl {sent.text}"
    return MemoryHelpdesk.event_body(
        event_id=sent.event_id, conversation_id=sent.conversation, text=text, kind=kind
    )


def log(started: float, message: str) -> None:
    print(f"[{time.monotonic() - started:7.1f} s] {message}", flush=True)


def jobs(relay: RelayProcess, status: str) -> int:
    return int(relay.metric(f'tl_loop_queue_jobs{{status="{status}"}}'))


def check(helpdesk: MemoryHelpdeskServer, sent: list[Sent]) -> dict[str, int]:
    """Each expected write posted exactly once, and each conversation's in the order sent."""
    posted = [p for p in helpdesk.posted() if p.kind in ("note", "reply")]
    missing = doubled = 0
    for item in sent:
        found = sum(1 for p in posted if p.kind == item.kind and item.expect in p.body)
        missing += found == 0
        doubled += found > 1
    out_of_order = 0
    for conversation in sorted({item.conversation for item in sent}):
        wanted = [(s.kind, s.expect) for s in sent if s.conversation == conversation]
        got = [p for p in posted if p.conversation_id == conversation]
        positions = [
            next(i for i, p in enumerate(got) if p.kind == kind and text in p.body)
            for kind, text in wanted
            if any(p.kind == kind and text in p.body for p in got)
        ]
        out_of_order += positions != sorted(positions)
    return {"expected": len(sent), "posted": len(posted), "missing": missing,
            "doubled": doubled, "conversations out of order": out_of_order}  # fmt: skip


def delivered(helpdesk: MemoryHelpdeskServer, sent: list[Sent]) -> bool:
    posted = [(p.kind, p.body) for p in helpdesk.posted()]
    return all(any(k == s.kind and s.expect in b for k, b in posted) for s in sent)


def run(minutes: float, conversations: int, every: float) -> int:
    outage = minutes * 60
    count = int(outage // every) + conversations + 1
    numbers = iter(range(count))
    names = [f"c{n}" for n in range(conversations)]
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="bench-outage-") as tmp,
        MemoryHelpdeskServer() as helpdesk,
    ):
        adapter = MemoryHelpdesk(base_url=helpdesk.url, webhook_secret=SECRET)
        config = write_config(Path(tmp), helpdesk.url, count)
        relay = RelayProcess(config, env={"BENCH_OUTAGE_SECRET": SECRET}).start()
        try:
            sent: list[Sent] = []

            def send(item: Sent) -> int:
                sent.append(item)
                return relay.post(adapter, event(item)).status_code

            for name in names:  # each conversation's language is known before the outage
                text, expect = customer_text(next(numbers))
                assert send(Sent(name, f"{name}-hello", "note", text, expect)) == 202
            helpdesk.wait_for(lambda: delivered(helpdesk, sent), timeout=120)
            log(started, f"relay up, {conversations} conversations started; helpdesk goes down")

            helpdesk.go_down()
            down_at = time.monotonic()
            statuses: list[int] = []
            killed = False
            waiting_before_kill = 0
            turn = 0
            while time.monotonic() - down_at < outage:
                if not killed and time.monotonic() - down_at >= outage / 2:
                    waiting_before_kill = jobs(relay, "waiting")
                    relay.kill()  # kill -9 in the middle of the outage
                    relay.start()
                    killed = True
                    log(started, f"relay killed (-9) with {waiting_before_kill} jobs waiting; "
                                 "restarted")  # fmt: skip
                name = names[turn % conversations]
                n = next(numbers)
                if turn // conversations % 2 == 0:
                    text, expect = agent_text(n)
                    item = Sent(name, f"{name}-{n}", "reply", text, expect)
                else:
                    text, expect = customer_text(n)
                    item = Sent(name, f"{name}-{n}", "note", text, expect)
                statuses.append(send(item))
                turn += 1
                time.sleep(max(0.0, min(every, outage - (time.monotonic() - down_at))))
            waiting_at_return = jobs(relay, "waiting")
            queued_at_return = jobs(relay, "queued")  # behind a waiting job of their conversation
            helpdesk.come_back()
            back_at = time.monotonic()
            log(started, f"helpdesk back after {back_at - down_at:.0f} s; {len(statuses)} "
                         f"webhooks sent while down, {waiting_at_return} jobs waiting, "
                         f"{queued_at_return} queued")  # fmt: skip

            helpdesk.wait_for(lambda: delivered(helpdesk, sent), timeout=900)
            last = time.monotonic()
            log(started, f"everything delivered {last - back_at:.1f} s after the return")
            time.sleep(QUIET_SECONDS)
            figures = check(helpdesk, sent)
            failed, dead = jobs(relay, "failed"), jobs(relay, "dead")
        finally:
            relay.stop()

    accepted = sum(1 for status in statuses if status == 202)
    rows = [
        ("outage (helpdesk down)", f"{outage / 60:g} min, kill -9 at {outage / 120:g} min"),
        ("webhooks while down", f"{len(statuses)} sent, {accepted} acknowledged 202"),
        ("jobs waiting at the kill", f"{waiting_before_kill}"),
        ("jobs at the return", f"{waiting_at_return} waiting, {queued_at_return} queued"),
        ("notes + replies", f"{figures['expected']} expected, {figures['posted']} posted"),
        ("missing / doubled", f"{figures['missing']} / {figures['doubled']}"),
        ("conversations out of order", f"{figures['conversations out of order']}/{conversations}"),
        ("failed / dead jobs", f"{failed} / {dead}"),
        ("return → last delivery", f"{last - back_at:.1f} s"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    bad = (accepted != len(statuses) or figures["missing"] or figures["doubled"]
           or figures["conversations out of order"] or failed or dead)  # fmt: skip
    return 1 if bad else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the helpdesk is down")
    parser.add_argument("--conversations", type=int, default=6)
    parser.add_argument("--every", type=float, default=10.0,
                        help="seconds between two webhooks while the helpdesk is down")  # fmt: skip
    args = parser.parse_args()
    raise SystemExit(run(args.minutes, args.conversations, args.every))


if __name__ == "__main__":
    main()
