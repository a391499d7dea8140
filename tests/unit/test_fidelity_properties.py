"""Round trips over the span families support replies hold, and the fidelity check on them.

Each generated example is a batch of sentences (`BATCH`), so the default run covers
`EXAMPLES × BATCH` ≥ 10,000 generated cases in a few seconds; PROTECT_EXAMPLES raises it.
"""

from __future__ import annotations

import os
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tl_loop import ContentType, protect
from tl_loop.engines import TOKEN_PATTERN
from tl_loop.text import identifiers, missing_identifiers

EXAMPLES = int(os.environ.get("PROTECT_EXAMPLES", "250"))
BATCH = 40
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

LOWER = st.text(string.ascii_lowercase, min_size=2, max_size=7)
CAPITAL = LOWER.map(str.capitalize)
NUMBER = st.integers(0, 999).map(str)
PROSE = st.sampled_from(
    ["please", "check", "the", "your", "account", "before", "Friday", "and", "we", "will",
     "reply", "soon", "thanks", "for", "waiting", "e.g.", "3", "days", "50%", "and/or"]
)  # fmt: skip

VERSION = st.builds(
    lambda v, a, b, c, tag: f"{v}{a}.{b}.{c}{tag}",
    st.sampled_from(["v", ""]), NUMBER, NUMBER, NUMBER,
    st.sampled_from(["", "-beta", "-rc.1", "-alpha.2", "+build.5"]),
)  # fmt: skip
POSIX_PATH = st.builds(
    lambda root, parts, ext: root + "/".join(parts) + ext,
    st.sampled_from(["/", "~/", "./", "/var/"]), st.lists(LOWER, min_size=1, max_size=4),
    st.sampled_from(["", ".log", ".json", "/"]),
)  # fmt: skip
WINDOWS_PATH = st.builds(
    lambda drive, parts: f"{drive}:\\" + "\\".join(parts),
    st.sampled_from("CDE"), st.lists(CAPITAL, min_size=1, max_size=4),
)  # fmt: skip
DOMAIN = st.builds(
    lambda name, tld, path: f"{name}.{tld}{path}",
    LOWER, st.sampled_from(["com", "io", "example", "dev", "co.uk"]),
    st.sampled_from(["", "/status", "/help/billing"]),
)  # fmt: skip
REGION = st.builds(
    lambda area, side, n: f"{area}-{side}-{n}",
    st.sampled_from(["eu", "us", "ap", "sa", "ca"]),
    st.sampled_from(["west", "east", "central", "southeast", "north"]), st.integers(1, 9),
)  # fmt: skip
SNAKE = st.lists(LOWER, min_size=2, max_size=4).map("_".join)
SCREAMING = SNAKE.map(str.upper)
CAMEL = st.tuples(LOWER, st.lists(CAPITAL, min_size=1, max_size=3)).map(
    lambda p: p[0] + "".join(p[1])
)
DOTTED = st.lists(st.text(string.ascii_lowercase, min_size=3, max_size=7), min_size=2, max_size=4)
HEX = st.integers(0x10000, 0xFFFFFFFF).map(lambda n: f"0x{n:08X}")
CODE = st.builds(
    lambda a, n, b: f"{a}{n}{b}",
    st.text(string.ascii_uppercase, min_size=1, max_size=3), st.integers(10, 10**9),
    st.text(string.ascii_uppercase, max_size=2),
)  # fmt: skip
CHORD = st.builds(
    lambda mods, key: "+".join([*mods, key]),
    st.lists(st.sampled_from(["Ctrl", "Shift", "Alt", "Cmd", "Option"]), min_size=1,
             max_size=3, unique=True),
    st.sampled_from([*string.ascii_uppercase, "F5", "Tab", "Enter"]),
)  # fmt: skip
MENTION = LOWER.map(lambda w: f"@{w}-team")
HASHTAG = LOWER.map(lambda w: f"#{w}-help")
TIME = st.builds(
    lambda h, m, ampm: f"{h}:{m:02d} {ampm}", st.integers(1, 12), st.integers(0, 59),
    st.sampled_from(["AM", "PM", "am", "pm"]),
)  # fmt: skip
PLACEHOLDER = st.one_of(
    LOWER.map(lambda w: f"{{{{ticket.{w}}}}}"),
    LOWER.map(lambda w: f"#{{ticket.{w}}}"),
    LOWER.map(lambda w: f":{w}"),
    LOWER.map(lambda w: f"%{w}%"),
    LOWER.map(lambda w: f"$t(common.{w})"),
    LOWER.map(lambda w: f"@:{w}.title"),
    LOWER.map(lambda w: f"%<{w}>s"),
    LOWER.map(lambda w: f"%#@{w}@"),
    LOWER.map(lambda w: f"${{{w}}}"),
    st.sampled_from(["%1", "%L2", "{0,1:N0}", "{0,number,integer}", "%zd", "%Lf", "%1$tH",
                     "~s", "$(file)", "[Ticket#31001]"]),
)  # fmt: skip
ICU = st.builds(
    lambda arg, one, other: f"{{{arg}, plural, one {{# {one}}} other {{# {other}}}}}",
    LOWER, LOWER, LOWER,
)  # fmt: skip
FALLBACK = st.builds(
    lambda form, word: form.format(word),
    st.sampled_from(['{{{{first_name | fallback: "{}"}}}}', "{{%customer.firstName,fallback={}%}}",
                     "{{{{ contact.name || '{}' }}}}", '{{{{ name | default: "{}" }}}}']),
    LOWER,
)  # fmt: skip
IDENTIFIER = st.one_of(
    VERSION, POSIX_PATH, WINDOWS_PATH, DOMAIN, REGION, SNAKE, SCREAMING, CAMEL,
    DOTTED.map(".".join), HEX, CODE, CHORD, MENTION, HASHTAG, TIME, PLACEHOLDER,
)  # fmt: skip
SENTENCE = st.lists(st.one_of(PROSE, IDENTIFIER, ICU, FALLBACK), min_size=1, max_size=8).map(
    lambda words: " ".join(words) + "."
)
BATCHES = st.lists(SENTENCE, min_size=BATCH, max_size=BATCH)


def translate(segments: tuple[str, ...]) -> list[str]:
    """A fake engine that rewrites every letter outside the tokens (upper case)."""
    out = []
    for segment in segments:
        parts = TOKEN_PATTERN.split(segment)
        tokens = TOKEN_PATTERN.findall(segment)
        out.append("".join(p.upper() + t for p, t in zip(parts, [*tokens, ""], strict=True)))
    return out


def check(text: str, content_type: ContentType) -> None:
    document = protect(text, content_type=content_type)
    assert document.restore(document.segments) == text
    output = document.restore(translate(document.segments))
    # everything the fidelity check calls an identifier was masked, so it came through
    assert missing_identifiers(text, output, content_type=content_type) == []
    wanted = identifiers(text, content_type=content_type)
    if wanted and wanted[0] in output:  # and damage to any of them is seen
        damaged = output.replace(wanted[0], wanted[0][:-1] + "\u2060" + wanted[0][-1], 1)
        assert wanted[0] in missing_identifiers(text, damaged, content_type=content_type)


@SETTINGS
@given(batch=BATCHES)
def test_families_round_trip_and_survive_translation_in_text(batch: list[str]) -> None:
    for sentence in batch:
        check(sentence, "text")


@settings(SETTINGS, max_examples=max(EXAMPLES // 5, 10))
@given(batch=BATCHES)
def test_families_round_trip_and_survive_translation_in_html(batch: list[str]) -> None:
    for sentence in batch:
        check(f"<p>{sentence.replace('&', '&amp;').replace('<', '&lt;')}</p>", "html")
