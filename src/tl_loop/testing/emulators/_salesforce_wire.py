"""The Salesforce emulator's wire formats: token answers, JWT assertions, Outbound Messages.

- Token answers as the OAuth endpoint gives them (`access_token`, `instance_url`, `id`,
  `token_type`, `issued_at`, `signature`, `scope`) and its refusals (`error`,
  `error_description`).
- JWT bearer assertions checked as Salesforce documents: RS256 over `header.claims` with the
  connected app's certificate key; `iss` the consumer key, `sub` an approved user, `aud` the
  login host, `exp` in the future and at most a few minutes ahead.
- Outbound Messages: the SOAP `notifications` envelope ("Understanding the Outbound Messaging
  WSDL"), and whether an answer is the `notificationsResponse` with `Ack` true.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import httpx

__all__ = [
    "Delivery",
    "OutboundSender",
    "acknowledged",
    "check_assertion",
    "envelope",
    "public_key",
]

_SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"
_OUTBOUND = "{http://soap.sforce.com/2005/09/outbound}"


def public_key(pem: str | bytes) -> Any:
    """The public key in a PEM certificate (what a connected app holds) or PEM public key."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = pem.encode() if isinstance(pem, str) else pem
    if b"CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return load_pem_public_key(data)


def check_assertion(
    assertion: str, *, key: Any, client_id: str, username: str, audience: str
) -> str | None:
    """What is wrong with a JWT bearer assertion, in Salesforce's words; None when it is good."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        head, body, signature = assertion.split(".")
        header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
        key.verify(
            _unb64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (ValueError, InvalidSignature):
        return "invalid assertion"
    if header.get("alg") != "RS256":
        return "invalid assertion: the algorithm must be RS256"
    if claims.get("iss") != client_id:
        return "invalid_client_id: client identifier invalid"
    if claims.get("sub") != username:
        return "user hasn't approved this consumer"
    if claims.get("aud") != audience:
        return "audience is invalid"
    exp = claims.get("exp")
    if not isinstance(exp, int) or not time.time() < exp <= time.time() + 300:
        return "expired authorization code"
    return None


def envelope(
    *,
    organization_id: str,
    action_id: str,
    instance_url: str,
    notifications: Sequence[tuple[str, str, Mapping[str, Any]]],
) -> bytes:
    """An Outbound Message: `(notification id, object, fields)` per notification."""
    items = []
    for notification_id, object_type, fields in notifications:
        rendered = []
        for name, value in fields.items():
            if value is None:
                rendered.append(f'<sf:{name} xsi:nil="true"/>')
                continue
            text = str(value).lower() if isinstance(value, bool) else str(value)
            rendered.append(f"<sf:{name}>{escape(text)}</sf:{name}>")
        items.append(
            f"   <Notification>\n    <Id>{notification_id}</Id>\n"
            f'    <sObject xsi:type="sf:{object_type}" '
            'xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
            f"{''.join(rendered)}</sObject>\n   </Notification>\n"
        )
    org15 = organization_id[:15]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        " <soapenv:Body>\n"
        '  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">\n'
        f"   <OrganizationId>{organization_id}</OrganizationId>\n"
        f"   <ActionId>{action_id}</ActionId>\n"
        '   <SessionId xsi:nil="true"/>\n'
        f"   <EnterpriseUrl>{instance_url}/services/Soap/c/62.0/{org15}</EnterpriseUrl>\n"
        f"   <PartnerUrl>{instance_url}/services/Soap/u/62.0/{org15}</PartnerUrl>\n"
        f"{''.join(items)}"
        "  </notifications>\n"
        " </soapenv:Body>\n"
        "</soapenv:Envelope>\n"
    ).encode()


def acknowledged(body: bytes) -> bool:
    """Whether an answer is the SOAP `notificationsResponse` with `Ack` true."""
    if b"<!DOCTYPE" in body.upper():
        return False
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return False
    ack = root.find(f"{_SOAP}Body/{_OUTBOUND}notificationsResponse/{_OUTBOUND}Ack")
    return ack is not None and (ack.text or "").strip().lower() == "true"


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass
class Delivery:
    """One Outbound Message and what became of it."""

    endpoint: str
    body: bytes
    notification_ids: tuple[str, ...]
    attempts: int = 0
    acked: bool = False
    statuses: tuple[int, ...] = ()


class OutboundSender:
    """Sends Outbound Messages as Salesforce does: one thread per message, re-sent with the
    wait doubling (up to 5 s here; 2 hours in Salesforce) until the answer is the SOAP `Ack`
    or `retry_for` seconds have passed (24 hours in Salesforce).

    `queue` is the org's `on_create` hook: a record a workflow rule matched.
    """

    def __init__(
        self, *, organization_id: str, instance_url: str, retry_base: float, retry_for: float
    ) -> None:
        self.organization_id = organization_id
        self.instance_url = instance_url
        self.retry_base = retry_base
        self.retry_for = retry_for
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._next = 0

    def queue(self, rule: Any, object_type: str, record: Mapping[str, Any]) -> None:
        """Send one notification for `record` with the rule's fields, in the background."""
        with self._lock:
            self._next += 1
            notification = f"04l{self._next:012d}AAA"
        fields = {name: record.get(name) for name in rule.fields}
        body = envelope(
            organization_id=self.organization_id,
            action_id=rule.action_id,
            instance_url=self.instance_url,
            notifications=[(notification, object_type, fields)],
        )
        delivery = Delivery(rule.endpoint, body, (notification,))
        with self._lock:
            self.deliveries.append(delivery)
        thread = threading.Thread(target=self.deliver, args=(delivery,), daemon=True)
        self._threads.append(thread)
        thread.start()

    def redeliver(self, delivery: Delivery) -> None:
        """Send a delivered message once more, in this thread."""
        again = Delivery(delivery.endpoint, delivery.body, delivery.notification_ids)
        with self._lock:
            self.deliveries.append(again)
        self.deliver(again)

    def deliver(self, delivery: Delivery) -> None:
        """POST until acknowledged, stopped, or out of time."""
        started, wait = time.monotonic(), self.retry_base
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set() and time.monotonic() - started < self.retry_for:
                delivery.attempts += 1
                try:
                    response = client.post(
                        delivery.endpoint, content=delivery.body, headers=headers
                    )
                    delivery.statuses += (response.status_code,)
                    if response.status_code == 200 and acknowledged(response.content):
                        delivery.acked = True
                        return
                except httpx.TransportError:
                    delivery.statuses += (0,)
                self._stop.wait(wait)
                wait = min(wait * 2, 5.0)

    def close(self) -> None:
        """Stop re-sending and wait for the sending threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
