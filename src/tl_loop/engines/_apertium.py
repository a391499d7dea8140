"""Apertium, the rule-based offline engine, run as warm null-flush pipelines.

Spawning `apertium eng-spa` per message starts about ten processes and costs ~100 ms. Like
Apertium's own APy server, this engine starts each pair's pipeline once in null-flush mode (`-z`:
every program flushes its output when it reads `\\0`) and keeps it running, so a message costs
about a millisecond. Deformatting (stream-format escaping) and reformatting are done in-process.

Which pairs are installed, and their codes as BCP-47, is `_apertium_modes`' business.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import secrets
import selectors
import shutil
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import IO, ClassVar

from tl_loop._errors import (
    ConfigurationError,
    MissingDependencyError,
    ServiceResponseError,
    ServiceUnavailableError,
    UnsupportedLanguageError,
)
from tl_loop.engines._apertium_modes import (
    UNUSABLE_MODES,
    apertium_pairs,
    apertium_to_bcp47,
    bcp47_to_apertium,
    discover_modes,
    find_mode,
    mode_name_to_pairs,
    mode_stages,
    parse_mode,
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
    "UNUSABLE_MODES",
    "ApertiumEngine",
    "apertium_pairs",
    "apertium_to_bcp47",
    "bcp47_to_apertium",
    "deformat",
    "discover_modes",
    "mode_name_to_pairs",
    "mode_stages",
    "parse_mode",
    "reformat",
    "split_long",
]

_INSTALL = "sudo apt-get install apertium apertium-eng-spa"
_SERVICE = "apertium"

# Long segments are sent as several null-flush blocks so one block stays well under 4 KB.
_CHUNK_CHARS = 1500
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")

# Deformatting: protected tokens, whitespace runs, and characters with a meaning in the stream.
_DEFORMAT = re.compile(
    rf"(?P<token>{TOKEN_PATTERN.pattern})|(?P<ws>\s+)|(?P<char>[\\\[\]^$/@<>{{}}*#])"
)
# Reformatting: escapes, superblanks (`.[]` is the sentence end we inserted), unknown-word marks.
_REFORMAT = re.compile(
    r"(?P<esc>\\.)"
    r"|(?P<added>\.\[\])"
    r"|(?P<blank>\[(?:\\.|[^\\\]])*\])"
    r"|(?P<mark>[*@#])(?P<word>\w+(?:['’-]\w+)*)"
    r"|(?P<spaces> +)",
    re.DOTALL,
)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def deformat(text: str) -> str:
    """Escape `text` into Apertium's stream format.

    Protected tokens and whitespace other than one space become superblanks, which pass through
    the pipeline untouched. `*` and `#` become superblanks too: the pipeline would unescape them,
    and then a literal asterisk would look like an unknown-word mark. A `.[]` is added at each
    paragraph break and at the end, as `apertium-destxt` does, so the tagger sees sentence ends.
    """

    def render(match: re.Match[str]) -> str:
        if match["token"] or match["char"] in ("*", "#"):
            return f"[{match[0]}]"
        if match["char"]:
            return "\\" + match["char"]
        spaces = match["ws"]
        if spaces == " ":
            return spaces
        escaped = spaces.replace("\\", "\\\\").replace("]", "\\]")
        return (".[]" if spaces.count("\n") >= 2 else "") + f"[{escaped}]"

    return _DEFORMAT.sub(render, text.replace("\0", "")) + ".[]"


def reformat(stream: str) -> tuple[str, tuple[str, ...]]:
    """Turn pipeline output back into text and the words Apertium marked unknown (`*`, `@`, `#`).

    Marks are Apertium's: literal `*`, `#` and `@` from the source travel in superblanks or
    escaped, so they are kept.
    """
    pieces: list[str] = []
    unknown: list[str] = []
    position = 0
    for match in _REFORMAT.finditer(stream):
        if match.start() > position:
            pieces.append(stream[position : match.start()])
        position = match.end()
        after_break = bool(pieces) and pieces[-1] != " " and pieces[-1].isspace()
        if match["esc"]:
            pieces.append(match["esc"][1])
        elif match["blank"] and match["blank"] != "[]":
            inner = _UNESCAPE.sub(r"\1", match["blank"][1:-1])
            if inner.isspace() and pieces[-1:] == [" "]:
                pieces.pop()  # a space the pipeline put beside a line break
            pieces.append(inner)
        elif match["word"]:
            pieces.append(match["word"])
            unknown.extend([match["word"]] if match["word"] not in unknown else [])
        elif match["spaces"] and not after_break:
            pieces.append(" ")  # runs of spaces left where the pipeline dropped a word
    pieces.append(stream[position:])
    return "".join(pieces).strip(" "), tuple(unknown)


def split_long(text: str, limit: int = _CHUNK_CHARS) -> list[str]:
    """Split `text` into pieces of at most about `limit` characters, at sentence ends if possible.

    Concatenating the pieces gives `text` back; each piece keeps its trailing whitespace.
    """
    pieces: list[str] = []
    while len(text) > limit:
        cut = _last_cut(text, limit)
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text] if text or not pieces else pieces


def _last_cut(text: str, limit: int) -> int:
    window = text[:limit]
    for pattern in (_SENTENCE_END, re.compile(r"\s+")):
        ends = [m.end() for m in pattern.finditer(window) if m.end() < len(text)]
        if ends:
            return ends[-1]
    cut = limit
    for token in TOKEN_PATTERN.finditer(text):  # never cut a token in half
        if token.start() < cut < token.end():
            cut = token.start() or token.end()
    return cut


class _Pipeline:
    """One running pipeline: the processes of a mode chained by pipes, one request at a time."""

    def __init__(self, mode_file: Path, *, timeout: float) -> None:
        self._mode_file = mode_file
        self._timeout = timeout
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._stderr: list[IO[bytes]] = []  # the programs' shared stderr, while running
        # An engine dropped without close() must not leave programs running (or warnings).
        weakref.finalize(self, _reap, self._procs, self._stderr)

    def pids(self) -> tuple[int, ...]:
        """Process ids of the running programs, first to last; empty when not started."""
        with self._lock:
            return tuple(p.pid for p in self._procs)

    def translate(self, blocks: Sequence[str]) -> list[str]:
        """Send stream-format blocks and return the raw output of each, in order.

        A pipeline found dead is restarted and the request retried once; a stuck one is killed.
        """
        with self._lock:
            if not self._alive():
                self._restart()
            try:
                return self._round_trip(blocks)
            except _PipelineDied:
                self._restart()
            try:
                return self._round_trip(blocks)
            except _PipelineDied as error:
                self._stop()
                raise ServiceUnavailableError(
                    f"the {self._mode_file.stem} pipeline died twice in a row ({error}); "
                    f"check that `apertium {self._mode_file.stem}` works in a shell",
                    service=_SERVICE,
                ) from error

    def close(self) -> None:
        """Stop all processes; the next request starts them again."""
        with self._lock:
            self._stop()

    def _alive(self) -> bool:
        return bool(self._procs) and all(p.poll() is None for p in self._procs)

    def _restart(self) -> None:
        self._stop()
        env = {**os.environ, "LC_ALL": "C.UTF-8"}  # lttoolbox reads UTF-8 only in a UTF-8 locale
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the pipeline
        self._stderr.append(stderr)
        upstream: IO[bytes] | int = subprocess.PIPE
        try:
            stages = mode_stages(self._mode_file)
            commands = [c for f in stages for c in parse_mode(f.read_text(encoding="utf-8"))]
            for argv in commands:
                proc = subprocess.Popen(
                    argv, stdin=upstream, stdout=subprocess.PIPE, stderr=stderr, env=env
                )
                if self._procs and self._procs[-1].stdout is not None:
                    self._procs[-1].stdout.close()  # the child holds its own copy
                self._procs.append(proc)
                upstream = proc.stdout if proc.stdout is not None else subprocess.DEVNULL
        except FileNotFoundError as error:
            self._stop()
            raise MissingDependencyError(
                f"{error.filename!r}, needed by Apertium's {self._mode_file.stem} pair, is missing",
                install=_INSTALL,
            ) from error

    def _stop(self) -> None:
        _reap(self._procs, self._stderr)

    def _stderr_tail(self) -> str:
        if not self._stderr:
            return ""
        stderr = self._stderr[0]
        stderr.seek(max(0, stderr.seek(0, os.SEEK_END) - 300))
        return stderr.read().decode("utf-8", "replace").strip()

    def _round_trip(self, blocks: Sequence[str]) -> list[str]:
        # A nonce block closes the request: seeing it back proves the output is in step.
        nonce = f"[tl-loop:{secrets.token_hex(8)}]"
        request = "".join(f"{block}\0" for block in [*blocks, nonce]).encode()
        output = self._exchange(request, nonce.encode() + b"\0")
        parts = output.decode("utf-8", "replace").split("\0")
        if len(parts) != len(blocks) + 2 or parts[-2].strip() != nonce:
            self._stop()
            raise ServiceResponseError(
                f"the {self._mode_file.stem} pipeline answered {len(parts) - 2} blocks for "
                f"{len(blocks)}; it was stopped and the next request restarts it",
                service=_SERVICE,
                retryable=True,
            )
        return parts[: len(blocks)]

    def _exchange(self, request: bytes, end: bytes) -> bytes:
        stdin, stdout = self._procs[0].stdin, self._procs[-1].stdout
        assert stdin is not None
        assert stdout is not None
        deadline = time.monotonic() + self._timeout
        received = bytearray()
        with selectors.DefaultSelector() as selector:
            os.set_blocking(stdin.fileno(), False)
            selector.register(stdout, selectors.EVENT_READ)
            if request:
                selector.register(stdin, selectors.EVENT_WRITE)
            # Write and read together: a large request must not fill every pipe buffer first.
            while not received.endswith(end):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._stop()
                    raise ServiceUnavailableError(
                        f"the {self._mode_file.stem} pipeline did not answer within "
                        f"{self._timeout:g} s and was stopped; the next request restarts it",
                        service=_SERVICE,
                    )
                for key, _ in selector.select(remaining):
                    if key.fileobj is stdin:
                        request = self._write_some(stdin.fileno(), request)
                        if not request:
                            selector.unregister(stdin)
                    else:
                        chunk = os.read(stdout.fileno(), 65536)
                        if not chunk:
                            raise _PipelineDied(f"output closed; {self._stderr_tail()}")
                        received += chunk
        return bytes(received)

    def _write_some(self, fd: int, data: bytes) -> bytes:
        try:
            return data[os.write(fd, data) :]
        except BlockingIOError:
            return data
        except OSError as error:  # BrokenPipeError: a program exited
            raise _PipelineDied(f"input closed; {self._stderr_tail()}") from error


def _reap(procs: list[subprocess.Popen[bytes]], files: list[IO[bytes]]) -> None:
    """Kill a pipeline's programs, wait for them, close our pipe ends and files; empty both."""
    for proc in procs:
        for stream in (proc.stdin, proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    procs.clear()
    for file in files:
        file.close()
    files.clear()


class _PipelineDied(Exception):
    """A pipeline's process exited or closed a pipe; the pipeline can be restarted."""


class _Pool:
    """Up to `size` pipelines for one pair, started on first use; hands out a free one."""

    def __init__(self, mode_file: Path, *, size: int, timeout: float) -> None:
        self.pipelines = [_Pipeline(mode_file, timeout=timeout) for _ in range(size)]
        # LIFO so a lightly used pair keeps using its already-started pipeline.
        self._free: queue.LifoQueue[_Pipeline] = queue.LifoQueue()
        for pipeline in reversed(self.pipelines):
            self._free.put(pipeline)

    def translate(self, blocks: Sequence[str]) -> list[str]:
        pipeline = self._free.get()
        try:
            return pipeline.translate(blocks)
        finally:
            self._free.put(pipeline)


class ApertiumEngine(Engine):
    """Apertium through warm null-flush pipelines: offline, fast, rule-based.

    Pairs are the `*.mode` files in `modes_dir` (Debian packages `apertium-eng-spa` and the
    like). A request for a regional variant that is not installed (`pt-BR` source) falls back to
    the base language. Safe to share between threads: each pipeline serves one request at a
    time, and `pipelines_per_pair` pipelines serve a pair concurrently.

    Args:
        modes_dir: folder of Apertium `.mode` files.
        timeout: seconds one request may take before its pipeline is killed and restarted.
        pipelines_per_pair: pipelines to run per pair, for concurrent requests.
        skip_modes: mode names (`eng-hbs_SR`) to leave out although installed; by default
            `UNUSABLE_MODES`, the directions measured unfit for customers. `()` uses them all.

    Example:
        >>> with ApertiumEngine() as engine:  # doctest: +SKIP
        ...     engine.translate_batch(["Hello world."], source="en", target="es")[0].text
        'Hola Mundo.'
    """

    name: ClassVar[str] = "apertium"
    capabilities = Capabilities(max_items=128, max_chars=20_000, trusted=True, marks_unknown=True)
    install_hint: ClassVar[str] = (
        "sudo apt-get install apertium apertium-eng-spa (more pairs: apt-cache search apertium-)"
    )

    def __init__(
        self,
        *,
        modes_dir: str | os.PathLike[str] = "/usr/share/apertium/modes",
        timeout: float = 10.0,
        pipelines_per_pair: int = 1,
        skip_modes: Collection[str] = UNUSABLE_MODES,
    ) -> None:
        if pipelines_per_pair < 1:
            raise ConfigurationError(
                f"pipelines_per_pair must be at least 1, not {pipelines_per_pair}"
            )
        self._modes_dir = Path(modes_dir)
        self._timeout = timeout
        self._pipelines_per_pair = pipelines_per_pair
        if isinstance(skip_modes, str):
            raise ConfigurationError(
                f"skip_modes must be a list of mode names, not the string {skip_modes!r}; "
                f"write skip_modes = [{skip_modes!r}]"
            )
        self._skip_modes = frozenset(skip_modes)
        self._lock = threading.Lock()
        self._modes: dict[tuple[str, str], Path] | None = None
        self._version: str | None = None
        self._pools: dict[Path, _Pool] = {}

    @property
    def version(self) -> str:
        """A hash of the installed mode files' names, sizes and times: changes with packages."""
        with self._lock:
            if self._version is None:
                digest = hashlib.sha256()
                for path in sorted(self._discover().values()):
                    stat = path.stat()
                    digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
                self._version = digest.hexdigest()[:12]
            return self._version

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Installed pairs as BCP-47 tags, e.g. `("en", "es")`, `("en", "ca-valencia")`."""
        with self._lock:
            return frozenset(self._discover())

    def skipped_modes(self) -> tuple[str, ...]:
        """Installed modes left out by `skip_modes`, by name (`eng-hbs_SR`), sorted."""
        try:
            installed = {path.stem for path in self._modes_dir.glob("*.mode")}
        except OSError:
            return ()
        return tuple(sorted(installed & self._skip_modes))

    def withheld(self, source: str, target: str) -> str | None:
        """Names the installed mode `skip_modes` leaves out for this pair, if one does."""
        if self.supports(source, target) or not self._skip_modes:
            return None
        mode = find_mode(discover_modes(self._modes_dir, skip=()), source, target)
        if mode is None or mode.stem not in self._skip_modes:
            return None
        return (
            f"Apertium's {mode.stem} is installed but left out (skip_modes): its output is not "
            "fit to send to customers (docs/engines-apertium.md); to use it anyway, set "
            "skip_modes = [] under [engine.apertium]"
        )

    def supports(self, source: str, target: str) -> bool:
        """Whether a mode serves this pair, falling back from `pt-BR` to `pt` on either side."""
        return self._mode_for(source, target) is not None

    def translate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> list[SegmentResult]:
        """Translate all segments in one round trip through the pair's warm pipeline.

        Apertium has no formality or glossary support; `options` is accepted and ignored.

        Raises:
            MissingDependencyError: Apertium is not installed.
            UnsupportedLanguageError: no installed mode translates the pair.
            ServiceUnavailableError: the pipeline died twice or did not answer in time.
        """
        mode = self._mode_for(source, target)
        if mode is None:
            raise self._unsupported(source, target)
        chunks = [split_long(segment) for segment in segments]
        blocks = [deformat(chunk.strip()) for pieces in chunks for chunk in pieces if chunk.strip()]
        raw = iter(self._pool(mode).translate(blocks) if blocks else [])
        return [_assemble(pieces, raw) for pieces in chunks]

    def close(self) -> None:
        """Stop every pipeline. Safe to call twice; a later request starts pipelines again."""
        with self._lock:
            pools = list(self._pools.values())
        for pool in pools:
            for pipeline in pool.pipelines:
                pipeline.close()

    def _pipeline_pids(self, source: str, target: str) -> tuple[int, ...]:
        """Private, for tests: process ids of the pair's started pipelines, all programs."""
        mode = self._mode_for(source, target)
        with self._lock:
            pool = self._pools.get(mode) if mode else None
        return tuple(pid for p in (pool.pipelines if pool else []) for pid in p.pids())

    def _discover(self) -> dict[tuple[str, str], Path]:
        # Caller holds self._lock.
        if self._modes is None:
            installed = shutil.which("lt-proc") is not None
            found = discover_modes(self._modes_dir, skip=self._skip_modes) if installed else {}
            self._modes = found
        return self._modes

    def _mode_for(self, source: str, target: str) -> Path | None:
        with self._lock:
            modes = self._discover()
        return find_mode(modes, source, target)

    def _pool(self, mode: Path) -> _Pool:
        with self._lock:
            pool = self._pools.get(mode)
            if pool is None:
                pool = _Pool(mode, size=self._pipelines_per_pair, timeout=self._timeout)
                self._pools[mode] = pool
            return pool

    def _unsupported(self, source: str, target: str) -> Exception:
        available = self.pairs()
        if not available:
            return MissingDependencyError(
                f"Apertium is not installed (no lt-proc on PATH or no modes in {self._modes_dir})",
                install=_INSTALL,
            )
        src, tgt = bcp47_to_apertium(source), bcp47_to_apertium(target)
        hint = self.withheld(source, target) or (
            f"Install the pair's Debian package if it exists: sudo apt-get install "
            f"apertium-{src}-{tgt} (or apertium-{tgt}-{src}; list them with "
            f"`apt-cache search apertium-`)"
        )
        return UnsupportedLanguageError(source, target, available=sorted(available), hint=hint)


def _assemble(chunks: Sequence[str], raw: Iterator[str]) -> SegmentResult:
    """Rebuild one segment from its chunks' outputs, keeping each chunk's outer whitespace."""
    text: list[str] = []
    unknown: dict[str, None] = {}
    for chunk in chunks:
        core = chunk.strip()
        if not core:
            text.append(chunk)
            continue
        translated, words = reformat(next(raw))
        start = chunk.index(core)
        text.append(chunk[:start] + translated + chunk[start + len(core) :])
        unknown.update(dict.fromkeys(words))
    return SegmentResult(text="".join(text), unknown_words=tuple(unknown))
