"""Every platform's conversation read back oldest first, over real HTTP against its emulator.

The platforms list differently (Front and Help Scout newest first, Chatwoot the newest 20 then
older pages, the rest oldest first) and messages of one second are common; the relay's "latest
message by the customer" is the last one `HelpdeskClient.get_messages` returns.
"""

from __future__ import annotations

import pytest

from tl_loop.helpdesk import HelpdeskClient
from tl_loop.testing.emulators import EMULATORS

COUNT = 45  # past one page where the emulators page small (Chatwoot 20)


@pytest.mark.parametrize("platform", sorted(EMULATORS))
def test_a_conversation_is_read_oldest_first(platform: str) -> None:
    with EMULATORS[platform]() as emulator:
        conversation = emulator.open_conversation()
        written = [f"message {number:02d}" for number in range(COUNT)]
        for number, text in enumerate(written):
            if number % 3:
                emulator.customer_message(conversation, text)  # stored; not sent
            else:
                emulator.agent_note(conversation, text)
        with HelpdeskClient(emulator.adapter()) as client:
            messages = client.get_messages(emulator.conversation_key(conversation))
    # Customer messages (agent notes are listed apart on Front, and Salesforce cannot order
    # records of different kinds created within one second).
    customer = [m for m in messages if m.author_role == "customer"]
    read = [text for m in customer for text in written if text in m.text]
    expected = [text for number, text in enumerate(written) if number % 3]
    assert read == expected
    assert written[-1] in customer[-1].text
