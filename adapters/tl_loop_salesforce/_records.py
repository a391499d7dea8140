"""Reading Salesforce REST answers: query results, conversation messages, errors, limits.

Shapes from the REST API Developer Guide: a query answers `{"totalSize", "done",
"nextRecordsUrl", "records": [{"attributes": {"type", "url"}, …}]}` ("Query",
https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query.md) and a child
relationship in the SELECT comes back as the same shape nested in each record; errors are
`[{"message", "errorCode", "fields"}]` ("Status Codes and Error Responses"); every answer
carries `Sforce-Limit-Info: api-usage=18/5000` ("Limit Info Header").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import httpx

from tl_loop import InvalidRequestError
from tl_loop.helpdesk import HelpdeskMessage, Rating, as_id, as_mapping, error_body, header
from tl_loop_salesforce._events import flag

__all__ = [
    "action_failures",
    "api_usage",
    "error_codes",
    "error_detail",
    "messages_from",
    "quote_id",
    "ratings_from",
    "records_of",
]

SERVICE = "salesforce"
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
# User types of people outside the company (portal, community and guest users).
_INTERNAL_USER_TYPES = frozenset({"Standard", "AutomatedProcess"})


def quote_id(value: str, *, what: str) -> str:
    """`value` as a SOQL string literal, quotes and backslashes escaped, so no id can change
    the query around it (`what` names it in errors).

    Raises:
        InvalidRequestError: an empty value.
    """
    if not value:
        raise InvalidRequestError(f"the {what} id is empty", service=SERVICE)
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def records_of(container: object) -> list[Mapping[str, Any]]:
    """The `records` of a query result (top level or a nested child relationship)."""
    records = as_mapping(container).get("records")
    return [as_mapping(r) for r in records] if isinstance(records, list) else []


def messages_from(payload: Mapping[str, Any]) -> list[HelpdeskMessage]:
    """The messages of a conversation read by `SalesforceAdapter.build_get_messages`: a case
    with its comments, e-mails and feed posts, or a messaging session's entries; oldest first.
    """
    found: list[HelpdeskMessage] = []
    for record in records_of(payload):
        kind = as_mapping(record.get("attributes")).get("type")
        if kind == "Case":
            found += [_comment(c) for c in records_of(record.get("CaseComments"))]
            found += [_email(e) for e in records_of(record.get("EmailMessages"))]
            found += [_feed(f) for f in records_of(record.get("Feeds"))]
        elif kind == "ConversationEntry":
            found.append(_entry(record))
    return sorted(found, key=lambda m: m.created_at or "")


def _comment(record: Mapping[str, Any]) -> HelpdeskMessage:
    user_type = as_mapping(record.get("CreatedBy")).get("UserType")
    customer = isinstance(user_type, str) and user_type not in _INTERNAL_USER_TYPES
    return HelpdeskMessage(
        id=as_id(record.get("Id")) or "",
        text=str(record.get("CommentBody") or ""),
        content_type="text",
        author_role="customer" if customer else "agent",
        public=bool(flag(record.get("IsPublished"))),
        created_at=record.get("CreatedDate"),
    )


def _email(record: Mapping[str, Any]) -> HelpdeskMessage:
    html = record.get("HtmlBody")
    has_html = isinstance(html, str) and bool(html.strip())
    return HelpdeskMessage(
        id=as_id(record.get("Id")) or "",
        text=str(html if has_html else record.get("TextBody") or ""),
        content_type="html" if has_html else "text",
        author_role="customer" if flag(record.get("Incoming")) else "agent",
        public=True,
        created_at=record.get("MessageDate") or record.get("CreatedDate"),
    )


def _feed(record: Mapping[str, Any]) -> HelpdeskMessage:
    return HelpdeskMessage(
        id=as_id(record.get("Id")) or "",
        text=str(record.get("Body") or ""),
        content_type="text" if flag(record.get("IsRichText")) is False else "html",
        author_role="agent",
        public=record.get("Visibility") == "AllUsers",
        created_at=record.get("CreatedDate"),
    )


def _entry(record: Mapping[str, Any]) -> HelpdeskMessage:
    actor = record.get("ActorType")
    role: Literal["customer", "agent", "system"] = "system"
    if actor == "EndUser":
        role = "customer"
    elif actor in ("Agent", "Supervisor"):
        role = "agent"
    return HelpdeskMessage(
        id=as_id(record.get("Id")) or "",
        text=str(record.get("Message") or ""),
        content_type="text",
        author_role=role,
        public=True,
        created_at=record.get("EntryTime") or record.get("CreatedDate"),
    )


# -- errors and limits -----------------------------------------------------------------------


def _errors(response: httpx.Response) -> Sequence[Mapping[str, Any]]:
    try:
        payload = response.json()
    except ValueError:
        return []
    if isinstance(payload, list):
        return [as_mapping(item) for item in payload]
    return [as_mapping(payload)] if isinstance(payload, dict) else []


def error_codes(response: httpx.Response) -> set[str]:
    """The `errorCode`s of an error answer (and the OAuth `error`)."""
    codes = {str(e["errorCode"]) for e in _errors(response) if e.get("errorCode")}
    oauth = error_body(response).get("error")
    return codes | ({oauth} if isinstance(oauth, str) else set())


def error_detail(response: httpx.Response) -> str:
    """Salesforce's own words for a failure: `errorCode: message (fields)`, joined."""
    parts = []
    for item in _errors(response):
        code, message = item.get("errorCode") or item.get("error"), item.get("message")
        message = message or item.get("error_description")
        if not (code or message):
            for nested in item.get("errors") or []:  # invocable action results
                nested = as_mapping(nested)
                parts.append(f"{nested.get('statusCode', '')}: {nested.get('message', '')}")
            continue
        fields = item.get("fields")
        where = f" ({', '.join(map(str, fields))})" if isinstance(fields, list) and fields else ""
        parts.append(f"{code}: {message}{where}" if code else str(message))
    return "; ".join(p for p in parts if p.strip(": "))[:400]


def action_failures(response: httpx.Response) -> str | None:
    """What an invocable action answered with `isSuccess: false`, if it did (actions answer
    HTTP 200 or 400 with a list of results, one per input)."""
    if not response.request.url.path.split("/actions/", 1)[1:]:
        return None
    failed = [r for r in _errors(response) if r.get("isSuccess") is False]
    if not failed:
        return None
    reasons = []
    for result in failed:
        for item in result.get("errors") or []:
            item = as_mapping(item)
            reasons.append(f"{item.get('statusCode', 'ERROR')}: {item.get('message', '')}")
    return "; ".join(reasons) or "the action reported a failure without a reason"


def api_usage(headers: Mapping[str, str]) -> tuple[int, int] | None:
    """`(used, allowed)` from `Sforce-Limit-Info: api-usage=used/allowed`, if present."""
    match = _USAGE.search(header(headers, "sforce-limit-info") or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def ratings_from(payload: Mapping[str, Any], field: str) -> list[Rating]:
    """The cases of a query page whose `field` holds a 1–5 rating."""
    ratings = []
    for case in records_of(payload):
        value = case.get(field)
        if isinstance(value, bool) or not isinstance(value, int | float) or not case.get("Id"):
            continue
        score = min(max(float(value), 1.0), 5.0)
        ratings.append(
            Rating(
                conversation_id=str(case["Id"]),
                score=(score - 1) / 4,
                raw=str(value),
                satisfied=score >= 4,
            )
        )
    return ratings
