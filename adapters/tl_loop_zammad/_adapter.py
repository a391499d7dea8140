"""The Zammad adapter: tickets, articles (notes and replies) and knowledge-base answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, ClassVar, Literal

import httpx

from tl_loop import (
    Channel,
    ConfigurationError,
    ContentType,
    InvalidRequestError,
    ServiceError,
    normalize_tag,
)
from tl_loop.helpdesk import (
    AdapterSettings,
    Article,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    Setting,
    as_id,
    as_mapping,
    body_event_id,
    carries_own_marker,
    epoch_seconds,
    error_body,
    header,
    hmac_digest,
    json_body,
    language_hint,
    numeric_id,
    path_segment,
    response_array,
    response_object,
    verify_signature,
    with_detail,
)

__all__ = ["ZammadAdapter"]

_SERVICE = "zammad"
_EVENTS = ("agent_note", "customer_message", "ticket_created")
# Article `type` → channel. `web` (the customer portal), `note`, `phone` and the rest: None.
_ARTICLE_TYPES: dict[str, Channel] = {
    "email": "email",
    "chat": "chat",
    "sms": "chat",
    "telegram personal-message": "chat",
    "whatsapp message": "chat",
}
_LOCALE = "tl_loop_locale"  # request extension: which locale an answer listing asked for

Kind = Literal["customer_message", "agent_note", "ticket_created", "ignored"]


class ZammadAdapter(HelpdeskAdapter):
    """Zammad tickets and knowledge-base answers.

    Args:
        base_url: the Zammad instance, e.g. `https://support.example.com`.
        token: an access token (avatar → Profile → Token Access) with `ticket.agent`, and
            `knowledge_base.editor` for the knowledge base.
        webhook_secret: the webhook's HMAC SHA1 signature token (Settings → Webhook).
        reply_type: the article type of public replies: `email` (give `to=` per reply so
            Zammad knows where to send it), `web`, `chat`, …
        language_attribute: a ticket attribute (an object-manager field) to store the customer
            language in; without it the language is added as the tag `lang_<tag>`.
        language_tag_prefix: the prefix of language tags.
        kb_id: the knowledge base's id.
        kb_locale_ids: knowledge-base locale ids by language tag, e.g. `{"en": 1, "es": 2}`
            (Zammad addresses answer translations by `kb_locale_id`).
    """

    name: ClassVar[str] = _SERVICE
    settings: ClassVar[AdapterSettings] = AdapterSettings(
        _SERVICE,
        Setting("base_url", required=True, where="e.g. https://support.example.com"),
        Setting("token", required=True, secret=True,
                where="Zammad → Profile → Token Access"),
        Setting("webhook_secret", required=True, secret=True,
                where="Settings → Webhook → HMAC SHA1 Signature Token"),
        Setting("reply_type", default="email"),
        Setting("language_attribute"),
        Setting("language_tag_prefix", default="lang_"),
        Setting("kb_id", kind="int", default=1),
        Setting("kb_locale_ids", kind="mapping"),
    )  # fmt: skip
    # Zammad caps an article body at 1.5 MB: in characters, whatever the script (≤ 3 bytes).
    max_note_chars = 500_000
    lists_notes = True  # its conversation listing includes internal notes
    supports_kb: ClassVar[bool] = True

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        webhook_secret: str,
        reply_type: str = "email",
        language_attribute: str | None = None,
        language_tag_prefix: str = "lang_",
        kb_id: int = 1,
        kb_locale_ids: Mapping[str, int] | None = None,
    ) -> None:
        self.settings.check(base_url=base_url, token=token, webhook_secret=webhook_secret)
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._webhook_secret = webhook_secret
        self.reply_type = reply_type
        self.language_attribute = language_attribute
        self.language_tag_prefix = language_tag_prefix
        self.kb_id = kb_id
        self.kb_locale_ids = {
            normalize_tag(tag): int(i) for tag, i in (kb_locale_ids or {}).items()
        }

    # -- webhooks ----------------------------------------------------------------------------

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        """Check `X-Hub-Signature: sha1=<hex HMAC-SHA1(signature token, raw body)>`.

        Zammad signs no timestamp: replays are caught by the `X-Zammad-Delivery` dedupe.

        Raises:
            WebhookAuthError: unsigned or forged.
        """
        received = header(headers, "x-hub-signature")
        expected = "sha1=" + hmac_digest(
            self._webhook_secret, body, algorithm="sha1", encoding="hex"
        )
        verify_signature(expected, received, service=self.name)

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        """Parse the default trigger payload (`{"ticket": …, "article": …}`) or a custom one
        with `ticket_id` and `event`. The article `type` (a custom payload's `article_type`)
        gives the channel: `email` → email, `chat` and messengers → chat, else None.

        Raises:
            InvalidRequestError: not JSON, or neither payload shape.
        """
        payload = json_body(body, service=_SERVICE)
        event_id = header(headers, "x-zammad-delivery") or body_event_id(body)
        ticket = payload.get("ticket")
        if isinstance(ticket, dict) and ticket.get("id") is not None:
            event = _default_event(payload, ticket, event_id)
            if event.customer_language is None and self.language_attribute is not None:
                language = language_hint(ticket.get(self.language_attribute))
                event = replace(event, customer_language=language)
            return event
        if payload.get("ticket_id") not in (None, ""):
            return _custom_event(payload, event_id)
        raise InvalidRequestError(
            "the webhook has neither `ticket.id` (Zammad's default payload) nor `ticket_id` "
            "(a custom payload)",
            service=_SERVICE,
        )

    def language_help(self) -> str:
        """Zammad: the ticket's language attribute, when one is configured."""
        if self.language_attribute is None:
            return super().language_help()
        return (
            f"set the ticket's “{self.language_attribute}” field to the customer's language "
            "code (e.g. es for Spanish)"
        )

    def ticket_url(self, conversation_id: str) -> str | None:
        """The ticket in Zammad's agent interface, `<base_url>/#ticket/zoom/<id>` (the link of
        Zammad's own notification e-mails)."""
        return f"{self.base_url}/#ticket/zoom/{path_segment(conversation_id)}"

    def signed_at(
        self, event: HelpdeskEvent, body: bytes, headers: Mapping[str, str]
    ) -> float | None:
        """The article's `created_at` (Zammad signs the body and no timestamp)."""
        payload = json_body(body, service=_SERVICE)
        article = as_mapping(payload.get("article"))
        return epoch_seconds(article.get("created_at") or payload.get("created_at"))

    # -- conversations -----------------------------------------------------------------------

    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        """`GET /api/v1/ticket_articles/by_ticket/{id}`: every article in one response."""
        return self._request(
            "GET", f"/api/v1/ticket_articles/by_ticket/{path_segment(conversation_id)}"
        )

    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        """The articles: `sender` says who wrote each, `internal` who may see it."""
        items = response_array(response, service=_SERVICE)
        return [_message(item) for item in items if isinstance(item, dict)]

    def build_post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        """`POST /api/v1/ticket_articles` with `type: "note"`, `internal: true`."""
        return self._article(conversation_id, text, content_type, kind="note", internal=True)

    def build_post_reply(
        self,
        conversation_id: str,
        text: str,
        *,
        content_type: ContentType = "html",
        to: str | None = None,
    ) -> httpx.Request:
        """`POST /api/v1/ticket_articles` with `type: reply_type`, `internal: false`; `to` is
        the customer's address for email replies."""
        return self._article(
            conversation_id, text, content_type, kind=self.reply_type, internal=False, to=to
        )

    def build_set_language(self, conversation_id: str, language: str) -> httpx.Request:
        """`PUT /api/v1/tickets/{id}` setting `language_attribute`, else `POST
        /api/v1/tags/add` with the tag `lang_<tag>`."""
        if self.language_attribute is not None:
            return self._request(
                "PUT",
                f"/api/v1/tickets/{path_segment(conversation_id)}",
                json={self.language_attribute: language},
            )
        return self._request(
            "POST",
            "/api/v1/tags/add",
            json={
                "object": "Ticket",
                "o_id": numeric_id(conversation_id),
                "item": f"{self.language_tag_prefix}{language.lower()}",
            },
        )

    # -- knowledge base ----------------------------------------------------------------------

    def build_list_articles(self, locale: str) -> httpx.Request:
        """`POST /api/v1/knowledge_bases/init`: every answer's translation titles; the bodies
        come with `build_article_bodies`.

        Raises:
            ConfigurationError: `locale` is not in `kb_locale_ids`.
        """
        self._kb_locale_id(locale)
        request = self._request("POST", "/api/v1/knowledge_bases/init", json={})
        request.extensions[_LOCALE] = normalize_tag(locale)
        return request

    def build_article_bodies(self, response: httpx.Response) -> httpx.Request | None:
        """The overview again, `POST /api/v1/knowledge_bases/init` with
        `{"answer_translation_content_ids": [...]}`: the contents (bodies) of the listed
        translations, all in one request, as Zammad's own editor loads them. None when the
        overview carries them already."""
        assets = _assets(response_object(response, service=_SERVICE))
        contents = as_mapping(assets.get("KnowledgeBaseAnswerTranslationContent"))
        wanted = response.request.extensions.get(_LOCALE)
        missing = sorted(
            {
                content_id
                for translation, _ in self._translations(assets, wanted)
                if isinstance(content_id := translation.get("content_id"), int)
                and str(content_id) not in contents
            }
        )
        if not missing:
            return None
        request = self._request(
            "POST",
            "/api/v1/knowledge_bases/init",
            json={"answer_translation_content_ids": missing},
        )
        request.extensions[_LOCALE] = wanted
        return request

    def build_get_answer(self, answer_id: str, content_ids: Iterable[int] = ()) -> httpx.Request:
        """`GET /api/v1/knowledge_bases/{kb}/answers/{id}?full=1&include_contents=<ids>`: one
        answer, with the contents (bodies) named by `content_ids` (the translations'
        `content_id`s; Zammad reads the parameter as a comma-separated list of them, so the
        documented `include_contents=1` brings content 1 only)."""
        params: dict[str, str | int] = {"full": 1}
        if ids := [str(number) for number in content_ids]:
            params["include_contents"] = ",".join(ids)
        return self._request("GET", f"{self._answers()}/{path_segment(answer_id)}", params=params)

    def parse_articles(self, response: httpx.Response) -> list[Article]:
        """The answer translations in an asset map (in the listed locale, if one was asked
        for): `id` is the translation's, `source_id` the answer's."""
        assets = _assets(response_object(response, service=_SERVICE))
        contents = as_mapping(assets.get("KnowledgeBaseAnswerTranslationContent"))
        wanted = response.request.extensions.get(_LOCALE)
        articles = []
        for translation, tag in self._translations(assets, wanted):
            content = as_mapping(contents.get(str(translation.get("content_id"))))
            articles.append(
                Article(
                    id=str(translation.get("id")),
                    title=str(translation.get("title") or ""),
                    body=str(content.get("body") or ""),
                    locale=tag,
                    updated_at=translation.get("updated_at"),
                    source_id=str(translation.get("answer_id")),
                )
            )
        return articles

    def build_publish_translation(
        self, article: Article, *, locale: str, title: str, body: str, draft: bool = True
    ) -> httpx.Request:
        """`PATCH /api/v1/knowledge_bases/{kb}/answers/{answer}` adding the translation (or
        updating it when `article` is that translation).

        Zammad keeps one state per answer, not per translation: the translation is visible
        wherever the answer is (draft, internal or published), whatever `draft` says. Keep
        answers internal, or the locale unpublished, until a human has reviewed.

        Raises:
            ConfigurationError: `locale` is not in `kb_locale_ids`.
        """
        attributes: dict[str, Any] = {"title": title, "content_attributes": {"body": body}}
        # Not `translation_target`: a Zammad translation has an id of its own (`article.id`)
        # under its answer (`source_id`), and is addressed by that id only when both are known.
        if normalize_tag(article.locale) == normalize_tag(locale) and article.source_id:
            attributes["id"] = numeric_id(article.id)
        else:
            attributes["kb_locale_id"] = self._kb_locale_id(locale)
        answer = article.source_id or article.id
        return self._request(
            "PATCH",
            f"{self._answers()}/{path_segment(answer)}",
            json={"translations_attributes": [attributes]},
        )

    # -- errors ------------------------------------------------------------------------------

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """The base mapping with Zammad's `error_human` (or `error`) quoted."""
        error = super().error_for(response)
        return None if error is None else with_detail(error, response, _error_detail(response))

    # -- helpers -----------------------------------------------------------------------------

    def _translations(
        self, assets: Mapping[str, Any], wanted: object
    ) -> list[tuple[Mapping[str, Any], str]]:
        """The answer translations of an asset map with their locale tags: those of a
        configured locale, and of the `wanted` one when a listing asked for one."""
        tags = {number: tag for tag, number in self.kb_locale_ids.items()}
        found: list[tuple[Mapping[str, Any], str]] = []
        for translation in as_mapping(assets.get("KnowledgeBaseAnswerTranslation")).values():
            if not isinstance(translation, dict):
                continue
            locale_id = translation.get("kb_locale_id")
            tag = tags.get(locale_id) if isinstance(locale_id, int) else None
            if tag is not None and (not wanted or tag == wanted):
                found.append((translation, tag))
        return found

    def _kb_locale_id(self, locale: str) -> int:
        number = self.kb_locale_ids.get(normalize_tag(locale))
        if number is None:
            known = ", ".join(f"{tag}={n}" for tag, n in self.kb_locale_ids.items()) or "none"
            raise ConfigurationError(
                f"zammad: no kb_locale_id for {locale!r} (configured: {known}); add it to "
                "kb_locale_ids (ZAMMAD_KB_LOCALE_IDS), from the KnowledgeBaseLocale assets"
            )
        return number

    def _answers(self) -> str:
        return f"/api/v1/knowledge_bases/{path_segment(self.kb_id)}/answers"

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> httpx.Request:
        headers = {"Authorization": f"Token token={self._token}", "Accept": "application/json"}
        return httpx.Request(
            method, self.base_url + path, params=params, json=json, headers=headers
        )

    def _article(
        self,
        conversation_id: str,
        text: str,
        content_type: ContentType,
        *,
        kind: str,
        internal: bool,
        to: str | None = None,
    ) -> httpx.Request:
        article: dict[str, Any] = {
            "ticket_id": numeric_id(conversation_id),
            "body": text,
            "content_type": "text/html" if content_type == "html" else "text/plain",
            "type": kind,
            "internal": internal,
            "sender": "Agent",
        }
        if to:
            article["to"] = to
        return self._request("POST", "/api/v1/ticket_articles", json=article)


def _default_event(
    payload: Mapping[str, Any], ticket: Mapping[str, Any], event_id: str
) -> HelpdeskEvent:
    ticket_id = str(ticket["id"])
    article = payload.get("article")
    if not isinstance(article, dict) or not article:
        return HelpdeskEvent(kind="ignored", event_id=event_id, conversation_id=ticket_id)
    body = article.get("body")
    text = body if isinstance(body, str) and body else None
    sender = article.get("sender")
    internal = article.get("internal") is True
    kind: Kind
    if text is not None and carries_own_marker(text):
        kind = "ignored"
    elif sender == "Customer" and not internal:
        first = int(ticket.get("article_count") or 0) <= 1
        kind = "ticket_created" if first else "customer_message"
    elif sender == "Agent" and internal and article.get("type") == "note":
        kind = "agent_note"
    else:
        kind = "ignored"  # public agent replies, system articles, internal emails
    return HelpdeskEvent(
        kind=kind,
        event_id=event_id,
        conversation_id=ticket_id,
        message_id=as_id(article.get("id")),
        text=text,
        content_type="html" if article.get("content_type") == "text/html" else "text",
        author_id=as_id(article.get("created_by_id")),
        complete=text is not None,
        raw=payload,
        channel=_ARTICLE_TYPES.get(str(article.get("type"))),
    )


def _custom_event(payload: Mapping[str, Any], event_id: str) -> HelpdeskEvent:
    event = payload.get("event")
    if event not in _EVENTS:
        raise InvalidRequestError(
            f"the custom payload's `event` is {event!r}; use one of {', '.join(_EVENTS)}",
            service=_SERVICE,
        )
    text = payload.get("text")
    text = text if isinstance(text, str) and text else None
    kind: Kind = "ignored" if text is not None and carries_own_marker(text) else event
    return HelpdeskEvent(
        kind=kind,
        event_id=event_id,
        conversation_id=str(payload["ticket_id"]),
        message_id=as_id(payload.get("article_id")),
        text=text,
        complete=False,  # an admin-written template: re-read the articles
        raw=payload,
        channel=_ARTICLE_TYPES.get(str(payload.get("article_type"))),
    )


def _message(item: Mapping[str, Any]) -> HelpdeskMessage:
    sender = item.get("sender")
    role: Literal["customer", "agent", "system"] = (
        "customer" if sender == "Customer" else "agent" if sender == "Agent" else "system"
    )
    return HelpdeskMessage(
        id=str(item.get("id")),
        text=str(item.get("body") or ""),
        content_type="html" if item.get("content_type") == "text/html" else "text",
        author_role=role,
        public=item.get("internal") is not True,
        created_at=item.get("created_at"),
    )


def _error_detail(response: httpx.Response) -> str:
    found = error_body(response)
    return str(found.get("error_human") or found.get("error") or "")[:300]


def _assets(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """An asset map: an answer's comes wrapped in `{"id", "assets"}`, the overview is one."""
    return as_mapping(payload.get("assets")) or payload
