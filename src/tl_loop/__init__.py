"""tl_loop: translation in the loop of customer support.

A customer writes in their language, the agent reads it in theirs; the agent answers, the
customer reads the answer in their own language, with brand terms right, placeholders intact,
and a human asked to look whenever the machine is unsure.

```python
from tl_loop import Loop, Message
from tl_loop.engines import ApertiumEngine

with Loop(engines=[ApertiumEngine()]) as loop:
    conversation = loop.conversation()
    note = loop.inbound(Message(text="Hola, mi pedido #48213 no ha llegado."), conversation)
    reply = loop.outbound(Message(text="It ships today."), conversation)
```

Everything public is importable from here; modules with a leading underscore are private.
"""

from tl_loop._back_translation import RoundTripCheck, RoundTripThresholds
from tl_loop._cache import CacheStats, CacheStore, TranslationCache, cache_key
from tl_loop._config import TlLoopConfig, load_config
from tl_loop._errors import (
    AllEnginesFailedError,
    AuthenticationError,
    ConfigurationError,
    GlossaryError,
    InvalidRequestError,
    MissingDependencyError,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    ServiceError,
    ServiceResponseError,
    ServiceUnavailableError,
    TextTooLongError,
    TlLoopError,
    UnsupportedLanguageError,
    WebhookAuthError,
)
from tl_loop._glossary import Glossary, GlossaryEntry, GlossaryTerm, TermViolation
from tl_loop._hints import Hint, HintRules, LocaleExpectations, check_hints
from tl_loop._loop import AsyncLoop, Loop
from tl_loop._models import (
    AuditRecord,
    BackTranslation,
    Channel,
    ContentType,
    Conversation,
    Decision,
    Detection,
    Direction,
    LanguageTag,
    Message,
    ReviewFlag,
    Severity,
    Translation,
    normalize_tag,
)
from tl_loop._policy import PolicyRule, ReviewPolicy, Thresholds
from tl_loop._version import __version__
from tl_loop.helpdesk._adapter import (
    OWN_NOTE_MARKER,
    Article,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    adapter_names,
    hmac_digest,
    load_adapter_class,
    verify_signature,
)
from tl_loop.text._language import (
    DEFAULT_LANGUAGES,
    LanguageDetector,
    StickyPolicy,
    choose_customer_language,
)
from tl_loop.text._protect import ProtectedDocument, ProtectedTerm, protect
from tl_loop.text._protection import Protection

__all__ = [
    "DEFAULT_LANGUAGES",
    "OWN_NOTE_MARKER",
    "AllEnginesFailedError",
    "Article",
    "AsyncLoop",
    "AuditRecord",
    "AuthenticationError",
    "BackTranslation",
    "CacheStats",
    "CacheStore",
    "Channel",
    "ConfigurationError",
    "ContentType",
    "Conversation",
    "Decision",
    "Detection",
    "Direction",
    "Glossary",
    "GlossaryEntry",
    "GlossaryError",
    "GlossaryTerm",
    "HelpdeskAdapter",
    "HelpdeskEvent",
    "HelpdeskMessage",
    "Hint",
    "HintRules",
    "InvalidRequestError",
    "LanguageDetector",
    "LanguageTag",
    "LocaleExpectations",
    "Loop",
    "Message",
    "MissingDependencyError",
    "NotFoundError",
    "PolicyRule",
    "ProtectedDocument",
    "ProtectedTerm",
    "Protection",
    "QuotaExceededError",
    "RateLimitError",
    "ReviewFlag",
    "ReviewPolicy",
    "RoundTripCheck",
    "RoundTripThresholds",
    "ServiceError",
    "ServiceResponseError",
    "ServiceUnavailableError",
    "Severity",
    "StickyPolicy",
    "TermViolation",
    "TextTooLongError",
    "Thresholds",
    "TlLoopConfig",
    "TlLoopError",
    "Translation",
    "TranslationCache",
    "UnsupportedLanguageError",
    "WebhookAuthError",
    "__version__",
    "adapter_names",
    "cache_key",
    "check_hints",
    "choose_customer_language",
    "hmac_digest",
    "load_adapter_class",
    "load_config",
    "normalize_tag",
    "protect",
    "verify_signature",
]
