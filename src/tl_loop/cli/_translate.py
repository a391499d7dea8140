"""`tl-loop translate` and `tl-loop detect`: text in, translation (or language) out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from tl_loop._errors import ConfigurationError, GlossaryError
from tl_loop._glossary import Glossary
from tl_loop._loop import Loop
from tl_loop._models import Decision, Severity, Translation, same_language
from tl_loop.cli._common import Commands, add_command, language_tag, load_config
from tl_loop.text._language import LanguageDetector

__all__ = ["add_detect_parser", "add_translate_parser", "run_detect", "run_translate"]


def add_translate_parser(commands: Commands) -> None:
    """Add `translate` to a `tl-loop` subcommand set."""
    translate = add_command(commands, "translate", help="translate text")
    translate.add_argument(
        "--from", dest="source", type=language_tag, help="source language (detected)"
    )
    translate.add_argument(
        "--to", dest="target", type=language_tag, required=True, help="target language"
    )
    translate.add_argument(
        "--engine", action="append", dest="engines", metavar="NAME",
        help="engine to use; repeat for a failover chain (default: configured engines)",
    )  # fmt: skip
    translate.add_argument("--glossary", type=Path, help="glossary file (.csv, .tsv, .tbx)")
    translate.add_argument(
        "--format", dest="content_type", choices=["text", "html", "markdown"], default="text"
    )
    translate.add_argument("--json", action="store_true", help="one JSON object per message")
    translate.add_argument("--lines", action="store_true", help="each input line is a message")
    translate.add_argument("text", nargs="?", default="-", help="text, or - for stdin (default)")


def add_detect_parser(commands: Commands) -> None:
    """Add `detect` to a `tl-loop` subcommand set."""
    detect = add_command(commands, "detect", help="detect the language of a text")
    detect.add_argument("--json", action="store_true")
    detect.add_argument("text", help="text, or - for stdin")


# The exit statuses of `tl-loop translate` (docs/cli.md): a script may act on each.
TRANSLATED = 0  # the translation is on stdout, ready to send (flags, if any, on stderr)
FAILED = 1  # the engines failed (down, timing out, over quota): nothing to send
BAD_INPUT = 2  # bad input or configuration: empty, language unknown or unsure, pair unserved
HELD = 3  # translated, but the review policy holds it for a person: do not send unreviewed
# With --lines the status is the worst line's, in this order.
_WORST_FIRST = (FAILED, BAD_INPUT, HELD, TRANSLATED)


def _translation_json(translation: Translation) -> dict[str, Any]:
    return {
        "translation": translation.translated,
        "original": translation.original,
        "source_language": translation.source_language,
        "target_language": translation.target_language,
        "engine": translation.engine,
        "flags": [flag.model_dump(mode="json") for flag in translation.flags],
        "decision": translation.decision.value,
        "audit": translation.audit.model_dump(mode="json"),
    }


def _read(text: str, stdin: TextIO) -> str:
    return stdin.read() if text == "-" else text


def _check_available(loop: Loop) -> None:
    engines = loop.chain.engines
    if not any(engine.is_available() for engine in engines):
        hints = "; ".join(
            f"{engine.name}: {engine.install_hint or 'not available'}" for engine in engines
        )
        raise ConfigurationError(f"no engine is available here ({hints})")


def _loop_options(args: argparse.Namespace) -> dict[str, Any]:
    config = load_config(args)
    if args.engines:
        config = config.model_copy(update={"engines": args.engines})
    options = config.loop_options()
    if args.glossary:
        options["glossary"] = _glossary(args.glossary, args.source, args.target)
    return options


def _glossary(path: Path, source: str | None, target: str) -> Glossary:
    """The glossary file; a TSV one takes the command's pair when its name does not say it."""
    try:
        return Glossary.load(path, source=source, target=target)
    except GlossaryError as error:
        if path.suffix.lower() == ".tsv" and source is None and error.line is None:
            raise ConfigurationError(
                f"{path}: a TSV glossary holds one language pair and its name does not say "
                "which; give --from LANG (--to is its target) or name it like brand.en-es.tsv"
            ) from error
        raise


class _Refused(Exception):
    """A message that was not translated, with its exit status and why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def run_translate(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Run `tl-loop translate`; returns the exit status (`TRANSLATED`, `FAILED`, ...).

    With `--lines` every input line gives exactly one output line (or JSON object), blank
    lines included; a line that cannot be translated gives an empty line (or a JSON object
    with `error`) and its reason on stderr, prefixed with its line number.
    """
    text = _read(args.text, stdin)
    messages = text.split("\n") if args.lines else [text.rstrip("\n")]
    if args.lines and messages[-1] == "":
        messages.pop()  # the newline that ends the last line starts no new one
    if not args.lines and not text.strip():
        raise ConfigurationError("the message is empty: there is nothing to translate")
    statuses = []
    with Loop(**_loop_options(args)) as loop:
        _check_available(loop)
        source, target = args.source, args.target
        if source and not same_language(source, target) and not loop.chain.supports(source, target):
            raise loop.chain.unsupported(source, target)
        for number, message in enumerate(messages, start=1):
            where = f"line {number}: " if args.lines else ""
            try:
                translation = _translate_one(loop, args, message)
            except _Refused as refused:
                if not args.lines:
                    raise ConfigurationError(str(refused)) from None
                statuses.append(refused.status)
                row = {"line": number, "original": message, "error": str(refused)}
                print(json.dumps(row, ensure_ascii=False) if args.json else "", file=stdout)
                print(f"tl-loop: {where}error: {refused}", file=stderr)
                continue
            status = _status(translation)
            statuses.append(status)
            _print(translation, status, number if args.lines else None, args.json, stdout)
            _report(translation, status, where, stderr)
    return next((s for s in _WORST_FIRST if s in statuses), TRANSLATED)


def _translate_one(loop: Loop, args: argparse.Namespace, message: str) -> Translation:
    """One message, its source language given or detected with confidence.

    Raises:
        _Refused: the message is empty, its language unknown, unsure or unserved.
    """
    if not message.strip():
        if args.lines:  # a blank line stays a blank line
            return loop.translate(message, source=args.target, target=args.target)
        raise _Refused(BAD_INPUT, "the message is empty: there is nothing to translate")
    source = args.source
    if source is None:
        detection = loop.detect(message)
        minimum = loop.parts.sticky.min_confidence
        if detection.language is None:
            raise _Refused(
                BAD_INPUT,
                "no language could be detected (no letters of a configured language); "
                "give --from LANG",
            )
        if detection.confidence < minimum:
            raise _Refused(
                BAD_INPUT,
                f"the language is uncertain ({detection.language} at "
                f"{detection.confidence:.0%}, below {minimum:.0%}); give --from LANG",
            )
        source = detection.language
    if not same_language(source, args.target) and not loop.chain.supports(source, args.target):
        raise _Refused(BAD_INPUT, str(loop.chain.unsupported(source, args.target)))
    return loop.translate(
        message, source=source, target=args.target, content_type=args.content_type
    )


def _status(translation: Translation) -> int:
    codes = {flag.code for flag in translation.flags}
    if "engine_failed" in codes:
        return FAILED
    if "unsupported_language" in codes:
        return BAD_INPUT
    if translation.decision is Decision.HOLD:
        return HELD
    return TRANSLATED


def _print(
    translation: Translation, status: int, line: int | None, as_json: bool, stdout: TextIO
) -> None:
    if as_json:
        row = _translation_json(translation)
        if line is not None:
            row = {"line": line, **row}
        print(json.dumps({**row, "status": status}, ensure_ascii=False), file=stdout)
    elif status in (TRANSLATED, HELD):
        print(translation.translated, file=stdout)
    elif line is not None:
        print("", file=stdout)  # keeps the output aligned with the input


def _report(translation: Translation, status: int, where: str, stderr: TextIO) -> None:
    if status in (FAILED, BAD_INPUT):
        detail = next(f.detail for f in translation.flags if f.severity is Severity.ERROR)
        print(f"tl-loop: {where}error: {detail.removesuffix('; the original text was kept')}",
              file=stderr)  # fmt: skip
        return
    if status == HELD:
        held = ", ".join(flag.code for flag in translation.flags) or "the review policy"
        print(f"tl-loop: {where}held for review ({held}): do not send unreviewed", file=stderr)
    for flag in translation.flags:
        print(f"{where}flag {flag.code} ({flag.severity.value}): {flag.detail}", file=stderr)


def run_detect(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    """Run `tl-loop detect`; returns the exit status."""
    detector = LanguageDetector(load_config(args).detection_languages())
    detection = detector.detect(_read(args.text, stdin))
    if args.json:
        print(json.dumps(detection.model_dump(mode="json"), ensure_ascii=False), file=stdout)
    else:
        print(f"{detection.language or 'unknown'}\t{detection.confidence:.2f}", file=stdout)
    return 0
