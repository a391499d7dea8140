"""What Salesforce posts to the relay: Outbound Message SOAP envelopes and Flow HTTP callouts.

Both shapes become `Notification`s (the object type, its fields, the delivery id and the
sending org) before anything decides what they mean, so one set of rules serves both.

The SOAP shape is Salesforce's documented `notifications()` call ("Understanding the Outbound
Messaging WSDL", https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/
sforce_api_om_outboundmessaging_wsdl.htm): `OrganizationId`, `ActionId`, `SessionId`,
`EnterpriseUrl`, `PartnerUrl` and up to 100 `Notification` elements, each an `Id` (the
delivery id Salesforce tells listeners to dedupe on) and an `sObject` whose `xsi:type` names
the object and whose children are the fields the admin chose. The answer Salesforce waits for
is `notificationsResponse` with `Ack` true; anything else is retried for up to 24 hours.

The JSON shape is the one `docs/helpdesks/salesforce.md` asks a Flow HTTP Callout to send:
`{"organizationId": …, "object": "CaseComment", "record": {…}}` (or `"records": […]`), with
an optional `eventId`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tl_loop import InvalidRequestError
from tl_loop.helpdesk import as_id, as_mapping

__all__ = ["ACK", "Notification", "org_matches", "parse_body"]

SERVICE = "salesforce"
_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
_OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100  # the WSDL's maxOccurs; more is not a Salesforce message

ACK = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soapenv:Body>"
    b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    b"<Ack>true</Ack>"
    b"</notificationsResponse>"
    b"</soapenv:Body>"
    b"</soapenv:Envelope>"
)
"""The acknowledgement Salesforce's Outbound Messaging waits for (`notificationsResponse`)."""


@dataclass(frozen=True, slots=True)
class Notification:
    """One record Salesforce told us about."""

    event_id: str
    object_type: str
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST from Salesforce: who sent it and what it carries."""

    organization_id: str | None
    notifications: tuple[Notification, ...]
    soap: bool


def org_matches(configured: str, received: str | None) -> bool:
    """Whether `received` is the configured org: 15- and 18-character ids compare on their
    case-sensitive first 15 characters (the last 3 only make an id case-insensitive)."""
    if not received:
        return False
    return received.strip()[:15] == configured.strip()[:15]


def parse_body(body: bytes) -> Delivery:
    """The delivery a webhook body holds, SOAP or JSON.

    Raises:
        InvalidRequestError: neither an Outbound Message envelope nor the Flow JSON shape.
    """
    start = body.lstrip()[:1]
    if start == b"<":
        return _parse_soap(body)
    try:
        payload = json.loads(body)
    except ValueError:
        raise _invalid(
            "the webhook body is neither an Outbound Message (SOAP XML) nor JSON; point an "
            "Outbound Message or a Flow HTTP Callout at this endpoint"
        ) from None
    if not isinstance(payload, dict):
        raise _invalid("the webhook body is JSON but not an object")
    return _parse_flow(payload)


# -- SOAP ------------------------------------------------------------------------------------


def _parse_soap(body: bytes) -> Delivery:
    # SOAP 1.1 forbids a DTD, and refusing one keeps entity expansion out of the parser.
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise _invalid("the SOAP envelope carries a DTD, which SOAP forbids")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise _invalid(f"the SOAP envelope is not well-formed XML ({error})") from None
    notifications = root.find(f"{{{_SOAP}}}Body/{{{_OUTBOUND}}}notifications")
    if notifications is None:
        raise _invalid(
            "the XML body has no soapenv:Body/notifications element: it is not an Outbound Message"
        )
    org = _text(notifications.find(f"{{{_OUTBOUND}}}OrganizationId"))
    items = notifications.findall(f"{{{_OUTBOUND}}}Notification")
    if not items:
        raise _invalid("the Outbound Message carries no Notification")
    if len(items) > MAX_NOTIFICATIONS:
        raise _invalid(f"the Outbound Message carries {len(items)} notifications, over 100")
    return Delivery(org, tuple(_soap_notification(item) for item in items), soap=True)


def _soap_notification(item: ET.Element) -> Notification:
    delivery_id = _text(item.find(f"{{{_OUTBOUND}}}Id"))
    record = item.find(f"{{{_OUTBOUND}}}sObject")
    if not delivery_id or record is None:
        raise _invalid("a Notification lacks its Id or its sObject")
    declared = record.get(f"{{{_XSI}}}type") or ""
    object_type = declared.rsplit(":", 1)[-1]
    fields: dict[str, Any] = {}
    for child in record:
        name = child.tag.rsplit("}", 1)[-1]
        nil = child.get(f"{{{_XSI}}}nil") == "true"
        fields[name] = None if nil else (child.text or "")
    if not object_type:
        raise _invalid("a Notification's sObject has no xsi:type naming its object")
    return Notification(event_id=delivery_id, object_type=object_type, fields=fields)


def _text(element: ET.Element | None) -> str | None:
    if element is None or element.get(f"{{{_XSI}}}nil") == "true":
        return None
    return (element.text or "").strip() or None


# -- Flow JSON -------------------------------------------------------------------------------


def _parse_flow(payload: Mapping[str, Any]) -> Delivery:
    object_type = payload.get("object")
    records = payload.get("records")
    if records is None and "record" in payload:
        records = [payload["record"]]
    if not isinstance(object_type, str) or not object_type or not isinstance(records, list):
        raise _invalid(
            'the JSON body needs "object" (e.g. "CaseComment") and "record" (its fields); '
            "see docs/helpdesks/salesforce.md for the Flow HTTP Callout body"
        )
    if not records or len(records) > 200:
        raise _invalid(f"the JSON body carries {len(records)} records; send 1 to 200")
    event_id = as_id(payload.get("eventId"))
    notifications = []
    for record in records:
        fields = as_mapping(record)
        record_id = as_id(fields.get("Id"))
        if record_id is None:
            raise _invalid(f'a {object_type} record in the JSON body has no "Id"')
        # A Flow does not number its callouts: a created record's id names the event, and a
        # re-sent callout for the same record is the same event.
        key = f"{event_id}:{record_id}" if event_id and len(records) > 1 else event_id
        notifications.append(
            Notification(
                event_id=key or f"flow:{object_type}:{record_id}",
                object_type=object_type,
                fields=dict(fields),
            )
        )
    return Delivery(as_id(payload.get("organizationId")), tuple(notifications), soap=False)


def _invalid(problem: str) -> InvalidRequestError:
    return InvalidRequestError(problem, service=SERVICE)
