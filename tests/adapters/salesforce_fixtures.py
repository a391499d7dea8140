"""Salesforce deliveries written by hand from the documented shapes.

- Outbound Message envelope: "Understanding the Outbound Messaging WSDL"
  (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/
  sforce_api_om_outboundmessaging_wsdl.htm): `notifications` with `OrganizationId`, `ActionId`,
  `SessionId` (nillable), `EnterpriseUrl`, `PartnerUrl` and up to 100 `Notification` (`Id`,
  `sObject` typed by `xsi:type`, fields in the `urn:sobject.enterprise.soap.sforce.com`
  namespace).
- Field names: Object Reference for CaseComment (`ParentId`, `CommentBody`, `IsPublished`),
  EmailMessage (`ParentId`, `Incoming`, `TextBody`, `HtmlBody`, `FromAddress`), FeedItem
  (`ParentId`, `Body`, `Type`, `Visibility`, `IsRichText`), ConversationEntry
  (`ConversationId`, `ActorType`, `EntryType`, `Message`).
- The Flow HTTP Callout body is tl_loop's own documented shape (docs/helpdesks/salesforce.md).
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

ORG = "00D5e000000KQ2eEAG"
OTHER_ORG = "00D7x000000ABCDEAA"
CASE = "5005e00000AbCdEAAZ"
SESSION = "0Mw5e00000XyZ12CAB"
AGENT = "0055e000003AbCdAAA"


def envelope(*notifications: tuple[str, str, dict[str, object]], org: str = ORG) -> bytes:
    """An Outbound Message: `(notification id, object, fields)` per notification."""
    items = []
    for notification_id, object_type, fields in notifications:
        rendered = []
        for name, value in fields.items():
            if value is None:
                rendered.append(f'<sf:{name} xsi:nil="true"/>')
            else:
                text = str(value).lower() if isinstance(value, bool) else str(value)
                rendered.append(f"<sf:{name}>{escape(text)}</sf:{name}>")
        items.append(
            f"<Notification><Id>{notification_id}</Id>"
            f'<sObject xsi:type="sf:{object_type}" '
            f'xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{"".join(rendered)}</sObject>'
            "</Notification>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org}</OrganizationId><ActionId>04k5e000000CaRkAAK</ActionId>"
        '<SessionId xsi:nil="true"/>'
        f"<EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/{org[:15]}"
        "</EnterpriseUrl>"
        f"<PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/{org[:15]}</PartnerUrl>"
        f"{''.join(items)}</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def customer_email(notification_id: str = "04l5e00000Gx7QzAAJ", *, org: str = ORG) -> bytes:
    return envelope(
        (
            notification_id,
            "EmailMessage",
            {
                "Id": "02s5e00000Ab1CdAAJ",
                "ParentId": CASE,
                "Incoming": True,
                "FromAddress": "ana@example.com",
                "TextBody": "Hola, mi pedido no ha llegado.",
                "HtmlBody": "<p>Hola, mi pedido <b>no</b> ha llegado.</p>",
            },
        ),
        org=org,
    )


def agent_comment(text: str, notification_id: str = "04l5e00000Gx7R0AAJ") -> bytes:
    return envelope(
        (
            notification_id,
            "CaseComment",
            {
                "Id": "00a5e00000Zz9YyAAJ",
                "ParentId": CASE,
                "CommentBody": text,
                "IsPublished": False,
                "CreatedById": AGENT,
            },
        )
    )


def flow_body(object_type: str, record: dict[str, object], *, org: str = ORG) -> bytes:
    return json.dumps({"organizationId": org, "object": object_type, "record": record}).encode()
