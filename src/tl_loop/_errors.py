"""The whole error tree of tl_loop.

```
TlLoopError                         root; never raised directly
├── ConfigurationError(ValueError)  bad or missing options, unknown engine name
│   └── MissingDependencyError(ImportError)  names the `pip install` or `apt-get install` to run
├── UnsupportedLanguageError        no engine (direct or by pivot) covers the language pair
├── GlossaryError(ValueError)       bad glossary file: names the file, line and problem
├── WebhookAuthError                a webhook's signature or secret is missing, wrong or stale
└── ServiceError                    an engine or service failed; knows if it is retryable
    ├── ServiceUnavailableError     process died, network down, timeout, 5xx; retryable
    ├── AuthenticationError         credentials refused
    ├── RateLimitError              too many requests; retryable, maybe with retry_after
    ├── QuotaExceededError          monthly or daily quota used up; fail over, never retry
    ├── TextTooLongError            request over the service's size limit; re-chunk
    ├── InvalidRequestError         the service refused the input itself; no failover
    ├── NotFoundError               the ticket, article or glossary does not exist
    ├── ServiceResponseError        malformed or unexpected answer
    └── AllEnginesFailedError       every engine in a chain failed; carries each failure
```

A review flag is data on a `Translation`, never an exception: these errors mean the call
itself could not be done.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AllEnginesFailedError",
    "AuthenticationError",
    "ConfigurationError",
    "GlossaryError",
    "InvalidRequestError",
    "MissingDependencyError",
    "NotFoundError",
    "QuotaExceededError",
    "RateLimitError",
    "ServiceError",
    "ServiceResponseError",
    "ServiceUnavailableError",
    "TextTooLongError",
    "TlLoopError",
    "UnsupportedLanguageError",
    "WebhookAuthError",
]


class TlLoopError(Exception):
    """Root of every error tl_loop raises."""


class ConfigurationError(TlLoopError, ValueError):
    """An option is missing or wrong; the message says which and how to fix it."""


class MissingDependencyError(ConfigurationError, ImportError):
    """A package this feature needs is not installed; the message names the install command."""

    def __init__(self, message: str, *, install: str) -> None:
        super().__init__(f"{message}; install it with: {install}")
        self.install = install


class UnsupportedLanguageError(TlLoopError):
    """No available engine translates this language pair, directly or through a pivot."""

    def __init__(
        self, source: str, target: str, *, available: Sequence[tuple[str, str]] = (), hint: str = ""
    ) -> None:
        message = f"no engine translates {source}→{target} here; {_coverage(available)}"
        if hint:
            message += f". {hint}"
        super().__init__(message)
        self.source = source
        self.target = target
        self.available = tuple(available)


def _coverage(available: Sequence[tuple[str, str]]) -> str:
    # A short list reads as pairs; a long one (14 Apertium pairs) as the languages they join.
    if not available:
        return "no language pair is installed"
    if len(available) <= 6:
        return "installed pairs: " + ", ".join(f"{s}→{t}" for s, t in sorted(available))
    languages = sorted({tag for pair in available for tag in pair})
    return f"installed pairs: {len(available)} among {', '.join(languages)}"


class GlossaryError(TlLoopError, ValueError):
    """A glossary file or term is invalid; the message names the file, line and problem."""

    def __init__(self, problem: str, *, path: str | None = None, line: int | None = None) -> None:
        where = path or "<glossary>"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {problem}")
        self.problem = problem
        self.path = path
        self.line = line


class WebhookAuthError(TlLoopError):
    """A webhook failed verification: unsigned, forged, or outside the timestamp window."""


class ServiceError(TlLoopError):
    """An engine or service failed to do its work.

    `retryable` says whether the same call may succeed if repeated, so a retry policy is one
    predicate; `retry_after` is the wait in seconds the service asked for, when it did;
    `failover` says whether another engine may succeed where this one failed (not for input
    that every engine would refuse).
    """

    retryable: bool = False
    failover: bool = True

    def __init__(
        self,
        message: str,
        *,
        service: str,
        status_code: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.status_code = status_code
        if retryable is not None:
            self.retryable = retryable
        self.retry_after = retry_after


class ServiceUnavailableError(ServiceError):
    """The service is down, unreachable, too slow, or its process died."""

    retryable = True


class AuthenticationError(ServiceError):
    """The service refused the credentials."""


class RateLimitError(ServiceError):
    """The service asked us to slow down."""

    retryable = True


class QuotaExceededError(ServiceError):
    """The account's quota is used up: fail over to another engine, do not retry."""


class TextTooLongError(ServiceError):
    """The request was over the service's size limit; split it and try again."""


class InvalidRequestError(ServiceError):
    """The service refused the input itself; another engine would refuse it too."""

    failover = False


class NotFoundError(ServiceError):
    """The ticket, article, glossary or model asked for does not exist."""


class ServiceResponseError(ServiceError):
    """The service answered with something we could not understand."""


class AllEnginesFailedError(ServiceError):
    """Every engine able to translate the pair failed; `errors` holds each failure."""

    def __init__(self, errors: Sequence[ServiceError]) -> None:
        detail = "; ".join(str(error) for error in errors) or "no engine was tried"
        super().__init__(f"every engine failed ({detail})", service="chain")
        self.errors = tuple(errors)
