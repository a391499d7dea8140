"""Contract suites for plug-in authors: the behaviour every engine and adapter owes the loop.

Public through `tl_loop.testing`; kept apart because it needs pytest, which tl_loop itself does
not depend on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import anyio
import httpx
import pytest

from tl_loop._errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServiceError,
    ServiceUnavailableError,
    TlLoopError,
    WebhookAuthError,
)
from tl_loop.engines._base import TOKEN_PATTERN, Engine, SegmentResult
from tl_loop.helpdesk._adapter import HelpdeskAdapter, HelpdeskEvent, load_adapter_class

__all__ = ["AdapterContract", "EngineContract"]


class EngineContract:
    """The behaviour every engine owes the loop, as a pytest suite for engine authors.

    Subclass it (with a name starting `Test`) and define the fixtures `contract_engine` (an
    engine ready to translate; fake its service if it has one) and `contract_pair` (a
    `(source, target)` it supports). Override `contract_secrets` to list strings (API keys) that
    must never appear in the engine's `repr`.
    """

    def test_one_result_per_segment_in_order(
        self, contract_engine: Engine, contract_pair: tuple[str, str]
    ) -> None:
        """A batch gives back one result per segment, in the same order."""
        source, target = contract_pair
        segments = ["Thank you for your patience.", "Your order has shipped.", "Hello"]
        results = contract_engine.translate_batch(segments, source=source, target=target)
        assert len(results) == len(segments)
        assert all(isinstance(result.text, str) and result.text for result in results)
        singles = [
            contract_engine.translate_batch([segment], source=source, target=target)[0].text
            for segment in segments
        ]
        assert [result.text for result in results] == singles

    def test_protected_tokens_come_back_unchanged(
        self, contract_engine: Engine, contract_pair: tuple[str, str]
    ) -> None:
        """Every sentinel token in a segment appears exactly once in its translation."""
        source, target = contract_pair
        [result] = contract_engine.translate_batch(
            ["Your order ⟦0⟧ ships to ⟦1⟧ today."], source=source, target=target
        )
        assert sorted(TOKEN_PATTERN.findall(result.text)) == ["⟦0⟧", "⟦1⟧"]

    def test_an_empty_batch_is_empty(
        self, contract_engine: Engine, contract_pair: tuple[str, str]
    ) -> None:
        """Nothing to translate costs nothing and fails nothing."""
        source, target = contract_pair
        assert contract_engine.translate_batch([], source=source, target=target) == []

    def test_it_supports_the_pair_it_translates(
        self, contract_engine: Engine, contract_pair: tuple[str, str]
    ) -> None:
        """`supports` agrees with translation, and `is_available` with being usable."""
        assert contract_engine.supports(*contract_pair)
        assert contract_engine.is_available()

    def test_async_gives_the_same_results(
        self, contract_engine: Engine, contract_pair: tuple[str, str]
    ) -> None:
        """`atranslate_batch` and `translate_batch` agree."""
        source, target = contract_pair
        segments = ["Please restart the app.", "It works now."]

        async def run() -> list[SegmentResult]:
            return await contract_engine.atranslate_batch(segments, source=source, target=target)

        sync = contract_engine.translate_batch(segments, source=source, target=target)
        assert [r.text for r in anyio.run(run)] == [r.text for r in sync]

    def test_name_version_and_limits_are_usable(self, contract_engine: Engine) -> None:
        """The cache key and the batcher rely on these."""
        assert contract_engine.name
        assert isinstance(contract_engine.version, str)
        assert contract_engine.version
        assert contract_engine.capabilities.max_items >= 1
        assert contract_engine.capabilities.max_chars >= 1

    def test_repr_reveals_no_secret(
        self, contract_engine: Engine, contract_secrets: Sequence[str]
    ) -> None:
        """API keys never appear in `repr`, so they never reach logs."""
        shown = repr(contract_engine)
        assert all(secret not in shown for secret in contract_secrets if secret)

    def test_close_twice_is_safe(self, contract_engine: Engine) -> None:
        """Closing is idempotent."""
        contract_engine.close()
        contract_engine.close()

    @pytest.fixture
    def contract_secrets(self) -> Sequence[str]:
        """Strings that must never appear in the engine's repr; none by default."""
        return ()


_SECRET_ATTRIBUTE_HINTS = ("secret", "token", "password", "api_key", "apikey", "authorization")
_NOT_SECRET_HINTS = ("header", "field", "prefix", "url", "name")


def _mutate(value: str) -> str:
    """`value` with one character changed, keeping it well-formed (same length, same alphabet)."""
    index = len(value) // 2
    replacement = "B" if value[index] == "A" else "A"
    if value[index].isdigit():
        replacement = "1" if value[index] == "0" else "0"
    elif value[index].islower():
        replacement = "b" if value[index] == "a" else "a"
    return value[:index] + replacement + value[index + 1 :]


_DELIVERY_HEADERS = (
    "X-Zammad-Delivery",
    "X-Chatwoot-Delivery",
    "X-Zendesk-Webhook-Invocation-Id",
    "X-Request-Id",
    "X-Delivery-Id",
    "X-Webhook-Id",
)


def _replays(headers: dict[str, str]) -> list[dict[str, str]]:
    """The headers of replays an attacker could send: each header changed in turn, then new
    delivery ids added, twice over (two replays must not get two keys either)."""
    replays = []
    for name, value in headers.items():
        if value:
            replays.append({**headers, name: _mutate(value)})
    for round_ in ("1", "2"):
        replays.append({**headers, **{name: f"replay-{round_}" for name in _DELIVERY_HEADERS}})
    return replays


def _secret_values(adapter: HelpdeskAdapter) -> list[str]:
    # Instance attributes that look like credentials: the repr and errors must not show them.
    found: list[str] = []
    attributes: dict[str, object] = getattr(adapter, "__dict__", {})
    for name, value in attributes.items():
        lowered = name.lower()
        credential = any(hint in lowered for hint in _SECRET_ATTRIBUTE_HINTS) and not any(
            hint in lowered for hint in _NOT_SECRET_HINTS
        )
        if credential and isinstance(value, str) and len(value) >= 4:
            found.append(value)
    return found


class AdapterContract:
    """The behaviour every helpdesk adapter owes the relay, as a pytest suite for adapter authors.

    Subclass it (with a name starting `Test`) and define four fixtures:

    - `contract_adapter`: the adapter, configured with a known webhook secret;
    - `signed_webhook`: a function `(body: bytes) -> dict[str, str]` returning headers that
      authenticate `body` (timestamped now where the platform signs timestamps);
    - `customer_message_body`: the bytes of a realistic webhook for a customer's message;
    - `own_note_body`: the bytes of a webhook for a note tl_loop itself posted.

    Override `contract_replay_window` (seconds) if the platform signs a timestamp,
    `contract_signs_body` (False) if it sends a shared secret rather than a body signature,
    `contract_signature_header` if the header carrying the signature or shared secret is not
    named with "signature", "secret" or "token", `contract_secrets` to list more strings that
    must never appear in `repr` or errors, and `contract_rate_limit` if the platform does not
    send `Retry-After` on 429.
    """

    # -- fixtures the subclass may override -------------------------------------------------

    @pytest.fixture
    def contract_replay_window(self) -> float | None:
        """The timestamp window in seconds, or None when the platform signs no timestamp."""
        return None

    @pytest.fixture
    def contract_signs_body(self) -> bool:
        """False when the platform sends a shared secret instead of a signature of the body."""
        return True

    @pytest.fixture
    def contract_signature_header(self, signed_webhook: Callable[[bytes], dict[str, str]]) -> str:
        """The header carrying the signature (or shared secret); guessed from its name."""
        names = [
            name
            for name in signed_webhook(b"{}")
            if any(hint in name.lower() for hint in ("signature", "secret", "token"))
            or name.lower() == "authorization"
        ]
        if len(names) != 1:
            pytest.fail(
                f"cannot tell which of {names or 'the headers'} carries the signature; "
                "override the `contract_signature_header` fixture"
            )
        return names[0]

    @pytest.fixture
    def contract_secrets(self) -> Sequence[str]:
        """More strings that must never appear in repr or errors (credential-named attributes
        of the adapter are checked anyway)."""
        return ()

    @pytest.fixture
    def contract_rate_limit(self) -> tuple[dict[str, str], float]:
        """Headers of a 429 response and the wait in seconds they mean."""
        return {"Retry-After": "7"}, 7.0

    # -- webhooks ----------------------------------------------------------------------------

    def test_a_signed_webhook_verifies(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        customer_message_body: bytes,
    ) -> None:
        """Headers made for the body authenticate it, whatever the case of their names."""
        headers = signed_webhook(customer_message_body)
        contract_adapter.verify_webhook(customer_message_body, headers)
        contract_adapter.verify_webhook(
            customer_message_body, {name.lower(): value for name, value in headers.items()}
        )
        contract_adapter.verify_webhook(
            customer_message_body, {name.upper(): value for name, value in headers.items()}
        )

    def test_a_forged_signature_is_refused(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        customer_message_body: bytes,
        contract_signature_header: str,
    ) -> None:
        """One character changed in the signature and the webhook is refused."""
        headers = signed_webhook(customer_message_body)
        headers[contract_signature_header] = _mutate(headers[contract_signature_header])
        with pytest.raises(WebhookAuthError):
            contract_adapter.verify_webhook(customer_message_body, headers)

    def test_a_tampered_body_is_refused(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        customer_message_body: bytes,
        contract_signs_body: bool,
    ) -> None:
        """Headers signed for one body do not authenticate another."""
        if not contract_signs_body:
            pytest.skip("the platform authenticates with a shared secret, not a body signature")
        headers = signed_webhook(customer_message_body)
        tampered = customer_message_body.replace(b"}", b" }", 1)
        with pytest.raises(WebhookAuthError):
            contract_adapter.verify_webhook(tampered, headers)

    def test_a_missing_signature_is_refused(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        customer_message_body: bytes,
        contract_signature_header: str,
    ) -> None:
        """No signature, no entry; an empty header counts as none."""
        headers = signed_webhook(customer_message_body)
        del headers[contract_signature_header]
        with pytest.raises(WebhookAuthError):
            contract_adapter.verify_webhook(customer_message_body, headers)
        with pytest.raises(WebhookAuthError):
            contract_adapter.verify_webhook(customer_message_body, {})

    def test_a_stale_timestamp_is_refused(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        customer_message_body: bytes,
        contract_replay_window: float | None,
    ) -> None:
        """A replayed (or far-future) delivery falls outside the window."""
        if contract_replay_window is None:
            pytest.skip("the platform signs no timestamp")
        headers = signed_webhook(customer_message_body)
        now = time.time()
        contract_adapter.verify_webhook(customer_message_body, headers, now=now)
        for skew in (contract_replay_window + 60, -(contract_replay_window + 60)):
            with pytest.raises(WebhookAuthError):
                contract_adapter.verify_webhook(customer_message_body, headers, now=now + skew)

    def test_errors_reveal_no_secret(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        customer_message_body: bytes,
        contract_signature_header: str,
        contract_secrets: Sequence[str],
    ) -> None:
        """Neither `repr` nor a refusal message shows a credential."""
        secrets = [*contract_secrets, *_secret_values(contract_adapter)]
        headers = signed_webhook(customer_message_body)
        headers[contract_signature_header] = _mutate(headers[contract_signature_header])
        with pytest.raises(WebhookAuthError) as refused:
            contract_adapter.verify_webhook(customer_message_body, headers)
        for shown in (repr(contract_adapter), str(refused.value)):
            assert all(secret not in shown for secret in secrets if secret), shown

    # -- events ------------------------------------------------------------------------------

    def test_a_customer_message_is_parsed(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        customer_message_body: bytes,
    ) -> None:
        """The relay learns it is a customer message, in which conversation, under which id."""
        event = contract_adapter.parse_event(
            customer_message_body, signed_webhook(customer_message_body)
        )
        assert isinstance(event, HelpdeskEvent)
        assert event.kind == "customer_message"
        assert event.conversation_id
        assert event.event_id

    def test_the_same_delivery_has_the_same_event_id(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        customer_message_body: bytes,
    ) -> None:
        """A redelivered webhook dedupes: parsing it twice gives one event id."""
        headers = signed_webhook(customer_message_body)
        first = contract_adapter.parse_event(customer_message_body, headers)
        second = contract_adapter.parse_event(customer_message_body, dict(headers))
        assert first.event_id == second.event_id

    def test_a_replay_with_new_delivery_headers_has_the_same_replay_key(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        customer_message_body: bytes,
    ) -> None:
        """A captured webhook replayed with a new delivery id (or any header the signature does
        not cover) gets the same `replay_key`, so the relay handles it once."""
        body = customer_message_body
        headers = signed_webhook(body)
        original = contract_adapter.parse_event(body, headers)
        key = contract_adapter.replay_key(original, body, headers)
        tried = 0
        for replay in _replays(headers):
            try:
                contract_adapter.verify_webhook(body, replay)
                event = contract_adapter.parse_event(body, replay)
            except (WebhookAuthError, InvalidRequestError):
                continue  # a signed header cannot be varied; an unparsable one is refused
            if event.kind == "ignored":
                continue
            tried += 1
            assert contract_adapter.replay_key(event, body, replay) == key, replay
        assert tried, "no replay could be tried; check the signed_webhook fixture"

    def test_our_own_note_is_ignored(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        own_note_body: bytes,
    ) -> None:
        """A note tl_loop posted comes back through the webhook and must not loop."""
        event = contract_adapter.parse_event(own_note_body, signed_webhook(own_note_body))
        assert event.kind == "ignored"

    def test_a_malformed_body_is_refused_clearly(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
    ) -> None:
        """Not JSON, or JSON of the wrong shape: InvalidRequestError, not a KeyError."""
        for body in (b"not json", b"[]", b'{"unexpected": true}'):
            with pytest.raises(InvalidRequestError):
                contract_adapter.parse_event(body, signed_webhook(body))

    # -- requests ----------------------------------------------------------------------------

    def test_notes_and_replies_go_to_the_helpdesk(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        customer_message_body: bytes,
    ) -> None:
        """Both carry the text to the configured host, and a note is not a reply."""
        event = contract_adapter.parse_event(
            customer_message_body, signed_webhook(customer_message_body)
        )
        host = httpx.URL(contract_adapter.base_url).host
        text = "Your order ships today"
        note = contract_adapter.build_post_note(event.conversation_id, text)
        reply = contract_adapter.build_post_reply(event.conversation_id, text)
        for request in (note, reply):
            assert request.url.host == host
            assert request.method in ("POST", "PUT", "PATCH")
            assert text.encode() in request.content
        assert (note.method, note.url, note.content) != (reply.method, reply.url, reply.content)
        reading = contract_adapter.build_get_messages(event.conversation_id)
        assert (reading.method, reading.url.host) == ("GET", host)

    def test_ids_stay_inside_their_path_segment(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        customer_message_body: bytes,
    ) -> None:
        """An id such as `1/../../../users/me` cannot reach another endpoint: every id put in
        a URL path is percent-encoded (`tl_loop.helpdesk.path_segment`)."""
        event = contract_adapter.parse_event(
            customer_message_body, signed_webhook(customer_message_body)
        )
        adapter = contract_adapter
        for hostile in (f"{event.conversation_id}/../../../users/me", ".."):
            builders: list[Callable[[str], httpx.Request | None]] = [
                adapter.build_get_messages,
                lambda i: adapter.build_post_note(i, "x"),
                lambda i: adapter.build_post_reply(i, "x"),
                lambda i: adapter.build_set_language(i, "es"),
            ]
            for build in builders:
                try:
                    request = build(hostile)
                except (TlLoopError, NotImplementedError):
                    continue  # refusing the id outright is fine too
                if request is None:
                    continue
                raw = request.url.raw_path.decode("ascii")
                assert "users/me" not in raw, raw
                assert "/../" not in raw, raw
                assert not raw.split("?")[0].endswith("/.."), raw

    def test_the_language_request_if_any_goes_to_the_helpdesk(
        self,
        contract_adapter: HelpdeskAdapter,
        signed_webhook: Callable[[bytes], dict[str, str]],
        customer_message_body: bytes,
    ) -> None:
        """Recording the customer language is optional, but when built it names the language."""
        event = contract_adapter.parse_event(
            customer_message_body, signed_webhook(customer_message_body)
        )
        request = contract_adapter.build_set_language(event.conversation_id, "es")
        if request is not None:
            assert request.url.host == httpx.URL(contract_adapter.base_url).host
            assert b"es" in request.content

    def test_kb_support_is_usable_when_claimed(self, contract_adapter: HelpdeskAdapter) -> None:
        """An adapter claiming `supports_kb` builds a list request against its host."""
        if not contract_adapter.supports_kb:
            pytest.skip("no knowledge-base support")
        request = contract_adapter.build_list_articles("en")
        assert request.url.host == httpx.URL(contract_adapter.base_url).host

    def test_it_is_registered_under_its_name(self, contract_adapter: HelpdeskAdapter) -> None:
        """The relay loads adapters by entry-point name: that name must be the adapter's."""
        assert load_adapter_class(contract_adapter.name) is type(contract_adapter)

    # -- errors ------------------------------------------------------------------------------

    def test_failed_responses_map_to_errors(
        self,
        contract_adapter: HelpdeskAdapter,
        contract_rate_limit: tuple[dict[str, str], float],
    ) -> None:
        """401 refuses credentials, 429 says how long to wait, 5xx is retryable, 2xx is fine."""
        request = contract_adapter.build_get_messages("1")
        headers, wait = contract_rate_limit

        def error(status: int, headers: dict[str, str] | None = None) -> ServiceError | None:
            response = httpx.Response(status, headers=headers, json={}, request=request)
            return contract_adapter.error_for(response)

        assert error(200) is None
        assert isinstance(error(401), AuthenticationError)
        limited = error(429, headers)
        assert isinstance(limited, RateLimitError)
        assert limited.retryable
        assert limited.retry_after == pytest.approx(wait, abs=2)
        unavailable = error(500)
        assert isinstance(unavailable, ServiceUnavailableError)
        assert unavailable.retryable
        assert isinstance(error(404), NotFoundError)
        assert all(
            isinstance(found, ServiceError) and found.service == contract_adapter.name
            for found in (error(401), error(404), error(500))
        )
