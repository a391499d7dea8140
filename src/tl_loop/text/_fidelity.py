"""Find what a translation must carry over byte-exact, whatever was masked, and what it lost.

Masking protects what the span rules recognise; it cannot protect what they miss, and a check
that compares only masked tokens cannot see damage anywhere else (an engine that rewrites
`v2.7.1-beta` as `v2.7.1-la beta`, or a cloud engine that "translates" `eu-west-1`). So this
check works on the text alone: it takes every non-prose token of the source and looks for each,
byte-exact, in the output.

A non-prose token is a URL, an e-mail address, a code span, a placeholder (the code parts of
one whose fallback or ICU messages are prose), a time with AM/PM, a key chord, or a word that
holds a digit, an underscore or an internal capital between letters, dots or slashes between
letters, `@ # $ % { } [ ] < > \\ | = ^` or a `+` or `:` joining two characters. Plain numbers
(`3`, `1,299.00`, `10:30`, `50%`) and ordinals are left to the number check, since engines
may write them the target language's way; abbreviations (`e.g.`, `U.S.`) and plain word pairs
(`and/or`) are prose.
"""

from __future__ import annotations

import functools
import html
import re
from collections import Counter
from collections.abc import Collection, Iterator

from tl_loop.text._structured import holes, icu_end

__all__ = ["identifiers", "missing_identifiers", "prose_only"]

# What is read whole, each kind with strings one of which every match holds (none: always
# looked for); at a point where two kinds match, the first listed wins.
_KINDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("url", r"\b(?:(?:https?|ftp)://|mailto:|www\.)[^\s<>\"'`]+", ("://", "mailto:", "www.")),
    ("code", r"(?<!`)`[^`\n]+`(?!`)", ("`",)),
    ("tag", r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>", ("<",)),
    ("template", r"\{\{\{.{0,300}?\}\}\}|\{\{.{0,300}?\}\}|\{%.{0,300}?%\}", ("{{", "{%")),
    (
        "icu",
        r"\{\s*[A-Za-z_][\w.]*\s*,\s*(?:plural|selectordinal|select)\s*,",
        ("plural", "select"),
    ),
    ("brace", r"[#$%]?\{[^{}\n]{1,80}\}", ("{",)),
    (
        "time",
        r"(?<![\w:.])\d{1,2}(?::\d\d){0,2}\s?(?:[AaPp][Mm]|[ap]\.m\.)(?!\w)",
        ("am", "aM", "Am", "AM", "pm", "pM", "Pm", "PM", "a.m.", "p.m."),
    ),
    (
        "chord",
        r"(?<![\w+])(?:Ctrl|Control|Shift|Alt|Option|Opt|Cmd|Command|Win|Meta|Fn|Super"
        r"|[⌘⌥⇧⌃])(?:\s?\+\s?(?:[\w⌘⌥⇧⌃]+|[^\s\w]))+",
        ("+",),
    ),
)
# All kinds as one regex: what `_Structured` finds, one kind at a time (tests compare them).
_STRUCTURED = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern, _ in _KINDS), re.S)
_SEARCHES = tuple((kind, re.compile(pattern, re.S), needles) for kind, pattern, needles in _KINDS)
# a word holding any character an identifier could need: the others are plain prose
_CANDIDATE = re.compile(r"\S*?(?:[\d_.\/\\@#$%{}\[\]<>=+:^|~]|[a-z][A-Z])\S*")
# what makes a word a candidate, one character (a capital after a lower-case letter), so that
# the regex engine skips to the next such character quickly
_MARK = re.compile(r"[\d_.\/\\@#$%{}\[\]<>=+:^|~A-Z](?:(?<=[^A-Z])|(?<=[a-z][A-Z]))")
_WORD_START = re.compile(r".*\s", re.S)  # up to the last whitespace before a point
_WORD_REST = re.compile(r"\S*")
_LEAD = "\"'“”‘’«»¿¡([*"
_TRAIL = ".,;:!?\"'“”‘’»)*…"
_PAIRS = {")": "(", "]": "[", "}": "{"}
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_POSSESSIVE = re.compile(r"['’]s$")
# numbers, ordinals and number-word compounds ("24-hour", "1-click"), which engines may
# write the target language's way
_NUMBER = re.compile(r"[+-]?\d[\d.,:'\u00a0\u202f]*%?|\d+(?:st|nd|rd|th)|\d+(?:-[a-z]+)+")
_SPECIAL = re.compile(
    r"[_#@$%{}\[\]<>\\|=^]|(?<=\S)[+:](?=\S)|^:[a-z]|^~[-.*\d]*[A-Za-z]|[a-z][A-Z]|\d"
)
_SNAKE = re.compile(r"[^\W_]_[^\W_]")
_DOTTED = re.compile(r"[^\W\d_]\.[^\W\d_]")
_ABBREVIATION = re.compile(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}")
_SLASHED = re.compile(r"^(?:~|\.{1,2})?/|/.*/|\\")
_ALNUM = re.compile(r"[^\W_]")
_TAG = re.compile(r"<[^<>]*>")
_LINK_TARGET = re.compile(r"\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)")


def _strip(word: str) -> str:
    """Drop punctuation wrapped around a word (keeping balanced brackets and `:code:`)."""
    while word and (word[0] in _LEAD or word.startswith("~~")):
        word = word[2:] if word.startswith("~~") else word[1:]
    word = word.removesuffix("~~")
    while len(word) > 2 and word[0] == "_" and word.rstrip(_TRAIL)[-1:] == "_":
        word = word[1:].rstrip(_TRAIL)[:-1]  # _emphasis_, not _config.yml
    word = _POSSESSIVE.sub("", word)
    while word:
        last = word[-1]
        opener = _PAIRS.get(last)
        if opener is not None and word.count(opener) >= word.count(last):
            break
        if last == ":" and word.startswith(":"):
            break
        closer = _OPENERS.get(last)
        if closer is not None and word.count(last) > word.count(closer):
            word = word[:-1]  # "[link](" cut off before a URL
            continue
        if last not in _TRAIL and opener is None:
            break
        word = word[:-1]
    while word and word[0] in _OPENERS and word.count(word[0]) > word.count(_OPENERS[word[0]]):
        word = word[1:]
    return word


def _is_identifier(word: str) -> bool:
    if not _ALNUM.search(word) or _NUMBER.fullmatch(word):
        return False
    if "_" in word and not _SNAKE.search(word) and not re.search(r"[^_\w]", word):
        return False  # _emphasis_ that survived stripping
    if _SPECIAL.search(word):
        return True
    if _DOTTED.search(word) and not _ABBREVIATION.fullmatch(word.rstrip(".")):
        return True
    return bool(_SLASHED.search(word) or ("/" in word and "." in word))


def _parts(placeholder: str) -> Iterator[tuple[str, bool]]:
    """The placeholder cut at its prose holes: (text, is_prose) in order."""
    position = 0
    for start, end in holes(placeholder):
        yield placeholder[position:start], False
        yield placeholder[start:end], True
        position = end
    yield placeholder[position:], False


class _Structured:
    """`_STRUCTURED.search` over one text, each kind searched on its own and only when the text
    holds one of its strings: one regex of all kinds lets the regex engine skip nothing, and
    tries every kind at every character (60 µs on a 200-character reply).

    A kind's next match is kept until the reading passes it: the reading only moves forward.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.ahead: list[tuple[str, re.Pattern[str], re.Match[str] | None, int]] = [
            (kind, pattern, None, -1)
            for kind, pattern, needles in _SEARCHES
            if not needles or any(needle in text for needle in needles)
        ]

    def search(self, position: int) -> tuple[str, re.Match[str]] | None:
        """The leftmost match from `position` of any kind (the first kind listed at a tie)."""
        best: tuple[str, re.Match[str]] | None = None
        for index, (kind, pattern, match, since) in enumerate(self.ahead):
            if match is None and 0 <= since <= position:
                continue  # none from an earlier point: none from here
            if match is None or match.start() < position:
                match = pattern.search(self.text, position)
                self.ahead[index] = (kind, pattern, match, position)
                if match is None:
                    continue
            if best is None or match.start() < best[1].start():
                best = (kind, match)
        return best


def _candidates(text: str, start: int, end: int) -> Iterator[str]:
    """`_CANDIDATE.findall(text, start, end)`: the words holding a mark, found from the marks
    (a lazy `\\S*?` in front makes the regex engine walk each word from each of its letters).
    """
    position = start
    while (mark := _MARK.search(text, position, end)) is not None:
        if mark.start() == start and text[start].isupper():  # its lower-case letter is outside
            mark = _MARK.search(text, start + 1, end)
            if mark is None:
                return
        space = _WORD_START.match(text, position, mark.start())
        rest = _WORD_REST.match(text, mark.end(), end)
        first = position if space is None else space.end()
        position = end if rest is None else rest.end()  # \S* always matches
        yield text[first:position]


def _tokens(text: str) -> Iterator[str]:
    structured = _Structured(text)
    position = 0
    while position < len(text):
        found = structured.search(position)
        end = len(text) if found is None else found[1].start()
        for word in _candidates(text, position, end):  # skips plain words in one go
            stripped = _strip(word)
            if _is_identifier(stripped):
                yield stripped
        if found is None:
            return
        kind, match = found
        token = match.group(0)
        if kind == "url":
            token = _strip(token)
        elif kind == "icu":
            close = icu_end(text, match.start())
            if close is None:  # not a well-formed ICU argument: read on as words
                position = match.end()
                yield token.rstrip(",")
                continue
            token = text[match.start() : close]
        if kind in ("template", "icu", "brace"):
            for part, is_prose in _parts(token):
                if is_prose:
                    yield from _tokens(part)
                elif part.strip():
                    yield part
        else:
            yield token
        position = match.start() + len(token) if token else match.end()


_LINK_JOINT = re.compile(r"\](?=[(\[-])")


def _readable(text: str, content_type: str) -> str:
    """The text to look for tokens in: HTML as text, link text apart from its target."""
    if content_type == "html":
        text = html.unescape(_TAG.sub(" ", text))
    return _LINK_JOINT.sub("] ", text)  # [the docs](/docs/x): "docs]" is prose, "/docs/x" not


def identifiers(text: str, *, content_type: str = "text") -> list[str]:
    """The non-prose tokens of `text`, in order, repeats included (HTML: text and not tags)."""
    return list(_tokens(_readable(text, content_type)))


_GLUE = r"\w@#$%/\\+=~"  # characters that would make a token part of a longer one


@functools.lru_cache(maxsize=1024)
def _alone(token: str) -> re.Pattern[str]:
    """`token` where it stands on its own (not as a piece of a longer token)."""
    left = rf"(?<![{_GLUE}.:-])" if _ALNUM.match(token) else ""
    right = rf"(?![{_GLUE}-])(?![.:,]\w)" if _ALNUM.match(token[-1]) else ""
    return re.compile(left + re.escape(token) + right)


def _count(token: str, text: str) -> int:
    """How often `token` stands in `text` on its own (not as a piece of a longer token)."""
    return len(_alone(token).findall(text))


def missing_identifiers(
    source: str,
    translated: str,
    *,
    content_type: str = "text",
    allowed: Collection[str] = (),
    reported: Collection[str] = (),
) -> list[str]:
    """Non-prose tokens of `source` that `translated` does not carry byte-exact, in order.

    A token written twice in the source must be there twice. `allowed` holds source text the
    translation may change (forced glossary terms): tokens inside it are not checked.
    `reported` holds masked spans already reported lost (by the token parity check): tokens
    overlapping one are left out, so each problem is named once.
    """
    wanted = Counter(
        token
        for token in identifiers(source, content_type=content_type)
        if not any(token in text for text in allowed)
    )
    if not wanted:
        return []
    output = _readable(translated, content_type)
    short = [
        token
        for token, count in wanted.items()
        if _count(token, output) < count
        and not any(token in lost or lost in token for lost in reported)
    ]
    if not short:
        return []
    # The tokenizer's boundaries are looser than `_alone`'s: a token it cut out of a longer
    # run (`aaa.aaa.www.aaa` reads as two) or found after a colon (`x:www.a.com`) never stands
    # alone. It is there if the output, tokenized the same way, holds it as often.
    found = Counter(identifiers(translated, content_type=content_type))
    return [token for token in short if found[token] < wanted[token]]


def prose_only(text: str) -> str:
    """`text` with its non-prose tokens, tags and link targets blanked out, same length.

    Lets a prose check (glossary compliance) ignore terms inside URLs, e-mail addresses, link
    targets, tags and placeholders; the prose inside a placeholder's fallback stays.
    """

    def blank(match: re.Match[str]) -> str:
        return " " * len(match.group())

    readable = _LINK_TARGET.sub(blank, _TAG.sub(blank, text))
    for token in sorted(set(_tokens(readable)), key=len, reverse=True):
        readable = readable.replace(token, " " * len(token))
    return readable
