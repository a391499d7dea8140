"""Apertium APy, Apertium's HTTP server: the same rule-based pairs as `ApertiumEngine`, remote.

APy translates one text per request (`POST /translate`, `format=txt`), so a batch is a series
of requests, one per segment, or per piece of a long segment: APy silently drops input beyond
ten pipe-sized chunks (about 40 KB, measured), so segments are cut at sentence ends into pieces
of at most `request_chars` characters first.

Measured against Debian's apertium-apy 0.11.7 (`format=txt`): protected tokens `⟦0⟧` come back
unchanged, so they need no markup. Unknown words come back marked `*word` (`@`/`#` for
dictionary and generation gaps); the marks are stripped and reported. Literal `*`, `@` and `#`
in the customer's text (`@team`, `#12345`) would look like marks, so they travel as private
tokens (`⟦-1⟧`, which APy also leaves alone) and are put back afterwards.

Apertium's three-letter codes (`eng`, `por_BR`) are mapped to BCP-47 by the helpers in
`tl_loop.engines._apertium`, so both Apertium engines name languages the same way.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Self

import httpx

from tl_loop._errors import (
    ConfigurationError,
    ServiceError,
    ServiceResponseError,
    ServiceUnavailableError,
)
from tl_loop.engines._apertium import split_long
from tl_loop.engines._apertium_modes import apertium_pairs, bcp47_to_apertium, pair_candidates
from tl_loop.engines._base import NO_OPTIONS, Capabilities, SegmentResult, TranslateOptions
from tl_loop.engines._http import HTTPEngine, HTTPFlow, RetryPolicy

__all__ = ["APyEngine", "parse_pairs", "strip_unknown_marks"]

_SERVICE = "apertium-apy"

# Literal mark characters travel as tokens APy leaves alone (digits only: letters inside the
# brackets would be taken for an unknown word and marked).
_ESCAPES: Mapping[str, str] = {"*": "⟦-1⟧", "@": "⟦-2⟧", "#": "⟦-3⟧"}
_LITERAL = re.compile(r"[*@#]")
_ESCAPED = re.compile(r"⟦-[123]⟧")
_UNESCAPES: Mapping[str, str] = {v: k for k, v in _ESCAPES.items()}

# `*` unknown word, `@` no bilingual entry, `#` cannot generate; a word may hold ' ’ or -.
_MARKED = re.compile(r"[*@#](\w+(?:['’-]\w+)*)")
_EXTRA_SPACES = re.compile(r"(?<=\S) {2,}(?=\S)")

# Retry a failed pair discovery no sooner than this, so a down server is not asked every call.
_DISCOVERY_BACKOFF = 30.0


def parse_pairs(payload: object) -> dict[tuple[str, str], str]:
    """Map each BCP-47 pair in a `/listPairs` answer to APy's `langpair` (`"eng|spa"`).

    Pairs whose codes have no BCP-47 form (`cat_iec2017` spelling variants) are skipped.

    Raises:
        ServiceResponseError: the answer is not `{"responseData": [{sourceLanguage,
            targetLanguage}, ...]}`.
    """
    data = payload.get("responseData") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise ServiceResponseError(
            "/listPairs did not return responseData as a list of pairs", service=_SERVICE
        )
    pairs: dict[tuple[str, str], str] = {}
    for entry in data:
        source = entry.get("sourceLanguage") if isinstance(entry, dict) else None
        target = entry.get("targetLanguage") if isinstance(entry, dict) else None
        if not (isinstance(source, str) and isinstance(target, str)):
            continue
        for pair in apertium_pairs(source, target):
            pairs[pair] = f"{source}|{target}"
    return pairs


def strip_unknown_marks(text: str) -> tuple[str, tuple[str, ...]]:
    """Remove Apertium's unknown-word marks (`*word`, `@word`, `#word`) from plain text.

    Returns the clean text and the marked words, each once, in order of appearance. Every
    `*`, `@` or `#` directly before a word is taken for a mark, so literal ones must have been
    escaped before translation (this engine does).
    """
    words = dict.fromkeys(match[1] for match in _MARKED.finditer(text))
    return _MARKED.sub(r"\1", text), tuple(words)


class APyEngine(HTTPEngine):
    """Apertium through an APy server (`apertium-apy /usr/share/apertium/modes`).

    Safe to share between threads. Pairs are asked of the server (`/listPairs`) on first use,
    unless given; a regional tag falls back to its language (`pt-BR` → `pt`) when the server
    has no variant.

    Args:
        base_url: the APy server, e.g. `http://localhost:2737`.
        pairs: BCP-47 pairs the server has, to skip asking it.
        request_chars: longest text sent in one request; longer segments are cut at sentence
            ends (APy drops input beyond ~40 KB without an error).
        trusted: whether personal data may reach the server unmasked (self-hosted: yes).
        timeout, retry, http_client, async_http_client: see `HTTPEngine`.

    Example:
        >>> engine = APyEngine(base_url="http://localhost:2737", pairs=[("en", "es")])
        >>> engine.supports("en-GB", "es")
        True
    """

    name: ClassVar[str] = "apertium-apy"
    install_hint: ClassVar[str] = (
        "run an APy server (sudo apt-get install apertium-apy apertium-eng-spa; "
        "apertium-apy /usr/share/apertium/modes) and set APERTIUM_APY_URL=http://localhost:2737"
    )

    def __init__(
        self,
        *,
        base_url: str,
        pairs: Iterable[tuple[str, str]] | None = None,
        request_chars: int = 1500,
        trusted: bool = True,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if request_chars < 100:
            raise ConfigurationError(f"request_chars must be at least 100, not {request_chars}")
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            http_client=http_client,
            async_http_client=async_http_client,
        )
        self.capabilities = Capabilities(
            max_items=32, max_chars=20_000, trusted=trusted, marks_unknown=True
        )
        self._request_chars = request_chars
        self._pairs_lock = threading.Lock()
        self._langpairs: dict[tuple[str, str], str] | None = None
        if pairs is not None:
            self._langpairs = {
                (s, t): f"{bcp47_to_apertium(s)}|{bcp47_to_apertium(t)}" for s, t in pairs
            }
        self._next_discovery = 0.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> Self:
        """Build from `APERTIUM_APY_URL` (required).

        Raises:
            ConfigurationError: `APERTIUM_APY_URL` is not set.
        """
        env = os.environ if environ is None else environ
        url = env.get("APERTIUM_APY_URL", "").strip()
        if not url:
            raise ConfigurationError(
                "APERTIUM_APY_URL is not set; set it to your APy server, e.g. http://localhost:2737"
            )
        return cls(base_url=url, **options)

    @property
    def version(self) -> str:
        """The API generation; APy does not report its pairs' package versions."""
        return "apy-1"

    def pairs(self) -> frozenset[tuple[str, str]]:
        """The server's pairs as BCP-47 tags; empty while the server cannot be reached."""
        return frozenset(self._discovered())

    def supports(self, source: str, target: str) -> bool:
        """Whether the server has the pair, falling back from `pt-BR` to `pt` on either side."""
        return self._langpair(source, target, self._discovered()) is not None

    def refresh_languages(self) -> frozenset[tuple[str, str]]:
        """Ask the server for its pairs (`GET /listPairs`) and use them from now on.

        Raises:
            ServiceError: the server could not be asked or answered nonsense.
        """
        response = self._send(httpx.Request("GET", f"{self.base_url}/listPairs"))
        self.raise_for_status(response)
        try:
            payload = response.json()
        except ValueError as error:
            raise ServiceResponseError(
                "/listPairs did not return JSON", service=self.name
            ) from error
        langpairs = parse_pairs(payload)
        with self._pairs_lock:
            self._langpairs = langpairs
        return frozenset(langpairs)

    # -- the exchange ------------------------------------------------------------------------

    def flow(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> HTTPFlow:
        """One request per segment, or per piece of a long one, in order."""
        results: list[SegmentResult] = []
        for segment in segments:
            texts: list[str] = []
            unknown: dict[str, None] = {}
            for piece in split_long(segment, self._request_chars):
                core = piece.strip()
                if not core:
                    texts.append(piece)
                    continue
                request = self.build_request([core], source=source, target=target, options=options)
                response = yield request
                self.raise_for_status(response)
                [result] = self.parse_response(
                    response, segments=[core], source=source, target=target, options=options
                )
                start = piece.index(core)
                texts.append(piece[:start] + result.text + piece[start + len(core) :])
                unknown.update(dict.fromkeys(result.unknown_words))
            results.append(
                SegmentResult(
                    text="".join(texts),
                    unknown_words=tuple(unknown),
                    billed_characters=len(segment.strip()),
                )
            )
        return results

    def build_request(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> httpx.Request:
        """`POST /translate` for the one text in `segments` (APy takes one per request).

        Raises:
            ValueError: `segments` does not hold exactly one text.
        """
        if len(segments) != 1:
            raise ValueError(f"APy translates one text per request, not {len(segments)}")
        langpair = self._langpair(source, target, self._langpairs or {})
        if langpair is None:  # not discovered: let the server say whether it has it
            langpair = f"{bcp47_to_apertium(source)}|{bcp47_to_apertium(target)}"
        form = {
            "langpair": langpair,
            "q": _LITERAL.sub(lambda match: _ESCAPES[match[0]], segments[0]),
            "markUnknown": "yes",
            "format": "txt",
        }
        return httpx.Request("POST", f"{self.base_url}/translate", data=form)

    def parse_response(
        self,
        response: httpx.Response,
        *,
        segments: Sequence[str],
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> list[SegmentResult]:
        """Read `{"responseData": {"translatedText": ...}}`; strip and report unknown words.

        Raises:
            ServiceResponseError: the body is not APy's translation answer.
        """
        try:
            payload = response.json()
            translated = payload["responseData"]["translatedText"]
        except (ValueError, KeyError, TypeError):
            translated = None
        if not isinstance(translated, str) or len(segments) != 1:
            raise ServiceResponseError(
                f"expected responseData.translatedText, got {response.text[:100]!r}",
                service=self.name,
            )
        text, unknown = strip_unknown_marks(translated)
        text = _ESCAPED.sub(lambda match: _UNESCAPES[match[0]], text)
        return [SegmentResult(text=_tidy(segments[0], text), unknown_words=unknown)]

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """Map APy's `{"code", "message", "explanation"}` errors to the error tree."""
        status = response.status_code
        if status < 400:
            return None
        explanation = _explanation(response)
        common: dict[str, Any] = {"service": self.name, "status_code": status}
        if status == 400 and ("not installed" in explanation or "invalid" in explanation):
            # Another engine may well have the pair: fail over, but do not retry.
            return ServiceError(
                f"the APy server has no such pair ({explanation}); install the pair's "
                "apertium-* package on the server and restart APy",
                retryable=False,
                **common,
            )
        if status >= 500:
            return ServiceUnavailableError(
                f"APy failed ({explanation}); a pipeline may have timed out or died",
                **common,
            )
        return super().error_for(response)

    def _discovered(self) -> dict[tuple[str, str], str]:
        """The server's pairs, asked once; a failure is retried after a pause, not every call."""
        with self._pairs_lock:
            if self._langpairs is not None:
                return self._langpairs
            if time.monotonic() < self._next_discovery:
                return {}
            self._next_discovery = time.monotonic() + _DISCOVERY_BACKOFF
        try:
            self.refresh_languages()
        except ServiceError:
            return {}
        with self._pairs_lock:
            return self._langpairs or {}

    def _langpair(
        self, source: str, target: str, known: Mapping[tuple[str, str], str]
    ) -> str | None:
        for pair in pair_candidates(source, target):
            if pair in known:
                return known[pair]
        return None


def _tidy(source: str, text: str) -> str:
    """Remove the spaces the pipeline leaves where it dropped a word ("It is" → " Está").

    Runs of spaces inside a line become one; each line keeps the source line's indentation.
    """
    lines = text.split("\n")
    sources = source.split("\n")
    if len(sources) != len(lines):
        sources = [""] * len(lines)
    tidy = []
    for line, original in zip(lines, sources, strict=True):
        indent = original[: len(original) - len(original.lstrip(" \t"))]
        tidy.append(indent + _EXTRA_SPACES.sub(" ", line.strip(" ")))
    return "\n".join(tidy)


def _explanation(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("explanation"):
        return str(body["explanation"])[:200]
    return (response.text.strip() or response.reason_phrase)[:200]
