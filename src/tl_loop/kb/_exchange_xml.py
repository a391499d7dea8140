"""The XML underneath exchange files: safe parsing, writing, and `⟦n⟧` tokens as placeholders.

Shared by XLIFF 2.1, XLIFF 1.2 and TMX (`tl_loop.kb._exchange`). lxml (BSD-licensed) is the only
XML library used; it is the `kb` extra, imported on first use.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Callable
from functools import cache
from typing import Any, Literal

from tl_loop._errors import ConfigurationError, MissingDependencyError
from tl_loop._models import normalize_tag

__all__ = [
    "NOT_XML_CHAR",
    "TOKEN_NUMBER",
    "XLIFF2_NS",
    "XLIFF12_NS",
    "check_xml_text",
    "language",
    "lxml_etree",
    "parse_untrusted",
    "read_inline",
    "serialize",
    "write_inline",
    "write_plain",
]

XLIFF2_NS = "urn:oasis:names:tc:xliff:document:2.0"  # 2.1 keeps the 2.0 core namespace
XLIFF12_NS = "urn:oasis:names:tc:xliff:document:1.2"
_INSTALL = "pip install 'tl-loop[kb]'"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# XML 1.0 Char production: anything else cannot appear in a document, even escaped.
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Placeholder ids we write: `n` for the first ⟦n⟧ in a <source>/<target>, `n-k` for the k-th.
_PLACEHOLDER_ID = re.compile(r"(\d+)(?:-\d+)?")
TOKEN_NUMBER = re.compile(r"⟦(\d+)⟧")
# The prolog up to a DOCTYPE's internal subset: BOM, XML declaration, comments, PIs, then
# `<!DOCTYPE name` with an optional external id (quoted, so `[` or `>` inside do not count),
# then `[`; group 1 is the first non-space character of the subset (`]` when it is empty).
# Comments and PIs cannot run past their end and the loop is possessive: linear time.
_DOCTYPE_SUBSET = re.compile(
    r"""\ufeff?(?:\s|<!--(?:[^-]|-[^-])*-->|<\?(?:[^?]|\?(?!>))*\?>)*+"""
    r"""<!DOCTYPE\s+[^\s\[>]+(?:\s+(?:SYSTEM|PUBLIC)(?:\s+(?:"[^"]*"|'[^']*'))+)?\s*\[\s*(\S)"""
)


# --- lazy dependency ------------------------------------------------------------------------


@cache
def lxml_etree() -> Any:
    """Import `lxml.etree` once; it is the `kb` extra, not a core dependency.

    Raises:
        MissingDependencyError: lxml is not installed; the error names the install command.
    """
    try:
        # import_module returns Any: lxml ships no type information, and the stubs would be
        # one more dev dependency for a module that only passes elements around.
        return importlib.import_module("lxml.etree")
    except ImportError as error:
        raise MissingDependencyError(
            f"XLIFF and TMX exchange needs lxml ({error})", install=_INSTALL
        ) from None


# --- checks shared by export and import -------------------------------------------------------


def language(tag: str | None, what: str) -> str:
    """Return `tag` normalised; `what` names the field in the error if it is missing or bad."""
    if not tag:
        raise ConfigurationError(f"{what} language is missing; name it with a BCP-47 tag")
    try:
        return normalize_tag(tag)
    except ValueError as error:
        raise ConfigurationError(f"{what} language: {error}") from None


def check_xml_text(text: str, where: str) -> None:
    """Refuse `text` if XML 1.0 cannot hold one of its characters (controls, U+FFFE, ...)."""
    bad = NOT_XML_CHAR.search(text)
    if bad:
        raise ConfigurationError(
            f"{where}: character U+{ord(bad.group()):04X} cannot be written in XML 1.0; "
            "remove it, or export XLIFF 2.1, which carries it as <cp/>"
        )


def parse_untrusted(data: bytes, what: str) -> Any:
    """Parse untrusted XML: no entity expansion, no DTD loading, no network, no internal DTD.

    Raises:
        ConfigurationError: not well-formed (with the line), an internal DTD subset with any
            declaration in it, or an entity reference.
    """
    etree = lxml_etree()
    # A parser per call: lxml parsers must not be shared between threads. These options stop
    # the external DTD and entities; the internal subset is checked after parsing.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise ConfigurationError(
            f"{what} line {error.lineno}: not well-formed XML ({error.msg})"
        ) from None
    if _has_internal_subset(root, data) or any(True for _ in root.iter(etree.Entity)):
        raise ConfigurationError(
            f"{what}: refusing a file that declares ENTITY or other DTD content (XXE risk); "
            "export it again without an internal DOCTYPE subset"
        )
    return root


def _has_internal_subset(root: Any, data: bytes) -> bool:
    """Whether the DOCTYPE has declarations of its own (`<!DOCTYPE x [ ... ]>`).

    A DOCTYPE that only names an external DTD (`<!DOCTYPE tmx SYSTEM "tmx14.dtd">`, common in
    TMX from translation tools) is harmless: the DTD is never loaded. An internal subset is
    where entity attacks live, and libxml2 applies its ATTLIST defaults even with DTD loading
    off, which would let a file add attributes it does not show; so any is refused.
    """
    docinfo = root.getroottree().docinfo
    dtd = docinfo.internalDTD
    if dtd is None:  # no DOCTYPE at all: the common case costs nothing more
        return False
    if any(dtd.iterentities()) or any(dtd.iterelements()):
        return True
    # lxml does not list ATTLIST or NOTATION declarations, so read the prolog itself; the
    # parse succeeded, so the text decodes, and the DOCTYPE is in the prolog before the root.
    try:
        text = data.decode(docinfo.encoding or "utf-8", errors="replace")
    except LookupError:  # an encoding libxml2 knows and Python does not: all ASCII-based
        text = data.decode("latin-1")
    subset = _DOCTYPE_SUBSET.match(text)
    return subset is not None and subset.group(1) != "]"


def serialize(root: Any, *, containers: set[str]) -> bytes:
    """Return `root` as a UTF-8 document, indenting only the `containers` elements.

    Text elements (source, target, seg, note, prop) are never re-indented: whitespace inside
    them is content, and pretty-printing would change what the translator sees.
    """
    _indent(root, containers)
    body = lxml_etree().tostring(root, encoding="UTF-8", xml_declaration=False)
    return _DECLARATION + bytes(body) + b"\n"


def _indent(element: Any, containers: set[str], level: int = 0) -> None:
    if element.tag not in containers or not len(element):
        return
    element.text = "\n" + "  " * (level + 1)
    for child in element:
        _indent(child, containers, level + 1)
        child.tail = "\n" + "  " * (level + 1)
    element[-1].tail = "\n" + "  " * level


# --- inline content: text with ⟦n⟧ tokens <-> XML mixed content --------------------------------


def _append_text(element: Any, text: str) -> None:
    if not text:
        return
    children = list(element)
    if children:
        children[-1].tail = (children[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def write_inline(
    element: Any,
    text: str,
    *,
    placeholder: Callable[[Any, str], None],
    code_point: Callable[[Any, int], None] | None,
    where: str,
) -> None:
    """Fill `element` with `text`, each ⟦n⟧ as a placeholder child named by `placeholder`."""
    seen: Counter[str] = Counter()
    position = 0
    for match in TOKEN_NUMBER.finditer(text):
        write_plain(element, text[position : match.start()], code_point, where)
        number = match.group(1)
        seen[number] += 1
        placeholder(element, number if seen[number] == 1 else f"{number}-{seen[number]}")
        position = match.end()
    write_plain(element, text[position:], code_point, where)


def write_plain(
    element: Any, text: str, code_point: Callable[[Any, int], None] | None, where: str
) -> None:
    """Append `text` to `element`; characters XML cannot hold become `code_point` children
    (XLIFF 2's `<cp>`) or, without one, an error."""
    if code_point is None:
        check_xml_text(text, where)
        _append_text(element, text)
        return
    position = 0
    for bad in NOT_XML_CHAR.finditer(text):
        _append_text(element, text[position : bad.start()])
        code_point(element, ord(bad.group()))
        position = bad.end()
    _append_text(element, text[position:])


Dialect = Literal["xliff2", "xliff1", "tmx"]
# Per dialect: the placeholder element tl_loop writes for ⟦n⟧ and the attribute holding n.
_PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "xliff2": ("ph", "id"),
    "xliff1": ("x", "id"),
    "tmx": ("ph", "x"),
}
# Annotations a translator's tool may wrap around text (terms, comments, highlights): the text
# inside is kept; empty markers carry no text. A <pc> tl_loop wrote (it has dataRefStart) is
# a pair of tokens, not an annotation.
_WRAPPERS = {"mrk", "pc", "g", "hi"}
_MARKERS = {"sm", "em"}
# XLIFF 1.2 codes that hold the source markup as content: the id names the token.
_NATIVE_CODES = {"ph", "bpt", "ept", "it", "bx", "ex"}
_DATA_REF = re.compile(r"d(\d+)")


def read_inline(element: Any, *, dialect: Dialect, where: str) -> str:
    """Return the text of `element` with placeholders back as ⟦n⟧ tokens."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):  # comments and processing instructions are not text
            parts.append(_read_child(child, dialect=dialect, where=where))
        parts.append(child.tail or "")
    return "".join(parts)


def _token(value: str, local: str, attribute: str, line: str) -> str:
    match = _PLACEHOLDER_ID.fullmatch(value)
    if match is None:
        raise ConfigurationError(
            f"{line}: placeholder <{local} {attribute}={value!r}> is not a tl_loop token; "
            "keep the placeholders as exported, without renaming or filling them"
        )
    return f"⟦{match.group(1)}⟧"


def _data_token(child: Any, attribute: str, line: str) -> str:
    value = child.get(attribute, "")
    match = _DATA_REF.fullmatch(value)
    if match is None:
        raise ConfigurationError(
            f"{line}: <{child.tag.rpartition('}')[2]} {attribute}={value!r}> does not point at "
            "tl_loop's original data; keep the inline codes as exported"
        )
    return f"⟦{match.group(1)}⟧"


def _read_child(child: Any, *, dialect: Dialect, where: str) -> str:
    local = child.tag.rpartition("}")[2]
    line = f"{where} line {child.sourceline}"
    tag, attribute = _PLACEHOLDERS[dialect]
    if dialect == "xliff2" and local == "pc" and child.get("dataRefStart") is not None:
        inner = read_inline(child, dialect=dialect, where=where)
        opening = _token(child.get("id", ""), local, "id", line)
        return opening + inner + _data_token(child, "dataRefEnd", line)
    if dialect == "xliff2" and local == "sc":
        return _token(child.get("id", ""), local, "id", line)
    if dialect == "xliff2" and local == "ec":
        return _data_token(child, "dataRef", line)
    if dialect == "xliff1" and local in _NATIVE_CODES:
        return _token(child.get("id", ""), local, "id", line)  # content: the source markup
    if local == tag:
        if child.text or len(child):
            raise ConfigurationError(
                f"{line}: placeholder <{local}> has content; "
                "keep the placeholders as exported, without renaming or filling them"
            )
        return _token(child.get(attribute, ""), local, attribute, line)
    if local == "cp" and dialect == "xliff2":
        try:
            return chr(int(child.get("hex", ""), 16))
        except ValueError:
            raise ConfigurationError(
                f"{line}: <cp hex={child.get('hex')!r}> is not a Unicode code point in hex"
            ) from None
    if local in _WRAPPERS:
        return read_inline(child, dialect=dialect, where=where)
    if local in _MARKERS:
        return ""
    raise ConfigurationError(
        f"{line}: inline element <{local}> is not one tl_loop writes; "
        "tl_loop imports text and its own placeholders only"
    )
