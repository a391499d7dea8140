"""`python -m tl_loop.testing.emulators PLATFORM`: run a helpdesk emulator and talk through it.

It prints the `[adapters.PLATFORM]` table for the relay's config file, then reads lines:

- plain text: the customer writes it (a webhook goes to the relay);
- `#tl …` / `#tl? …` (any line starting with `#`): the agent adds it as an internal note;
- `/new`: start a new conversation; `/rate N`: the customer rates it N (1–5); `/quit`.

Notes and replies the relay writes back are printed as they arrive.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterator, Sequence

import httpx

from tl_loop.helpdesk import html_to_markdown
from tl_loop.testing.emulators import EMULATORS, EmulatorServer, emulator_class


def _watch(emulator: EmulatorServer, stop: threading.Event) -> None:
    shown = 0
    while not stop.is_set():
        seen = shown

        def more(seen: int = seen) -> bool:
            return len(emulator.writes()) > seen

        try:
            emulator.wait_for(more, timeout=0.5)
        except TimeoutError:
            continue
        for write in emulator.writes()[seen:]:
            text = html_to_markdown(write.body) if write.content_type == "html" else write.body
            print(f"\n[{write.kind} on {write.conversation_id}]\n{text}\n> ", end="", flush=True)
        shown = len(emulator.writes())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the console; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m tl_loop.testing.emulators",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("platform", choices=sorted(EMULATORS))
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any)")
    parser.add_argument(
        "--relay",
        default="http://127.0.0.1:8080",
        help="the relay's address; webhooks go to RELAY/webhooks/PLATFORM",
    )
    args = parser.parse_args(argv)
    cls = emulator_class(args.platform)
    webhook_url = f"{args.relay.rstrip('/')}/webhooks/{args.platform}"
    with cls(webhook_url=webhook_url, port=args.port) as emulator:
        print(f"{args.platform} emulator on {emulator.url}; webhooks go to {webhook_url}")
        print("Add this table to the relay's config file (tl-loop.toml):\n")
        print(emulator.relay_table())
        stop = threading.Event()
        threading.Thread(target=_watch, args=(emulator, stop), daemon=True).start()
        conversation = emulator.open_conversation()
        print(f"Conversation {conversation.id} is open. Type as the customer; '#tl …' as agent.")
        try:
            for line in _lines():
                line = line.strip()
                if not line:
                    continue
                if line == "/quit":
                    break
                if line == "/new":
                    conversation = emulator.open_conversation()
                    print(f"Conversation {conversation.id} is open.")
                    continue
                if line.startswith("/rate"):
                    score = int(line.split()[1]) if len(line.split()) > 1 else 5
                    emulator.store.rate(conversation, score)
                    print(f"Rated {score}.")
                    continue
                if line.startswith("#"):
                    webhook = emulator.agent_note(conversation, line)
                else:
                    webhook = emulator.customer_message(conversation, line)
                try:
                    response = emulator.send(webhook)
                    print(f"relay answered {response.status_code} {response.text[:200]}")
                except httpx.TransportError as error:
                    print(f"cannot reach the relay at {webhook_url}: {error}")
        finally:
            stop.set()
    return 0


def _lines() -> Iterator[str]:
    while True:
        print("> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            return
        yield line


if __name__ == "__main__":
    sys.exit(main())
