"""Salesforce Knowledge: article versions out, draft translations in.

Lightning Knowledge stores every version of an article in one object (`Knowledge__kav` by
default, derived from `KnowledgeArticleVersion`): `KnowledgeArticleId` names the article
across versions and languages, `PublishStatus` is `Draft`, `Online` or `Archived`, `Language`
a Salesforce language code (`en_US`, `fr`, `pt_BR`). Translating is two requests
(Salesforce Knowledge Developer Guide, "Submit an Article for Translation"):

1. `POST /services/data/vXX.X/knowledgeManagement/articleVersions/translations` with
   `{"articleId", "language"}` creates (or reuses) the draft translation and answers its id;
2. `PATCH /services/data/vXX.X/sobjects/Knowledge__kav/<draft id>` writes the translated
   fields (the knowledgeManagement resource cannot edit a draft translation; the sObject can).

Publishing stays with people (or the `publishKnowledgeArticles` action in the org).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from tl_loop import ServiceResponseError
from tl_loop.helpdesk import Article, as_id, language_hint, response_object
from tl_loop_salesforce._records import records_of

__all__ = ["article_from_record", "draft_id", "salesforce_language"]

SERVICE = "salesforce"

# The languages Salesforce knows only with a country (its English is en_US, and so on).
_WITH_COUNTRY = {"en": "en_US", "pt": "pt_BR", "zh": "zh_CN", "nl": "nl_NL"}


def salesforce_language(tag: str) -> str:
    """A BCP-47 tag as a Salesforce language code: `pt-BR` → `pt_BR`, `en` → `en_US`."""
    cleaned = tag.strip().replace("-", "_")
    if "_" not in cleaned:
        return _WITH_COUNTRY.get(cleaned.lower(), cleaned.lower())
    language, country = cleaned.split("_", 1)
    return f"{language.lower()}_{country.upper()}"


def article_from_record(record: Mapping[str, Any], *, body_field: str) -> Article | None:
    """An `Article` from a `Knowledge__kav` row: identified by its `KnowledgeArticleId`, so a
    translation attaches to the article rather than to one of its versions."""
    article_id = as_id(record.get("KnowledgeArticleId")) or as_id(record.get("Id"))
    if article_id is None:
        return None
    language = record.get("Language")
    return Article(
        id=article_id,
        title=str(record.get("Title") or ""),
        body=str(record.get(body_field) or ""),
        locale=language_hint(language) or str(language or ""),
        content_type="html",
        updated_at=record.get("LastModifiedDate"),
        source_id=article_id,
    )


def articles_from(response: httpx.Response, *, body_field: str) -> list[Article]:
    """The articles of one page of a `Knowledge__kav` query."""
    payload = response_object(response, service=SERVICE)
    found = (article_from_record(r, body_field=body_field) for r in records_of(payload))
    return [article for article in found if article is not None]


def draft_id(response: httpx.Response) -> str:
    """The draft translation's version id from a submit-for-translation answer (`id`, else the
    last segment of `url`).

    Raises:
        ServiceResponseError: the answer names no draft.
    """
    payload = response_object(response, service=SERVICE)
    found = as_id(payload.get("id"))
    url = payload.get("url")
    if found is None and isinstance(url, str) and url.rstrip("/"):
        found = url.rstrip("/").rsplit("/", 1)[-1]
    if not found:
        raise ServiceResponseError(
            "the submit-for-translation answer names no draft translation (no id or url)",
            service=SERVICE,
            status_code=response.status_code,
        )
    return found
