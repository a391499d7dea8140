"""Every registered adapter loads, and runs the AdapterContract suite from its test module.

The contract's own teeth are tested here too: an adapter that accepts any signature fails it.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
from collections.abc import Mapping

import httpx
import pytest

from tl_loop import (
    ContentType,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    InvalidRequestError,
    WebhookAuthError,
    adapter_names,
    load_adapter_class,
)
from tl_loop.testing import AdapterContract

ADAPTERS = {
    "zendesk": ("tl_loop_zendesk", "ZendeskAdapter"),
    "freshdesk": ("tl_loop_freshdesk", "FreshdeskAdapter"),
    "intercom": ("tl_loop_intercom", "IntercomAdapter"),
    "zammad": ("tl_loop_zammad", "ZammadAdapter"),
    "chatwoot": ("tl_loop_chatwoot", "ChatwootAdapter"),
    "helpscout": ("tl_loop_helpscout", "HelpScoutAdapter"),
    "front": ("tl_loop_front", "FrontAdapter"),
    "salesforce": ("tl_loop_salesforce", "SalesforceAdapter"),
}
OWNED_HERE = {"zendesk", "freshdesk", "intercom", "zammad"}


def _importable(name: str) -> bool:
    module, class_name = ADAPTERS[name]
    try:
        return hasattr(importlib.import_module(module), class_name)
    except ImportError:
        return False


def adapter_params() -> list[object]:
    # The four adapters written with this suite must import; the other three are collected
    # once their packages exist.
    return [
        pytest.param(
            name,
            marks=()
            if name in OWNED_HERE or _importable(name)
            else pytest.mark.skip(reason=f"{ADAPTERS[name][0]} is not importable yet"),
        )
        for name in ADAPTERS
    ]


@pytest.mark.parametrize("name", adapter_params())
def test_the_adapter_is_registered_and_loads(name: str) -> None:
    assert name in adapter_names()
    adapter_class = load_adapter_class(name)
    assert adapter_class.__name__ == ADAPTERS[name][1]
    assert issubclass(adapter_class, HelpdeskAdapter)
    assert adapter_class.name == name
    assert callable(getattr(adapter_class, "from_env", None)), "adapters configure from_env"


@pytest.mark.parametrize("name", adapter_params())
def test_the_adapter_runs_the_contract(name: str) -> None:
    module = importlib.import_module(f"test_{name}")
    suites = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, AdapterContract)
        and value is not AdapterContract
        and value.__name__.startswith("Test")
    ]
    assert suites, f"tests/adapters/test_{name}.py has no Test… subclass of AdapterContract"


# -- the contract itself -------------------------------------------------------------------

SECRET = "contract-secret"


class LaxAdapter(HelpdeskAdapter):
    """Accepts every webhook: the contract must catch it."""

    name = "lax"
    base_url = "https://lax.example"

    def __init__(self, *, check: bool) -> None:
        self._webhook_secret = SECRET
        self._check = check

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        if not self._check:
            return
        lowered = {key.lower(): value for key, value in headers.items()}
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, lowered.get("x-signature", "")):
            raise WebhookAuthError("lax: bad signature")

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        try:
            payload = json.loads(body)
            return HelpdeskEvent(kind=payload["kind"], event_id="e1", conversation_id="c1")
        except (ValueError, KeyError, TypeError):
            raise InvalidRequestError("lax: bad body", service=self.name) from None

    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        return httpx.Request("GET", f"{self.base_url}/c/{conversation_id}")

    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        return []

    def build_post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        return httpx.Request("POST", f"{self.base_url}/c/{conversation_id}/notes", json={"t": text})

    def build_post_reply(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        return httpx.Request("POST", f"{self.base_url}/c/{conversation_id}/reply", json={"t": text})


def _signed(body: bytes) -> dict[str, str]:
    return {"X-Signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


CUSTOMER = b'{"kind": "customer_message"}'


def test_the_contract_fails_an_adapter_that_accepts_forgeries() -> None:
    suite = AdapterContract()
    checking = LaxAdapter(check=True)
    suite.test_a_forged_signature_is_refused(checking, _signed, CUSTOMER, "X-Signature")
    with pytest.raises(pytest.fail.Exception):
        suite.test_a_forged_signature_is_refused(
            LaxAdapter(check=False), _signed, CUSTOMER, "X-Signature"
        )
    with pytest.raises(pytest.fail.Exception):
        suite.test_a_tampered_body_is_refused(LaxAdapter(check=False), _signed, CUSTOMER, True)


def test_the_contract_fails_an_adapter_that_loops_on_its_own_notes() -> None:
    suite = AdapterContract()
    with pytest.raises(AssertionError):
        suite.test_our_own_note_is_ignored(LaxAdapter(check=True), _signed, CUSTOMER)


def test_the_contract_fails_an_adapter_whose_repr_shows_its_secret() -> None:
    class Leaky(LaxAdapter):
        def __repr__(self) -> str:
            return f"<Leaky secret={self._webhook_secret}>"

    suite = AdapterContract()
    suite.test_errors_reveal_no_secret(LaxAdapter(check=True), _signed, CUSTOMER, "X-Signature", ())
    with pytest.raises(AssertionError):
        suite.test_errors_reveal_no_secret(Leaky(check=True), _signed, CUSTOMER, "X-Signature", ())


def test_the_contract_fails_an_adapter_keyed_by_an_unsigned_delivery_header() -> None:
    class Replayable(LaxAdapter):
        def replay_key(self, event: HelpdeskEvent, body: bytes, headers: Mapping[str, str]) -> str:
            lowered = {key.lower(): value for key, value in headers.items()}
            return lowered.get("x-zammad-delivery") or "body"

    suite = AdapterContract()
    suite.test_a_replay_with_new_delivery_headers_has_the_same_replay_key(
        LaxAdapter(check=True), _signed, CUSTOMER
    )
    with pytest.raises(AssertionError):
        suite.test_a_replay_with_new_delivery_headers_has_the_same_replay_key(
            Replayable(check=True), _signed, CUSTOMER
        )


def test_the_contract_fails_an_adapter_that_puts_raw_ids_in_paths() -> None:
    suite = AdapterContract()
    with pytest.raises(AssertionError):
        suite.test_ids_stay_inside_their_path_segment(LaxAdapter(check=True), _signed, CUSTOMER)
