"""Argos Translate, run through CTranslate2 directly: warm models and one batch per request.

argostranslate's own `translate()` splits sentences with stanza or MiniSBD (which download models
at first use), imports torch through spacy (~2 s), and makes one CTranslate2 call per paragraph
with thread defaults that cost ~25 ms per call on small CPUs. This engine keeps argostranslate for
what it does well, the package format and its install and listing code (`_argos_packages`), and
owns the hot path: per pair it loads the package's CTranslate2 model and sentencepiece model once,
splits sentences with a regular expression, and translates every sentence of a request in ONE
`translate_batch` call. Pairs without a package go through English in two such calls.

Argos language codes (`zt`, `pb`) are mapped to BCP-47 in `_argos_packages` and nowhere else.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

from tl_loop._errors import (
    ConfigurationError,
    ServiceUnavailableError,
    UnsupportedLanguageError,
)
from tl_loop.engines._argos_packages import (
    ArgosModel,
    LoadedModel,
    argos_code_candidates,
    import_argos,
    install_model,
    list_models,
    load_model,
)
from tl_loop.engines._base import (
    NO_OPTIONS,
    TOKEN_PATTERN,
    Capabilities,
    Engine,
    SegmentResult,
    TranslateOptions,
)

__all__ = [
    "ArgosEngine",
    "ArgosModel",
    "ArgosStats",
    "install_model",
    "list_models",
    "split_sentences",
]

_SERVICE = "argos"
# A paragraph break, or whitespace after a sentence end. Kept verbatim between translations.
_BREAK = re.compile(r"[^\S\n]*\n\s*|(?<=[.!?…。！？])\s+")
_TOKEN_SPLIT = re.compile(f"({TOKEN_PATTERN.pattern})")
_LENGTH_PENALTY = 0.2  # argostranslate's: beam search ranks hypotheses as it does
_MAX_INPUT_TOKENS = 1024


@dataclass(frozen=True, slots=True)
class ArgosStats:
    """Counters of an engine's work since it was created.

    Args:
        batch_calls: CTranslate2 `translate_batch` calls made (one per leg of a request).
        sentences: sentences sent in those calls, after removing duplicates within a call.
        models_loaded: CTranslate2 models loaded (once per pair, again after `refresh`).
    """

    batch_calls: int = 0
    sentences: int = 0
    models_loaded: int = 0


@dataclass(slots=True)
class _Leg:
    """One text's translation through one model: the text and its summed token log-probs."""

    text: str
    logprob: float = 0.0
    tokens: int = 0


def split_sentences(text: str, *, max_chars: int = 400) -> list[tuple[str, bool]]:
    """Split `text` into sentences to translate and the whitespace between them.

    Paragraph breaks and the whitespace after `.`, `!`, `?`, `…` (and CJK stops) separate
    sentences; a sentence longer than `max_chars` is cut at its last space before the limit, so
    no input comes near CTranslate2's decoding cap. Joining the pieces gives `text` back.

    Returns:
        `(piece, is_sentence)` pairs: sentences to translate, and whitespace to keep as is.
    """
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in _BREAK.finditer(text):
        _add_sentence(parts, text[position : match.start()], max_chars)
        parts.append((match[0], False))
        position = match.end()
    _add_sentence(parts, text[position:], max_chars)
    return [part for part in parts if part[0]]


def _add_sentence(parts: list[tuple[str, bool]], chunk: str, max_chars: int) -> None:
    core = chunk.strip()
    if not core:
        parts.append((chunk, False))
        return
    start = chunk.index(core)
    end = start + len(core)
    parts.append((chunk[:start], False))
    while len(core) > max_chars:
        head = core[: _cut(core, max_chars)].rstrip()
        tail = core[len(head) :].lstrip()
        parts += [(head, True), (core[len(head) : len(core) - len(tail)], False)]
        core = tail
    parts += [(core, True), (chunk[end:], False)]


def _cut(text: str, limit: int) -> int:
    """Where to cut a long sentence: its last space before `limit`, else never inside a token."""
    cut = text.rfind(" ", 0, limit + 1)
    if cut > 0:
        return cut
    cut = limit
    for token in TOKEN_PATTERN.finditer(text):
        if token.start() < cut < token.end():
            cut = token.start() or token.end()
    return cut


class ArgosEngine(Engine):
    """Argos Translate packages, translated through warm CTranslate2 models in one batch.

    Packages are the ones argostranslate has installed (`tl-loop models install FILE.argosmodel`,
    or `argospm install translate-en_es` where the network allows). Each pair's model loads once,
    on first use, and stays loaded; one request is one `translate_batch` call per leg. A pair
    with no package, such as es → fr, goes through `pivot` (English) when both legs are
    installed. Safe to share between threads: CTranslate2 runs concurrent calls in parallel
    (`inter_threads` of them at once).

    Args:
        packages_dir: folder of installed packages; None means argostranslate's own
            (`ARGOS_PACKAGES_DIR` when argostranslate was first imported, else
            `~/.local/share/argos-translate/packages`).
        device: `cpu`, `cuda`, or `auto` (cuda when CTranslate2 sees a GPU).
        compute_type: CTranslate2 compute type; `auto` picks int8 on most CPUs.
        inter_threads: sub-batches run in parallel (threads sharing one copy of the model).
        intra_threads: threads per sub-batch; 0 lets CTranslate2 choose, which made small
            batches ~25 ms slower on a 2-core CPU.
        beam_size: beam width; argostranslate uses 4 (set 4 for its exact output), 2 is about
            twice as fast.
        max_batch_size: sentences per CTranslate2 sub-batch; a request's sentences are sorted by
            length and split into sub-batches that run `inter_threads` at a time.
        max_sentence_chars: longer sentences are cut at a space before being translated.
        pivot: language to pivot through for pairs without a package; None disables pivots.

    Example:
        >>> engine = ArgosEngine()  # doctest: +SKIP
        >>> engine.translate_batch(["Hello world."], source="en", target="es")[0].text
        'Hola mundo.'
    """

    name: ClassVar[str] = "argos"
    capabilities = Capabilities(max_items=256, max_chars=50_000, trusted=True, scores=True)
    install_hint: ClassVar[str] = (
        "pip install 'tl-loop[argos]', then install models: "
        "tl-loop models install translate-en_es.argosmodel"
    )

    def __init__(
        self,
        *,
        packages_dir: str | os.PathLike[str] | None = None,
        device: Literal["auto", "cpu", "cuda"] = "auto",
        compute_type: str = "auto",
        inter_threads: int = 2,
        intra_threads: int = 1,
        beam_size: int = 2,
        max_batch_size: int = 16,
        max_sentence_chars: int = 400,
        pivot: str | None = "en",
    ) -> None:
        if device not in ("auto", "cpu", "cuda"):
            raise ConfigurationError(f"device must be 'auto', 'cpu' or 'cuda', not {device!r}")
        for option, value, least in (
            ("inter_threads", inter_threads, 1),
            ("intra_threads", intra_threads, 0),
            ("beam_size", beam_size, 1),
            ("max_batch_size", max_batch_size, 1),
            ("max_sentence_chars", max_sentence_chars, 20),
        ):
            if value < least:
                raise ConfigurationError(f"{option} must be at least {least}, not {value}")
        self._packages_dir = Path(packages_dir) if packages_dir is not None else None
        self._device = device
        self._compute_type = compute_type
        self._threads = (inter_threads, intra_threads)
        self._beam_size = beam_size
        self._max_batch_size = max_batch_size
        self._max_sentence_chars = max_sentence_chars
        self._pivot = pivot
        self._lock = threading.Lock()
        self._catalog: dict[tuple[str, str], ArgosModel] | None = None
        self._loaded: dict[Path, LoadedModel] = {}
        self._stats = ArgosStats()

    @property
    def version(self) -> str:
        """CTranslate2's version, the beam size and a hash of the installed packages."""
        try:
            _, ctranslate2, _ = import_argos()
            catalog = self._models()
        except ImportError:
            return "unavailable"
        digest = hashlib.sha256()
        for model in sorted(catalog.values(), key=lambda m: m.code):
            digest.update(f"{model.code}:{model.version}:{model.path};".encode())
        return f"ct2-{ctranslate2.__version__}-beam{self._beam_size}-{digest.hexdigest()[:12]}"

    @property
    def stats(self) -> ArgosStats:
        """How many batch calls, sentences and model loads this engine has made."""
        with self._lock:
            return self._stats

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Installed pairs as BCP-47 tags, plus pairs reachable through the pivot language.

        Empty when argostranslate is not installed.
        """
        try:
            catalog = self._models()
        except ImportError:
            return frozenset()
        direct = {(m.source, m.target) for m in catalog.values()}
        pivot = self._pivot
        if pivot is None:
            return frozenset(direct)
        into = {m.source for m in catalog.values() if m.to_code == pivot}
        out_of = {m.target for m in catalog.values() if m.from_code == pivot}
        return frozenset(direct | {(a, b) for a in into for b in out_of if a != b})

    def supports(self, source: str, target: str) -> bool:
        """Whether a package (or two, through the pivot) serves the pair; `pt-BR` may use `pt`."""
        try:
            return self._route(source, target) is not None
        except ImportError:
            return False

    def translate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> list[SegmentResult]:
        """Translate all segments with one CTranslate2 call per leg (two legs through a pivot).

        `score` is the geometric mean of the output tokens' probabilities, in (0, 1]: 1.0 is a
        certain translation (through a pivot, the product of both legs); None for segments with
        nothing to translate. Argos has no formality or glossary support: `options` is ignored.

        Raises:
            MissingDependencyError: argostranslate, ctranslate2 or sentencepiece is missing.
            UnsupportedLanguageError: no package, nor two through the pivot, serves the pair.
            ServiceUnavailableError: CTranslate2 failed to load a model or to translate.
        """
        if not segments:
            return []
        route = self._route(source, target)
        if route is None:
            raise self._unsupported(source, target)
        legs = [self._load(model) for model in route]
        texts, scores = self._run(legs, list(segments))
        extra = {"route": ">".join([route[0].source, *(m.target for m in route)])}
        results = [
            SegmentResult(t, score=s, extra=extra) for t, s in zip(texts, scores, strict=True)
        ]
        broken = [i for i, text in enumerate(texts) if _tokens(text) != _tokens(segments[i])]
        if broken:
            repaired = self._around_tokens(legs, [segments[i] for i in broken])
            for i, (text, score) in zip(broken, repaired, strict=True):
                results[i] = SegmentResult(text, score=score, extra={**extra, "tokens": "split"})
        return results

    def install(self, path: str | os.PathLike[str]) -> ArgosModel:
        """Install a `.argosmodel` into this engine's packages folder and start using it.

        Raises:
            MissingDependencyError: argostranslate is not installed.
            ConfigurationError: the file is not a valid Argos translation package.
        """
        model = install_model(path, packages_dir=self._packages_dir)
        self.refresh()
        return model

    def refresh(self) -> None:
        """Scan the packages folder again (after packages were installed or removed elsewhere).

        Models of packages that did not change stay loaded.
        """
        with self._lock:
            self._catalog = None

    def close(self) -> None:
        """Unload every model; the next request loads them again. Safe to call twice.

        Calls still running keep their model alive until they finish.
        """
        with self._lock:
            self._loaded.clear()

    def __repr__(self) -> str:
        where = self._packages_dir or "argostranslate's packages folder"
        return f"<ArgosEngine name='argos' packages_dir={str(where)!r}>"

    # -- packages and routes ------------------------------------------------------------------

    def _models(self) -> dict[tuple[str, str], ArgosModel]:
        with self._lock:
            if self._catalog is None:
                import_argos()
                catalog: dict[tuple[str, str], ArgosModel] = {}
                for model in list_models(packages_dir=self._packages_dir):
                    key = (model.from_code, model.to_code)
                    if key not in catalog or _newer(model, catalog[key]):
                        catalog[key] = model
                self._catalog = catalog
            return self._catalog

    def _route(self, source: str, target: str) -> list[ArgosModel] | None:
        catalog = self._models()
        try:
            sources, targets = argos_code_candidates(source), argos_code_candidates(target)
        except ValueError:
            return None
        for s in sources:
            for t in targets:
                if (s, t) in catalog:
                    return [catalog[s, t]]
        pivot = self._pivot
        for s in sources:
            for t in targets:
                if pivot not in (None, s, t) and (s, pivot) in catalog and (pivot, t) in catalog:
                    return [catalog[s, pivot], catalog[pivot, t]]
        return None

    def _unsupported(self, source: str, target: str) -> UnsupportedLanguageError:
        try:
            s, t = argos_code_candidates(source)[0], argos_code_candidates(target)[0]
        except ValueError:
            s, t = source, target
        pivot = self._pivot
        legs = f" (or translate-{s}_{pivot} and translate-{pivot}_{t})"
        hint = (
            f"Install the Argos package translate-{s}_{t}"
            f"{legs if pivot not in (None, s, t) else ''}: `argospm install translate-{s}_{t}` "
            f"where the network allows, or get translate-{s}_{t}.argosmodel and run "
            "`tl-loop models install FILE`"
        )
        return UnsupportedLanguageError(source, target, available=sorted(self.pairs()), hint=hint)

    # -- models --------------------------------------------------------------------------------

    def _load(self, model: ArgosModel) -> LoadedModel:
        with self._lock:
            loaded = self._loaded.get(model.path)
            if loaded is None or loaded.model != model:
                inter, intra = self._threads
                loaded = load_model(
                    model,
                    device=self._device,
                    compute_type=self._compute_type,
                    inter_threads=inter,
                    intra_threads=intra,
                )
                self._loaded[model.path] = loaded
                self._stats = _bump(self._stats, loads=1)
            return loaded

    # -- translation ---------------------------------------------------------------------------

    def _run(
        self, legs: Sequence[LoadedModel], texts: list[str]
    ) -> tuple[list[str], list[float | None]]:
        """Translate texts through each leg in turn; scores multiply across legs."""
        scores: list[float | None] = [None] * len(texts)
        for leg in legs:
            results = self._leg(leg, texts)
            texts = [r.text for r in results]
            for i, result in enumerate(results):
                if result.tokens:
                    previous = scores[i]
                    leg_score = math.exp(result.logprob / result.tokens)
                    scores[i] = leg_score if previous is None else leg_score * previous
        return texts, scores

    def _leg(self, loaded: LoadedModel, texts: Sequence[str]) -> list[_Leg]:
        plans = [split_sentences(text, max_chars=self._max_sentence_chars) for text in texts]
        unique = list(dict.fromkeys(piece for plan in plans for piece, is_s in plan if is_s))
        done = dict(zip(unique, self._translate_sentences(loaded, unique), strict=True))
        results = []
        for plan in plans:
            result = _Leg("")
            pieces = []
            for piece, is_sentence in plan:
                if not is_sentence:
                    pieces.append(piece)
                    continue
                text, logprob, tokens = done[piece]
                pieces.append(text)
                result.logprob += logprob
                result.tokens += tokens
            result.text = "".join(pieces)
            results.append(result)
        return results

    def _translate_sentences(
        self, loaded: LoadedModel, sentences: Sequence[str]
    ) -> list[tuple[str, float, int]]:
        """One `translate_batch` call: (translation, summed log-prob, tokens) per sentence."""
        if not sentences:
            return []
        tokenized = [loaded.encode(sentence) for sentence in sentences]
        longest = max(len(tokens) for tokens in tokenized)
        prefix = [[loaded.prefix] for _ in tokenized] if loaded.prefix else None
        with self._lock:
            self._stats = _bump(self._stats, batch_calls=1, sentences=len(sentences))
        try:
            results = loaded.translator.translate_batch(
                tokenized,
                prefix,
                max_batch_size=self._max_batch_size,
                batch_type="examples",
                beam_size=self._beam_size,
                num_hypotheses=1,
                length_penalty=_LENGTH_PENALTY,
                return_scores=True,
                replace_unknowns=True,  # unknown characters come back from the source
                max_input_length=_MAX_INPUT_TOKENS,
                max_decoding_length=min(_MAX_INPUT_TOKENS, 2 * longest + 16),
            )
        except (RuntimeError, ValueError) as error:
            raise ServiceUnavailableError(
                f"CTranslate2 failed on {loaded.model.code}: {error}", service=_SERVICE
            ) from error
        return [self._finish(loaded, result) for result in results]

    @staticmethod
    def _finish(loaded: LoadedModel, result: Any) -> tuple[str, float, int]:
        tokens = list(result.hypotheses[0])
        # CTranslate2 divides the log-prob by length ** penalty, counting the end token.
        length = len(tokens) + 1
        logprob = float(result.scores[0]) * length**_LENGTH_PENALTY
        text = loaded.decode(tokens)
        if loaded.prefix and text.startswith(loaded.prefix):
            text = text[len(loaded.prefix) :]
        return text.removeprefix(" "), logprob, length

    def _around_tokens(
        self, legs: Sequence[LoadedModel], segments: Sequence[str]
    ) -> list[tuple[str, float | None]]:
        """Translate the text between protected tokens, for segments whose tokens got mangled.

        Costs the model the context across tokens, so it is only the fallback.
        """
        layouts = [_TOKEN_SPLIT.split(segment) for segment in segments]
        pieces = [part for layout in layouts for part in layout[::2]]
        texts, scores = self._run(legs, pieces)
        translated = iter(zip(texts, scores, strict=True))
        out: list[tuple[str, float | None]] = []
        for layout in layouts:
            parts, piece_scores = [], []
            for index, part in enumerate(layout):
                if index % 2:
                    parts.append(part)
                    continue
                text, score = next(translated)
                parts.append(text)
                piece_scores += [score] if score is not None else []
            out.append(("".join(parts), min(piece_scores, default=None)))
        return out


def _tokens(text: str) -> Counter[str]:
    return Counter(TOKEN_PATTERN.findall(text))


def _newer(model: ArgosModel, other: ArgosModel) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(model.version) > Version(other.version)
    except InvalidVersion:
        return model.version > other.version


def _bump(
    stats: ArgosStats, *, batch_calls: int = 0, sentences: int = 0, loads: int = 0
) -> ArgosStats:
    return replace(
        stats,
        batch_calls=stats.batch_calls + batch_calls,
        sentences=stats.sentences + sentences,
        models_loaded=stats.models_loaded + loads,
    )
