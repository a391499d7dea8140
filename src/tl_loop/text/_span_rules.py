"""The span rules `protect` masks with, grouped in families a user can turn off or add to.

Each rule is a regex for one shape of text that must survive translation untouched, with an
optional filter of its matches and hints that let the search skip work (see `_spans`). Rules are
grouped in named *families* (`version`, `path`, `chord`, ...); `Protection` turns families off
and adds a deployment's own patterns. docs/protection.md lists every family with examples.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tl_loop.text._protection import Protection
from tl_loop.text._structured import icu_end

__all__ = ["Finder", "Rule", "rules"]

Finder = Callable[[re.Match[str]], Iterable[tuple[int, int]]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A regex for one kind of span, an optional filter of its matches, and how to skip work.

    `needles` (optional): every match contains one of these strings, so without any of them
    in the text the rule is skipped. `anchor` (optional): every match contains a match of it
    starting at most `reach` characters after the match's start (`reach` None: anywhere), so
    only starts just before the anchor's matches are tried. `word`: no match spans
    whitespace, so only the words holding an anchor match are searched (`reach` is then
    unused), and the anchor need only be in every match the filter keeps (a word without it
    yields no span). `before` (with `reach` None): the characters a match may hold before its
    anchor, as the inside of a regex class; a match then starts in the run of them just before
    an anchor match and ends in the anchor's word, and is searched there alone.

    An anchor is always searched in the whole text, so its look-arounds see the real
    characters around it: `[A-Z](?<=[a-z][A-Z])` finds what `[a-z][A-Z]` finds, one later.
    That is how anchors start from a rare character: the regex engine skips quickly to a
    literal first character or a small class, but tries every position for a common one (a
    lower-case letter) or a Unicode category (`\\d`).
    """

    kind: str
    pattern: re.Pattern[str]
    spans: Finder | None = None
    needles: tuple[str, ...] = ()
    anchor: re.Pattern[str] | None = None
    reach: int | None = 0
    family: str = ""
    word: bool = False  # matches never span whitespace: search only words holding an anchor
    before: str = ""  # with reach None: what a match holds before its anchor, as a [class]


def _whole(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    return ((match.start(), match.end()),)


def _trimmed(found: str) -> str:
    """`found` without trailing punctuation, unless a bracket closes inside it."""
    while found and found[-1] in ".,;:!?'\"*_~>)]}":
        closer = found[-1]
        opener = {")": "(", "]": "[", "}": "{"}.get(closer)
        if opener is not None and found.count(opener) >= found.count(closer):
            break  # balanced: part of the URL, as in wiki/Foo_(bar) or /t/{{id}}
        found = found[:-1]
    return found


def _url(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    url = _trimmed(match.group(0))
    return ((match.start(), match.start() + len(url)),) if len(url) > len("www.") else ()


def _path(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    path = _trimmed(match.group(0))
    return ((match.start(), match.start() + len(path)),) if len(path) > 1 else ()


def _phone(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    count = sum(char.isdigit() for char in match.group(0))
    return _whole(match) if 8 <= count <= 15 else ()


def _luhn(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    digits = [int(char) for char in match.group(0) if char.isdigit()]
    total = sum(
        d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits[::-1])
    )
    return _whole(match) if total % 10 == 0 else ()


def _iban(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    # the pattern may run into a following upper-case word: try the longest valid prefix
    ends = [m.start() for m in re.finditer(" ", match.group(0))] + [len(match.group(0))]
    for end in reversed(ends):
        code = match.group(0)[:end].replace(" ", "")
        if 15 <= len(code) <= 34:
            number = "".join(str(int(c, 36)) for c in code[4:] + code[:4])
            if int(number) % 97 == 1:
                return ((match.start(), match.start() + end),)
    return ()


def _link(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    return ((match.start("open"), match.end("open")), (match.start("close"), match.end("close")))


def _emphasis(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if before.isspace() and after.isspace():
        return ()  # "2 * 3": not emphasis
    if match.group(0)[0] == "_" and before.isalnum() and after.isalnum():
        return ()  # snake_case
    return _whole(match)


def _icu(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    end = icu_end(match.string, match.start())
    return () if end is None else ((match.start(), end),)


def _version(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    # "3.5" is a number; "v3.5", "1.2.3" and "1.2-beta" are versions
    found = match.group(0)
    return _whole(match) if found[0] in "vV" or found.count(".") >= 2 or "-" in found else ()


def _dotted(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    # "e.g", "U.S" and "a.m" are abbreviations: some part must be longer than two letters
    return _whole(match) if any(len(part) > 2 for part in match.group(0).split(".")) else ()


def _has_digit(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    return _whole(match) if any(char.isdigit() for char in match.group(0)) else ()


_ORDINAL = re.compile(r"\d*(?:1st|2nd|3rd|[04-9]th|1[1-3]th)", re.I)


def _code(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    return () if _ORDINAL.fullmatch(match.group(0)) else _whole(match)


_FORMAT_SPEC = r"(?:![rsa])?(?::[^{}\n]{0,20})?\}"
_SPACE = "[ \u00a0\u202f]?"
_NUMBER = r"(?:\d{1,3}(?:[,.'\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?(?!\d))"
_SYMBOLS = "$€£¥₹₩₽₺₴₪฿₫₱"
_SYMBOL = r"(?:US|CA|AU|NZ|HK|MX|R|C|A)?\$(?![{(A-Za-z_])|[€£¥₹₩₽₺₴₪฿₫₱]"  # never the $ of ${x}
_CODES = (
    "USD|EUR|GBP|JPY|CHF|CAD|AUD|NZD|MXN|BRL|ARS|CLP|COP|PEN|UYU|INR|CNY|RMB|HKD|SGD|SEK|NOK"
    "|DKK|PLN|CZK|HUF|RON|TRY|RUB|UAH|ZAR|KRW|ILS|AED|SAR"
)
_TLDS = (
    "com|org|net|io|dev|app|co|ai|example|test|local|internal|lan|edu|gov|info|biz|me|us|uk"
    "|de|es|fr|it|nl|eu|ca|au|mx|br|ar|cl|jp|cn|in|ch|at|be|se|no|dk|fi|pl|pt|ie|nz|sh|so"
    "|cloud|tech|store|shop|site|online|xyz|ly|gg|tv|fm|to|zendesk|freshdesk|helpscout"
)
_MODIFIER = r"(?i:ctrl|control|shift|alt|altgr|option|opt|cmd|command|win|meta|fn|super)|[⌘⌥⇧⌃]"
_KEY = r"(?:F\d{1,2}\b|[A-Za-z][a-z]*\b|\d\b|[⌘⌥⇧⌃]|[^\s\w])"


def rule(
    kind: str,
    pattern: str,
    spans: Finder | None = None,
    *,
    flags: int = 0,
    needles: Iterable[str] = (),
    anchor: str | None = None,
    reach: int | None = 0,
    family: str = "",
    word: bool = False,
    before: str = "",
) -> Rule:
    """Build a rule; see `Rule` for what needles, anchor, reach, word and before promise."""
    compiled_anchor = None if anchor is None else re.compile(anchor)
    compiled = re.compile(pattern, flags)
    needles = tuple(needles)
    return Rule(kind, compiled, spans, needles, compiled_anchor, reach, family, word, before)


def _markdown_rules() -> list[Rule]:
    return [
        rule("url", r"<(?:https?|ftp|mailto):[^\s<>]+>", needles="<", family="url"),
        rule("email", r"<[^\s<>@]+@[^\s<>@]+>", needles="<", family="email"),
        rule(
            "markup",
            r"(?P<open>!?\[)(?:[^\[\]\\]|\\.)*(?P<close>\](?:\((?:[^()\s]|\([^()\s]*\))*"
            r"""(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)|\[[^\]]*\]))""",
            _link,
            needles="[",
            anchor=r"\[",
            reach=len("!"),
        ),
        rule("markup", r"<!--.*?-->|</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>", flags=re.S, needles="<"),
        rule("markup", r"\\[!-/:-@\[-`{-~]", needles="\\"),
        rule(
            "markup",
            r"(?<![\\*])\*{1,3}(?!\*)|(?<![\\_])_{1,3}(?!_)|~~",
            _emphasis,
            needles="*_~",
            anchor="[*_~]",
        ),
    ]


def _pii_rules() -> list[Rule]:
    return [
        rule("pii", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", _iban, anchor=r"[A-Z][A-Z]\d\d"),
        rule(
            "pii",
            r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])",
            _luhn,
            anchor=r"\d[ -]?\d[ -]?\d[ -]?\d",
        ),
        rule(
            "pii",
            r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?![\w-])",
            _phone,
            needles="+",
            anchor=r"\+\d",
        ),
        rule(
            "pii",
            r"(?<![\w(])\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}(?![\w-])",
            needles="(",
            anchor=r"\(\d\d",
        ),
        rule(
            "pii",
            r"(?<![\w-])\d{3}[.-]\d{3}[.-]\d{4}(?![\w-])",
            needles=".-",
            anchor=r"\d\d\d[.-]\d\d\d[.-]\d\d\d\d",
        ),
    ]


def _number_rules() -> list[Rule]:
    return [
        rule(
            # `#` first, then what may not come before it: a pattern that starts with a literal
            # is searched as fast as an anchor, so it needs none
            "order",
            r"#(?<![\w#&]#)\d+(?:-\d+)*(?!\w)",
            needles="#",
            family="order",
        ),
        rule(
            "order",
            r"(?<![\w-])[A-Z]{2,}(?:-[A-Z0-9]+)*-\d{2,}(?:-[A-Z0-9]+)*(?![\w-])",
            needles="-",
            anchor=r"[A-Z][A-Z][A-Z0-9-]*-\d\d",
            family="order",
        ),
        rule(
            "amount",
            rf"(?<![\w{_SYMBOLS}])(?:{_SYMBOL}){_SPACE}{_NUMBER}(?:{_SPACE}(?:{_CODES})\b)?",
            anchor=rf"[{_SYMBOLS}]{_SPACE}\d",  # rare first characters: cheaper than 13 needles
            reach=len("US"),
            family="amount",
        ),
        rule(
            "amount",
            rf"(?<![\w.,]){_NUMBER}{_SPACE}(?:{_SYMBOL}|(?:{_CODES})\b)",
            # a symbol or code after a digit (looked for from the rarer symbol or capital)
            anchor=rf"[A-Z{_SYMBOLS}](?:(?<=\d.)|(?<=\d[ \u00a0\u202f].))",
            reach=None,
            before="\\d,.'\u00a0\u202f ",  # the number and the space before the symbol
            family="amount",
        ),
        rule(
            "amount",
            rf"\b(?:{_CODES}){_SPACE}(?:{_NUMBER})",
            anchor=rf"(?:{_CODES}){_SPACE}\d",
            family="amount",
        ),
    ]


def _placeholder_rules() -> list[Rule]:
    """Format strings and i18n placeholders, after the more specific families."""
    return [
        rule(
            "placeholder",
            r"#\{[^{}\s]{1,80}\}",
            needles=("#{",),
            family="zammad",
        ),
        rule(
            "order",
            r"\[[A-Za-z][\w-]{0,20}#\d+\]|(?<![\w#])[A-Z][A-Za-z]{1,20}#\d+(?!\w)",
            needles="#",
            anchor=r"#(?<=[\w-]#)\d",  # a name glued to the number: not an order #48213
            word=True,
            family="zammad",
        ),
        rule(
            "placeholder",
            r"\{\s*(?:\d+|[A-Za-z_]\w*)\s*,\s*(?:number|date|time|choice|duration|spellout"
            r"|ordinal)(?:\s*,\s*[^{}\n]{1,60})?\s*\}|\{\d+\s*,\s*-?\d+(?::[^{}\n]{0,20})?\}",
            needles=",",
            family="format",
        ),
        rule(
            "placeholder",
            r"\$\{[\w.]+\}|%\{\w+\}|\{(?:[A-Za-z_][\w.]*|\d*)" + _FORMAT_SPEC,
            needles="{",
            family="format",
        ),
        rule(
            "placeholder",
            r"%(?:\(\w+\)|\d+\$)?[-+0#']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|z|j|t|q)?"
            r"(?:[diouxXeEfFgGaAcspr@]|t[HMSLNpzZsQBbhAaCYyjmdeRTrDFc])(?![A-Za-z])"
            r"|%<\w+>[-+ 0#]*\d*(?:\.\d+)?[a-zA-Z]|%#@\w+@|(?<![\w%])%L?[1-9]\d?(?![\w$])",
            needles="%",
            anchor="%",
            family="format",
        ),
        rule(
            "placeholder",
            r"\$t\([^()\n]{1,80}\)|\$\([\w.:-]{1,80}\)",
            needles=("$(", "$t("),
            family="i18n",
        ),
        rule(
            "placeholder",
            r"@(?:\.\w+)?:[\w.-]*\w",  # Vue I18n linked messages: @:key, @.lower:key
            needles="@",
            anchor="@",
            family="i18n",
        ),
        rule(
            "placeholder",
            r"(?<![\w%])%[A-Za-z_][\w.-]*%(?![\w%])",
            needles="%",
            anchor="%",
            family="i18n",
        ),
        rule(
            "placeholder",
            r"(?<![\w~])~[-.*\d]*[spwPWcfegbBxni~](?!\w)",  # Erlang and Lisp directives
            needles="~",
            anchor="~",
            family="i18n",
        ),
        rule(
            "placeholder",
            r"(?<![\w:/.@]):[A-Za-z_][A-Za-z0-9_]*(?![\w:])",  # Laravel :name
            needles=":",
            anchor=r":[A-Za-z_]",
            family="i18n",
        ),
        rule(
            "placeholder",
            r"(?<![\w:]):[a-z0-9_+-]*[a-z][a-z0-9_+-]*:(?![\w:])",
            needles=":",
            anchor=r":[a-z0-9_+-]*[a-z][a-z0-9_+-]*:",
            family="shortcode",
        ),
    ]


def _identifier_rules() -> list[Rule]:
    """Shapes agents type every day that are not words of any language.

    None of them spans whitespace (but times and chords), so each is searched only in the
    words that hold its anchor.
    """
    return [
        rule(
            "identifier",
            r"(?<![\w/.~:\\<])(?:~|\.{1,2})?/[A-Za-z0-9._~@%+-][\w.@%+~-]*(?:/[\w.@%+~-]+)*/?"
            r"|\\\\[\w.$-]+\\[^\s<>\"|?*]*|%[A-Za-z_]\w*%\\[^\s<>\"|?*]+"
            r"|(?<![\w/.-])[\w.-]+(?:/[\w.@+-]+)+(?:/|\.[A-Za-z]\w{0,4})",
            _path,
            needles=("/", "\\"),
            anchor=r"[/\\]",
            word=True,
            family="path",
        ),
        rule(  # a folder may hold capitalised words when a separator follows: Program Files\
            "identifier",
            r"(?:(?<![\w\\])[A-Za-z]:|\bHK(?:EY_[A-Z_]+|LM|CU|CR|U|CC)|~|(?<![\w.~])/[\w.@%+-]+)"
            r"(?:[\\/][\w.@%+~$-]+(?: [A-Z(][\w.@%+~$()-]*)*(?=[\\/]))*[\\/][^\s<>\"|?*]*",
            _path,
            needles=("\\", "/"),
            anchor=r"[\\/]",
            reach=None,
            family="path",
        ),
        rule(
            "url",
            rf"(?<![\w@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+(?i:{_TLDS})"
            r"(?![\w-])(?::\d{2,5})?(?:/[^\s<>\"'`]*)?",
            _url,
            needles=".",
            anchor=rf"\.(?=[A-Za-z])(?i:{_TLDS})(?![\w-])",  # a sentence's full stop fails fast
            word=True,
            family="domain",
        ),
        rule(
            "url",
            r"\blocalhost(?::\d{2,5})?(?:/[^\s<>\"'`]*)?",
            _url,
            needles=("localhost",),
            family="domain",
        ),
        rule(
            "identifier",
            r"(?<![\w.-])[vV]?\d+(?:\.\d+){1,3}(?:-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?"
            r"(?:\+[0-9A-Za-z.]+)?(?![\w-]|\.\d)",
            _version,
            needles=".",
            anchor=r"[.vV](?:(?<=\.)\d+[.+-]|(?<=[vV])\d)",  # what `_version` keeps: not 59.99
            word=True,
            family="version",
        ),
        rule(
            "identifier",
            r"(?<![\w.-])[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+(?![\w-])",
            needles="_",
            anchor="_",
            word=True,
            family="identifier",
        ),
        rule(  # names joined by "+": Ruby+Devkit, Google+ (key chords are their own family)
            "identifier",
            rf"(?<![\w+])(?!(?:{_MODIFIER})\+)[A-Za-z][\w.]*(?:\+[A-Za-z0-9][\w.]*)+\+*(?![\w+])",
            needles="+",
            anchor=r"\w\+",
            word=True,
            family="identifier",
        ),
        rule(  # an environment variable set to a value: NODE_ENV=production
            "identifier",
            r"(?<![\w.-])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*=[^\s\"'<>]+",
            _path,
            needles="=",
            anchor="=",
            word=True,
            family="identifier",
        ),
        rule(
            "identifier",
            r"(?<![\w.-])[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+(?![\w-]|\.\w)",
            _dotted,
            needles=".",
            anchor=r"\.[A-Za-z_]",
            word=True,
            family="identifier",
        ),
        rule(
            "identifier",
            r"(?<![\w.-])[A-Za-z][A-Za-z0-9]*?[a-z][A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*(?![\w-])",
            anchor=r"[A-Z](?<=[a-z][A-Z])",  # from the capital: rarer than a lower-case letter
            word=True,
            family="identifier",
        ),
        rule(
            "identifier",
            r"(?<![\w.-])(?:0x[0-9A-Fa-f]+|[A-Za-z]+\d[A-Za-z0-9]*|\d+[A-Za-z][A-Za-z0-9]*)"
            r"(?![\w-])",
            _code,
            anchor=r"\d(?:(?<=[A-Za-z]\d)|[A-Za-z])",  # a letter next to a digit: not #48213
            word=True,
            family="code",
        ),
        rule(
            "identifier",
            r"(?<![\w.-])[a-z][a-z0-9]*(?:-[a-z0-9]+)+(?![\w-])",
            _has_digit,
            needles="-",
            anchor="-",
            word=True,
            family="slug",
        ),
        rule(
            "identifier",
            rf"(?<![\w+])(?:{_MODIFIER})(?:\s?\+\s?{_KEY})+|[⌘⌥⇧⌃]+[A-Za-z0-9]\b",
            needles=("+", "⌘", "⌥", "⇧", "⌃"),
            family="chord",
        ),
        rule(
            "identifier",
            r"(?<![\w.@/])@[A-Za-z0-9_](?:[\w.-]*\w)?(?:/[\w.-]*\w)?",  # @org/team too
            needles="@",
            anchor="@",
            word=True,
            family="mention",
        ),
        rule(
            "identifier",
            r"(?<![\w&#/])#[A-Za-z][\w-]*\w",
            needles="#",
            anchor=r"#[A-Za-z]",
            family="hashtag",
        ),
        rule(
            "identifier",
            r"(?<![\w:.])\d{1,2}(?::[0-5]\d){0,2}[ \u00a0\u202f]?(?:[AaPp][Mm]|[ap]\.m\.)(?!\w)",
            # the M (or dot) after a digit and AM/PM: rarer than a digit, so the scan is cheaper
            anchor=r"[Mm.](?<=[AaPp][Mm.])(?:(?<=\d..)|(?<=\d[ \u00a0\u202f]..))",
            reach=len("12:30:45 A"),
            family="time",
        ),
    ]


@functools.cache
def rules(syntax: str, mask_pii: bool, protection: Protection) -> tuple[Rule, ...]:
    """The span rules for one syntax, most specific first (rank breaks ties)."""
    found = [rule("placeholder", r"⟦\d+⟧", needles="⟦")]
    found += [Rule("custom", pattern, _whole) for pattern in protection.compiled]
    if syntax in ("text", "markdown"):
        found.append(
            rule(
                "code",
                r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)",
                flags=re.S,
                needles="`",
                anchor="`",
                family="inline_code",
            )
        )
    if syntax == "markdown":
        found += _markdown_rules()
    if syntax == "text":  # tags typed in plain text: <bold>{firstName}</bold>, <br/>
        found.append(
            rule(
                "markup",
                r"</?[A-Za-z][\w:-]*(?:\s+[^<>\n]*)?/?>",
                needles="<",
                anchor="<",
                family="tag",
            )
        )
    found += [
        rule(
            "placeholder",
            r"\{\{\{.{0,300}?\}\}\}|\{\{.{0,300}?\}\}|\{%.{0,300}?%\}",
            flags=re.S,
            needles=("{{", "{%"),
            family="template",
        ),
        rule(
            "placeholder",
            r"\{\s*[A-Za-z_][\w.]*\s*,\s*(?:plural|selectordinal|select)\s*,",
            _icu,
            needles=("plural", "select"),  # selectordinal holds select
            family="icu",
        ),
        rule(
            "url",
            r"\b(?:(?:https?|ftp)://|www\.|mailto:)[^\s<>\"'`\[\]]+",
            _url,
            needles=("://", "www.", "mailto:"),
            anchor=r"://|www\.|mailto:",
            reach=len("https"),
            family="url",
        ),
        rule(  # a link built from placeholders: #{config.http_type}://#{config.fqdn}/#ticket/1
            "url",
            r"(?:#\{[\w.]+\}|\$\{[\w.]+\}|\{\{\s*[\w.]+\s*\}\})[^\s<>\"'`]*/[^\s<>\"'`]*",
            _url,
            needles="/",  # rarer than the braces every match also holds
            anchor=r"[#$]\{|\{\{",
            family="url",
        ),
        rule(
            "email",
            r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])",
            needles="@",
            family="email",
        ),
    ]
    if mask_pii:
        found += _pii_rules()
    found += _number_rules()
    found += _placeholder_rules()
    found += _identifier_rules()
    return tuple(r for r in found if r.family not in protection.disabled)
