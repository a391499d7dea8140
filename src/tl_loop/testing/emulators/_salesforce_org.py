"""The Salesforce org behind `SalesforceEmulator`: records, users, workflow rules, limits.

Pure state and rules, no HTTP: records live in one dict per object, ids are 18 characters with
each object's real key prefix, and a record created here (by a test or through the API) fires
the Outbound Message rules that match it.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tl_loop.testing.emulators._soql import Query, SoqlError, parse_soql

__all__ = ["OutboundRule", "SalesforceOrg"]

PREFIXES = {
    "Case": "500",
    "CaseComment": "00a",
    "EmailMessage": "02s",
    "FeedItem": "0D5",
    "MessagingSession": "0Mw",
    "MessagingEndUser": "0PA",
    "ConversationEntry": "0XY",
    "User": "005",
    "Knowledge__kav": "ka0",
    "KnowledgeArticle": "kA0",
    "Notification": "04l",
    "Organization": "00D",
}
# Child relationship name on the parent → (child object, field pointing at the parent).
CHILDREN = {
    ("Case", "CaseComments"): ("CaseComment", "ParentId"),
    ("Case", "EmailMessages"): ("EmailMessage", "ParentId"),
    ("Case", "Feeds"): ("FeedItem", "ParentId"),
}
# The fields each emulated object has (a query naming another is refused, as Salesforce does).
_COMMON = frozenset({"Id", "CreatedDate", "CreatedById", "LastModifiedDate"})
SCHEMA: dict[str, frozenset[str]] = {
    "Case": frozenset(
        {
            "Subject",
            "Description",
            "Status",
            "Origin",
            "SuppliedEmail",
            "ContactEmail",
            "ContactId",
            "Customer_Language__c",
            "CSAT__c",
        }
    ),
    "CaseComment": frozenset({"ParentId", "CommentBody", "IsPublished"}),
    "EmailMessage": frozenset(
        {
            "ParentId",
            "Incoming",
            "TextBody",
            "HtmlBody",
            "FromAddress",
            "ToAddress",
            "Subject",
            "MessageDate",
            "Status",
        }
    ),
    "FeedItem": frozenset({"ParentId", "Body", "Type", "Visibility", "IsRichText"}),
    "ConversationEntry": frozenset(
        {"ConversationId", "ActorType", "EntryType", "Message", "EntryTime"}
    ),
    "MessagingSession": frozenset({"MessagingEndUserId", "Status", "CaseId"}),
}
_CREATABLE = {"Case", "CaseComment", "EmailMessage", "FeedItem", "ConversationEntry"}
_UPDATABLE = {"Case", "MessagingSession", "Knowledge__kav"}


def now_iso() -> str:
    """Salesforce's datetime format: `2026-12-06T08:40:12.000+0000`."""
    moment = datetime.now(tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


@dataclass
class OutboundRule:
    """A workflow rule with an Outbound Message action: when a record of `object_type` is
    created and `when(record)` holds, its `fields` are sent to `endpoint`."""

    object_type: str
    endpoint: str
    fields: tuple[str, ...]
    when: Callable[[Mapping[str, Any]], bool] = lambda record: True
    action_id: str = "04k000000000001AAA"


@dataclass
class ApiError(Exception):
    """A REST failure: HTTP status and Salesforce's error body."""

    status: int
    code: str
    message: str
    fields: list[str] = field(default_factory=list)

    def body(self) -> list[dict[str, Any]]:
        """`[{"message", "errorCode", "fields"}]`, Salesforce's error shape."""
        return [{"message": self.message, "errorCode": self.code, "fields": self.fields}]


class SalesforceOrg:
    """One org's data. Thread-safe (one lock around everything).

    Args:
        organization_id: the org's id (18 characters).
        batch_size: records per query page (Salesforce: up to 2,000).
    """

    def __init__(
        self, *, organization_id: str = "00D000000000001AAA", batch_size: int = 2000
    ) -> None:
        self.organization_id = organization_id
        self.batch_size = batch_size
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.rules: list[OutboundRule] = []
        self.sent_emails: list[dict[str, Any]] = []
        self.on_create: Callable[[OutboundRule, str, dict[str, Any]], None] | None = None
        self._counter = itertools.count(1)
        self._locators: dict[str, list[dict[str, Any]]] = {}
        self.lock = threading.RLock()
        self.integration_user = self.add_user("Integration", user_type="Standard")
        self.agent = self.add_user("Agent Smith", user_type="Standard")
        # Email-to-Case, Web-to-Case and Messaging write as Salesforce's own process user.
        self.automated = self.add_user("Automated Process", user_type="AutomatedProcess")

    # -- records -----------------------------------------------------------------------------

    def new_id(self, object_type: str) -> str:
        """A fresh 18-character id with the object's key prefix."""
        prefix = PREFIXES.get(object_type, "a00")
        return f"{prefix}{next(self._counter):012d}AAA"

    def table(self, object_type: str) -> dict[str, dict[str, Any]]:
        """The records of one object, by id."""
        with self.lock:
            return self.records.setdefault(object_type, {})

    def get(self, object_type: str, record_id: str) -> dict[str, Any] | None:
        """One record, or None."""
        with self.lock:
            return self.table(object_type).get(record_id)

    def find(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        """A record of any object by id, with its object name."""
        with self.lock:
            for object_type, rows in self.records.items():
                if record_id in rows:
                    return object_type, rows[record_id]
        return None

    def create(
        self,
        object_type: str,
        fields: Mapping[str, Any],
        *,
        by: str | None = None,
        fire: bool = True,
    ) -> str:
        """Insert a record (Id, CreatedDate and CreatedById filled in) and fire the rules."""
        with self.lock:
            record_id = self.new_id(object_type)
            record = {
                "Id": record_id,
                "CreatedDate": now_iso(),
                "CreatedById": by or getattr(self, "integration_user", None),
                **fields,
            }
            self.table(object_type)[record_id] = record
            matching = [r for r in self.rules if r.object_type == object_type and r.when(record)]
        if fire and self.on_create is not None:
            for rule in matching:
                self.on_create(rule, object_type, dict(record))
        return record_id

    def update(self, object_type: str, record_id: str, fields: Mapping[str, Any]) -> None:
        """Change fields of an existing record.

        Raises:
            ApiError: no such record.
        """
        with self.lock:
            record = self.table(object_type).get(record_id)
            if record is None:
                raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
            record.update(fields)

    def add_user(self, name: str, *, user_type: str) -> str:
        """A user: `Standard` for staff, `PowerCustomerSuccess` etc. for portal customers."""
        return self.create("User", {"Name": name, "UserType": user_type}, fire=False)

    # -- the REST API's record rules -----------------------------------------------------

    def api_create(self, object_type: str, fields: Mapping[str, Any], *, user: str) -> str:
        """`POST /sobjects/<object>`, with the checks the emulated fields have.

        Raises:
            ApiError: an object the emulator does not create, or a field Salesforce refuses.
        """
        if object_type not in _CREATABLE:
            raise ApiError(
                400, "NOT_FOUND", f"The requested resource does not exist: {object_type}"
            )
        body = {k: v for k, v in fields.items() if k != "attributes"}
        limits = {"CaseComment": ("CommentBody", 4000), "FeedItem": ("Body", 10000)}
        if object_type in limits:
            name, limit = limits[object_type]
            if len(str(body.get(name) or "")) > limit:
                raise ApiError(400, "STRING_TOO_LONG", f"{name}: data value too large", [name])
        parent = body.get("ParentId")
        if object_type in ("CaseComment", "FeedItem", "EmailMessage") and (
            not isinstance(parent, str) or self.find(parent) is None
        ):
            raise ApiError(
                400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["ParentId"]
            )
        return self.create(object_type, body, by=user)

    def api_update(self, object_type: str, record_id: str, fields: Mapping[str, Any]) -> None:
        """`PATCH /sobjects/<object>/<id>`; Knowledge versions only while they are drafts.

        Raises:
            ApiError: not updatable, not found, or an article version that is not a draft.
        """
        if object_type not in _UPDATABLE:
            raise ApiError(400, "INVALID_TYPE", f"sObject type '{object_type}' is not supported.")
        record = self.get(object_type, record_id)
        if record is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if object_type == "Knowledge__kav" and record.get("PublishStatus") != "Draft":
            raise ApiError(400, "INVALID_OPERATION", "You can only update draft versions")
        self.update(object_type, record_id, fields)

    # -- queries -------------------------------------------------------------------------

    def query(self, soql: str) -> dict[str, Any]:
        """Run a query; the first batch, with `nextRecordsUrl` when there is more.

        Raises:
            ApiError: `MALFORMED_QUERY` or `INVALID_FIELD`.
        """
        try:
            parsed = parse_soql(soql)
        except SoqlError as error:
            raise ApiError(400, error.code, error.message) from None
        with self.lock:
            rows = self._select(parsed, list(self.table(parsed.source).values()))
        return self._page(rows, total=len(rows))

    def more(self, locator: str) -> dict[str, Any]:
        """The next batch of an earlier query.

        Raises:
            ApiError: an unknown or used-up locator.
        """
        with self.lock:
            rows = self._locators.pop(locator, None)
        if rows is None:
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(rows, total=None)

    def _page(self, rows: list[dict[str, Any]], *, total: int | None) -> dict[str, Any]:
        batch, rest = rows[: self.batch_size], rows[self.batch_size :]
        page: dict[str, Any] = {
            "totalSize": total if total is not None else len(rows),
            "done": not rest,
            "records": batch,
        }
        if rest:
            locator = f"01g{next(self._counter):012d}AAA-{len(batch)}"
            with self.lock:
                self._locators[locator] = rest
            page["nextRecordsUrl"] = f"/services/data/v62.0/query/{locator}"
        return page

    def _select(self, query: Query, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for row in query.run(rows, lookup=self._lookup):
            shaped = self._shape(query.source, row, query.fields)
            for sub in query.subqueries:
                child = CHILDREN.get((query.source, sub.source))
                if child is None:
                    raise ApiError(
                        400, "INVALID_TYPE", f"Didn't understand relationship '{sub.source}'"
                    )
                child_type, key = child
                children = [r for r in self.table(child_type).values() if r.get(key) == row["Id"]]
                selected = [
                    self._shape(child_type, r, sub.fields)
                    for r in sub.run(children, lookup=self._lookup)
                ]
                shaped[sub.source] = (
                    {"totalSize": len(selected), "done": True, "records": selected}
                    if selected
                    else None
                )
            out.append(shaped)
        return out

    def _shape(
        self, object_type: str, row: Mapping[str, Any], fields: Iterable[str]
    ) -> dict[str, Any]:
        shaped: dict[str, Any] = {"attributes": _attributes(object_type, str(row["Id"]))}
        for name in fields:
            if "." in name:
                parent, child = name.split(".", 1)
                parent_id = str(row.get(f"{parent}Id") or "")
                found = self.find(parent_id)
                shaped[parent] = (
                    {"attributes": _attributes(found[0], parent_id), child: found[1].get(child)}
                    if found
                    else None
                )
            elif name in row or name in _COMMON or name in SCHEMA.get(object_type, ()):
                shaped[name] = row.get(name)
            else:
                raise ApiError(
                    400, "INVALID_FIELD", f"No such column '{name}' on entity '{object_type}'"
                )
        return shaped

    def _lookup(self, record_id: str, name: str) -> Any:
        found = self.find(record_id)
        return found[1].get(name) if found else None

    def rows(self, object_type: str, **equal: Any) -> list[dict[str, Any]]:
        """The records of an object whose fields equal `equal`, in creation order."""
        with self.lock:
            found = list(self.table(object_type).values())
        return [r for r in found if all(r.get(k) == v for k, v in equal.items())]

    # -- standard actions and Knowledge ---------------------------------------------------

    def run_action(self, name: str, body: Mapping[str, Any], user: str) -> tuple[int, Any]:
        """`POST actions/standard/<name>`: one result per input, `isSuccess` each; HTTP 400
        when any failed.

        Raises:
            ApiError: no `inputs` list.
        """
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not inputs:
            raise ApiError(400, "JSON_PARSER_ERROR", "the action needs an inputs list")
        actions = {
            "emailSimple": self.email_simple,
            "sendConversationMessages": self.send_conversation_message,
        }
        results: list[dict[str, Any]] = []
        for item in inputs:
            result: dict[str, Any] = {"actionName": name, "outputValues": None}
            try:
                action = actions.get(name)
                if action is None:
                    raise ApiError(404, "NOT_FOUND", f"no standard action {name}")
                action(item, user)
                result |= {"errors": None, "isSuccess": True}
            except ApiError as error:
                problem = {"statusCode": error.code, "message": error.message, "fields": []}
                result |= {"errors": [problem], "isSuccess": False}
            results.append(result)
        return (200 if all(r["isSuccess"] for r in results) else 400), results

    def email_simple(self, item: Mapping[str, Any], user: str) -> None:
        address, subject, body = (
            item.get("emailAddresses"),
            item.get("emailSubject"),
            item.get("emailBody"),
        )
        if not address or "@" not in str(address):
            raise ApiError(400, "INVALID_EMAIL_ADDRESS", f"Invalid to address: {address}")
        if not subject or not body:
            raise ApiError(400, "REQUIRED_FIELD_MISSING", "emailSubject and emailBody are required")
        self.sent_emails.append(dict(item))
        related = item.get("relatedRecordId")
        if item.get("logEmailOnSend") and related:
            rich = bool(item.get("sendRichBody"))
            self.create(
                "EmailMessage",
                {
                    "ParentId": related,
                    "Incoming": False,
                    "ToAddress": address,
                    "Subject": subject,
                    "HtmlBody": body if rich else None,
                    "TextBody": None if rich else body,
                    "MessageDate": now_iso(),
                    "Status": "3",
                },
                by=user,
            )

    def send_conversation_message(self, item: Mapping[str, Any], user: str) -> None:
        users = item.get("messagingEndUserIds") or []
        params = item.get("messagingDefinitionInputParameters") or []
        text = next((p.get("textValue") for p in params if isinstance(p, dict)), None)
        if not item.get("messageDefinitionName") or not users or not text:
            raise ApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                "messageDefinitionName, messagingEndUserIds and a text parameter",
            )
        sessions = [
            s
            for s in self.table("MessagingSession").values()
            if s.get("MessagingEndUserId") in users
        ]
        if not sessions:
            raise ApiError(400, "INVALID_ID_FIELD", "no messaging session for that messaging user")
        self.create(
            "ConversationEntry",
            {
                "ConversationId": sessions[-1]["Id"],
                "ActorType": "Agent",
                "EntryType": "Text",
                "Message": text,
                "EntryTime": now_iso(),
            },
            by=user,
        )

    def submit_translation(self, body: Mapping[str, Any]) -> tuple[int, Any]:
        article, language = body.get("articleId"), body.get("language")
        versions = self.rows("Knowledge__kav", KnowledgeArticleId=article)
        master = next((v for v in versions if v.get("IsMasterLanguage")), None)
        if master is None or not isinstance(language, str) or not language:
            raise ApiError(400, "INVALID_ID_FIELD", f"invalid article id or language: {article}")
        existing = next(
            (
                v
                for v in versions
                if v.get("Language") == language and v.get("PublishStatus") == "Draft"
            ),
            None,
        )
        if existing is not None:
            draft = existing["Id"]
        else:
            draft = self.create(
                "Knowledge__kav",
                {
                    **{k: v for k, v in master.items() if k not in ("Id", "CreatedDate")},
                    "Language": language,
                    "PublishStatus": "Draft",
                    "IsMasterLanguage": False,
                    "MasterVersionId": master["Id"],
                    "LastModifiedDate": now_iso(),
                },
                fire=False,
            )
        url = f"/services/data/v62.0/knowledgeManagement/articleVersions/translations/{draft}"
        return 201, {"id": draft, "url": url}


def _attributes(object_type: str, record_id: str) -> dict[str, str]:
    return {"type": object_type, "url": f"/services/data/v62.0/sobjects/{object_type}/{record_id}"}
