"""Scripting an emulated org: the records a test or the console creates, and the bridge from
the emulators' generic store (messages and KB articles put there directly) to Salesforce records.

`SalesforceEmulator` inherits this; it owns the org (`org`), the store and the maps between the
store's conversations and articles and the org's Case, MessagingSession and Knowledge ids.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from tl_loop.testing.emulators._salesforce_org import SalesforceOrg, now_iso
from tl_loop.testing.emulators._store import EmulatorStore, Write

__all__ = ["OrgScripting"]


class OrgScripting:
    """Helpers that create an org's records as Salesforce's own processes would."""

    org: SalesforceOrg
    store: EmulatorStore
    _records: dict[int, str]
    _articles: dict[str, int]
    _synced: set[int]

    def add_case(
        self,
        *,
        subject: str,
        email: str | None = None,
        origin: str = "Email",
        description: str | None = None,
    ) -> str:
        """A case as Email-to-Case or Web-to-Case makes it; returns its id."""
        fields = {
            "Subject": subject,
            "SuppliedEmail": email,
            "ContactEmail": None,
            "Origin": origin,
            "Description": description,
            "Status": "New",
        }
        return self.org.create("Case", fields, by=self.org.automated)

    def customer_email(
        self,
        case_id: str,
        text: str,
        *,
        html: str | None = None,
        from_address: str = "customer@example.com",
        fire: bool = True,
    ) -> str:
        """An incoming e-mail on a case (Email-to-Case); returns the EmailMessage id."""
        case = self.org.get("Case", case_id) or {}
        fields = {
            "ParentId": case_id,
            "Incoming": True,
            "TextBody": text,
            "HtmlBody": html,
            "FromAddress": from_address,
            "Subject": case.get("Subject"),
            "MessageDate": now_iso(),
            "Status": "0",
        }
        return self.org.create("EmailMessage", fields, by=self.org.automated, fire=fire)

    def agent_comment(
        self, case_id: str, text: str, *, published: bool = False, fire: bool = True
    ) -> str:
        """A case comment typed by the agent; returns its id."""
        fields = {"ParentId": case_id, "CommentBody": text, "IsPublished": published}
        return self.org.create("CaseComment", fields, by=self.org.agent, fire=fire)

    def add_messaging_session(self, *, name: str = "Ana") -> str:
        """A Messaging for In-App and Web session with its messaging user; returns its id."""
        user = self.org.create("MessagingEndUser", {"Name": name}, fire=False)
        return self.org.create(
            "MessagingSession",
            {"MessagingEndUserId": user, "Status": "Active"},
            by=self.org.automated,
        )

    def customer_chat(self, session_id: str, text: str, *, fire: bool = True) -> str:
        """A message from the end user in a Messaging session; returns the entry id."""
        fields = {
            "ConversationId": session_id,
            "ActorType": "EndUser",
            "EntryType": "Text",
            "Message": text,
            "EntryTime": now_iso(),
        }
        return self.org.create("ConversationEntry", fields, by=self.org.automated, fire=fire)

    def add_article(self, *, title: str, body: str, language: str = "en_US") -> str:
        """A published Knowledge article in its master language; returns its article id."""
        article = self.org.new_id("KnowledgeArticle")
        fields = {
            "KnowledgeArticleId": article,
            "Title": title,
            "Answer__c": body,
            "Language": language,
            "PublishStatus": "Online",
            "IsMasterLanguage": True,
            "UrlName": title.lower().replace(" ", "-"),
            "LastModifiedDate": now_iso(),
        }
        self.org.create("Knowledge__kav", fields, fire=False)
        return article

    def records(self, object_type: str, **equal: Any) -> list[dict[str, Any]]:
        """The records of an object whose fields equal `equal`, in creation order."""
        return self.org.rows(object_type, **equal)

    def _sync_store_ratings(self) -> None:
        # A rating given through the generic store (`store.rate`) lands in the Case's CSAT__c,
        # the custom field orgs keep satisfaction in.
        with self.store.lock:
            rated = [
                (self._records[c.id], c.ratings[-1].score)
                for c in self.store.conversations.values()
                if c.ratings and c.id in self._records
            ]
        for record_id, score in rated:
            if record_id.startswith("500"):
                self.org.update("Case", record_id, {"CSAT__c": score})

    def _sync_store_messages(self) -> None:
        # Messages put straight into the generic store (`store.add_message`) become records.
        with self.store.lock:
            pending = [
                (c, m)
                for c in self.store.conversations.values()
                if c.id in self._records
                for m in c.messages
                if m.id not in self._synced
            ]
            self._synced.update(m.id for _, m in pending)
        for conversation, message in pending:
            parent, html = self._records[conversation.id], message.content_type == "html"
            if conversation.channel == "chat":
                actor = "EndUser" if message.author == "customer" else "Agent"
                if message.note:
                    self.org.create(
                        "FeedItem",
                        {
                            "ParentId": parent,
                            "Body": message.body,
                            "Visibility": "InternalUsers",
                            "Type": "TextPost",
                        },
                        by=self.org.agent,
                        fire=False,
                    )
                    continue
                self.org.create(
                    "ConversationEntry",
                    {
                        "ConversationId": parent,
                        "ActorType": actor,
                        "EntryType": "Text",
                        "Message": message.body,
                        "EntryTime": now_iso(),
                    },
                    by=self.org.automated,
                    fire=False,
                )
            elif message.note:
                self.agent_comment(parent, message.body, fire=False)
            else:
                self.org.create(
                    "EmailMessage",
                    {
                        "ParentId": parent,
                        "Incoming": message.author == "customer",
                        "TextBody": None if html else message.body,
                        "HtmlBody": message.body if html else None,
                        "FromAddress": conversation.customer_email,
                        "MessageDate": now_iso(),
                    },
                    by=self.org.automated,
                    fire=False,
                )

    def _publish_store_articles(self) -> None:
        # Articles added to the generic store (`store.add_article`) are Online versions here.
        with self.store.lock:
            fresh = [
                a
                for a in self.store.articles.values()
                if a.source_id is None and a.id not in self._articles.values()
            ]
        for article in fresh:
            knowledge_id = self.add_article(
                title=article.title,
                body=article.body,
                language=_salesforce_language(article.locale),
            )
            with self.store.lock:
                self._articles[knowledge_id] = article.id

    def _translated(self, version_id: str, fields: Mapping[str, Any]) -> None:
        version = self.org.get("Knowledge__kav", version_id) or {}
        source = self._articles.get(str(version.get("KnowledgeArticleId")))
        if source is None:
            return
        locale = str(version.get("Language") or "").replace("_", "-")
        title, body = str(version.get("Title") or ""), str(version.get("Answer__c") or "")
        translation = self.store.translation(source, locale)
        with self.store.lock:
            if translation is None:
                translation = self.store.add_article(title, body, locale=locale, source_id=source)
            translation.title, translation.body, translation.draft = title, body, True
            translation.updated_at = time.time()
        self.store.record(Write("article", str(source), body, "html", dict(fields)))


def _salesforce_language(tag: str) -> str:
    # Salesforce's codes: its English is en_US, regional variants use an underscore.
    code = tag.replace("-", "_")
    return {"en": "en_US", "pt": "pt_BR", "zh": "zh_CN"}.get(code, code)
