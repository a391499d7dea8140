"""Google Cloud Translation Basic (v2) over HTTP, and what v2 and v3 share.

Plain-text batches go with `format=text` (the API's default is HTML, which would hand plain text
back full of `&#39;` entities); a batch holding protected spans goes as HTML with each token in
`<span translate="no">⟦n⟧</span>`, the rest escaped, and the answer unescaped. The API key travels
in the `X-goog-api-key` header rather than the `key=` query parameter, so it never appears in a
URL that httpx or a proxy logs.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from tl_loop._errors import (
    AuthenticationError,
    ConfigurationError,
    QuotaExceededError,
    RateLimitError,
    ServiceError,
    ServiceResponseError,
    TextTooLongError,
    UnsupportedLanguageError,
)
from tl_loop._models import normalize_tag
from tl_loop.engines._base import Capabilities, SegmentResult, TranslateOptions
from tl_loop.engines._http import HTTPEngine, HTTPFlow, RetryPolicy, retry_after_seconds
from tl_loop.text._token_markup import has_tokens, html_to_segment, render_batch

__all__ = [
    "GOOGLE_LANGUAGES",
    "GoogleEngineBase",
    "GoogleTranslateEngine",
    "google_code",
    "google_error",
    "google_pairs",
    "parse_languages",
]

GOOGLE_URL = "https://translation.googleapis.com"

# The documented NMT languages, in Google's own codes (Hebrew `iw`, Javanese `jw`, Filipino `tl`,
# as the languages endpoint reports them). Any supported language translates to any other.
# `refresh_languages()` replaces this with the live list.
# fmt: off
GOOGLE_LANGUAGES = frozenset((
    "af", "ak", "am", "ar", "as", "ay", "az", "be", "bg", "bho", "bm", "bn", "bs", "ca", "ceb",
    "ckb", "co", "cs", "cy", "da", "de", "doi", "dv", "ee", "el", "en", "eo", "es", "et", "eu",
    "fa", "fi", "fr", "fy", "ga", "gd", "gl", "gn", "gom", "gu", "ha", "haw", "hi", "hmn", "hr",
    "ht", "hu", "hy", "id", "ig", "ilo", "is", "it", "iw", "ja", "jw", "ka", "kk", "km", "kn",
    "ko", "kri", "ku", "ky", "la", "lb", "lg", "ln", "lo", "lt", "lus", "lv", "mai", "mg", "mi",
    "mk", "ml", "mn", "mni-Mtei", "mr", "ms", "mt", "my", "ne", "nl", "no", "nso", "ny", "om",
    "or", "pa", "pl", "ps", "pt", "pt-PT", "qu", "ro", "ru", "rw", "sa", "sd", "si", "sk", "sl",
    "sm", "sn", "so", "sq", "sr", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk",
    "tl", "tr", "ts", "tt", "ug", "uk", "ur", "uz", "vi", "xh", "yi", "yo", "zh-CN", "zh-TW",
    "zu",
))
# fmt: on

# BCP-47 tag → Google code where they differ; other tags fall back to their base language.
_TO_GOOGLE = {
    "zh": "zh-CN",
    "zh-Hans": "zh-CN",
    "zh-CN": "zh-CN",
    "zh-SG": "zh-CN",
    "zh-Hant": "zh-TW",
    "zh-TW": "zh-TW",
    "zh-HK": "zh-TW",
    "zh-MO": "zh-TW",
    "he": "iw",
    "jv": "jw",
    "fil": "tl",
    "nb": "no",
    "nn": "no",
    "mni": "mni-Mtei",
}
# Google code → the BCP-47 tag `pairs()` reports.
_FROM_GOOGLE = {"iw": "he", "jw": "jv", "tl": "fil", "zh-CN": "zh-Hans", "zh-TW": "zh-Hant"}


def google_code(tag: str, languages: frozenset[str] = GOOGLE_LANGUAGES) -> str | None:
    """Google's code for a BCP-47 tag (`zh-Hant` → `zh-TW`, `he` → `iw`), or None if unsupported.

    A regional tag Google does not list falls back to its language (`en-GB` → `en`).
    """
    try:
        tag = normalize_tag(tag)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    base = tag.split("-", 1)[0]
    for candidate in (tag, base):
        code = _TO_GOOGLE.get(candidate, candidate)
        if code in languages:
            return code
    return None


@functools.lru_cache(maxsize=8)
def google_pairs(languages: frozenset[str]) -> frozenset[tuple[str, str]]:
    """Every ordered pair of distinct languages, as BCP-47 tags."""
    tags = {_FROM_GOOGLE.get(code, code) for code in languages}
    return frozenset((s, t) for s in tags for t in tags if s != t)


def parse_languages(response: httpx.Response) -> frozenset[str]:
    """Google codes from v2 `languages` (`data.languages[].language`) or v3
    `supportedLanguages` (`languages[].languageCode`, both directions only).

    Raises:
        ServiceResponseError: the body is neither documented shape.
    """
    try:
        body = response.json()
        if "data" in body:
            return frozenset(str(item["language"]) for item in body["data"]["languages"])
        return frozenset(
            str(item["languageCode"])
            for item in body["languages"]
            if item.get("supportSource", True) and item.get("supportTarget", True)
        )
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ServiceResponseError(
            f"unexpected languages body: {error!r}", service="google"
        ) from None


def google_error(response: httpx.Response, *, service: str) -> ServiceError | None:
    """Google's error bodies: `error.errors[].reason` (v2), `error.status` and message (v3).

    Returns None for anything the generic HTTP mapping already gets right.
    """
    status = response.status_code
    error = _error_body(response)
    message = str(error.get("message", ""))
    lowered = message.lower()
    reasons = _reasons(error)
    common: dict[str, Any] = {"service": service, "status_code": status}
    if "API_KEY_INVALID" in reasons or "api key not valid" in lowered:
        return AuthenticationError(f"API key refused: {message}", **common)
    if "dailyLimitExceeded" in reasons or "per day" in lowered:
        return QuotaExceededError(f"daily quota used up: {message}", **common)
    limited = {"userRateLimitExceeded", "rateLimitExceeded", "RATE_LIMIT_EXCEEDED"} & reasons
    if limited or (status == 429 and "per minute" in lowered):
        return RateLimitError(
            f"rate limited: {message}", retry_after=retry_after_seconds(response), **common
        )
    if status == 429 and error.get("status") == "RESOURCE_EXHAUSTED":
        # Not a per-minute limit: a quota (or a billing cap) is used up; waiting will not help.
        return QuotaExceededError(f"quota used up: {message}", **common)
    too_long = ("too many text segments", "too long", "payload size exceeds")
    if status == 400 and any(phrase in lowered for phrase in too_long):
        return TextTooLongError(f"request too large: {message}", **common)
    if status == 403:
        return AuthenticationError(
            f"access refused: {message or 'HTTP 403'} (is the Cloud Translation API enabled "
            "for this project, and is the key or token allowed to use it?)",
            **common,
        )
    return None


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _reasons(error: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    for key in ("errors", "details"):
        items = error.get(key)
        if isinstance(items, list):
            found |= {str(i["reason"]) for i in items if isinstance(i, dict) and "reason" in i}
    return found


def translated_texts(items: object, segments: Sequence[str], *, key: str) -> list[str]:
    """The `key` text of each item, checked against the number of segments sent.

    Raises:
        ServiceResponseError: not a list of objects holding a string under `key`, or a
            different count.
    """
    if not isinstance(items, list) or not all(
        isinstance(item, dict) and isinstance(item.get(key), str) for item in items
    ):
        raise ServiceResponseError(f"translations without {key!r}", service="google")
    if len(items) != len(segments):
        raise ServiceResponseError(
            f"sent {len(segments)} texts, got {len(items)} translations", service="google"
        )
    texts: list[str] = [item[key] for item in items]
    return texts


class GoogleEngineBase(HTTPEngine):
    """What the v2 and v3 engines share: the language table, code mapping, errors, flow."""

    # The documented table until `refresh_languages()` sets the live one on the instance.
    _languages: frozenset[str] = GOOGLE_LANGUAGES

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Every ordered pair among the supported languages."""
        return google_pairs(self._languages)

    def supports(self, source: str, target: str) -> bool:
        """Whether both tags map to Google languages, and to different ones."""
        return self._maybe_codes(source, target) is not None

    def is_available(self) -> bool:
        """True: a service; bad credentials show as an `AuthenticationError` on use."""
        return True

    def _maybe_codes(self, source: str, target: str) -> tuple[str, str] | None:
        try:
            src, tgt = google_code(source, self._languages), google_code(target, self._languages)
        except ConfigurationError:
            return None
        if src is None or tgt is None or src == tgt:
            return None
        return src, tgt

    def _codes(self, source: str, target: str) -> tuple[str, str]:
        codes = self._maybe_codes(source, target)
        if codes is None:
            # Only the pairs from this source: the full table has thousands.
            nearby = sorted(pair for pair in self.pairs() if pair[0] == source)
            raise UnsupportedLanguageError(source, target, available=nearby, hint=self.install_hint)
        return codes

    def flow(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> HTTPFlow:
        """One request per batch; an empty batch costs none."""
        if not segments:
            return []
        return (yield from super().flow(segments, source=source, target=target, options=options))

    def _results(
        self, items: object, segments: Sequence[str], *, extra: Mapping[str, str] | None = None
    ) -> list[SegmentResult]:
        """One result per `translatedText` in `items`, tokens restored if the batch went as HTML.

        Google reports no billed count; `billed_characters` is the code points sent.
        """
        texts = translated_texts(items, segments, key="translatedText")
        markup = has_tokens(segments)
        return [
            SegmentResult(
                text=html_to_segment(text) if markup else text,
                billed_characters=len(segment),
                extra=dict(extra or {}),
            )
            for segment, text in zip(segments, texts, strict=True)
        ]

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """Google's reasons first (daily quota vs rate limit, bad key, too many segments)."""
        if response.status_code < 400:
            return None
        return google_error(response, service=self.name) or super().error_for(response)


class GoogleTranslateEngine(GoogleEngineBase):
    """Google Cloud Translation Basic (v2) with an API key. Safe to share between threads.

    No glossary and no formality: the loop protects glossary terms with tokens and flags a
    requested register as not applied.

    Args:
        api_key: a Google Cloud API key allowed to call the Cloud Translation API.
        model: `nmt` or `base`, or None for the service's default (NMT).
        base_url: the API host.
        timeout: seconds for one request.
        retry: how rate limits and outages are retried.
        http_client: an `httpx.Client` to send with.
        async_http_client: an `httpx.AsyncClient` for `AsyncLoop`.

    Raises:
        ConfigurationError: `api_key` is empty.
    """

    name = "google"
    capabilities = Capabilities(
        max_items=128,  # "You cannot exceed 128 text segments"
        max_chars=20_000,  # the request must stay under 100 K bytes with markup and UTF-8
        trusted=False,
    )
    install_hint: ClassVar[str] = (
        "set GOOGLE_TRANSLATE_API_KEY to an API key of a Google Cloud project with the Cloud "
        "Translation API enabled (console: APIs & Services → Credentials)"
    )

    def __init__(
        self,
        *,
        api_key: str,
        model: str | None = None,
        base_url: str = GOOGLE_URL,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ConfigurationError(
                "Google Translate needs an API key: pass api_key= or set GOOGLE_TRANSLATE_API_KEY"
            )
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            http_client=http_client,
            async_http_client=async_http_client,
        )
        self._api_key = api_key.strip()
        self._model = model

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **options: Any
    ) -> GoogleTranslateEngine:
        """Build from `GOOGLE_TRANSLATE_API_KEY`.

        Raises:
            ConfigurationError: `GOOGLE_TRANSLATE_API_KEY` is not set.
        """
        env = os.environ if environ is None else environ
        key = env.get("GOOGLE_TRANSLATE_API_KEY", "").strip()
        if not key:
            raise ConfigurationError(f"GOOGLE_TRANSLATE_API_KEY is not set; {cls.install_hint}")
        return cls(api_key=key, **options)

    @property
    def version(self) -> str:
        """`v2`, plus the model when one is chosen."""
        return f"v2;{self._model}" if self._model else "v2"

    def __repr__(self) -> str:
        return f"<GoogleTranslateEngine base_url={self.base_url!r}>"

    def refresh_languages(self) -> None:
        """Replace the built-in language table with `GET /language/translate/v2/languages`.

        Raises:
            ServiceError: Google refused or failed the request.
        """
        request = httpx.Request(
            "GET",
            f"{self.base_url}/language/translate/v2/languages",
            headers={"X-goog-api-key": self._api_key},
        )
        response = self._send(request)
        self.raise_for_status(response)
        self._languages = parse_languages(response)

    def build_request(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> httpx.Request:
        """`POST /language/translate/v2` with `q`, `source`, `target` and an explicit `format`."""
        src, tgt = self._codes(source, target)
        texts, markup = render_batch(segments)
        body: dict[str, Any] = {
            "q": texts,
            "source": src,
            "target": tgt,
            "format": "html" if markup else "text",
        }
        if self._model:
            body["model"] = self._model
        return httpx.Request(
            "POST",
            f"{self.base_url}/language/translate/v2",
            json=body,
            headers={"X-goog-api-key": self._api_key},
        )

    def parse_response(
        self,
        response: httpx.Response,
        *,
        segments: Sequence[str],
        source: str,
        target: str,
        options: TranslateOptions,
    ) -> list[SegmentResult]:
        """`data.translations[].translatedText`, unescaped and with tokens restored in HTML mode.

        Google reports no billed count; `billed_characters` is the code points sent.
        """
        try:
            items = response.json()["data"]["translations"]
        except (ValueError, TypeError, KeyError) as error:
            raise ServiceResponseError(
                f"unexpected translate body: {error!r}", service=self.name
            ) from None
        return self._results(items, segments)
