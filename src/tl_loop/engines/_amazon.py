"""Amazon Translate `TranslateText` over HTTP, signed with SigV4 (no boto3).

`POST https://translate.{region}.amazonaws.com/` with `X-Amz-Target:
AWSShineFrontendService_20170701.TranslateText` and an `application/x-amz-json-1.1` body
`{Text, SourceLanguageCode, TargetLanguageCode, Settings?, TerminologyNames?}`. The API takes
one text per call (at most 10 000 UTF-8 bytes), so a batch is one request per segment, each
retried on its own; `atranslate_batch` sends up to `max_concurrency` of them at once.

Protected spans travel as `<span translate="no">⟦0⟧</span>` (Amazon honours `translate="no"`
on any HTML element); segments without tokens go as plain text. Formality (`FORMAL` /
`INFORMAL`) is silently ignored for unsupported targets: `AppliedSettings` tells, and
`SegmentResult.formality_applied` reports it. Glossaries are native only when you name a custom
terminology already created in your account (`terminology_names`).

Credentials come from the options, else from the AWS credential chain in botocore's order
(environment, profile files, `credential_process`, container, EC2 instance metadata;
`_aws_credentials`); temporary ones are fetched again before they expire.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import anyio
import anyio.to_thread
import httpx

from tl_loop._errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    QuotaExceededError,
    RateLimitError,
    ServiceError,
    ServiceResponseError,
    ServiceUnavailableError,
    TextTooLongError,
    UnsupportedLanguageError,
)
from tl_loop.engines._aws_credentials import (
    AWSCredentialProvider,
    resolve_aws_credentials,
    resolve_aws_region,
)
from tl_loop.engines._aws_metadata import instance_region
from tl_loop.engines._base import NO_OPTIONS, Capabilities, SegmentResult, TranslateOptions
from tl_loop.engines._http import HTTPEngine, HTTPFlow, RetryPolicy, retry_after_seconds
from tl_loop.engines._sigv4 import AWSCredentials, sign_request
from tl_loop.engines._vendor import vendor_code
from tl_loop.text._token_markup import has_tokens, html_to_segment, segment_to_html

__all__ = ["AMAZON_LANGUAGES", "FORMALITY_TARGETS", "AmazonEngine"]

TARGET = "AWSShineFrontendService_20170701.TranslateText"
MAX_TEXT_BYTES = 10_000

# docs.aws.amazon.com/translate/latest/dg/what-is-languages.html (`pt` is Brazilian).
AMAZON_LANGUAGES: frozenset[str] = frozenset({
    "af", "sq", "am", "ar", "hy", "az", "bn", "bs", "bg", "ca", "zh", "zh-TW", "hr", "cs", "da",
    "fa-AF", "nl", "en", "et", "fa", "tl", "fi", "fr", "fr-CA", "ka", "de", "el", "gu", "ht",
    "ha", "he", "hi", "hu", "is", "id", "ga", "it", "ja", "kn", "kk", "ko", "lv", "lt", "mk",
    "ms", "ml", "mt", "mr", "mn", "no", "ps", "pl", "pt", "pt-PT", "pa", "ro", "ru", "sr", "si",
    "sk", "sl", "so", "es", "es-MX", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur", "uz", "vi",
    "cy",
})  # fmt: skip

# Targets whose formality setting is honoured (customizing-translations-formality).
FORMALITY_TARGETS: frozenset[str] = frozenset(
    {"nl", "fr", "fr-CA", "de", "hi", "it", "ja", "ko", "pt-PT", "es", "es-MX"}
)

_ALIASES: Mapping[str, str] = {
    "zh-Hans": "zh", "zh-CN": "zh", "zh-SG": "zh", "zh-Hant": "zh-TW", "zh-HK": "zh-TW",
    "zh-MO": "zh-TW", "pt-BR": "pt", "nb": "no", "fil": "tl", "prs": "fa-AF", "iw": "he",
}  # fmt: skip

_RATE = frozenset({"ThrottlingException", "TooManyRequestsException"})
_OUTAGE = frozenset({"ServiceUnavailableException", "InternalServerException"})
_AUTH = frozenset({
    "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
    "IncompleteSignatureException", "MissingAuthenticationTokenException",
    "ExpiredTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch",
})  # fmt: skip
_FAILOVER = frozenset({
    "UnsupportedLanguagePairException", "DetectedLanguageLowConfidenceException",
    "ResourceNotFoundException",
})  # fmt: skip


class AmazonEngine(HTTPEngine):
    """Amazon Translate (real-time `TranslateText`).

    Args:
        access_key_id, secret_access_key: an IAM access key allowed `translate:TranslateText`;
            without them, the AWS credential chain finds one (environment, profiles,
            `credential_process`, container, EC2 instance role).
        session_token: for temporary credentials (STS, SSO, instance roles).
        region: the AWS region, e.g. `eu-west-1`; by default `AWS_REGION`,
            `AWS_DEFAULT_REGION`, the profile's `region`, or the EC2 instance's region.
        profile: a profile of `~/.aws/credentials` / `~/.aws/config` (overrides `AWS_PROFILE`
            and the environment's keys).
        credentials: an `AWSCredentialProvider` (e.g. from `resolve_aws_credentials`).
        terminology_names: the custom terminology to apply (Amazon takes one per request); it
            must already exist in that region. Naming one makes glossaries native.
        base_url: defaults to `https://translate.{region}.amazonaws.com` (VPC endpoints, tests).
        max_concurrency: requests in flight at once in `atranslate_batch`.
        clock: the signing time source (tests inject a fixed one); UTC now by default.
        timeout, retry, http_client, async_http_client: see `HTTPEngine`.
    """

    name = "amazon"
    install_hint: ClassVar[str] = (
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN for temporary "
        "credentials), or AWS_PROFILE for a profile in ~/.aws, and AWS_REGION, for an IAM "
        "identity allowed translate:TranslateText"
    )

    def __init__(
        self,
        *,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str | None = None,
        session_token: str | None = None,
        profile: str | None = None,
        credentials: AWSCredentialProvider | None = None,
        terminology_names: Sequence[str] = (),
        base_url: str | None = None,
        max_concurrency: int = 4,
        clock: Callable[[], datetime] | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if access_key_id or secret_access_key:
            if not (access_key_id and secret_access_key):
                raise ConfigurationError(
                    "AmazonEngine needs both access_key_id and secret_access_key (or neither, "
                    "to use the AWS credential chain)"
                )
            credentials = AWSCredentialProvider(
                "options", AWSCredentials(access_key_id, secret_access_key, session_token)
            )
        elif credentials is None:
            credentials = resolve_aws_credentials(profile=profile)
        region = region or _region(os.environ, profile, credentials)
        if isinstance(terminology_names, str) or len(terminology_names) > 1:
            raise ConfigurationError(
                "terminology_names takes a list with at most one name: Amazon Translate "
                "applies one custom terminology per request"
            )
        super().__init__(
            base_url=base_url or f"https://translate.{region}.amazonaws.com",
            timeout=timeout,
            retry=retry,
            http_client=http_client,
            async_http_client=async_http_client,
        )
        self._credentials = credentials
        self.region = region
        self.terminology_names = tuple(terminology_names)
        self.max_concurrency = max(1, max_concurrency)
        self._clock = clock or (lambda: datetime.now(UTC))
        self.capabilities = Capabilities(
            max_items=50,
            max_chars=50_000,
            trusted=False,
            formality=True,
            glossary=bool(self.terminology_names),
        )
        self._pairs = frozenset(
            (s, t) for s in AMAZON_LANGUAGES for t in AMAZON_LANGUAGES if s != t
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> AmazonEngine:
        """Build with credentials and region from the AWS chain, reading `environ`.

        The environment's `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
        else the profile (`profile` option, `AWS_PROFILE`) in `AWS_SHARED_CREDENTIALS_FILE` /
        `AWS_CONFIG_FILE` (default `~/.aws/`), with its `credential_process`; else the container
        endpoint (`AWS_CONTAINER_CREDENTIALS_*`) or the EC2 instance role. Region: `AWS_REGION`,
        `AWS_DEFAULT_REGION`, the profile's `region`. `options` go to the constructor.

        Raises:
            ConfigurationError: no credentials or no region (the message lists what was tried
                and how to fix it), or a source set up wrongly.
        """
        env = environ if environ is not None else os.environ
        profile = options.get("profile")
        if not (options.get("access_key_id") or options.get("credentials")):
            options["credentials"] = resolve_aws_credentials(env, profile=profile)
        if not options.get("region"):
            options["region"] = _region(env, profile, options.get("credentials"))
        return cls(**options)

    @property
    def version(self) -> str:
        """The API version, plus the terminology when one is applied."""
        names = ",".join(self.terminology_names)
        return f"20170701/{names}" if names else "20170701"

    # -- languages -----------------------------------------------------------------------

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Every ordered pair of Amazon's languages, as Amazon spells them."""
        return self._pairs

    def supports(self, source: str, target: str) -> bool:
        """Whether both tags map to Amazon languages (`zh-Hant` → `zh-TW`, `pt-BR` → `pt`)."""
        codes = (self._code(source), self._code(target))
        return None not in codes and codes[0] != codes[1]

    def _code(self, tag: str) -> str | None:
        return vendor_code(tag, AMAZON_LANGUAGES, _ALIASES)

    def _codes(self, source: str, target: str) -> tuple[str, str]:
        src, tgt = self._code(source), self._code(target)
        if src is None or tgt is None:
            raise UnsupportedLanguageError(source, target, hint=self.install_hint)
        return src, tgt

    # -- request and response ------------------------------------------------------------

    def build_request(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> httpx.Request:
        """A signed `TranslateText` request for the one segment in `segments`.

        Raises:
            TextTooLongError: the text is over 10 000 UTF-8 bytes (no request is sent).
        """
        (segment,) = segments
        src, tgt = self._codes(source, target)
        text = _to_send(segment)
        size = len(text.encode("utf-8"))
        if size > MAX_TEXT_BYTES:
            raise TextTooLongError(
                f"segment is {size} UTF-8 bytes; TranslateText takes at most {MAX_TEXT_BYTES}",
                service=self.name,
            )
        body: dict[str, Any] = {
            "Text": text,
            "SourceLanguageCode": src,
            "TargetLanguageCode": tgt,
        }
        if options.formality:
            body["Settings"] = {"Formality": options.formality.upper()}
        if self.terminology_names:
            body["TerminologyNames"] = list(self.terminology_names)
        request = httpx.Request(
            "POST",
            f"{self.base_url}/",
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET},
            content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        )
        return sign_request(
            request,
            credentials=self._credentials.get(),
            region=self.region,
            service="translate",
            now=self._clock(),
        )

    def flow(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> HTTPFlow:
        """One `TranslateText` request per segment, in order."""
        results: list[SegmentResult] = []
        for segment in segments:
            response = yield self.build_request(
                [segment], source=source, target=target, options=options
            )
            self.raise_for_status(response)
            results += self.parse_response(
                response, segments=[segment], source=source, target=target, options=options
            )
        return results

    def parse_response(
        self,
        response: httpx.Response,
        *,
        segments: Sequence[str],
        source: str,
        target: str,
        options: TranslateOptions,
    ) -> list[SegmentResult]:
        """The `TranslatedText`, whether the register was applied, and applied terminologies."""
        (segment,) = segments
        try:
            body = response.json()
            text = body["TranslatedText"]
        except (ValueError, KeyError, TypeError) as error:
            raise ServiceResponseError(
                "response has no TranslatedText", service=self.name
            ) from error
        if not isinstance(text, str):
            raise ServiceResponseError("TranslatedText is not a string", service=self.name)
        return [
            SegmentResult(
                text=html_to_segment(text) if has_tokens([segment]) else text,
                billed_characters=len(_to_send(segment)),  # Amazon bills every character sent
                formality_applied=_formality_applied(body, options),
                extra=_terminologies(body),
            )
        ]

    # -- one request per segment, each retried on its own ----------------------------------

    def translate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> list[SegmentResult]:
        """Translate segment by segment, so a retry never repeats (and re-bills) the others."""
        one = super().translate_batch
        return [
            r for s in segments for r in one([s], source=source, target=target, options=options)
        ]

    async def atranslate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> list[SegmentResult]:
        """Translate up to `max_concurrency` segments at once, each retried on its own."""
        # Fetching temporary credentials again is blocking I/O: do it off the event loop, so
        # the requests below find them fresh.
        await anyio.to_thread.run_sync(self._credentials.get)
        results: list[SegmentResult | None] = [None] * len(segments)
        limit = anyio.Semaphore(self.max_concurrency)
        one = super().atranslate_batch

        async def run(index: int) -> None:
            async with limit:
                (results[index],) = await one(
                    [segments[index]], source=source, target=target, options=options
                )

        async with anyio.create_task_group() as group:
            for index in range(len(segments)):
                group.start_soon(run, index)
        return [result for result in results if result is not None]

    # -- errors --------------------------------------------------------------------------

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """Map Amazon's `{"__type": "...Exception", "message": ...}` to tl_loop errors."""
        status = response.status_code
        if status < 400:
            return None
        kind, message = _error_body(response)
        secret = self._credentials.current.secret_access_key
        message = message.replace(secret, "***") if secret else message
        detail = f"HTTP {status} {kind or ''}: {message}".replace("  ", " ")
        common: dict[str, Any] = {"service": self.name, "status_code": status}
        if kind in _RATE:
            retry_after = retry_after_seconds(response)
            return RateLimitError(f"throttled, {detail}", retry_after=retry_after, **common)
        if kind in _OUTAGE:
            return ServiceUnavailableError(f"unavailable, {detail}", **common)
        if kind == "TextSizeLimitExceededException":
            return TextTooLongError(f"text too long, {detail}", **common)
        if kind == "LimitExceededException":
            return QuotaExceededError(f"account limit reached, {detail}", **common)
        if kind in _AUTH:
            return AuthenticationError(
                f"credentials refused ({detail}); check the access key, its secret, the "
                f"session token and the region (credentials from {self._credentials.source})",
                **common,
            )
        if kind is not None and status == 400:
            error = InvalidRequestError(f"request refused, {detail}", **common)
            error.failover = kind in _FAILOVER  # another engine may have the pair or terms
            return error
        return super().error_for(response)


def _region(
    environ: Mapping[str, str], profile: str | None, credentials: AWSCredentialProvider | None
) -> str:
    """`AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else (on EC2) the instance's."""
    region = resolve_aws_region(environ, profile=profile)
    if not region and credentials is not None and credentials.source == "EC2 instance metadata":
        region = instance_region(environ)
    if not region:
        raise ConfigurationError(
            "no AWS region: AWS_REGION is not set; pass region=, set AWS_REGION, or add "
            "`region = eu-west-1` to the profile in ~/.aws/config"
        )
    return region


def _to_send(segment: str) -> str:
    """The `Text` for `segment`: HTML when it holds tokens (they need `translate="no"`)."""
    return segment_to_html(segment) if has_tokens([segment]) else segment


def _formality_applied(body: Mapping[str, Any], options: TranslateOptions) -> bool | None:
    if options.formality is None:
        return None
    settings = body.get("AppliedSettings") or {}
    return isinstance(settings, dict) and settings.get("Formality") == options.formality.upper()


def _terminologies(body: Mapping[str, Any]) -> dict[str, str]:
    applied = body.get("AppliedTerminologies") or []
    if not isinstance(applied, list) or not applied:
        return {}
    names = [str(item.get("Name", "")) for item in applied if isinstance(item, dict)]
    terms = sum(len(item.get("Terms") or []) for item in applied if isinstance(item, dict))
    return {"applied_terminologies": ",".join(names), "applied_terms": str(terms)}


def _error_body(response: httpx.Response) -> tuple[str | None, str]:
    kind = response.headers.get("x-amzn-errortype")
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        kind = str(body.get("__type") or kind or "") or None
        message = str(body.get("message") or body.get("Message") or "")
    if kind:
        # `com.amazonaws.translate#ThrottlingException` or `ThrottlingException:http://...`
        kind = kind.rsplit("#", 1)[-1].split(":", 1)[0]
    return kind, (message or response.text or response.reason_phrase).strip()[:200]
