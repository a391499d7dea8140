"""DeepL over its HTTP API (`/v2/translate`), with native glossaries and formality.

Requests are JSON with `Authorization: DeepL-Auth-Key …`; Free keys (ending `:fx`) go to
`api-free.deepl.com`, others to `api.deepl.com`. Protected spans travel as `<x>⟦n⟧</x>` with
`tag_handling=xml` and `ignore_tags=["x"]`, only in batches that contain one, so plain text stays
plain text. A tl_loop glossary becomes a DeepL multilingual glossary (`POST /v3/glossaries`),
created once per (glossary version, source, target) and reused by id.
"""

from __future__ import annotations

import functools
import html
import os
import re
import threading
from collections.abc import Generator, Mapping, Sequence
from typing import Any, ClassVar, Literal

import httpx

from tl_loop._errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    QuotaExceededError,
    ServiceError,
    ServiceResponseError,
    UnsupportedLanguageError,
)
from tl_loop._models import normalize_tag
from tl_loop.engines._base import Capabilities, SegmentResult, TranslateOptions
from tl_loop.engines._http import HTTPEngine, HTTPFlow, RetryPolicy
from tl_loop.text._token_markup import escape_with_tokens, has_tokens, render_batch

__all__ = [
    "DEEPL_FREE_URL",
    "DEEPL_PRO_URL",
    "DeepLEngine",
    "deepl_source_code",
    "deepl_target_code",
    "parse_languages",
    "render_tokens",
    "restore_tokens",
]

DEEPL_PRO_URL = "https://api.deepl.com"
DEEPL_FREE_URL = "https://api-free.deepl.com"

# Documented languages (deepl-python `Language`, DeepL docs; HE, TH, VI added in 2025). Sources
# are base languages; targets carry the variants DeepL requires. `refresh_languages()` replaces
# these with what the account's `/v2/languages` reports.
# fmt: off
_SOURCES = frozenset((
    "AR", "BG", "CS", "DA", "DE", "EL", "EN", "ES", "ET", "FI", "FR", "HE", "HU", "ID", "IT",
    "JA", "KO", "LT", "LV", "NB", "NL", "PL", "PT", "RO", "RU", "SK", "SL", "SV", "TH", "TR",
    "UK", "VI", "ZH",
))
_TARGETS = frozenset((
    "AR", "BG", "CS", "DA", "DE", "EL", "EN-GB", "EN-US", "ES", "ES-419", "ET", "FI", "FR", "HE",
    "HU", "ID", "IT", "JA", "KO", "LT", "LV", "NB", "NL", "PL", "PT-BR", "PT-PT", "RO", "RU",
    "SK", "SL", "SV", "TH", "TR", "UK", "VI", "ZH-HANS", "ZH-HANT",
))
# fmt: on
_FORMALITY_TARGETS = frozenset(["DE", "ES", "FR", "IT", "JA", "NL", "PL", "PT-BR", "PT-PT", "RU"])

# BCP-47 tags whose DeepL target code is not simply the upper-cased tag.
# (CLDR: a bare `zh` is Simplified.)
_TARGET_ALIASES = {
    "zh": "ZH-HANS", "zh-Hans": "ZH-HANS", "zh-CN": "ZH-HANS", "zh-SG": "ZH-HANS",
    "zh-Hant": "ZH-HANT", "zh-TW": "ZH-HANT", "zh-HK": "ZH-HANT", "zh-MO": "ZH-HANT",
    "no": "NB", "nb": "NB",
}  # fmt: skip
_FORMALITY = {"formal": "prefer_more", "informal": "prefer_less"}
_TAG = "x"
_TAGGED_TOKEN = re.compile(rf"<{_TAG}>\s*(⟦\d+⟧)\s*</{_TAG}>")
_ENV_KEY = "DEEPL_AUTH_KEY"
_ENV_URL = "DEEPL_SERVER_URL"

GlossaryKey = tuple[str, str, str]


def deepl_source_code(tag: str) -> str | None:
    """The DeepL source code for a BCP-47 tag (`pt-BR` → `PT`), or None if DeepL lacks it.

    Args:
        tag: a BCP-47 tag.
    """
    base = _normal(tag).split("-", 1)[0]
    code = "NB" if base == "no" else base.upper()
    return code if code in _SOURCES else None


def deepl_target_code(
    tag: str,
    *,
    english: str = "en-US",
    portuguese: str = "pt-BR",
    targets: frozenset[str] = _TARGETS,
) -> str | None:
    """The DeepL target code for a BCP-47 tag, with the variant DeepL requires.

    Bare `en` and `pt` take the `english` and `portuguese` variants; `zh` is Simplified.

    Args:
        tag: a BCP-47 tag.
        english: the variant for bare `en` (`en-US` or `en-GB`).
        portuguese: the variant for bare `pt` (`pt-BR` or `pt-PT`).
        targets: the DeepL target codes to accept.
    """
    tag = _normal(tag)
    tag = {"en": english, "pt": portuguese}.get(tag, tag)
    code = _TARGET_ALIASES.get(tag, tag.upper())
    if code not in targets and code == "ZH-HANS" and "ZH" in targets:
        code = "ZH"  # older `/v2/languages` answers list Simplified Chinese as plain ZH
    return code if code in targets else None


@functools.lru_cache(maxsize=8)
def _pairs(sources: frozenset[str], targets: frozenset[str]) -> frozenset[tuple[str, str]]:
    """Every (source, target) tag pair of two different languages; bare en/pt/zh targets too."""
    source_tags = {tag for tag in map(_to_bcp47, sources) if tag}
    target_tags = {tag for tag in map(_to_bcp47, targets) if tag}
    target_tags |= {"en", "pt", "zh"} & {t.split("-", 1)[0] for t in target_tags}
    return frozenset(
        (s, t) for s in source_tags for t in target_tags if s.split("-")[0] != t.split("-")[0]
    )


def _to_bcp47(code: str) -> str | None:
    """`ZH-HANS` → `zh-Hans`, `EN-US` → `en-US`: DeepL's codes as tags (None if malformed)."""
    try:
        return normalize_tag(code)
    except ValueError:
        return None


def _normal(tag: str) -> str:
    try:
        return normalize_tag(tag)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None


def render_tokens(segment: str) -> str:
    """XML-escape a segment and wrap each `⟦n⟧` token in `<x>…</x>`.

    DeepL has no `translate="no"` attribute: in `tag_handling=xml` it skips the tags named in
    `ignore_tags` instead, so tokens go in an element of their own rather than a span.
    """
    return escape_with_tokens(segment, wrap=lambda token: f"<{_TAG}>{token}</{_TAG}>")


def restore_tokens(text: str) -> str:
    """Undo `render_tokens` on DeepL's XML output: unwrap tokens, unescape the text."""
    return html.unescape(_TAGGED_TOKEN.sub(r"\1", text))


def parse_languages(response: httpx.Response) -> tuple[frozenset[str], frozenset[str]]:
    """Read `GET /v2/languages`: the codes, and those that support formality (targets only).

    Raises:
        ServiceResponseError: the body is not the documented list.
    """
    try:
        items = response.json()
        codes = frozenset(str(item["language"]).upper() for item in items)
        formal = frozenset(
            str(item["language"]).upper() for item in items if item.get("supports_formality")
        )
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ServiceResponseError(
            f"unexpected /v2/languages body: {error!r}", service="deepl"
        ) from None
    return codes, formal


class DeepLEngine(HTTPEngine):
    """DeepL API Free or Pro. Safe to share between threads.

    Args:
        api_key: the DeepL authentication key; keys ending in `:fx` use the Free host.
        base_url: the API host; by default chosen from the key (Free or Pro).
        english_variant: the target variant for a bare `en` (DeepL requires one).
        portuguese_variant: the target variant for a bare `pt`.
        timeout: seconds for one request.
        retry: how rate limits and outages are retried.
        http_client: an `httpx.Client` to send with.
        async_http_client: an `httpx.AsyncClient` for `AsyncLoop`.

    Raises:
        ConfigurationError: `api_key` is empty, or a variant is not one DeepL offers.
    """

    name = "deepl"
    capabilities = Capabilities(
        max_items=50,  # no longer a hard cap (2024), but still DeepL's advice per request
        max_chars=25_000,  # keeps the UTF-8 JSON body under 128 KiB even at 4 bytes a char
        trusted=False,
        formality=True,
        glossary=True,
    )
    install_hint: ClassVar[str] = (
        "set DEEPL_AUTH_KEY to a DeepL API key (https://www.deepl.com/your-account/keys); "
        "Free keys end with ':fx'"
    )

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        english_variant: Literal["en-US", "en-GB"] = "en-US",
        portuguese_variant: Literal["pt-BR", "pt-PT"] = "pt-BR",
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ConfigurationError(f"DeepL needs an API key: pass api_key= or set {_ENV_KEY}")
        if english_variant not in ("en-US", "en-GB"):
            raise ConfigurationError("english_variant must be 'en-US' or 'en-GB'")
        if portuguese_variant not in ("pt-BR", "pt-PT"):
            raise ConfigurationError("portuguese_variant must be 'pt-BR' or 'pt-PT'")
        free = api_key.strip().endswith(":fx")
        super().__init__(
            base_url=base_url or (DEEPL_FREE_URL if free else DEEPL_PRO_URL),
            timeout=timeout,
            retry=retry,
            http_client=http_client,
            async_http_client=async_http_client,
        )
        self._api_key = api_key.strip()
        self._english = english_variant
        self._portuguese = portuguese_variant
        self._sources = _SOURCES
        self._targets = _TARGETS
        self._formality_targets = _FORMALITY_TARGETS
        # glossary (version, source, target) → DeepL glossary id; "" means DeepL refused it.
        self._glossaries: dict[GlossaryKey, str] = {}
        self._glossary_lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> DeepLEngine:
        """Build from `DEEPL_AUTH_KEY` (required) and `DEEPL_SERVER_URL` (optional).

        Raises:
            ConfigurationError: `DEEPL_AUTH_KEY` is not set.
        """
        env = os.environ if environ is None else environ
        key = env.get(_ENV_KEY, "").strip()
        if not key:
            raise ConfigurationError(f"{_ENV_KEY} is not set; {cls.install_hint}")
        options.setdefault("base_url", env.get(_ENV_URL) or None)
        return cls(api_key=key, **options)

    @property
    def version(self) -> str:
        """The API version and the variants chosen for bare `en` and `pt`."""
        return f"v2;{self._english};{self._portuguese}"

    def __repr__(self) -> str:
        return f"<DeepLEngine base_url={self.base_url!r}>"

    # -- languages ---------------------------------------------------------------------------

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Every (source, target) among DeepL's languages, targets with and without variant."""
        return _pairs(self._sources, self._targets)

    def supports(self, source: str, target: str) -> bool:
        """Whether DeepL translates `source` → `target`, any regional source variant included."""
        return self._maybe_codes(source, target) is not None

    def is_available(self) -> bool:
        """True: DeepL is a service; a bad key shows as an `AuthenticationError` on use."""
        return True

    def refresh_languages(self) -> None:
        """Replace the built-in language table with the account's `/v2/languages` lists.

        Raises:
            ServiceError: DeepL refused or failed the request.
        """
        found: list[tuple[frozenset[str], frozenset[str]]] = []
        for kind in ("source", "target"):
            request = self._request("GET", "/v2/languages", params={"type": kind})
            response = self._send(request)
            self.raise_for_status(response)
            found.append(parse_languages(response))
        (sources, _), (targets, formal) = found
        self._sources, self._targets, self._formality_targets = sources, targets, formal

    def _maybe_codes(self, source: str, target: str) -> tuple[str, str] | None:
        try:
            src = deepl_source_code(source)
            tgt = deepl_target_code(
                target, english=self._english, portuguese=self._portuguese, targets=self._targets
            )
        except ConfigurationError:
            return None
        if src is None or src not in self._sources or tgt is None:
            return None
        return (src, tgt) if src != tgt.split("-", 1)[0] else None

    def _codes(self, source: str, target: str) -> tuple[str, str]:
        codes = self._maybe_codes(source, target)
        if codes is None:
            nearby = sorted(pair for pair in self.pairs() if pair[0] == source)
            raise UnsupportedLanguageError(source, target, available=nearby, hint=self.install_hint)
        return codes

    # -- requests and responses --------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Request:
        headers = {"Authorization": f"DeepL-Auth-Key {self._api_key}"}
        return httpx.Request(method, f"{self.base_url}{path}", headers=headers, **kwargs)

    def build_request(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions,
        glossary_id: str | None = None,
    ) -> httpx.Request:
        """`POST /v2/translate` for `segments`, tokens as ignored XML tags when there are any."""
        src, tgt = self._codes(source, target)
        texts, xml = render_batch(segments, render=render_tokens)
        body: dict[str, Any] = {
            "text": texts,
            "source_lang": src,
            "target_lang": tgt,
            "show_billed_characters": True,
        }
        if xml:
            body["tag_handling"] = "xml"
            body["ignore_tags"] = [_TAG]
        if options.formality is not None:
            body["formality"] = _FORMALITY[options.formality]
        if glossary_id:
            body["glossary_id"] = glossary_id
        if options.context:
            body["context"] = options.context
        return self._request("POST", "/v2/translate", json=body)

    def parse_response(
        self,
        response: httpx.Response,
        *,
        segments: Sequence[str],
        source: str,
        target: str,
        options: TranslateOptions,
    ) -> list[SegmentResult]:
        """The `translations` of a `/v2/translate` answer, in request order."""
        items = _translations(response, len(segments))
        xml = has_tokens(segments)
        applied = self._formality_applied(target, options)
        results = []
        for segment, item in zip(segments, items, strict=True):
            billed = item.get("billed_characters")
            detected = item.get("detected_source_language")
            results.append(
                SegmentResult(
                    text=restore_tokens(item["text"]) if xml else item["text"],
                    billed_characters=billed if isinstance(billed, int) else len(segment),
                    formality_applied=applied,
                    extra={"detected_source_language": str(detected)} if detected else {},
                )
            )
        return results

    def _formality_applied(self, target: str, options: TranslateOptions) -> bool | None:
        # `prefer_*` never fails: on a target without formality DeepL silently uses its default,
        # so report False there (the loop flags it) and True where the target supports it.
        if options.formality is None:
            return None
        code = deepl_target_code(
            target, english=self._english, portuguese=self._portuguese, targets=self._targets
        )
        return code in self._formality_targets

    def build_glossary_request(
        self, terms_tsv: str, *, name: str, source: str, target: str
    ) -> httpx.Request:
        """`POST /v3/glossaries`: a multilingual glossary with one `source` → `target` dictionary.

        Dictionaries use base languages: DeepL applies an `EN` dictionary to EN-US and EN-GB.
        """
        src, tgt = self._codes(source, target)
        dictionary = {
            "source_lang": src.lower(),
            "target_lang": tgt.split("-", 1)[0].lower(),
            "entries": terms_tsv,
            "entries_format": "tsv",
        }
        return self._request(
            "POST", "/v3/glossaries", json={"name": name, "dictionaries": [dictionary]}
        )

    # -- the exchange ------------------------------------------------------------------------

    def flow(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> HTTPFlow:
        """Create the glossary if it is not cached yet, then translate.

        A translation refused because the cached glossary is gone (deleted on DeepL's side)
        drops the id, recreates the glossary once, and translates again.
        """
        if not segments:
            return []
        self._codes(source, target)  # an unsupported pair fails before any request
        glossary_id = None
        for attempt in range(2):
            if options.glossary is not None:
                glossary_id = yield from self._glossary_id(source, target, options)
            request = self.build_request(
                segments, source=source, target=target, options=options, glossary_id=glossary_id
            )
            response = yield request
            if attempt == 0 and glossary_id and _glossary_missing(response):
                self._forget_glossary(source, target, options)
                continue
            break
        self.raise_for_status(response)
        return self.parse_response(
            response, segments=segments, source=source, target=target, options=options
        )

    def _glossary_key(self, source: str, target: str, options: TranslateOptions) -> GlossaryKey:
        assert options.glossary is not None
        return (options.glossary.version, _normal(source), _normal(target))

    def _glossary_id(
        self, source: str, target: str, options: TranslateOptions
    ) -> Generator[httpx.Request, httpx.Response, str | None]:
        """The DeepL glossary id for this glossary and pair, creating it on first use."""
        glossary = options.glossary
        assert glossary is not None
        key = self._glossary_key(source, target, options)
        with self._glossary_lock:
            cached = self._glossaries.get(key)
        if cached is not None:
            return cached or None
        tsv = _forced_terms(glossary.to_tsv(source, target))
        if not tsv:
            return None  # no forced terms for this pair: nothing to create
        name = f"tl_loop {glossary.name} {glossary.version} {key[1]}-{key[2]}"
        response = yield self.build_glossary_request(tsv, name=name, source=source, target=target)
        error = self.error_for(response)
        if isinstance(error, InvalidRequestError):
            # DeepL refuses this pair or these terms: translate without it, and do not ask
            # again for this version; the loop's glossary check still flags missing terms.
            glossary_id = ""
        elif error is not None:
            raise error
        else:
            glossary_id = _glossary_id_of(response)
        with self._glossary_lock:
            self._glossaries[key] = glossary_id
        return glossary_id or None

    def _forget_glossary(self, source: str, target: str, options: TranslateOptions) -> None:
        with self._glossary_lock:
            self._glossaries.pop(self._glossary_key(source, target, options), None)

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """DeepL's codes: 403 key refused, 456 quota used up, 429/529 slow down, 413 too large."""
        error = super().error_for(response)
        common: dict[str, Any] = {"service": self.name, "status_code": response.status_code}
        if isinstance(error, AuthenticationError):
            return AuthenticationError(
                f"{_strip(error)}; check {_ENV_KEY} (Free keys end with ':fx' and use "
                f"{DEEPL_FREE_URL}, this engine uses {self.base_url})",
                **common,
            )
        if isinstance(error, QuotaExceededError):
            return QuotaExceededError(
                f"{_strip(error)}; the monthly character quota or Cost Control limit is used up",
                **common,
            )
        return error


def _strip(error: ServiceError) -> str:
    """An error's message without the `service: ` prefix `ServiceError` adds."""
    return str(error).removeprefix(f"{error.service}: ")


def _forced_terms(tsv: str) -> str:
    """Drop do-not-translate lines (`term<TAB>term`): the loop already protects those terms
    with tokens for every engine, so a glossary holding only them would be wasted."""
    pairs = (line.split("\t", 1) for line in tsv.splitlines())
    return "".join(f"{term}\t{rendering}\n" for term, rendering in pairs if term != rendering)


def _translations(response: httpx.Response, expected: int) -> list[dict[str, Any]]:
    try:
        items = response.json()["translations"]
        if not all(isinstance(item.get("text"), str) for item in items):
            raise TypeError("a translation has no text")
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ServiceResponseError(
            f"unexpected /v2/translate body: {error!r}", service="deepl"
        ) from None
    if len(items) != expected:
        raise ServiceResponseError(
            f"sent {expected} texts, got {len(items)} translations", service="deepl"
        )
    return list(items)


def _glossary_id_of(response: httpx.Response) -> str:
    try:
        glossary_id = response.json()["glossary_id"]
    except (ValueError, TypeError, KeyError) as error:
        raise ServiceResponseError(
            f"unexpected /v3/glossaries body: {error!r}", service="deepl"
        ) from None
    if not isinstance(glossary_id, str) or not glossary_id:
        raise ServiceResponseError("/v3/glossaries gave no glossary_id", service="deepl")
    return glossary_id


def _glossary_missing(response: httpx.Response) -> bool:
    """Whether DeepL refused a translation because its glossary no longer exists."""
    if response.status_code == 404:
        return True
    if response.status_code != 400:
        return False
    text = response.text.lower()
    return "glossary" in text and ("not found" in text or "invalid" in text)
