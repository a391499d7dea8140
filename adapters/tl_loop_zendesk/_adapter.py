"""The Zendesk Support and Help Center (Guide) adapter."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar, Literal

import httpx

from tl_loop import (
    ConfigurationError,
    ContentType,
    ServiceError,
    WebhookAuthError,
)
from tl_loop.helpdesk import (
    AdapterSettings,
    Article,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    Rating,
    Setting,
    article_from,
    as_mapping,
    error_body,
    header,
    hmac_digest,
    json_body,
    language_from_labels,
    next_page_request,
    parse_time,
    path_segment,
    response_object,
    translation_target,
    verify_signature,
    with_detail,
)
from tl_loop_zendesk._events import SERVICE, comment_text, parse

__all__ = ["ZendeskAdapter"]

_SIGNATURE = "x-zendesk-webhook-signature"
_TIMESTAMP = "x-zendesk-webhook-signature-timestamp"
_RESETS = re.compile(r"remaining=(\d+);\s*resets=(\d+)")


class ZendeskAdapter(HelpdeskAdapter):
    """Zendesk Support tickets and Help Center articles.

    Args:
        subdomain: the account's subdomain (`acme` for `https://acme.zendesk.com`).
        email: the agent the API token belongs to (basic auth `{email}/token`).
        api_token: an API token (Admin Center → Apps and integrations → Zendesk API).
        oauth_token: an OAuth access token, instead of `email` and `api_token`.
        webhook_secret: the webhook's signing secret (Admin Center → Webhooks → the webhook →
            Reveal secret).
        base_url: the API root, overriding `subdomain` (tests, proxies).
        replay_window: seconds a signed timestamp stays valid.
        language_field_id: a ticket custom field to store the customer language in; without
            it the language is added as a tag (`language_tag_prefix` + tag).
        language_tag_prefix: the prefix of language tags, e.g. `lang_es`.
        author_id: post notes and replies as this user instead of the token's owner.
        page_size: comments and articles per page (Zendesk allows at most 100).
    """

    name: ClassVar[str] = SERVICE
    settings: ClassVar[AdapterSettings] = AdapterSettings(
        SERVICE,
        Setting("subdomain", where="acme for https://acme.zendesk.com"),
        Setting("base_url"),
        Setting("email", where="the agent the API token belongs to"),
        Setting("api_token", secret=True,
                where="Admin Center → Apps and integrations → Zendesk API"),
        Setting("oauth_token", secret=True),
        Setting("webhook_secret", required=True, secret=True,
                where="Admin Center → Webhooks → the webhook → Reveal secret"),
        Setting("replay_window", kind="float", default=300.0),
        Setting("language_field_id", kind="int"),
        Setting("language_tag_prefix", default="lang_"),
        Setting("author_id", kind="int"),
        Setting("page_size", kind="int", default=100),
        one_of=(("subdomain", "base_url"), ("oauth_token", "email+api_token")),
    )  # fmt: skip
    # Zendesk caps a comment at "roughly ~65,000 characters, depending on encoding/markup".
    max_note_chars = 64_000
    lists_notes = True  # its conversation listing includes internal notes
    supports_kb: ClassVar[bool] = True

    def __init__(
        self,
        *,
        subdomain: str | None = None,
        email: str | None = None,
        api_token: str | None = None,
        oauth_token: str | None = None,
        webhook_secret: str,
        base_url: str | None = None,
        replay_window: float = 300.0,
        language_field_id: int | None = None,
        language_tag_prefix: str = "lang_",
        author_id: int | None = None,
        page_size: int = 100,
    ) -> None:
        self.settings.check(
            webhook_secret=webhook_secret, subdomain=subdomain, base_url=base_url,
            email=email, api_token=api_token, oauth_token=oauth_token,
        )  # fmt: skip
        if not 1 <= page_size <= 100:
            raise ConfigurationError(f"zendesk: page_size must be 1..100, not {page_size}")
        self.base_url = (base_url or f"https://{subdomain}.zendesk.com").rstrip("/")
        if oauth_token:
            self._authorization = f"Bearer {oauth_token}"
        else:
            pair = f"{email}/token:{api_token}".encode()
            self._authorization = "Basic " + base64.b64encode(pair).decode()
        self._webhook_secret = webhook_secret
        self.replay_window = replay_window
        self.language_field_id = language_field_id
        self.language_tag_prefix = language_tag_prefix
        self.author_id = author_id
        self.page_size = page_size

    # -- webhooks ----------------------------------------------------------------------------

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        """Check `X-Zendesk-Webhook-Signature`: base64 HMAC-SHA256 of timestamp + raw body.

        Raises:
            WebhookAuthError: unsigned, forged, or outside `replay_window`.
        """
        timestamp = header(headers, _TIMESTAMP) or ""
        signature = header(headers, _SIGNATURE)
        if signature and not timestamp:
            raise WebhookAuthError("zendesk: the webhook carries no signature timestamp")
        expected = hmac_digest(
            self._webhook_secret,
            timestamp.encode() + body,
            algorithm="sha256",
            encoding="base64",
        )
        verify_signature(
            expected,
            signature,
            service=self.name,
            timestamp=_epoch(timestamp),
            window=self.replay_window,
            now=now,
        )

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        """Parse an event webhook (`zen:event-type:ticket.*`) or a tl_loop trigger body.

        Raises:
            InvalidRequestError: not JSON, or neither shape.
        """
        payload = json_body(body, service=SERVICE, hint="set the webhook's request format to JSON")
        event = parse(payload, headers, body)
        if event.customer_language is None:
            # An agent's `lang_es` tag: event webhooks carry `detail.tags`; a trigger body
            # may send `"tags": "{{ticket.tags}}"` (space separated).
            tags = as_mapping(payload.get("detail")).get("tags", payload.get("tags"))
            if isinstance(tags, str):
                tags = tags.split()
            language = language_from_labels(tags, prefix=self.language_tag_prefix)
            event = replace(event, customer_language=language)
        return event

    def language_help(self) -> str:
        """Zendesk: the `lang_xx` tag (what the relay writes without a language field)."""
        return (
            f"add the tag {self.language_tag_prefix}xx to the ticket, where xx is the "
            f"customer's language code (e.g. {self.language_tag_prefix}es for Spanish)"
        )

    def ticket_url(self, conversation_id: str) -> str | None:
        """The agent interface's ticket page, `https://<subdomain>.zendesk.com/agent/tickets/<id>`
        (what Zendesk's `{{ticket.link}}` placeholder gives)."""
        return f"{self.base_url}/agent/tickets/{path_segment(conversation_id)}"

    def replay_key(self, event: HelpdeskEvent, body: bytes, headers: Mapping[str, str]) -> str:
        """An event webhook's `id` (signed, in the body); for a trigger body, whose only id is
        the unsigned invocation header, the default (the body's hash)."""
        payload = json_body(body, service=self.name)
        if str(payload.get("type", "")).startswith("zen:event-type:") and payload.get("id"):
            return f"event:{payload['id']}"
        return super().replay_key(event, body, headers)

    # -- conversations -----------------------------------------------------------------------

    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        """`GET /api/v2/tickets/{id}/comments.json`, with the authors sideloaded."""
        return self._request(
            "GET",
            f"/api/v2/tickets/{path_segment(conversation_id)}/comments.json",
            params={"include": "users", "page[size]": self.page_size},
        )

    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        """The comments of one page; authors are customers when their role is `end-user`."""
        payload = response_object(response, service=SERVICE)
        roles = {
            str(user.get("id")): user.get("role")
            for user in payload.get("users") or []
            if isinstance(user, dict)
        }
        return [
            _message(comment, roles)
            for comment in payload.get("comments") or []
            if isinstance(comment, dict)
        ]

    def next_page(self, response: httpx.Response) -> httpx.Request | None:
        """Follow `links.next` while `meta.has_more` (comments and articles alike)."""
        payload = response_object(response, service=SERVICE)
        if not as_mapping(payload.get("meta")).get("has_more"):
            return None
        following = as_mapping(payload.get("links")).get("next")
        return next_page_request(response, link=following, headers=self._headers())

    def build_post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`PUT /api/v2/tickets/{id}.json` with a private comment (`public: false`)."""
        return self._comment(conversation_id, text, content_type, public=False)

    def build_post_reply(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`PUT /api/v2/tickets/{id}.json` with a public comment, which emails the customer."""
        return self._comment(conversation_id, text, content_type, public=True)

    def build_set_language(self, conversation_id: str, language: str) -> httpx.Request:
        """Store the language in `language_field_id`, or add the tag `lang_<tag>`."""
        if self.language_field_id is not None:
            ticket: dict[str, Any] = {
                "custom_fields": [{"id": self.language_field_id, "value": language}]
            }
        else:
            ticket = {"additional_tags": [f"{self.language_tag_prefix}{language.lower()}"]}
        return self._request(
            "PUT", f"/api/v2/tickets/{path_segment(conversation_id)}.json", json={"ticket": ticket}
        )

    # -- knowledge base ----------------------------------------------------------------------

    def build_list_articles(self, locale: str) -> httpx.Request:
        """`GET /api/v2/help_center/{locale}/articles.json`, cursor-paginated."""
        return self._request(
            "GET",
            f"/api/v2/help_center/{path_segment(locale.lower())}/articles.json",
            params={"page[size]": self.page_size},
        )

    def parse_articles(self, response: httpx.Response) -> list[Article]:
        """The articles of one page, in the locale they were listed in."""
        return [
            article_from(item, locale=str(item.get("locale") or ""))
            for item in response_object(response, service=SERVICE).get("articles") or []
            if isinstance(item, dict) and "id" in item
        ]

    def build_publish_translation(
        self, article: Article, *, locale: str, title: str, body: str, draft: bool = True
    ) -> httpx.Request:
        """Create the translation (`POST …/translations.json`) from a source article, or
        update it (`PUT …/translations/{locale}.json`) when `article` is already that
        translation. Drafts stay invisible to customers until an editor publishes them.
        """
        article_id, update = translation_target(article, locale)
        translation = {"locale": locale.lower(), "title": title, "body": body, "draft": draft}
        if update:
            translations = f"/api/v2/help_center/articles/{path_segment(article_id)}/translations"
            path = f"{translations}/{path_segment(locale.lower())}.json"
            return self._request("PUT", path, json={"translation": translation})
        path = f"/api/v2/help_center/articles/{path_segment(article_id)}/translations.json"
        return self._request("POST", path, json={"translation": translation})

    # -- errors ------------------------------------------------------------------------------

    # -- outcomes ----------------------------------------------------------------------------

    def build_list_ratings(self) -> httpx.Request:
        """`GET /api/v2/satisfaction_ratings.json` (cursor pages: `next_page` follows them)."""
        return self._request(
            "GET", "/api/v2/satisfaction_ratings.json", params={"page[size]": self.page_size}
        )

    def parse_ratings(self, response: httpx.Response) -> list[Rating]:
        """Zendesk rates `good` or `bad`; `offered` and `unoffered` are not ratings."""
        payload = response_object(response, service=SERVICE)
        ratings = []
        for item in payload.get("satisfaction_ratings") or []:
            item = as_mapping(item)
            score = str(item.get("score", ""))
            if score not in ("good", "bad") or item.get("ticket_id") is None:
                continue
            ratings.append(
                Rating(
                    conversation_id=str(item["ticket_id"]),
                    score=1.0 if score == "good" else 0.0,
                    raw=score,
                    satisfied=score == "good",
                    created_at=parse_time(item.get("created_at")),
                )
            )
        return ratings

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """The base mapping, with Zendesk's own error text (`error`, `description`,
        `details`) added; 422 is Zendesk's answer to invalid input (or a full ticket)."""
        error = super().error_for(response)
        return None if error is None else with_detail(error, response, _error_detail(response))

    def retry_after(self, response: httpx.Response) -> float | None:
        """`Retry-After` first; else the reset of an exhausted limit in either header family
        (`ratelimit-*`/`rate-limit-*`, and `zendesk-ratelimit-*: total=; remaining=; resets=`)."""
        waited = super().retry_after(response)
        if waited is not None:
            return waited
        exhausted: list[float] = []
        resets: list[float] = []
        for name, value in response.headers.items():
            lowered = name.lower()
            if lowered.startswith(("zendesk-ratelimit-", "zendesk-rate-limit-")):
                match = _RESETS.search(value)
                if match:
                    resets.append(float(match.group(2)))
                    if match.group(1) == "0":
                        exhausted.append(float(match.group(2)))
        for prefix in ("ratelimit-", "rate-limit-"):
            remaining = response.headers.get(f"{prefix}remaining")
            reset = response.headers.get(f"{prefix}reset")
            if reset is not None and reset.isdigit():
                resets.append(float(reset))
                if remaining == "0":
                    exhausted.append(float(reset))
        if exhausted:
            return max(exhausted)
        if response.status_code == 429 and resets:
            return max(resets)
        return None

    # -- helpers -----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": self._authorization, "Accept": "application/json"}

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> httpx.Request:
        return httpx.Request(
            method, self.base_url + path, params=params, json=json, headers=self._headers()
        )

    def _comment(
        self, conversation_id: str, text: str, content_type: ContentType, *, public: bool
    ) -> httpx.Request:
        comment: dict[str, Any] = {"public": public}
        if content_type == "html":
            comment["html_body"] = text
        else:
            comment["body"] = text  # Zendesk renders plain text (and its Markdown) itself
        if self.author_id is not None:
            comment["author_id"] = self.author_id
        return self._request(
            "PUT",
            f"/api/v2/tickets/{path_segment(conversation_id)}.json",
            json={"ticket": {"comment": comment}},
        )


def _epoch(timestamp: str) -> str | None:
    # Zendesk documents ISO-8601 ("2021-03-25T05:09:27Z"); some senders use epoch seconds.
    if not timestamp:
        return None
    if timestamp.strip().lstrip("-").isdigit():
        return timestamp.strip()
    try:
        moment = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return str(moment.timestamp())


def _message(comment: dict[str, Any], roles: Mapping[str, Any]) -> HelpdeskMessage:
    role = roles.get(str(comment.get("author_id")))
    public = comment.get("public") is not False
    author: Literal["customer", "agent", "system"]
    if role == "end-user":
        author = "customer"
    elif role in ("agent", "admin"):
        author = "agent"
    elif comment.get("author_id") in (-1, None):
        author = "system"
    else:
        author = "customer" if public else "agent"  # author not sideloaded: best guess
    text, content_type = comment_text(comment)
    return HelpdeskMessage(
        id=str(comment.get("id")),
        text=text or "",
        content_type=content_type,
        author_role=author,
        public=public,
        created_at=comment.get("created_at"),
    )


def _error_detail(response: httpx.Response) -> str:
    payload = error_body(response)
    error = payload.get("error")
    if isinstance(error, Mapping):  # Help Center: {"error": {"title", "message"}}
        return str(error.get("message") or error.get("title") or "")
    parts = [str(part) for part in (error, payload.get("description")) if part]
    details = payload.get("details")
    if isinstance(details, dict):
        for problems in details.values():
            for problem in problems if isinstance(problems, list) else []:
                if isinstance(problem, dict) and problem.get("description"):
                    parts.append(str(problem["description"]))
    return "; ".join(parts)[:300]
