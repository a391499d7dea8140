"""Exchange with professional translators: XLIFF 2.1 / 1.2 for pending segments, TMX for memory.

Segments travel protected: every `⟦n⟧` token becomes an inline placeholder (`<ph id="n"/>` in
XLIFF 2.1, `<x id="n"/>` in XLIFF 1.2, `<ph x="n"/>` in TMX), which translation tools show as a
tag the translator moves but cannot type over, and comes back as `⟦n⟧` on import. Everything else
(whitespace, line breaks, `<>&"'`, any Unicode) round-trips exactly.

All three formats are built and read here with lxml alone (BSD-licensed, so tl_loop stays
MIT-compatible), after the OASIS XLIFF 2.0 core schema that 2.1 shares, the XLIFF 1.2 schema and
TMX 1.4. Structural elements are indented; text elements never are.

Import errors are `ConfigurationError` (a `ValueError`): the file is input the caller chose, and
the message names the line and says what to change. Files with an internal DTD or an ENTITY
declaration are refused before anything in them is used (no XXE, no entity expansion).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from tl_loop._errors import ConfigurationError
from tl_loop._version import __version__
from tl_loop.engines._base import TOKEN_PATTERN
from tl_loop.kb._exchange_codes import data_id, write_xliff12, write_xliff21
from tl_loop.kb._exchange_xml import (
    TOKEN_NUMBER,
    XLIFF2_NS,
    XLIFF12_NS,
    check_xml_text,
    language,
    lxml_etree,
    parse_untrusted,
    read_inline,
    serialize,
    write_inline,
    write_plain,
)
from tl_loop.kb._inline_codes import InlineCode
from tl_loop.stores._memory import MemoryEntry, MemoryOrigin

__all__ = [
    "REVIEWED_STATES",
    "ExchangeUnit",
    "InlineCode",
    "UnitState",
    "export_tmx",
    "export_xliff",
    "import_tmx",
    "import_xliff",
    "token_problems",
]

_XML_NS = "http://www.w3.org/XML/1998/namespace"
_SPACE = f"{{{_XML_NS}}}space"
_LANG = f"{{{_XML_NS}}}lang"
_TMX_PROP = "x-tl_loop-"
# XLIFF ids are NMTOKENs; this is the portable subset, the same rule for 2.1 and 1.2.
_ID = re.compile(r"[\w.:-]+")

UnitState = Literal["initial", "translated", "reviewed", "final"]
"""Where a unit stands, in XLIFF 2's words (1.2 states and `approved` are mapped onto them)."""
REVIEWED_STATES: frozenset[UnitState] = frozenset({"reviewed", "final"})
"""The states in which a target is a person's approved translation."""
_STATES_12: dict[str, UnitState] = {
    "new": "initial", "needs-translation": "initial", "needs-adaptation": "initial",
    "needs-l10n": "initial", "translated": "translated", "needs-review-translation": "translated",
    "needs-review-adaptation": "translated", "needs-review-l10n": "translated",
    "signed-off": "reviewed", "final": "final",
}  # fmt: skip
_EXPORT_12: dict[UnitState, str] = {
    "initial": "needs-translation", "translated": "needs-review-translation",
    "reviewed": "signed-off", "final": "final",
}  # fmt: skip
_ORDER: tuple[UnitState, ...] = ("initial", "translated", "reviewed", "final")


@dataclass(frozen=True, slots=True)
class ExchangeUnit:
    """One segment sent to (or coming back from) a translator.

    Args:
        id: stable unit id, unique in a file: letters, digits, `_ . : -` (an XML NMTOKEN),
            e.g. `a1042.s7` for article 1042, segment 7, or a hash.
        source_text: the protected source segment, with its `⟦n⟧` tokens.
        target_text: the machine draft on export (None: nothing to post-edit); the translator's
            text on import (None: the file has no target for this unit).
        note: a remark for the translator (why it was flagged); None for none.
        state: on export, the state to write (None: `translated` with a target, else
            `initial`); on import, the state the file gives (None: it gives none). Only
            `reviewed` and `final` targets are a person's approved translation.
        codes: what each `⟦n⟧` of the source stands for, so XLIFF shows "bold", "link",
            "code" as paired or standalone inline codes; empty: bare placeholders.
    """

    id: str
    source_text: str
    target_text: str | None
    note: str | None = None
    state: UnitState | None = field(default=None, compare=False)
    codes: tuple[InlineCode, ...] = field(default=(), compare=False)

    @property
    def reviewed(self) -> bool:
        """Whether the target is a person's approved translation (state reviewed or final)."""
        return self.target_text is not None and self.state in REVIEWED_STATES


def token_problems(unit: ExchangeUnit) -> list[str]:
    """Return what is wrong with the target's tokens compared with the source's, if anything.

    Each `⟦n⟧` of the source must appear in the target as often as in the source, and no other
    token may; order is free (languages reorder). An empty list means the tokens are right,
    or there is no target to check.
    """
    if unit.target_text is None:
        return []
    source = Counter(TOKEN_PATTERN.findall(unit.source_text))
    target = Counter(TOKEN_PATTERN.findall(unit.target_text))
    problems = []
    for token in sorted(source.keys() | target.keys(), key=_token_number):
        have, want = target[token], source[token]
        if have == want:
            continue
        if not have:
            problems.append(f"unit {unit.id}: {token} is missing from the target")
        elif not want:
            problems.append(f"unit {unit.id}: {token} is in the target but not in the source")
        else:
            problems.append(
                f"unit {unit.id}: {token} appears {have} times in the target, {want} in the source"
            )
    return problems


def _token_number(token: str) -> int:
    return int(token[1:-1])


def _check_ids(units: Sequence[ExchangeUnit]) -> None:
    seen: set[str] = set()
    for unit in units:
        if not _ID.fullmatch(unit.id):
            raise ConfigurationError(
                f"unit id {unit.id!r} is not an XML NMTOKEN; use letters, digits and _ . : - "
                "(e.g. 'a1042.s7')"
            )
        if unit.id in seen:
            raise ConfigurationError(f"unit id {unit.id!r} is used twice; ids must be unique")
        seen.add(unit.id)


# --- XLIFF export ---------------------------------------------------------------------------------


def export_xliff(
    units: Sequence[ExchangeUnit],
    *,
    source: str,
    target: str,
    version: Literal["2.1", "1.2"] = "2.1",
    original: str = "tl_loop",
) -> bytes:
    """Write `units` as an XLIFF file for a translator's tool (UTF-8 bytes).

    A unit with a machine draft is marked for review (`translated` in 2.1,
    `needs-review-translation` / `mt-suggestion` in 1.2); one without has no target
    (`initial`). Segmentation is locked (`canResegment="no"` in 2.1) so units come back whole.

    Args:
        units: the segments, ids unique.
        source: BCP-47 tag of the source language.
        target: BCP-47 tag of the target language.
        version: `"2.1"` (default), or `"1.2"` for older tools.
        original: what the file was made from (an article set, a job id), for the translator.

    Raises:
        ConfigurationError: a bad language tag or unit id, a duplicate id, an unknown version,
            or (1.2 only) a character XML 1.0 cannot hold.
        MissingDependencyError: lxml is not installed.
    """
    source, target = language(source, "source"), language(target, "target")
    _check_ids(units)
    check_xml_text(original, "original")
    for unit in units:
        check_xml_text(unit.note or "", f"unit {unit.id} note")
    if version == "2.1":
        return _export_xliff21(units, source=source, target=target, original=original)
    if version == "1.2":
        return _export_xliff12(units, source=source, target=target, original=original)
    raise ConfigurationError(f"XLIFF version must be '2.1' or '1.2', not {version!r}")


def _export_xliff21(
    units: Sequence[ExchangeUnit], *, source: str, target: str, original: str
) -> bytes:
    etree = lxml_etree()

    def q(name: str) -> str:
        return f"{{{XLIFF2_NS}}}{name}"

    def sub(parent: Any, name: str) -> Any:
        return etree.SubElement(parent, q(name))

    def code_point(parent: Any, value: int) -> None:
        etree.SubElement(parent, q("cp"), hex=f"{value:04X}")

    root = etree.Element(q("xliff"), nsmap={None: XLIFF2_NS})
    root.set("version", "2.1")
    root.set("srcLang", source)
    root.set("trgLang", target)
    file = etree.SubElement(root, q("file"), id="f1", original=original, canResegment="no")
    for unit in units:
        element = etree.SubElement(file, q("unit"), id=unit.id)
        element.set(_SPACE, "preserve")  # inherited by notes, source and target
        if unit.note is not None:
            notes = etree.SubElement(element, q("notes"))
            etree.SubElement(notes, q("note")).text = unit.note
        used = sorted({int(n) for n in TOKEN_NUMBER.findall(unit.source_text)})
        used = [number for number in used if number < len(unit.codes)]
        if used:  # the source markup of each code, for the tool and for the way back
            data = sub(element, "originalData")
            for number in used:
                node = etree.SubElement(data, q("data"), id=data_id(number))
                write_plain(node, unit.codes[number].original, code_point, f"unit {unit.id}")
        state = unit.state or ("initial" if unit.target_text is None else "translated")
        segment = etree.SubElement(element, q("segment"), state=state)
        texts = [("source", unit.source_text), ("target", unit.target_text)]
        for name, text in texts:
            if text is None:
                continue
            where = f"unit {unit.id} {name}"
            if unit.codes:
                write_xliff21(sub(segment, name), text, unit.codes, sub=sub,
                              code_point=code_point, where=where)  # fmt: skip
            else:
                write_inline(sub(segment, name), text, placeholder=lambda e, i: sub(e, "ph")
                             .set("id", i), code_point=code_point, where=where)  # fmt: skip
    containers = ("xliff", "file", "unit", "notes", "segment", "originalData")
    return serialize(root, containers={q(n) for n in containers})


def _export_xliff12(
    units: Sequence[ExchangeUnit], *, source: str, target: str, original: str
) -> bytes:
    etree = lxml_etree()

    def q(name: str) -> str:
        return f"{{{XLIFF12_NS}}}{name}"

    def sub(parent: Any, name: str) -> Any:
        return etree.SubElement(parent, q(name))

    root = etree.Element(q("xliff"), nsmap={None: XLIFF12_NS}, version="1.2")
    file_attributes = {
        "original": original,
        "source-language": source,
        "datatype": "plaintext",
        "target-language": target,
    }
    body = etree.SubElement(etree.SubElement(root, q("file"), file_attributes), q("body"))
    for unit in units:
        # xml:space on the unit covers source, target and note: the default lets tools
        # collapse whitespace, which would break exact round trips.
        element = etree.SubElement(body, q("trans-unit"), {_SPACE: "preserve", "id": unit.id})
        if unit.state in REVIEWED_STATES:
            element.set("approved", "yes")
        texts = [("source", unit.source_text), ("target", unit.target_text)]
        for name, text in texts:
            if text is None:
                continue
            node = sub(element, name)
            where = f"unit {unit.id} {name}"
            if unit.codes:
                write_xliff12(node, text, unit.codes, sub=sub, where=where)
            else:
                write_inline(node, text, placeholder=lambda e, i: sub(e, "x").set("id", i),
                             code_point=None, where=where)  # fmt: skip
            if name == "target":
                node.set("state", _EXPORT_12[unit.state or "translated"])
                if unit.state in (None, "translated"):
                    node.set("state-qualifier", "mt-suggestion")
        if unit.note is not None:  # the 1.2 schema puts notes after source and target
            etree.SubElement(element, q("note")).text = unit.note
    return serialize(root, containers={q(n) for n in ("xliff", "file", "body", "trans-unit")})


# --- XLIFF import ---------------------------------------------------------------------------------


def import_xliff(data: bytes) -> tuple[str, str, list[ExchangeUnit]]:
    """Read an XLIFF 2.x or 1.x file back: `(source, target, units)`.

    The version is detected from the root element. Each unit's `target_text` is the
    translator's text (tokens restored), or None where the file has no target. Token mistakes
    are not errors here: check each unit with `token_problems`.

    Raises:
        ConfigurationError: not well-formed XML, a DTD/ENTITY (refused), not XLIFF, a missing
            or invalid language, a unit without source, or an inline element tl_loop did not
            write (e.g. a renamed placeholder); the message names the line.
        MissingDependencyError: lxml is not installed.
    """
    root = parse_untrusted(data, "XLIFF")
    namespace = root.tag.partition("}")[0].lstrip("{") if root.tag.startswith("{") else ""
    if root.tag.rpartition("}")[2] != "xliff":
        raise ConfigurationError(f"XLIFF: the root element is <{root.tag}>, not <xliff>")
    if root.get("version", "").startswith("2") or namespace.startswith(XLIFF2_NS[:-3] + "2."):
        return _import_xliff2(root, namespace)
    return _import_xliff1(root, namespace)


def _import_xliff2(root: Any, ns: str) -> tuple[str, str, list[ExchangeUnit]]:
    source = language(root.get("srcLang"), "XLIFF srcLang (source)")
    target = language(root.get("trgLang"), "XLIFF trgLang (target)")
    units = [_xliff2_unit(unit, ns) for unit in root.iter(f"{{{ns}}}unit")]
    return source, target, units


def _xliff2_unit(unit: Any, ns: str) -> ExchangeUnit:
    where = f"XLIFF unit {unit.get('id')!r}"
    notes = [read_inline(n, dialect="xliff2", where=where) for n in unit.iter(f"{{{ns}}}note")]
    sources: list[str] = []
    targets: list[str | None] = []
    states: list[UnitState] = []
    for part in unit:
        local = part.tag.rpartition("}")[2] if isinstance(part.tag, str) else ""
        if local not in {"segment", "ignorable"}:
            continue
        if local == "segment":
            states.append(_state_2(part.get("state", "initial"), where, part.sourceline))
        found = part.find(f"{{{ns}}}source")
        if found is None:
            raise ConfigurationError(f"{where} line {part.sourceline}: <{local}> has no source")
        sources.append(read_inline(found, dialect="xliff2", where=where))
        node = part.find(f"{{{ns}}}target")
        if node is not None:
            targets.append(read_inline(node, dialect="xliff2", where=where))
        else:  # an ignorable without a target is the same in both languages
            targets.append(sources[-1] if local == "ignorable" else None)
    if not sources:
        raise ConfigurationError(f"{where} line {unit.sourceline}: the unit has no <segment>")
    # A unit is translated only when every segment is; half a translation is no translation.
    complete = [text for text in targets if text is not None]
    return ExchangeUnit(
        id=unit.get("id", ""),
        source_text="".join(sources),
        target_text="".join(complete) if len(complete) == len(targets) else None,
        note="\n".join(notes) if notes else None,
        # the unit stands where its least advanced segment stands
        state=min(states, key=_ORDER.index) if states else None,
    )


def _state_2(value: str, where: str, line: int) -> UnitState:
    if value not in _ORDER:
        raise ConfigurationError(
            f"{where} line {line}: segment state {value!r} is not one of {', '.join(_ORDER)}"
        )
    return value


def _import_xliff1(root: Any, ns: str) -> tuple[str, str, list[ExchangeUnit]]:
    def q(name: str) -> str:
        return f"{{{ns}}}{name}" if ns else name

    files = list(root.iter(q("file")))
    pairs = {(f.get("source-language"), f.get("target-language")) for f in files}
    if len(pairs) != 1:
        raise ConfigurationError(
            f"XLIFF 1.x: the files name {len(pairs)} language pairs; import one pair per file"
        )
    ((raw_source, raw_target),) = pairs
    source = language(raw_source, "XLIFF source-language")
    target = language(raw_target, "XLIFF target-language")
    # Units anywhere under <body>, in <group>s too, in document order.
    units = [_xliff1_unit(element, q) for element in root.iter(q("trans-unit"))]
    return source, target, units


def _xliff1_unit(element: Any, q: Callable[[str], str]) -> ExchangeUnit:
    where = f"XLIFF trans-unit {element.get('id')!r}"
    source_node = element.find(q("source"))
    if source_node is None:
        raise ConfigurationError(f"{where} line {element.sourceline}: no <source>")
    target_node = element.find(q("target"))
    notes = [read_inline(n, dialect="xliff1", where=where) for n in element.iter(q("note"))]
    state: UnitState | None = None
    if target_node is not None and target_node.get("state") is not None:
        # states the 1.2 spec does not list (x-…) say nothing we can rely on
        state = _STATES_12.get(target_node.get("state"), "translated")
    if element.get("approved") == "yes" and target_node is not None:
        state = "final" if state == "final" else "reviewed"
    return ExchangeUnit(
        id=element.get("id", ""),
        source_text=read_inline(source_node, dialect="xliff1", where=where),
        target_text=None
        if target_node is None
        else read_inline(target_node, dialect="xliff1", where=where),
        note="\n".join(notes) if notes else None,
        state=state,
    )


# --- TMX ------------------------------------------------------------------------------------------


def _tmx_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def export_tmx(entries: Iterable[MemoryEntry]) -> bytes:
    """Write memory entries as a TMX 1.4 file (UTF-8 bytes).

    Each entry is one `<tu>` with a source and a target `<tuv>`; tokens are `<ph x="n"/>`.
    The author is `creationid`, the time `creationdate` (and, to the microsecond, the property
    `x-tl_loop-created-at`); the glossary version and origin are properties too.

    Raises:
        ConfigurationError: a text holds a character XML 1.0 cannot hold.
        MissingDependencyError: lxml is not installed.
    """
    etree = lxml_etree()
    entries = list(entries)
    sources = {entry.source for entry in entries}
    root = etree.Element("tmx", version="1.4")
    header = {
        "creationtool": "tl_loop",
        "creationtoolversion": __version__,
        "segtype": "sentence",
        "o-tmf": "tl_loop",
        "adminlang": "en",
        "srclang": next(iter(sources)) if len(sources) == 1 else "*all*",
        "datatype": "plaintext",
    }
    etree.SubElement(root, "header", header)
    body = etree.SubElement(root, "body")

    def placeholder(parent: Any, ident: str) -> None:
        # TMX's x is a number; a repeated token keeps its number.
        etree.SubElement(parent, "ph", x=ident.partition("-")[0])

    for index, entry in enumerate(entries):
        tu = etree.SubElement(body, "tu", srclang=entry.source)
        tu.set("creationdate", _tmx_date(entry.created_at))
        if entry.author is not None:
            check_xml_text(entry.author, f"entry {index} author")
            tu.set("creationid", entry.author)
        props = {"created-at": entry.created_at.isoformat(), "origin": entry.origin}
        if entry.glossary_version is not None:
            check_xml_text(entry.glossary_version, f"entry {index} glossary version")
            props["glossary-version"] = entry.glossary_version
        for name, value in props.items():
            etree.SubElement(tu, "prop", type=_TMX_PROP + name).text = value
        for lang, text in ((entry.source, entry.source_text), (entry.target, entry.target_text)):
            tuv = etree.SubElement(tu, "tuv", {_LANG: lang})
            seg = etree.SubElement(tuv, "seg")
            write_inline(
                seg, text, placeholder=placeholder, code_point=None, where=f"entry {index}"
            )
    return serialize(root, containers={"tmx", "body", "tu", "tuv"})


def import_tmx(
    data: bytes, *, glossary_version: str | None = None, origin: MemoryOrigin = "imported"
) -> list[MemoryEntry]:
    """Read a TMX file into memory entries, one per target `<tuv>` of each `<tu>`.

    Args:
        data: the TMX file.
        glossary_version: the glossary version of units that name none (files from other
            tools); units exported by tl_loop keep the version they carry.
        origin: the origin every entry gets; `imported` by default.

    Raises:
        ConfigurationError: not well-formed XML, a DTD/ENTITY (refused), not TMX, a bad
            language, or an inline code tl_loop did not write; the message names the line.
        MissingDependencyError: lxml is not installed.
    """
    root = parse_untrusted(data, "TMX")
    if root.tag != "tmx":
        raise ConfigurationError(f"TMX: the root element is <{root.tag}>, not <tmx>")
    header = root.find("header")
    default_source = header.get("srclang") if header is not None else None
    entries = []
    for tu in root.iter("tu"):
        entries.extend(_tmx_entries(tu, default_source, glossary_version, origin))
    return entries


def _tmx_entries(
    tu: Any, default_source: str | None, glossary_version: str | None, origin: MemoryOrigin
) -> list[MemoryEntry]:
    where = f"TMX <tu> at line {tu.sourceline}"
    props = {
        p.get("type", "")[len(_TMX_PROP) :]: p.text or ""
        for p in tu.findall("prop")
        if p.get("type", "").startswith(_TMX_PROP)
    }
    variants = []
    for tuv in tu.findall("tuv"):
        seg = tuv.find("seg")
        lang = tuv.get(_LANG) or tuv.get("lang")
        text = "" if seg is None else read_inline(seg, dialect="tmx", where=where)
        variants.append((language(lang, f"{where} xml:lang"), text))
    wanted = tu.get("srclang") or default_source
    if not wanted or wanted == "*all*":
        wanted = variants[0][0] if variants else ""
    source_tag = language(wanted, f"{where} srclang")
    texts = dict(variants)
    if source_tag not in texts:
        raise ConfigurationError(f"{where}: no <tuv> in the source language {source_tag}")
    created = _tmx_created(tu, props, where)
    return [
        MemoryEntry(
            source_text=texts[source_tag],
            target_text=text,
            source=source_tag,
            target=lang,
            glossary_version=props.get("glossary-version", glossary_version),
            origin=origin,
            author=tu.get("changeid") or tu.get("creationid"),
            created_at=created,
        )
        for lang, text in variants
        if lang != source_tag
    ]


def _tmx_created(tu: Any, props: dict[str, str], where: str) -> datetime:
    # A later change (by a translator's tool) is when the human last approved it.
    try:
        if tu.get("changedate"):
            return datetime.strptime(tu.get("changedate"), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if "created-at" in props:
            return datetime.fromisoformat(props["created-at"])
        if tu.get("creationdate"):
            return datetime.strptime(tu.get("creationdate"), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as error:
        raise ConfigurationError(f"{where}: bad date ({error}); use YYYYMMDDThhmmssZ") from None
    return datetime.now(UTC)
