"""Apertium's installed pairs as BCP-47: mode files, Apertium's language codes, mode lookup.

Apertium codes (ISO 639-3 `eng`, or 639-1 `es`, with variants such as `cat_valencia`, `pt_BR`,
and the Serbo-Croatian macrolanguage `hbs`) are mapped to BCP-47 tags here and nowhere else;
the local engine (`_apertium`) and the APy client (`_apy`) both use this mapping.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

from tl_loop._models import normalize_tag

__all__ = [
    "UNUSABLE_MODES",
    "apertium_pairs",
    "apertium_to_bcp47",
    "bcp47_to_apertium",
    "discover_modes",
    "find_mode",
    "mode_name_to_pairs",
    "mode_stages",
    "pair_candidates",
    "parse_mode",
]

# Apertium's own codes → BCP-47. Two-letter codes pass through unchanged.
_ALPHA3_TO_BCP47: Mapping[str, str] = {
    "eng": "en", "spa": "es", "cat": "ca", "por": "pt", "glg": "gl", "fra": "fr",
    "ita": "it", "deu": "de", "oci": "oc", "arg": "an", "eus": "eu", "nld": "nl",
    "afr": "af", "ron": "ro", "rus": "ru", "ukr": "uk", "bel": "be", "pol": "pl",
    "swe": "sv", "dan": "da", "nob": "nb", "nno": "nn", "isl": "is", "epo": "eo",
    "bre": "br", "cym": "cy", "gle": "ga", "mlt": "mt", "srd": "sc", "nor": "no",
    "ind": "id", "mkd": "mk", "bul": "bg", "slv": "sl", "kaz": "kk", "tat": "tt",
}  # fmt: skip

# Serbo-Croatian (`hbs`, apertium-hbs-eng): one analyser reads Serbian, Croatian and Bosnian, and
# each variant's generator writes one of them, in Latin script (hence `sr-Latn`). The plain
# `hbs` names no single language, so as a target it is skipped (the variants serve).
_MACROLANGUAGES: Mapping[str, tuple[str, ...]] = {"hbs": ("sr", "hr", "bs")}
_MACRO_VARIANTS: Mapping[str, Mapping[str, str]] = {
    "hbs": {"SR": "sr-Latn", "HR": "hr", "BS": "bs"}
}
# A mode run before the analyser of these sources: the hbs analyser reads Latin script only,
# and Serbian is written in Cyrillic as often as in Latin. Latin text passes unchanged.
_TRANSLITERATE_FIRST: Mapping[str, str] = {"hbs": "Cyrl-Latn"}

_BCP47_TO_ALPHA3: Mapping[str, str] = {
    **{v: k for k, v in _ALPHA3_TO_BCP47.items()},
    **{tag: macro for macro, tags in _MACROLANGUAGES.items() for tag in tags},
}

# Modes that install but are not fit to write to customers, measured with
# bench/bench_apertium_pairs.py (docs/engines-apertium.md): English to Serbian, Croatian and
# Bosnian leaves about half the words English or unknown and mark characters in the text
# ("Jekyll odobriti free na customize tvoj Sass obraćenje @in siguran put#."). Skipped unless
# `skip_modes` says otherwise; the other direction (hbs-eng) is kept, for agents to read.
UNUSABLE_MODES: frozenset[str] = frozenset({"eng-hbs_SR", "eng-hbs_HR", "eng-hbs_BS"})

# Apertium variant names → registered BCP-47 variant subtags; other variants are skipped.
_VARIANTS: Mapping[str, str] = {"valencia": "valencia", "aran": "aranes"}
_SCRIPT_SUBTAG = re.compile(r"-[A-Z][a-z]{3}(?=-|$)")

# Programs that do not take `-z` (APy's list): they flush on `\0` by themselves.
_NO_NULL_FLUSH = frozenset({"vislcg3", "cg-mwesplit", "hfst-tokenise", "divvun-suggest"})


def apertium_to_bcp47(code: str) -> str | None:
    """Map one side of an Apertium mode name (`eng`, `pt_BR`, `cat_valencia`) to BCP-47.

    Returns None for variants with no registered BCP-47 subtag (`cat_iec2017` spelling,
    `cat_valencia_uni`): those modes are skipped, so they never shadow the plain pair. A
    macrolanguage maps by variant (`hbs_SR` → `sr-Latn`); plain `hbs` is None (see
    `apertium_pairs` for what it reads).
    """
    base, *variants = code.split("_")
    if not re.fullmatch(r"[a-z]{2,3}", base) or len(variants) > 1:
        return None
    if base in _MACROLANGUAGES:
        return _MACRO_VARIANTS[base].get(variants[0]) if variants else None
    language = _ALPHA3_TO_BCP47.get(base, base)
    if not variants:
        return language
    variant = variants[0]
    if re.fullmatch(r"[A-Z]{2}|\d{3}", variant):  # a region: pt_BR, eng_US
        return f"{language}-{variant}"
    registered = _VARIANTS.get(variant)
    return f"{language}-{registered}" if registered else None


def apertium_pairs(source: str, target: str) -> tuple[tuple[str, str], ...]:
    """The BCP-47 pairs one Apertium pair serves (`hbs`, `eng` → sr, hr and bs into `en`).

    Empty when either side has no BCP-47 form (`cat_iec2017`, a plain macrolanguage target).
    """
    target_tag = apertium_to_bcp47(target)
    single = apertium_to_bcp47(source)
    sources = _MACROLANGUAGES.get(source) or ((single,) if single else ())
    return tuple((tag, target_tag) for tag in sources) if target_tag else ()


def mode_name_to_pairs(name: str) -> tuple[tuple[str, str], ...]:
    """Map a mode name (`eng-cat_valencia`) to the BCP-47 pairs it serves
    (`(("en", "ca-valencia"),)`; `hbs-eng` serves three).

    Empty for modes that are not a plain `SOURCE-TARGET` pair (`eco-es-fr`, `Cyrl-Latn`,
    debug modes such as `en-eo-bytecode`).
    """
    parts = name.split("-")
    return apertium_pairs(parts[0], parts[1]) if len(parts) == 2 else ()


def bcp47_to_apertium(tag: str) -> str:
    """The Apertium code for a BCP-47 language (`es` → `spa`, `sr` → `hbs`), as Debian names
    its packages."""
    base = tag.split("-")[0].lower()
    return _BCP47_TO_ALPHA3.get(base, base)


def parse_mode(text: str) -> tuple[tuple[str, ...], ...]:
    """Turn a `.mode` file's shell pipeline into argv lists in null-flush mode.

    `$1` becomes `-g` (generate with unknown-word marks), `$2` is dropped, and `-z` follows each
    program name except those that null-flush by themselves, as APy does.
    """
    text = text.replace("$1", "-g").replace("$2", "")
    commands = []
    for stage in text.strip().split("|"):
        program, *args = shlex.split(stage)
        flush = [] if os.path.basename(program) in _NO_NULL_FLUSH else ["-z"]
        commands.append((program, *flush, *args))
    return tuple(commands)


def discover_modes(
    modes_dir: Path, *, skip: Collection[str] = UNUSABLE_MODES
) -> dict[tuple[str, str], Path]:
    """Map each BCP-47 pair to its `.mode` file in `modes_dir`; empty if the folder is missing.

    Modes named in `skip` (by default `UNUSABLE_MODES`) are left out.
    """
    try:
        files = sorted(modes_dir.glob("*.mode"))
    except OSError:
        return {}
    found: dict[tuple[str, str], Path] = {}
    for path in files:
        if path.stem in skip:
            continue
        for pair in mode_name_to_pairs(path.stem):
            found[pair] = path
    return found


def mode_stages(mode_file: Path) -> tuple[Path, ...]:
    """The mode files to chain for one pair: a transliterator first where the source needs one
    and its package installed it (`Cyrl-Latn` before `hbs-eng`), then the pair's own mode."""
    source = mode_file.stem.split("-")[0].split("_")[0]
    first = _TRANSLITERATE_FIRST.get(source)
    before = mode_file.with_name(f"{first}.mode") if first else None
    return (before, mode_file) if before is not None and before.is_file() else (mode_file,)


def find_mode(modes: Mapping[tuple[str, str], Path], source: str, target: str) -> Path | None:
    """The mode serving `source`→`target` among discovered `modes`, or None.

    The pair itself first, then with region or variant dropped (`pt-BR`→`es` uses `pt-es`).
    A target asked for without a script takes the one script installed (`sr` → the `sr-Latn`
    generator); a target asked for in a script no mode writes (`sr-Cyrl`) is not served.
    """
    candidates = list(pair_candidates(source, target))
    for pair in candidates:
        if pair in modes:
            return modes[pair]
    if not candidates or _SCRIPT_SUBTAG.search(candidates[0][1]):
        return None
    by_language = {(s, _SCRIPT_SUBTAG.sub("", t)): path for (s, t), path in modes.items()}
    for pair in candidates:
        if pair in by_language:
            return by_language[pair]
    return None


def pair_candidates(source: str, target: str) -> Iterator[tuple[str, str]]:
    """The pair itself, then with region or variant dropped: (pt-BR, es) → (pt, es)."""
    try:
        source, target = normalize_tag(source), normalize_tag(target)
    except ValueError:
        return
    sources = dict.fromkeys([source, source.split("-")[0]])
    targets = dict.fromkeys([target, target.split("-")[0]])
    for src in sources:
        for tgt in targets:
            yield src, tgt
