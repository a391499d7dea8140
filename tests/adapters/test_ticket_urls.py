"""Where each adapter says an agent opens a conversation (`ticket_url`), as its platform
documents the agent interface's address; the reviewer page links the conversation id to it."""

from __future__ import annotations

import pytest

from tl_loop.helpdesk import HelpdeskAdapter
from tl_loop_chatwoot import ChatwootAdapter
from tl_loop_freshdesk import FreshdeskAdapter
from tl_loop_front import FrontAdapter
from tl_loop_helpscout import HelpScoutAdapter
from tl_loop_intercom import IntercomAdapter
from tl_loop_salesforce import SalesforceAdapter
from tl_loop_zammad import ZammadAdapter
from tl_loop_zendesk import ZendeskAdapter

ADAPTERS: list[tuple[HelpdeskAdapter, str, str | None]] = [
    (
        ZendeskAdapter(subdomain="acme", email="a@acme.test", api_token="t", webhook_secret="s"),
        "42",
        "https://acme.zendesk.com/agent/tickets/42",
    ),
    (
        FreshdeskAdapter(domain="acme", api_key="k", webhook_secret="s"),
        "17",
        "https://acme.freshdesk.com/helpdesk/tickets/17",
    ),
    (
        ZammadAdapter(base_url="https://support.acme.test/", token="t", webhook_secret="s"),
        "81",
        "https://support.acme.test/#ticket/zoom/81",
    ),
    (
        ChatwootAdapter(
            base_url="https://app.chatwoot.com",
            account_id=3,
            api_access_token="t",
            webhook_secret="s",
        ),
        "25",
        "https://app.chatwoot.com/app/accounts/3/conversations/25",
    ),
    (
        HelpScoutAdapter(app_id="a", app_secret="b", webhook_secret="s"),
        "123",
        "https://secure.helpscout.net/conversation/123",
    ),
    (
        FrontAdapter(api_token="t", webhook_secret="s"),
        "cnv_55c8c149",
        "https://app.frontapp.com/open/cnv_55c8c149",
    ),
    (
        SalesforceAdapter(
            instance_url="https://acme.my.salesforce.com",
            organization_id="00D000000000001",
            webhook_secret="s" * 16,
            access_token="t",
        ),
        "500Hn00001ABCDeIAF",
        "https://acme.my.salesforce.com/500Hn00001ABCDeIAF",
    ),
    # Intercom's inbox address needs the workspace id, which the adapter does not know.
    (IntercomAdapter(access_token="t", client_secret="c", admin_id="1"), "215", None),
]


@pytest.mark.parametrize(
    ("adapter", "conversation", "url"), ADAPTERS, ids=[a.name for a, _, _ in ADAPTERS]
)
def test_each_adapter_links_to_its_agent_interface(
    adapter: HelpdeskAdapter, conversation: str, url: str | None
) -> None:
    assert adapter.ticket_url(conversation) == url


def test_an_id_from_a_webhook_stays_one_path_segment() -> None:
    adapter = ZendeskAdapter(subdomain="acme", oauth_token="t", webhook_secret="s")
    assert adapter.ticket_url("1/../../admin") == (
        "https://acme.zendesk.com/agent/tickets/1%2F..%2F..%2Fadmin"
    )
