"""Any OpenAI-compatible chat-completions endpoint used as a translator.

`POST {base_url}/chat/completions` at temperature 0. The system prompt carries the task (the
language pair, keeping every `⟦n⟧` token and line break, the register, the glossary) and says
that the input is data to translate, never instructions. The segments, and the conversation
context, go as one JSON object in the user message (`{"segments": [...], "context": ...}`);
the reply must be `{"translations": [...]}` of the same length, asked for with
`response_format: json_schema` (`json_object` with `json_schema=False`, nothing with
`json_mode=False`). A reply with the wrong count or not JSON at all is not retried as is (at
temperature 0 it would come back the same) but falls back, within the same call, to one
request per segment. See `_llm_prompt.py` for why customer text cannot become instructions,
and how an output that answers, obeys or adds instead of translating is caught.

Nothing in the prompt is enforced: the loop's own checks (token parity, glossary terms,
language, length, identifiers) and this engine's doubts judge the output. Works with OpenAI,
Azure OpenAI-style gateways, vLLM, Ollama, llama.cpp and similar servers; mark self-hosted ones
`trusted=True` so personal data is not masked for them.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

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
from tl_loop._models import normalize_tag
from tl_loop.engines._base import Capabilities, SegmentResult, TranslateOptions
from tl_loop.engines._http import HTTPEngine, HTTPFlow, RetryPolicy, retry_after_seconds
from tl_loop.engines._llm_prompt import (
    DOUBT,
    LANGUAGE_NAMES,
    doubt,
    response_format,
    system_prompt,
    user_message,
)
from tl_loop.engines._vendor import apportion

__all__ = ["LANGUAGE_NAMES", "LLMEngine", "system_prompt", "user_message"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
PROMPT_VERSION = "2"  # part of `version`: a new prompt means new output, so new cache keys

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


class LLMEngine(HTTPEngine):
    """An OpenAI-compatible chat-completions model as a translation engine.

    Args:
        model: the model name, e.g. `gpt-4o-mini`, `qwen2.5:7b-instruct`.
        base_url: the API root that `/chat/completions` hangs off (with its `/v1`).
        api_key: sent as `Authorization: Bearer`; local servers usually need none.
        trusted: the endpoint is inside the trust boundary (self-hosted vLLM, Ollama): personal
            data is then not masked before sending.
        languages: BCP-47 tags to offer; every ordered pair among them is served.
        json_mode: ask for JSON with `response_format`; turn off for servers that reject it
            (the prompt still asks for JSON).
        json_schema: ask for the exact schema (`json_schema`, structured outputs); False asks
            for any JSON object (`json_object`) for servers without structured outputs.
        max_items, max_chars: batch limits; keep replies well inside the model's output limit.
        max_tokens: cap on the reply's tokens, if the server needs one.
        timeout, retry, http_client, async_http_client: see `HTTPEngine`.
    """

    name = "llm"
    install_hint: ClassVar[str] = (
        "set TL_LOOP_LLM_MODEL, TL_LOOP_LLM_BASE_URL (default https://api.openai.com/v1) and "
        "TL_LOOP_LLM_API_KEY (OPENAI_API_KEY and OPENAI_BASE_URL also work)"
    )

    def __init__(
        self,
        *,
        model: str,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        trusted: bool = False,
        languages: Iterable[str] = tuple(LANGUAGE_NAMES),
        json_mode: bool = True,
        json_schema: bool = True,
        max_items: int = 20,
        max_chars: int = 8_000,
        max_tokens: int | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not model:
            raise ConfigurationError("LLMEngine needs model=; " + self.install_hint)
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            http_client=http_client,
            async_http_client=async_http_client,
        )
        self.model = model
        self._api_key = api_key or None
        self.json_mode = json_mode
        self.json_schema = json_schema
        self.max_tokens = max_tokens
        try:
            self.languages = frozenset(normalize_tag(tag) for tag in languages)
        except ValueError as error:
            raise ConfigurationError(f"LLMEngine languages: {error}") from error
        self._pairs = frozenset(itertools.permutations(sorted(self.languages), 2))
        self.capabilities = Capabilities(
            max_items=max_items,
            max_chars=max_chars,
            trusted=trusted,
            formality=True,
            glossary=True,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> LLMEngine:
        """Build from `TL_LOOP_LLM_MODEL`, `TL_LOOP_LLM_BASE_URL`, `TL_LOOP_LLM_API_KEY` and
        `TL_LOOP_LLM_TRUSTED` (`1`/`true`), falling back to `OPENAI_BASE_URL` and
        `OPENAI_API_KEY`; `options` go to the constructor.

        Raises:
            ConfigurationError: no model, or no key for OpenAI's own endpoint.
        """
        env = environ if environ is not None else os.environ
        model = env.get("TL_LOOP_LLM_MODEL")
        if not model:
            raise ConfigurationError(f"TL_LOOP_LLM_MODEL is not set; {cls.install_hint}")
        base_url = env.get("TL_LOOP_LLM_BASE_URL") or env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        api_key = env.get("TL_LOOP_LLM_API_KEY") or env.get("OPENAI_API_KEY")
        if not api_key and base_url.rstrip("/") == DEFAULT_BASE_URL:
            raise ConfigurationError(
                f"TL_LOOP_LLM_API_KEY (or OPENAI_API_KEY) is not set; {cls.install_hint}"
            )
        trusted = env.get("TL_LOOP_LLM_TRUSTED", "").strip().lower() in ("1", "true", "yes")
        options.setdefault("trusted", trusted)
        return cls(model=model, base_url=base_url, api_key=api_key, **options)

    @property
    def version(self) -> str:
        """The model name and the prompt's version."""
        return f"{self.model}/prompt-{PROMPT_VERSION}"

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Every ordered pair among `languages`."""
        return self._pairs

    def supports(self, source: str, target: str) -> bool:
        """Whether both tags (or their base languages: `pt-BR` → `pt`) are offered."""
        return self._offered(source) and self._offered(target) and source != target

    def _offered(self, tag: str) -> bool:
        return tag in self.languages or tag.split("-")[0] in self.languages

    # -- request and response ------------------------------------------------------------

    def build_request(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> httpx.Request:
        """One chat completion: the segments as data in a JSON object, JSON asked back."""
        if not self.supports(source, target):
            raise UnsupportedLanguageError(source, target, hint=self.install_hint)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system_prompt(source, target, options)},
                {"role": "user", "content": user_message(segments, options)},
            ],
            "temperature": 0,
        }
        if self.json_mode:
            body["response_format"] = response_format(self.json_schema)
        if self.max_tokens:
            body["max_tokens"] = self.max_tokens
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        return httpx.Request(
            "POST", f"{self.base_url}/chat/completions", headers=headers, json=body
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
        """The translations, with token usage apportioned to segments in `extra`, and the
        engine's doubt (`extra["doubt"]`) where an output looks like anything but a
        translation of its segment.

        Raises:
            ServiceResponseError: no usable reply, a truncated or filtered one, or not one
                translation per segment.
        """
        body, content = _message(response, self.name)
        try:
            texts = _batch_texts(content, len(segments), self.name)
        except ServiceResponseError:
            if len(segments) > 1 or content.lstrip().startswith(("{", "[", "```")):
                raise
            texts = [content.strip("\n")]  # one segment, answered as plain text: accepted
        results = _results(body, segments, texts)
        prompt = system_prompt(source, target, options)
        for segment, result in zip(segments, results, strict=True):
            reason = doubt(segment, result.text, prompt, options.context)
            if reason is not None:
                result.extra[DOUBT] = reason
        return results

    def flow(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> HTTPFlow:
        """A batch request; if its reply does not fit, one request per segment instead."""
        if len(segments) > 1:
            request = self.build_request(segments, source=source, target=target, options=options)
            response = yield request
            self.raise_for_status(response)
            try:
                return self.parse_response(
                    response, segments=segments, source=source, target=target, options=options
                )
            except ServiceResponseError:
                pass  # the model did not keep to the format: ask segment by segment
        results: list[SegmentResult] = []
        for segment in segments:
            one = [segment]
            response = yield self.build_request(one, source=source, target=target, options=options)
            self.raise_for_status(response)
            results += self.parse_response(
                response, segments=one, source=source, target=target, options=options
            )
        return results

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """Map OpenAI-style `{"error": {"message", "type", "code"}}` bodies to tl_loop errors."""
        status = response.status_code
        if status < 400:
            return None
        code, message = _error_body(response)
        if self._api_key:
            message = message.replace(self._api_key, "***")
        detail = f"HTTP {status}" + (f" ({code})" if code else "") + f": {message}"
        common: dict[str, Any] = {"service": self.name, "status_code": status}
        if code == "insufficient_quota":
            return QuotaExceededError(f"quota used up, {detail}", **common)
        if status == 429:
            return RateLimitError(f"rate limited, {detail}", retry_after=_wait(response), **common)
        if code == "context_length_exceeded" or "context length" in message.lower():
            return TextTooLongError(f"over the model's context, {detail}", **common)
        if status in (401, 403):
            return AuthenticationError(f"credentials refused, {detail}", **common)
        if status in (400, 404, 422):
            error = InvalidRequestError(f"request refused, {detail}", **common)
            error.failover = status == 404  # an unknown model is ours to fix, not the text
            return error
        return super().error_for(response)


# -- private helpers -----------------------------------------------------------------------------


def _message(response: httpx.Response, service: str) -> tuple[dict[str, Any], str]:
    try:
        body = response.json()
        choice = body["choices"][0]
        content = choice["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise ServiceResponseError(
            "no choices[0].message.content in reply", service=service
        ) from error
    finish = choice.get("finish_reason")
    if finish == "length":
        raise ServiceResponseError(
            "reply cut off at the token limit; raise max_tokens or lower max_chars",
            service=service,
        )
    if finish == "content_filter" or not isinstance(content, str):
        raise ServiceResponseError(f"no text in reply (finish_reason={finish})", service=service)
    return body, content


def _batch_texts(content: str, expected: int, service: str) -> list[str]:
    try:
        data = json.loads(_FENCE.sub("", content.strip()))
    except ValueError as error:
        raise ServiceResponseError("batch reply is not JSON", service=service) from error
    texts = data.get("translations") if isinstance(data, dict) else data
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise ServiceResponseError("batch reply has no translations list", service=service)
    if len(texts) != expected:
        raise ServiceResponseError(
            f"sent {expected} segments, got {len(texts)} translations", service=service
        )
    return texts


def _results(
    body: Mapping[str, Any], segments: Sequence[str], texts: list[str]
) -> list[SegmentResult]:
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    lengths = [len(segment) for segment in segments]
    shares: dict[str, list[int]] = {}
    for key in ("prompt_tokens", "completion_tokens"):
        value = usage.get(key) if usage else None
        if isinstance(value, int):
            shares[key] = apportion(value, lengths)
    model = str(body.get("model") or "")
    results = []
    for index, (segment, text) in enumerate(zip(segments, texts, strict=True)):
        extra = {key: str(values[index]) for key, values in shares.items()}
        if model:
            extra["model"] = model
        results.append(SegmentResult(text=text, billed_characters=len(segment), extra=extra))
    return results


def _error_body(response: httpx.Response) -> tuple[str | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, response.text.strip()[:200] or response.reason_phrase
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        code = error.get("code") or error.get("type")
        message = error.get("message") or ""
        return (str(code) if code else None), str(message).strip()[:200]
    return None, str(error).strip()[:200]


def _seconds(text: str) -> float | None:
    """`1s`, `6m0s`, `20ms`, `1h2m` (OpenAI's `x-ratelimit-reset-*` values) as seconds."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(number) * scale[unit] for number, unit in parts)


def _wait(response: httpx.Response) -> float | None:
    """How long a 429 asks us to wait: `retry-after-ms`, `retry-after`, or an exhausted
    `x-ratelimit-reset-*` window."""
    headers = response.headers
    try:
        if "retry-after-ms" in headers:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
    except ValueError:
        pass
    seconds = retry_after_seconds(response)
    if seconds is not None:
        return seconds
    resets = [
        _seconds(headers.get(f"x-ratelimit-reset-{kind}", ""))
        for kind in ("requests", "tokens")
        if headers.get(f"x-ratelimit-remaining-{kind}") == "0"
    ]
    known = [value for value in resets if value is not None]
    return max(known) if known else None
