"""Azure AI Translator, Text Translation v3.0, over HTTP.

`POST {endpoint}/translate?api-version=3.0&from=..&to=..` with `[{"Text": ...}, ...]`, up to
1000 elements and 50 000 characters per request. Protected spans travel as
`<span translate="no">⟦0⟧</span>` in `textType=html` mode (the rest of the text is HTML-escaped
and unescaped again); batches without tokens go as plain text. The `X-Metered-Usage` header
reports the characters billed for a request; it is apportioned to segments by their length.

Glossaries: v3.0 has an inline *dynamic dictionary*
(`<mstrans:dictionary translation="..">term</mstrans:dictionary>`) that Azure applies only when
English is the source or the target. By default this engine does not claim native glossaries:
the loop then replaces forced terms with tokens and writes the target term itself, which gives
the same verbatim result for every pair. With `dynamic_dictionary=True` the engine claims them
and renders forced terms through the dictionary on English pairs, and as
`<span translate="no">target term</span>` elsewhere. Azure v3.0 has no formality setting.

The HTML token markup comes from `tl_loop.text._token_markup`; language-code lookup and billing
apportioning from `tl_loop.engines._vendor`, shared with the Amazon and LLM engines.
"""

from __future__ import annotations

import html
import itertools
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from tl_loop._errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    QuotaExceededError,
    RateLimitError,
    ServiceError,
    ServiceResponseError,
    TextTooLongError,
    UnsupportedLanguageError,
)
from tl_loop.engines._base import Capabilities, SegmentResult, TranslateOptions
from tl_loop.engines._http import HTTPEngine, HTTPFlow, RetryPolicy, retry_after_seconds
from tl_loop.engines._vendor import apportion, vendor_code
from tl_loop.text._token_markup import (
    escape_with_tokens,
    has_tokens,
    html_to_segment,
    no_translate,
    segment_to_html,
)

if TYPE_CHECKING:
    from tl_loop._glossary import Glossary

__all__ = ["AZURE_LANGUAGES", "AzureEngine", "parse_languages"]

DEFAULT_ENDPOINT = "https://api.cognitive.microsofttranslator.com"
API_VERSION = "3.0"

# GET /languages?api-version=3.0&scope=translation (refresh with `refresh_languages()`).
AZURE_LANGUAGES: frozenset[str] = frozenset({
    "af", "am", "ar", "as", "az", "ba", "bg", "bho", "bn", "bo", "brx", "bs", "ca", "cs", "cy",
    "da", "de", "doi", "dsb", "dv", "el", "en", "es", "et", "eu", "fa", "fi", "fil", "fj", "fo",
    "fr", "fr-CA", "ga", "gl", "gom", "gu", "ha", "he", "hi", "hne", "hr", "hsb", "ht", "hu",
    "hy", "id", "ig", "ikt", "is", "it", "iu", "iu-Latn", "ja", "ka", "kk", "km", "kmr", "kn",
    "ko", "ks", "ku", "ky", "lg", "ln", "lo", "lt", "lug", "lv", "lzh", "mai", "mg", "mi", "mk",
    "ml", "mn-Cyrl", "mn-Mong", "mni", "mr", "ms", "mt", "mww", "my", "nb", "ne", "nl", "nso",
    "nya", "or", "otq", "pa", "pl", "prs", "ps", "pt", "pt-PT", "ro", "ru", "run", "rw", "sd",
    "si", "sk", "sl", "sm", "sn", "so", "sq", "sr-Cyrl", "sr-Latn", "st", "sv", "sw", "ta", "te",
    "th", "ti", "tk", "tlh-Latn", "tlh-Piqd", "tn", "to", "tr", "tt", "ty", "ug", "uk", "ur",
    "uz", "vi", "xh", "yo", "yua", "yue", "zh-Hans", "zh-Hant", "zu",
})  # fmt: skip

# BCP-47 tags → Azure codes where they differ (Azure's `pt` is Brazilian Portuguese).
_ALIASES: Mapping[str, str] = {
    "zh": "zh-Hans", "zh-CN": "zh-Hans", "zh-SG": "zh-Hans", "zh-TW": "zh-Hant",
    "zh-HK": "zh-Hant", "zh-MO": "zh-Hant", "pt-BR": "pt", "no": "nb", "tl": "fil",
    "sr": "sr-Cyrl", "mn": "mn-Cyrl", "fa-AF": "prs", "iw": "he",
}  # fmt: skip

# Azure error codes: HTTP status * 1000 + a detail number.
_QUOTA = 403001
_TOO_LONG = frozenset({400050, 400077})
_LANGUAGE = frozenset({400023, 400035, 400036, 400079})


# -- helpers shared with the Amazon and LLM engines ---------------------------------------------


def parse_languages(response: httpx.Response) -> frozenset[str]:
    """The translation languages in a `GET /languages?scope=translation` response.

    Raises:
        ServiceResponseError: the body is not the documented `{"translation": {code: ...}}`.
    """
    try:
        codes = response.json()["translation"]
    except (ValueError, KeyError, TypeError) as error:
        raise ServiceResponseError("unexpected /languages body", service="azure") from error
    if not isinstance(codes, dict) or not codes:
        raise ServiceResponseError("no languages in /languages body", service="azure")
    return frozenset(str(code) for code in codes)


# -- the engine ------------------------------------------------------------------------------


class AzureEngine(HTTPEngine):
    """Azure AI Translator (Text Translation v3.0).

    Args:
        api_key: the resource key (`Ocp-Apim-Subscription-Key`).
        region: the resource's region (`Ocp-Apim-Subscription-Region`), required for regional
            and multi-service resources, e.g. `westeurope`.
        base_url: the endpoint; regional ones such as `https://api-eur.cognitive.microsofttranslator.com`
            keep data in a geography.
        category: a Custom Translator model's category id.
        dynamic_dictionary: claim native glossaries and apply forced terms inline (see module
            docstring); off by default.
        timeout, retry, http_client, async_http_client: see `HTTPEngine`.
    """

    name = "azure"
    install_hint: ClassVar[str] = (
        "set AZURE_TRANSLATOR_KEY (and AZURE_TRANSLATOR_REGION for a regional resource); the "
        "Azure portal shows both under your Translator resource → Keys and Endpoint"
    )

    def __init__(
        self,
        *,
        api_key: str,
        region: str | None = None,
        base_url: str = DEFAULT_ENDPOINT,
        category: str | None = None,
        dynamic_dictionary: bool = False,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not api_key:
            raise ConfigurationError("AzureEngine needs api_key; " + self.install_hint)
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            http_client=http_client,
            async_http_client=async_http_client,
        )
        self._api_key = api_key
        self.region = region
        self.category = category
        self.dynamic_dictionary = dynamic_dictionary
        self.capabilities = Capabilities(
            max_items=1000, max_chars=50_000, trusted=False, glossary=dynamic_dictionary
        )
        self._set_languages(AZURE_LANGUAGES)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> AzureEngine:
        """Build from `AZURE_TRANSLATOR_KEY`, `AZURE_TRANSLATOR_REGION` (optional) and
        `AZURE_TRANSLATOR_ENDPOINT` (optional); `options` go to the constructor.

        Raises:
            ConfigurationError: `AZURE_TRANSLATOR_KEY` is not set.
        """
        env = environ if environ is not None else os.environ
        key = env.get("AZURE_TRANSLATOR_KEY")
        if not key:
            raise ConfigurationError(f"AZURE_TRANSLATOR_KEY is not set; {cls.install_hint}")
        if env.get("AZURE_TRANSLATOR_REGION"):
            options.setdefault("region", env["AZURE_TRANSLATOR_REGION"])
        if env.get("AZURE_TRANSLATOR_ENDPOINT"):
            options.setdefault("base_url", env["AZURE_TRANSLATOR_ENDPOINT"])
        return cls(api_key=key, **options)

    @property
    def version(self) -> str:
        """`3.0`, plus the Custom Translator category when one is used."""
        return f"{API_VERSION}/{self.category}" if self.category else API_VERSION

    # -- languages -----------------------------------------------------------------------

    def _set_languages(self, languages: frozenset[str]) -> None:
        pairs = frozenset(itertools.permutations(sorted(languages), 2))
        self._languages, self._pairs = languages, pairs  # one assignment: readers see both

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Every ordered pair of Azure's translation languages, as Azure spells them."""
        return self._pairs

    def supports(self, source: str, target: str) -> bool:
        """Whether both tags map to Azure languages (`zh-TW` → `zh-Hant`, `pt-BR` → `pt`)."""
        codes = (self._code(source), self._code(target))
        return None not in codes and codes[0] != codes[1]

    def _code(self, tag: str) -> str | None:
        return vendor_code(tag, self._languages, _ALIASES)

    def _codes(self, source: str, target: str) -> tuple[str, str]:
        src, tgt = self._code(source), self._code(target)
        if src is None or tgt is None:
            raise UnsupportedLanguageError(source, target, hint=self.install_hint)
        return src, tgt

    def languages_request(self) -> httpx.Request:
        """The (unauthenticated) request for Azure's current translation languages."""
        params = {"api-version": API_VERSION, "scope": "translation"}
        return httpx.Request("GET", f"{self.base_url}/languages", params=params)

    def refresh_languages(self) -> frozenset[tuple[str, str]]:
        """Replace the built-in language table with Azure's current one; return the pairs.

        Raises:
            ServiceError: the request failed.
        """
        response = self._send(self.languages_request())
        self.raise_for_status(response)
        self._set_languages(parse_languages(response))
        return self._pairs

    # -- request and response ------------------------------------------------------------

    def _render(
        self, segments: Sequence[str], source: str, target: str, options: TranslateOptions
    ) -> tuple[list[str], bool]:
        """The texts to send and whether they are HTML (only when some segment has markup)."""
        terms = _Terms.build(options.glossary, source, target) if options.glossary else None
        has_terms = terms is not None and any(map(terms.pattern.search, segments))
        if not (has_terms or has_tokens(segments)):
            return list(segments), False
        english = "en" in (source.split("-")[0], target.split("-")[0])
        return [_render(segment, terms, dictionary=english) for segment in segments], True

    def build_request(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> httpx.Request:
        """`POST /translate` with one `{"Text": ...}` per segment."""
        src, tgt = self._codes(source, target)
        texts, is_html = self._render(segments, source, target, options)
        params: dict[str, str] = {"api-version": API_VERSION, "from": src, "to": tgt}
        params["textType"] = "html" if is_html else "plain"
        if self.category:
            params["category"] = self.category
        headers = {"Ocp-Apim-Subscription-Key": self._api_key, "X-ClientTraceId": str(uuid.uuid4())}
        if self.region:
            headers["Ocp-Apim-Subscription-Region"] = self.region
        return httpx.Request(
            "POST",
            f"{self.base_url}/translate",
            params=params,
            headers=headers,
            json=[{"Text": text} for text in texts],
        )

    def flow(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> HTTPFlow:
        """One request per batch; an empty batch sends none."""
        if not segments:
            return []
        return (yield from super().flow(segments, source=source, target=target, options=options))

    def parse_response(
        self,
        response: httpx.Response,
        *,
        segments: Sequence[str],
        source: str,
        target: str,
        options: TranslateOptions,
    ) -> list[SegmentResult]:
        """One result per `translations[0].text`; billed characters from `X-Metered-Usage`."""
        sent, is_html = self._render(segments, source, target, options)
        texts = _translations(response, len(segments), self.name)
        if is_html:
            texts = [html_to_segment(text) for text in texts]
        billed = _metered(response, [len(text) for text in sent])
        extra = (
            {"mt_system": response.headers["x-mt-system"]}
            if "x-mt-system" in response.headers
            else {}
        )
        return [
            SegmentResult(text=text, billed_characters=count, extra=dict(extra))
            for text, count in zip(texts, billed, strict=True)
        ]

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """Map Azure's `{"error": {"code": 6 digits, "message"}}` to tl_loop errors."""
        status = response.status_code
        if status < 400:
            return None
        code, message = _error_body(response)
        message = message.replace(self._api_key, "***")
        detail = f"HTTP {status}" + (f" ({code})" if code else "") + f": {message}"
        common: dict[str, Any] = {"service": self.name, "status_code": status}
        if code == _QUOTA:
            return QuotaExceededError(f"free quota used up, {detail}", **common)
        if status in (401, 403):
            return AuthenticationError(
                f"key refused ({detail}); check the key and region= for regional resources",
                **common,
            )
        if status == 429:
            return RateLimitError(
                f"rate limited, {detail}", retry_after=retry_after_seconds(response), **common
            )
        if code in _TOO_LONG:
            return TextTooLongError(f"request too long, {detail}", **common)
        if status == 400:
            error = InvalidRequestError(f"request refused, {detail}", **common)
            error.failover = code in _LANGUAGE  # another engine may have the pair
            return error
        return super().error_for(response)


# -- private helpers -----------------------------------------------------------------------------


class _Terms:
    """Forced glossary terms for one direction, matched as whole words."""

    def __init__(self, pattern: re.Pattern[str], replacements: list[str | None]) -> None:
        self.pattern = pattern
        self.replacements = replacements

    @classmethod
    def build(cls, glossary: Glossary, source: str, target: str) -> _Terms | None:
        terms = glossary.terms_for(source, target)
        if not terms:
            return None
        alternatives = [
            f"({re.escape(t.term)})" if t.case_sensitive else f"(?i:({re.escape(t.term)}))"
            for t in terms
        ]
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")
        return cls(pattern, [t.replacement for t in terms])


def _render(segment: str, terms: _Terms | None, *, dictionary: bool) -> str:
    """`segment` as HTML: tokens in no-translate spans, glossary terms marked between them
    (never inside a token)."""
    if terms is None:
        return segment_to_html(segment)

    def mark(text: str) -> str:
        return _mark_terms(text, terms, dictionary=dictionary)

    return escape_with_tokens(segment, escape=mark)


def _mark_terms(text: str, terms: _Terms, *, dictionary: bool) -> str:
    out: list[str] = []
    position = 0
    for match in terms.pattern.finditer(text):
        out.append(html.escape(text[position : match.start()], quote=False))
        found = html.escape(match.group(0), quote=False)
        replacement = terms.replacements[(match.lastindex or 1) - 1]
        if replacement is None:
            out.append(no_translate(found))
        elif dictionary:
            attribute = html.escape(replacement, quote=True)
            out.append(
                f'<mstrans:dictionary translation="{attribute}">{found}</mstrans:dictionary>'
            )
        else:
            out.append(no_translate(html.escape(replacement, quote=False)))
        position = match.end()
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)


def _translations(response: httpx.Response, expected: int, service: str) -> list[str]:
    try:
        body = response.json()
        texts = [str(item["translations"][0]["text"]) for item in body]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise ServiceResponseError(
            "response is not [{translations: [{text, to}]}]", service=service
        ) from error
    if len(texts) != expected:
        raise ServiceResponseError(
            f"sent {expected} texts, got {len(texts)} translations", service=service
        )
    return texts


def _metered(response: httpx.Response, lengths: list[int]) -> list[int]:
    try:
        total = int(response.headers["x-metered-usage"])
    except (KeyError, ValueError):
        return lengths  # Azure bills every code point sent, markup included
    return apportion(total, lengths)


def _error_body(response: httpx.Response) -> tuple[int | None, str]:
    try:
        error = response.json()["error"]
        code = int(error["code"])
        return code, str(error.get("message", "")).strip()[:200]
    except (ValueError, KeyError, TypeError):
        return None, response.text.strip()[:200] or response.reason_phrase
