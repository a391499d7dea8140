"""The Salesforce Service Cloud adapter: cases, case feeds, Messaging sessions and Knowledge."""

from __future__ import annotations

import hmac
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import httpx

from tl_loop import (
    ConfigurationError,
    ContentType,
    InvalidRequestError,
    RateLimitError,
    ServiceError,
    WebhookAuthError,
)
from tl_loop.helpdesk import (
    PATH_SECRET_HEADER,
    Article,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    Rating,
    WebhookReply,
    header,
    next_page_request,
    path_segment,
    response_object,
    then,
    with_detail,
)
from tl_loop_salesforce._access import check_sender, networks, options_from_env, token_provider
from tl_loop_salesforce._events import CASE_PREFIX, flag, is_session, to_event
from tl_loop_salesforce._inbound import ACK, org_matches, parse_body
from tl_loop_salesforce._knowledge import articles_from, draft_id, salesforce_language
from tl_loop_salesforce._records import (
    action_failures,
    api_usage,
    error_codes,
    error_detail,
    messages_from,
    quote_id,
    ratings_from,
    records_of,
)
from tl_loop_salesforce._text import (
    COMMENT_LIMIT,
    FEED_LIMIT,
    as_feed_html,
    as_plain,
    fit_note,
    require_fits,
)

__all__ = ["SECRET_HEADER", "SalesforceAdapter"]

SECRET_HEADER = "X-TL-Loop-Secret"
"""The header a Flow HTTP Callout's named credential sends the shared secret in."""

_EMAIL_LIMIT = 32000  # EmailMessage.HtmlBody holds 32 KB
_CHAT_LIMIT = 4000
_SENDER_MEMORY = 4096
_LIMIT_WAIT = 900.0  # REQUEST_LIMIT_EXCEEDED: the daily allowance is a rolling 24 hours
_CASE_MESSAGES = (
    "SELECT Id, Subject, "
    "(SELECT Id, CommentBody, IsPublished, CreatedDate, CreatedById, CreatedBy.UserType "
    "FROM CaseComments ORDER BY CreatedDate), "
    "(SELECT Id, TextBody, HtmlBody, Incoming, FromAddress, Subject, MessageDate, CreatedDate "
    "FROM EmailMessages "
    "ORDER BY MessageDate), "
    "(SELECT Id, Body, Type, Visibility, IsRichText, CreatedDate FROM Feeds "
    "WHERE Type = 'TextPost' ORDER BY CreatedDate) "
    "FROM Case WHERE Id = {id}"
)
_SESSION_MESSAGES = (
    "SELECT Id, ActorType, EntryType, Message, EntryTime FROM ConversationEntry "
    "WHERE ConversationId = {id} ORDER BY EntryTime"
)


class SalesforceAdapter(HelpdeskAdapter):
    """Salesforce Service Cloud through a connected app, with Outbound Messages or Flow
    HTTP Callouts bringing the events.

    Args:
        instance_url: the org's My Domain URL (`https://acme.my.salesforce.com`).
        organization_id: the org's id (Setup → Company Information); deliveries from any
            other org are refused.
        webhook_secret: the shared secret: the last segment of the Outbound Message's
            endpoint URL (`…/webhooks/salesforce/<secret>`), or the `X-TL-Loop-Secret` header
            a Flow callout's named credential sends.
        client_id: the connected app's consumer key.
        client_secret: its consumer secret (client-credentials flow; set the app's Run As user).
        jwt_username: the user the JWT bearer flow acts as (instead of `client_secret`).
        jwt_private_key: the PEM key whose certificate the app holds (JWT bearer flow).
        login_url: the JWT audience and token host: `https://login.salesforce.com`,
            `https://test.salesforce.com` for sandboxes.
        access_token: a token you already hold (tests, short scripts); it is not renewed.
        api_version: the REST API version, e.g. `62.0`.
        note_object: where internal notes go on cases: `CaseComment` (not published) or
            `FeedItem` (an internal Case Feed post). Messaging sessions always get feed posts.
        language_field: the Case field that records the customer's language (e.g.
            `Customer_Language__c`); None writes nothing.
        satisfaction_field: the Case field holding the customer's 1–5 rating, if the org
            keeps one (e.g. `CSAT__c`); read for outcome reports, never written.
        integration_user_id: the user the app acts as; records it created are ignored.
        allowed_networks: CIDR ranges deliveries may come from (Salesforce's published IP
            ranges); empty allows any sender that knows the secret.
        knowledge_object: the article version object (`Knowledge__kav`).
        knowledge_body_field: its rich-text body field (e.g. `Answer__c`).
        chat_message_definition: the Messaging Component that carries a reply into a
            Messaging session (API name); replies to chats need it.
        chat_text_parameter: that component's text parameter.
        email_sender_type: `CurrentUser`, `DefaultWorkflowUser` or `OrgWideEmailAddress`.
        email_sender_address: the org-wide address, with `OrgWideEmailAddress`.
        api_usage_ceiling: the share of the org's daily API allowance tl_loop may use; above
            it, requests wait (a rate limit) so the org's own integrations keep theirs.
    """

    name: ClassVar[str] = "salesforce"
    supports_kb: ClassVar[bool] = True

    def __init__(
        self,
        *,
        instance_url: str,
        organization_id: str,
        webhook_secret: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        jwt_username: str | None = None,
        jwt_private_key: str | None = None,
        login_url: str = "https://login.salesforce.com",
        access_token: str | None = None,
        api_version: str = "62.0",
        note_object: Literal["CaseComment", "FeedItem"] = "CaseComment",
        language_field: str | None = None,
        satisfaction_field: str | None = None,
        integration_user_id: str | None = None,
        allowed_networks: Sequence[str] | str = (),
        knowledge_object: str = "Knowledge__kav",
        knowledge_body_field: str = "Answer__c",
        chat_message_definition: str | None = None,
        chat_text_parameter: str = "Text",
        email_sender_type: str = "CurrentUser",
        email_sender_address: str | None = None,
        api_usage_ceiling: float = 0.9,
    ) -> None:
        if not instance_url.startswith(("https://", "http://")):
            raise ConfigurationError(
                "salesforce: instance_url must be the org's My Domain URL, e.g. "
                "https://acme.my.salesforce.com"
            )
        if len(organization_id.strip()) not in (15, 18):
            raise ConfigurationError(
                "salesforce: organization_id must be the 15- or 18-character org id "
                "(Setup → Company Information)"
            )
        if not webhook_secret or len(webhook_secret) < 16:
            raise ConfigurationError(
                "salesforce: webhook_secret must be at least 16 characters (it is the only "
                "thing a forger would have to guess)"
            )
        if note_object not in ("CaseComment", "FeedItem"):
            raise ConfigurationError("salesforce: note_object must be CaseComment or FeedItem")
        self.base_url = instance_url.rstrip("/")
        self.organization_id = organization_id.strip()
        self._webhook_secret = webhook_secret
        self.api_version = api_version.lstrip("v")
        self.note_object = note_object
        self.language_field = language_field or None
        self.satisfaction_field = satisfaction_field or None
        self.integration_user_id = integration_user_id or None
        self.allowed_networks = networks(allowed_networks)
        self.knowledge_object = knowledge_object
        self.knowledge_body_field = knowledge_body_field
        self.chat_message_definition = chat_message_definition
        self.chat_text_parameter = chat_text_parameter
        self.email_sender_type = email_sender_type
        self.email_sender_address = email_sender_address
        self.api_usage_ceiling = api_usage_ceiling
        self.token_provider = token_provider(
            base_url=self.base_url,
            login_url=login_url.rstrip("/"),
            client_id=client_id,
            client_secret=client_secret,
            jwt_username=jwt_username,
            jwt_private_key=jwt_private_key,
            access_token=access_token,
        )
        self._usage: tuple[int, int] | None = None
        self._lock = threading.Lock()
        # Case → (address, subject) of its latest incoming e-mail, as seen in deliveries and
        # reads: a reply then goes out in one request instead of a lookup and a send.
        self._senders: OrderedDict[str, tuple[str, str | None]] = OrderedDict()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SalesforceAdapter:
        """Configure from `SALESFORCE_INSTANCE_URL`, `SALESFORCE_ORGANIZATION_ID`,
        `SALESFORCE_WEBHOOK_SECRET`, `SALESFORCE_CLIENT_ID` and either
        `SALESFORCE_CLIENT_SECRET` or `SALESFORCE_JWT_USERNAME` + `SALESFORCE_JWT_KEY_FILE`;
        optionally `SALESFORCE_LOGIN_URL`, `SALESFORCE_NOTE_OBJECT`,
        `SALESFORCE_LANGUAGE_FIELD`, `SALESFORCE_INTEGRATION_USER_ID`,
        `SALESFORCE_ALLOWED_NETWORKS` (comma-separated), `SALESFORCE_KNOWLEDGE_OBJECT`,
        `SALESFORCE_KNOWLEDGE_BODY_FIELD`, `SALESFORCE_CHAT_MESSAGE_DEFINITION`.

        Raises:
            ConfigurationError: a required variable is missing, or the key file unreadable.
        """
        return cls(**options_from_env(environ))

    # -- webhooks ----------------------------------------------------------------------------

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        """Salesforce signs nothing, so: the sender's address (when an allow-list is set), the
        shared secret (endpoint path or header), and the `OrganizationId` in the body.

        Raises:
            WebhookAuthError: outside the allow-list, no or a wrong secret, another org.
        """
        check_sender(self.allowed_networks, headers)
        received = header(headers, SECRET_HEADER) or header(headers, PATH_SECRET_HEADER)
        if not received:
            raise WebhookAuthError(
                "salesforce: the delivery carries no secret; end the Outbound Message's "
                f"endpoint URL with /<secret>, or send the {SECRET_HEADER} header from the Flow"
            )
        expected = self._webhook_secret.encode()
        if not hmac.compare_digest(expected, received.strip().encode()):
            raise WebhookAuthError("salesforce: the delivery's secret does not match")
        try:
            delivery = parse_body(body)
        except InvalidRequestError:
            return  # authentic but unreadable: parse_event says what is wrong (HTTP 400)
        if not org_matches(self.organization_id, delivery.organization_id):
            raise WebhookAuthError(
                f"salesforce: the delivery comes from org {delivery.organization_id or '(none)'}"
                f", not the configured {self.organization_id}"
            )

    def parse_events(self, body: bytes, headers: Mapping[str, str]) -> list[HelpdeskEvent]:
        """Every notification of a delivery as an event, deduplicated by its notification `Id`
        (an Outbound Message carries up to 100 and may be delivered more than once).

        Raises:
            InvalidRequestError: neither an Outbound Message nor the Flow JSON shape.
        """
        delivery = parse_body(body)
        events = []
        for notification in delivery.notifications:
            event = to_event(
                notification,
                integration_user_id=self.integration_user_id,
                language_field=self.language_field,
            )
            fields = notification.fields
            if notification.object_type == "EmailMessage" and event.kind == "customer_message":
                self._remember_sender(event.conversation_id, fields)
            events.append(event)
        return events

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        """The one event of a single-notification delivery (see `parse_events`).

        Raises:
            InvalidRequestError: not a delivery, or one carrying several notifications.
        """
        events = self.parse_events(body, headers)
        if len(events) != 1:
            raise InvalidRequestError(
                f"the delivery carries {len(events)} notifications; read it with parse_events",
                service=self.name,
            )
        return events[0]

    def webhook_reply(self, body: bytes, headers: Mapping[str, str]) -> WebhookReply | None:
        """An Outbound Message is answered with the SOAP `notificationsResponse` (`Ack` true),
        whether its notifications were queued, duplicates or ignored: anything else makes
        Salesforce send it again for 24 hours. A Flow callout gets the relay's JSON."""
        if body.lstrip()[:1] != b"<":
            return None
        return WebhookReply(body=ACK, content_type="text/xml; charset=utf-8", process=True)

    # -- conversations -----------------------------------------------------------------------

    def lists_notes_of(self, conversation_id: str) -> bool:
        """A case's read holds its comments and feed posts (the notes); a Messaging session's
        entries hold no feed posts, so an uncertain note there is reported, not looked for."""
        return not is_session(conversation_id)

    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        """One SOQL query: a case with its comments, e-mails and feed posts (child
        relationships), or a Messaging session's conversation entries."""
        quoted = quote_id(conversation_id, what="conversation")
        template = _SESSION_MESSAGES if is_session(conversation_id) else _CASE_MESSAGES
        return self._query(template.format(id=quoted))

    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        """The messages of one page, oldest first."""
        self._record_usage(response)
        payload = response_object(response, service=self.name)
        for case in records_of(payload):
            for email in records_of(case.get("EmailMessages")):
                if flag(email.get("Incoming")) and case.get("Id"):
                    self._remember_sender(str(case["Id"]), email)
        return messages_from(payload)

    def build_list_ratings(self) -> httpx.Request | None:
        """Cases with their `satisfaction_field` (none without one)."""
        field = self.satisfaction_field
        return None if field is None else self._query(f"SELECT Id, {field} FROM Case")

    def parse_ratings(self, response: httpx.Response) -> list[Rating]:
        """The rated cases of one page (1–5; 4 and 5 count as satisfied)."""
        payload = response_object(response, service=self.name)
        return ratings_from(payload, self.satisfaction_field or "")

    def next_page(self, response: httpx.Response) -> httpx.Request | None:
        """Follow `nextRecordsUrl` while the query is not `done`."""
        payload = response_object(response, service=self.name)
        if payload.get("done") is not False:
            return None
        return next_page_request(response, link=payload.get("nextRecordsUrl"), headers=_JSON)

    def build_post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """An internal note: a `CaseComment` with `IsPublished` false, or an internal Case
        Feed post (`FeedItem`, visibility `InternalUsers`) when `note_object` says so and
        always on a Messaging session."""
        quote_id(conversation_id, what="conversation")
        if self.note_object == "CaseComment" and not is_session(conversation_id):
            comment = fit_note(as_plain(text, content_type), COMMENT_LIMIT)
            fields = {"ParentId": conversation_id, "CommentBody": comment, "IsPublished": False}
            return self._request("POST", "/sobjects/CaseComment", json=fields)
        post = {
            "ParentId": conversation_id,
            "Body": fit_note(as_feed_html(text, content_type), FEED_LIMIT),
            "IsRichText": True,
            "Type": "TextPost",
            "Visibility": "InternalUsers",
        }
        return self._request("POST", "/sobjects/FeedItem", json=post)

    def build_post_reply(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """The customer's reply: an e-mail for a case (the `emailSimple` action, logged on the
        case as an `EmailMessage`, addressed to the sender of the last incoming e-mail, else
        the case's contact or web e-mail), or a message in a Messaging session.

        An address seen in this case's deliveries is used at once; otherwise the request is a
        chain (`then`) that reads the address (or the session's messaging user) first.
        """
        quote_id(conversation_id, what="conversation")
        if is_session(conversation_id):
            return self._chat_reply(conversation_id, text, content_type)
        body = require_fits(_html(text, content_type), _EMAIL_LIMIT, what="e-mail reply")
        with self._lock:
            known = self._senders.get(conversation_id)
        if known is not None:
            return self._email(conversation_id, known[0], known[1], body)
        last_email = self._query(
            "SELECT Id, FromAddress, Subject FROM EmailMessage WHERE ParentId = "
            f"{quote_id(conversation_id, what='case')} AND Incoming = true "
            "ORDER BY MessageDate DESC LIMIT 1"
        )

        def after_email(response: httpx.Response) -> httpx.Request:
            found = records_of(response_object(response, service=self.name))
            if found and found[0].get("FromAddress"):
                return self._email(
                    conversation_id, str(found[0]["FromAddress"]), found[0].get("Subject"), body
                )
            case = self._query(
                "SELECT Id, Subject, ContactEmail, SuppliedEmail FROM Case WHERE Id = "
                f"{quote_id(conversation_id, what='case')}"
            )
            return then(case, lambda answer: self._email_from_case(conversation_id, answer, body))

        return then(last_email, after_email)

    def build_set_language(self, conversation_id: str, language: str) -> httpx.Request | None:
        """`PATCH /sobjects/Case/{id}` with `language_field`, when one is configured."""
        if self.language_field is None or not conversation_id.startswith(CASE_PREFIX):
            return None
        quote_id(conversation_id, what="case")
        return self._request(
            "PATCH",
            f"/sobjects/Case/{path_segment(conversation_id)}",
            json={self.language_field: language},
        )

    # -- knowledge base ----------------------------------------------------------------------

    def build_list_articles(self, locale: str) -> httpx.Request:
        """The published (`Online`) article versions in `locale`, by SOQL."""
        language = salesforce_language(locale)
        if not language.replace("_", "").isalpha():
            raise InvalidRequestError(f"{locale!r} is not a language tag", service=self.name)
        return self._query(
            f"SELECT Id, KnowledgeArticleId, Title, UrlName, Language, PublishStatus, "
            f"LastModifiedDate, {self.knowledge_body_field} FROM {self.knowledge_object} "
            f"WHERE PublishStatus = 'Online' AND Language = '{language}' "
            "ORDER BY LastModifiedDate"
        )

    def parse_articles(self, response: httpx.Response) -> list[Article]:
        """The articles of one page, identified by `KnowledgeArticleId`."""
        self._record_usage(response)
        return articles_from(response, body_field=self.knowledge_body_field)

    def build_publish_translation(
        self, article: Article, *, locale: str, title: str, body: str, draft: bool = True
    ) -> httpx.Request:
        """Submit the article for translation into `locale` (a draft translation), then write
        the translated title and body into that draft. Publishing is left to people.

        Raises:
            InvalidRequestError: `draft=False`: tl_loop does not publish Knowledge.
        """
        if not draft:
            raise InvalidRequestError(
                "salesforce: tl_loop writes draft translations only; publish them in "
                "Salesforce (or with the publishKnowledgeArticles action)",
                service=self.name,
            )
        article_id = article.source_id or article.id
        quote_id(article_id, what="article")
        submit = self._request(
            "POST",
            "/knowledgeManagement/articleVersions/translations",
            json={"articleId": article_id, "language": salesforce_language(locale)},
        )
        fields = {"Title": title, self.knowledge_body_field: body}

        def fill_in(response: httpx.Response) -> httpx.Request:
            version = draft_id(response)
            quote_id(version, what="draft translation")
            path = f"/sobjects/{path_segment(self.knowledge_object)}/{path_segment(version)}"
            return self._request("PATCH", path, json=fields)

        return then(submit, fill_in)

    # -- errors and limits -------------------------------------------------------------------

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """The base mapping with Salesforce's `errorCode: message` added; a 403
        `REQUEST_LIMIT_EXCEEDED` is a rate limit, and an action answering `isSuccess: false`
        is a refusal even under HTTP 200."""
        self._record_usage(response)
        failed = action_failures(response) if response.status_code < 400 else None
        if failed is not None:
            return InvalidRequestError(
                f"the action {response.request.url.path.rsplit('/', 1)[-1]} failed: {failed}",
                service=self.name,
                status_code=response.status_code,
            )
        if response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in error_codes(response):
            return RateLimitError(
                "the org's API request limit is used up (REQUEST_LIMIT_EXCEEDED)",
                service=self.name,
                status_code=403,
                retry_after=self.retry_after(response) or _LIMIT_WAIT,
            )
        error = super().error_for(response)
        return None if error is None else with_detail(error, response, error_detail(response))

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """`(used, allowed)` API requests in the org's rolling 24 hours, as last reported."""
        with self._lock:
            return self._usage

    # -- helpers -----------------------------------------------------------------------------

    def _remember_sender(self, case_id: str, email: Mapping[str, Any]) -> None:
        address = email.get("FromAddress")
        if not isinstance(address, str) or "@" not in address:
            return
        subject = email.get("Subject")
        with self._lock:
            self._senders[case_id] = (address, subject if isinstance(subject, str) else None)
            self._senders.move_to_end(case_id)
            while len(self._senders) > _SENDER_MEMORY:
                self._senders.popitem(last=False)

    def _record_usage(self, response: httpx.Response) -> None:
        usage = api_usage(response.headers)
        if usage is not None:
            with self._lock:
                self._usage = usage

    def _check_budget(self) -> None:
        usage = self.api_usage
        if usage is None or usage[1] <= 0:
            return
        if usage[0] >= self.api_usage_ceiling * usage[1]:
            raise RateLimitError(
                f"{usage[0]} of the org's {usage[1]} daily API requests are used, over the "
                f"{self.api_usage_ceiling:.0%} tl_loop may take (api_usage_ceiling)",
                service=self.name,
                retry_after=_LIMIT_WAIT,
            )

    def _request(self, method: str, path: str, *, json: Any = None) -> httpx.Request:
        self._check_budget()
        url = f"{self.base_url}/services/data/v{self.api_version}{path}"
        return httpx.Request(method, url, json=json, headers=_JSON)

    def _query(self, soql: str) -> httpx.Request:
        self._check_budget()
        url = f"{self.base_url}/services/data/v{self.api_version}/query"
        return httpx.Request("GET", url, params={"q": soql}, headers=_JSON)

    def _email(self, case_id: str, address: str, subject: object, body: str) -> httpx.Request:
        topic = str(subject or "").strip() or "Your case"
        inputs: dict[str, Any] = {
            "emailAddresses": address,
            "emailSubject": topic if topic.lower().startswith("re:") else f"Re: {topic}",
            "emailBody": body,
            "sendRichBody": True,
            "relatedRecordId": case_id,
            "logEmailOnSend": True,
            "senderType": self.email_sender_type,
        }
        if self.email_sender_address:
            inputs["senderAddress"] = self.email_sender_address
        return self._request("POST", "/actions/standard/emailSimple", json={"inputs": [inputs]})

    def _email_from_case(self, case_id: str, response: httpx.Response, body: str) -> httpx.Request:
        found = records_of(response_object(response, service=self.name))
        case = found[0] if found else {}
        address = case.get("ContactEmail") or case.get("SuppliedEmail")
        if not address:
            raise InvalidRequestError(
                f"case {case_id} has no customer e-mail address (no incoming e-mail, no "
                "contact e-mail, no web e-mail); the reply was not sent",
                service=self.name,
            )
        return self._email(case_id, str(address), case.get("Subject"), body)

    def _chat_reply(self, session_id: str, text: str, content_type: ContentType) -> httpx.Request:
        definition = self.chat_message_definition
        if not definition:
            raise ConfigurationError(
                "salesforce: replies to Messaging sessions need chat_message_definition, the "
                "API name of a Messaging Component with a text parameter"
            )
        message = require_fits(as_plain(text, content_type), _CHAT_LIMIT, what="chat reply")
        session = self._query(
            "SELECT Id, MessagingEndUserId FROM MessagingSession WHERE Id = "
            f"{quote_id(session_id, what='messaging session')}"
        )

        def send(response: httpx.Response) -> httpx.Request:
            found = records_of(response_object(response, service=self.name))
            user = found[0].get("MessagingEndUserId") if found else None
            if not user:
                raise InvalidRequestError(
                    f"messaging session {session_id} has no messaging user; the reply was not sent",
                    service=self.name,
                )
            inputs = {
                "messageDefinitionName": definition,
                "requestType": "SendNotificationMessages",
                "messagingEndUserIds": [user],
                "allowedSessionStatus": "Any",
                "isEnforceMessagingChannelConsent": False,
                "messagingDefinitionInputParameters": [
                    {"name": self.chat_text_parameter, "textValue": message}
                ],
            }
            path = "/actions/standard/sendConversationMessages"
            return self._request("POST", path, json={"inputs": [inputs]})

        return then(session, send)

    def ticket_url(self, conversation_id: str) -> str | None:
        """The record's page in the org, `<instance_url>/<record id>` (Salesforce opens it in
        Lightning or Classic, whichever the user works in)."""
        return f"{self.base_url}/{path_segment(conversation_id)}"

    def __repr__(self) -> str:
        return f"<SalesforceAdapter base_url={self.base_url!r} org={self.organization_id!r}>"


_JSON = {"Accept": "application/json"}


def _html(text: str, content_type: ContentType) -> str:
    if content_type == "html":
        return text
    return as_feed_html(text, "text")
