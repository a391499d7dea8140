"""LibreTranslate, the self-hostable HTTP API over Argos models.

Plain segments go out in `format=text`. Segments with protected tokens (or line breaks) go out
in `format=html`, where the tokens sit in `<span translate="no">` (LibreTranslate honours the
attribute, not `class="notranslate"`) and line breaks travel as `<br data-ws="n">` because HTML
mode squeezes all whitespace to single spaces; the rest of the text is HTML-escaped. The server
unescapes what it returns, so only our own markup is removed on the way back.

Each batch item counts as one request against the server's rate limiter, and repeated 429s
get a client banned (403), so batches stay small, requests are sent one after the other, and a
429 is retried at most once by default, after the wait the server's limit implies.

LibreTranslate's own codes (`zh`, `zt`, `pb`) are mapped to BCP-47 here and nowhere else.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

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
)
from tl_loop._models import normalize_tag
from tl_loop.engines._base import (
    NO_OPTIONS,
    TOKEN_PATTERN,
    Capabilities,
    SegmentResult,
    TranslateOptions,
)
from tl_loop.engines._http import HTTPEngine, HTTPFlow, RetryPolicy
from tl_loop.text._token_markup import escape_text, escape_with_tokens, unwrap_token_spans

__all__ = [
    "LibreTranslateEngine",
    "bcp47_to_libretranslate",
    "libretranslate_to_bcp47",
    "parse_languages",
]

_SERVICE = "libretranslate"
_HOSTED = "libretranslate.com"

# The languages of the Argos models LibreTranslate documents (argospm index); every ordered pair
# works because the server pivots through English. `refresh_languages()` asks the server.
_DOCUMENTED: tuple[str, ...] = (
    "ar", "az", "bg", "bn", "ca", "cs", "da", "de", "el", "en", "eo", "es", "et", "eu", "fa",
    "fi", "fr", "ga", "gl", "he", "hi", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "nb",
    "nl", "pb", "pl", "pt", "ro", "ru", "sk", "sl", "sq", "sv", "th", "tl", "tr", "uk", "ur",
    "vi", "zh", "zt",
)  # fmt: skip

# Model codes that are not BCP-47, and back.
_TO_BCP47: Mapping[str, str] = {"zh": "zh-Hans", "zt": "zh-Hant", "pb": "pt-BR"}
_FROM_BCP47: Mapping[str, str] = {v: k for k, v in _TO_BCP47.items()}
_HANT_REGIONS = frozenset({"TW", "HK", "MO"})

_BREAK = re.compile(r'\s*<br\b[^>]*\bdata-ws="(\d+)"[^>]*>(?:</br>)?\s*')
# A whitespace run holding a line break: `_to_html` sends each one as a numbered `<br>`.
_LINE_BREAK = re.compile(r"\s*\n\s*")
_LIMIT = re.compile(r"(\d+)\s+per\s+(\d+\s+)?(second|minute|hour|day)", re.IGNORECASE)
_WINDOW = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


def libretranslate_to_bcp47(code: str) -> str:
    """Map a LibreTranslate model code to BCP-47: `zt` → `zh-Hant`, `pb` → `pt-BR`, `de` → `de`."""
    return _TO_BCP47.get(code, code)


def bcp47_to_libretranslate(tag: str) -> str:
    """Map a BCP-47 tag to the model code LibreTranslate expects: `zh-TW` → `zt`, `es-MX` → `es`.

    Older servers do not accept `zh-Hans`/`pt-BR` aliases, so the model code is always sent.
    """
    return _FROM_BCP47.get(_canonical(tag), tag.split("-")[0].lower())


def parse_languages(payload: object) -> frozenset[tuple[str, str]]:
    """The BCP-47 pairs in a `GET /languages` answer: `[{code, name, targets: [...]}, ...]`.

    A server too old to list `targets` pivots between all its languages, so every ordered pair
    of listed languages is returned then.

    Raises:
        ServiceResponseError: the answer is not a list of languages.
    """
    if not isinstance(payload, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("code"), str) for entry in payload
    ):
        raise ServiceResponseError(
            "GET /languages did not return a list of {code, name, targets}", service=_SERVICE
        )
    codes = [entry["code"] for entry in payload]
    pairs: set[tuple[str, str]] = set()
    for entry in payload:
        targets = entry.get("targets")
        if not isinstance(targets, list):
            targets = codes
        source = libretranslate_to_bcp47(entry["code"])
        for target in targets:
            if isinstance(target, str) and target != entry["code"]:
                pairs.add((source, libretranslate_to_bcp47(target)))
    return frozenset(pairs)


class LibreTranslateEngine(HTTPEngine):
    """LibreTranslate over HTTP (self-hosted, or libretranslate.com with an API key).

    Safe to share between threads.

    Args:
        base_url: the server, e.g. `http://localhost:5000`.
        api_key: sent as the `api_key` body field; required by libretranslate.com.
        languages: model codes installed on a self-hosted server (`["en", "es", "pb"]`), used
            instead of the documented list until `refresh_languages()` asks the server.
        max_items: most segments per request; each one counts against the server's limiter.
        max_chars: most characters per request (the server's `--char-limit`, if set).
        trusted: whether personal data may reach the server unmasked; by default true for a
            self-hosted server and false for libretranslate.com.
        timeout, retry, http_client, async_http_client: see `HTTPEngine`; by default a 429 is
            retried once.

    Raises:
        ConfigurationError: libretranslate.com without an API key, or a bad limit.

    Example:
        >>> engine = LibreTranslateEngine(base_url="http://localhost:5000")
        >>> engine.supports("en", "zh-TW")
        True
    """

    name: ClassVar[str] = "libretranslate"
    install_hint: ClassVar[str] = (
        "run a LibreTranslate server (docker run -p 5000:5000 libretranslate/libretranslate) "
        "and set LIBRETRANSLATE_URL (and LIBRETRANSLATE_API_KEY if the server needs one)"
    )

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None = None,
        languages: Iterable[str] | None = None,
        max_items: int = 25,
        max_chars: int = 5_000,
        trusted: bool | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        host = urlsplit(base_url).hostname or ""
        hosted = host == _HOSTED or host.endswith(f".{_HOSTED}")
        if hosted and not api_key:
            raise ConfigurationError(
                "libretranslate.com needs an API key: set LIBRETRANSLATE_API_KEY (get one at "
                "https://portal.libretranslate.com) or point LIBRETRANSLATE_URL at your own server"
            )
        if max_items < 1 or max_chars < 1:
            raise ConfigurationError(
                f"max_items and max_chars must be at least 1, not {max_items} and {max_chars}"
            )
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            retry=retry or RetryPolicy(attempts=2, initial_wait=1.0, max_wait=10.0),
            http_client=http_client,
            async_http_client=async_http_client,
        )
        self._api_key = api_key
        self.capabilities = Capabilities(
            max_items=max_items,
            max_chars=max_chars,
            trusted=not hosted if trusted is None else trusted,
        )
        codes = tuple(languages) if languages is not None else _DOCUMENTED
        self._pairs = frozenset(
            (libretranslate_to_bcp47(s), libretranslate_to_bcp47(t))
            for s, t in itertools.permutations(dict.fromkeys(codes), 2)
        )
        self._pairs_lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> Self:
        """Build from `LIBRETRANSLATE_URL` (required) and `LIBRETRANSLATE_API_KEY` (optional).

        Raises:
            ConfigurationError: `LIBRETRANSLATE_URL` is not set.
        """
        env = os.environ if environ is None else environ
        url = env.get("LIBRETRANSLATE_URL", "").strip()
        if not url:
            raise ConfigurationError(
                "LIBRETRANSLATE_URL is not set; set it to your LibreTranslate server, "
                "e.g. http://localhost:5000"
            )
        key = env.get("LIBRETRANSLATE_API_KEY", "").strip() or None
        return cls(base_url=url, api_key=key, **options)

    @property
    def version(self) -> str:
        """The API generation; the server does not report its model versions."""
        return "lt-1"

    def pairs(self) -> frozenset[tuple[str, str]]:
        """BCP-47 pairs: `zh-Hans`, `zh-Hant`, `pt-BR` stand for the models `zh`, `zt`, `pb`."""
        with self._pairs_lock:
            return self._pairs

    def supports(self, source: str, target: str) -> bool:
        """Whether a model covers the pair, accepting `zh`/`zh-TW`/`pt`/`es-MX` style tags."""
        return self._resolve(source, target) is not None

    def refresh_languages(self) -> frozenset[tuple[str, str]]:
        """Ask the server which pairs it has (`GET /languages`, not rate limited) and use them.

        Raises:
            ServiceError: the server could not be asked or answered nonsense.
        """
        request = httpx.Request("GET", f"{self.base_url}/languages")
        response = self._send(request)
        self.raise_for_status(response)
        try:
            payload = response.json()
        except ValueError as error:
            raise ServiceResponseError(
                "GET /languages did not return JSON", service=self.name
            ) from error
        pairs = parse_languages(payload)
        with self._pairs_lock:
            self._pairs = pairs
        return pairs

    # -- the exchange ------------------------------------------------------------------------

    def flow(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> HTTPFlow:
        """Send text and HTML segments in separate, sequential requests of `max_items` each."""
        results: dict[int, SegmentResult] = {}
        groups: dict[bool, list[int]] = {False: [], True: []}
        for index, segment in enumerate(segments):
            if segment.strip():
                groups[_needs_html(segment)].append(index)
            else:  # nothing to translate: no request, no cost
                results[index] = SegmentResult(text=segment, billed_characters=0)
        size = 1 if source == "auto" else self.capabilities.max_items  # one language per batch
        for indexes in groups.values():
            for start in range(0, len(indexes), size):
                chunk = indexes[start : start + size]
                batch = [segments[i] for i in chunk]
                request = self.build_request(batch, source=source, target=target, options=options)
                response = yield request
                self.raise_for_status(response)
                parsed = self.parse_response(
                    response, segments=batch, source=source, target=target, options=options
                )
                results.update(zip(chunk, parsed, strict=True))
        return [results[i] for i in range(len(segments))]

    def build_request(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> httpx.Request:
        """`POST /translate` with `q` as a JSON list; HTML format if any segment needs it."""
        mode: Literal["text", "html"] = "html" if any(map(_needs_html, segments)) else "text"
        render = _to_html if mode == "html" else str.strip
        src, tgt = self._send_codes(source, target)
        body: dict[str, Any] = {
            "q": [render(segment) for segment in segments],
            "source": src,
            "target": tgt,
            "format": mode,
        }
        if self._api_key:
            body["api_key"] = self._api_key
        return httpx.Request("POST", f"{self.base_url}/translate", json=body)

    def parse_response(
        self,
        response: httpx.Response,
        *,
        segments: Sequence[str],
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> list[SegmentResult]:
        """Read `{"translatedText": [...]}`, removing our HTML and keeping outer whitespace.

        Raises:
            ServiceResponseError: the body has no list of one translation per segment.
        """
        try:
            translated = response.json().get("translatedText")
        except (ValueError, AttributeError):
            translated = None
        if isinstance(translated, str) and len(segments) == 1:
            translated = [translated]
        if not (
            isinstance(translated, list)
            and len(translated) == len(segments)
            and all(isinstance(text, str) for text in translated)
        ):
            raise ServiceResponseError(
                f"expected translatedText with {len(segments)} strings, "
                f"got {str(translated)[:100]}",
                service=self.name,
            )
        html_mode = any(map(_needs_html, segments))
        return [
            _result(segment, text, html_mode)
            for segment, text in zip(segments, translated, strict=True)
        ]

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """Map LibreTranslate's `{"error": "..."}` answers to the error tree."""
        status = response.status_code
        if status < 400:
            return None
        message = _message(response)
        lowered = message.lower()
        common: dict[str, Any] = {"service": self.name, "status_code": status}
        if status == 403 and "too many" in lowered:
            return QuotaExceededError(
                f"the server banned this client after too many rate-limit violations ({message});"
                " wait for the ban to lapse, send fewer requests, or raise the server's limits",
                **common,
            )
        if status == 403 or (status == 400 and "api key" in lowered):
            return AuthenticationError(
                f"API key missing or refused ({message}); set LIBRETRANSLATE_API_KEY", **common
            )
        if status == 429:
            return RateLimitError(
                f"rate limited ({message}); each batch item counts as one request",
                retry_after=_spacing(message),
                **common,
            )
        if status == 400 and "exceeds text limit" in lowered:
            return TextTooLongError(f"request over the server's limit ({message})", **common)
        if status == 400 and "format is not supported" in lowered:
            return InvalidRequestError(f"request refused ({message})", **common)
        if status == 400 and ("not supported" in lowered or "not available" in lowered):
            return ServiceError(
                f"language pair not installed on this server ({message}); install the Argos "
                "models or call refresh_languages()",
                retryable=False,
                **common,
            )
        return super().error_for(response)

    def _resolve(self, source: str, target: str) -> tuple[str, str] | None:
        pairs = self.pairs()
        for src in _candidates(source):
            for tgt in _candidates(target):
                if (src, tgt) in pairs:
                    return src, tgt
        return None

    def _send_codes(self, source: str, target: str) -> tuple[str, str]:
        """Model codes for the pair, after fallbacks (`pt-BR` → `pt` when `pb` is missing)."""
        if source == "auto":
            return "auto", bcp47_to_libretranslate(target)
        src, tgt = self._resolve(source, target) or (source, target)
        return bcp47_to_libretranslate(src), bcp47_to_libretranslate(tgt)


def _canonical(tag: str) -> str:
    """The tag the pair table uses for `tag`: `zh-TW` → `zh-Hant`, `zh` → `zh-Hans`."""
    try:
        tag = normalize_tag(tag)
    except ValueError:
        return tag
    base, *rest = tag.split("-")
    if base == "zh":
        return "zh-Hant" if "Hant" in rest or _HANT_REGIONS.intersection(rest) else "zh-Hans"
    return tag


def _candidates(tag: str) -> list[str]:
    """Table tags to try for `tag`, best first: `pt-BR` → `pt-BR`, `pt`; `es-MX` → `es`."""
    canonical = _canonical(tag)
    base = canonical.split("-")[0]
    if base == "pt":
        return ["pt-BR", "pt"] if canonical == "pt-BR" else ["pt", "pt-BR"]
    return list(dict.fromkeys([canonical, base]))


def _needs_html(segment: str) -> bool:
    """Tokens need `translate="no"`; line breaks inside the text need `<br>` to survive."""
    core = segment.strip()
    return bool(TOKEN_PATTERN.search(core)) or "\n" in core


def _to_html(segment: str) -> str:
    """`segment` for HTML mode: tokens in no-translate spans, each line break as a numbered
    `<br data-ws>` (HTML mode squeezes whitespace), the rest escaped."""
    numbers = itertools.count()

    def escape(text: str) -> str:
        return _LINE_BREAK.sub(lambda _: f'<br data-ws="{next(numbers)}">', escape_text(text))

    return escape_with_tokens(segment.strip(), escape=escape)


def _from_html(segment: str, text: str) -> str:
    """Undo `_to_html` on the server's answer, which the server has already unescaped."""
    runs = _LINE_BREAK.findall(segment.strip())

    def restore(match: re.Match[str]) -> str:
        number = int(match[1])
        return runs[number] if number < len(runs) else "\n"

    return _BREAK.sub(restore, unwrap_token_spans(text))


def _result(segment: str, translated: str, html_mode: bool) -> SegmentResult:
    """One segment's result, with the segment's own leading and trailing whitespace."""
    core = segment.strip()
    text = _from_html(segment, translated) if html_mode else translated
    lead = segment[: len(segment) - len(segment.lstrip())]
    trail = segment[len(segment.rstrip()) :]
    return SegmentResult(text=lead + text.strip() + trail, billed_characters=len(core))


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    text = str(error) if error else (response.text.strip() or response.reason_phrase)
    return text[:200]


def _spacing(message: str) -> float | None:
    """Seconds between requests the server's limit allows: "Slowdown: 20 per 1 minute" → 3."""
    match = _LIMIT.search(message)
    if match is None or int(match[1]) == 0:
        return None
    window = _WINDOW[match[3].lower()] * int((match[2] or "1").strip())
    return window / int(match[1])
