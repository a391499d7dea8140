"""Argos Translate packages: lazy imports, language codes, listing, installing and loading them.

argostranslate reads its settings once, when `argostranslate.settings` is first imported, and
creates its data, config and cache folders then. Nothing here imports it at module import time.
A `packages_dir` given here is applied per call: packages are listed with
`get_installed_packages(path=[packages_dir])` and installed by pointing
`settings.package_data_dir` at it for the duration of `install_from_path`, so setting
`ARGOS_PACKAGES_DIR` after the first import is never needed.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from tl_loop._errors import ConfigurationError, MissingDependencyError, ServiceUnavailableError
from tl_loop._models import normalize_tag
from tl_loop.engines._argos_archive import extract_package

__all__ = [
    "INSTALL",
    "ArgosModel",
    "LoadedModel",
    "argos_code_candidates",
    "argos_to_bcp47",
    "default_packages_dir",
    "import_argos",
    "install_model",
    "list_models",
    "load_model",
    "missing_dependency",
]

INSTALL = "pip install 'tl-loop[argos]'"
"""What to run when argostranslate, ctranslate2 or sentencepiece is missing."""

# Argos codes that are not BCP-47, both ways. Other codes are ISO 639-1 and pass through.
_ARGOS_TO_BCP47 = {"zt": "zh-Hant", "pb": "pt-BR"}
_BCP47_TO_ARGOS = {
    "zh-Hant": "zt",
    "zh-TW": "zt",
    "zh-HK": "zt",
    "zh-MO": "zt",
    "zh-Hans": "zh",
    "zh-CN": "zh",
    "zh-SG": "zh",
    "pt-BR": "pb",
}


@dataclass(frozen=True, slots=True)
class ArgosModel:
    """One installed Argos Translate package.

    Args:
        code: the package's argospm name, e.g. `translate-en_es`.
        source: BCP-47 tag of the language it translates from.
        target: BCP-47 tag of the language it translates to.
        from_code: Argos's own code for the source (`zt`, `pb` differ from BCP-47).
        to_code: Argos's own code for the target.
        version: the package's `package_version`.
        path: the installed package folder.
    """

    code: str
    source: str
    target: str
    from_code: str
    to_code: str
    version: str
    path: Path


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A package ready to translate: its CTranslate2 translator and tokenizer functions.

    Args:
        model: the package.
        translator: the `ctranslate2.Translator`.
        encode: text → pieces for the translator.
        decode: the translator's pieces → text.
        prefix: the package's `target_prefix` token ("" for none).
    """

    model: ArgosModel
    translator: Any
    encode: Callable[[str], list[str]]
    decode: Callable[[list[str]], str]
    prefix: str


def missing_dependency(error: ImportError) -> MissingDependencyError:
    """The error to raise when an Argos dependency cannot be imported."""
    return MissingDependencyError(
        f"the Argos Translate engine needs argostranslate, ctranslate2 and sentencepiece ({error})",
        install=INSTALL,
    )


def import_argos() -> tuple[ModuleType, ModuleType, ModuleType]:
    """Import `argostranslate.package`, `ctranslate2` and `sentencepiece` on first use.

    Only `argostranslate.package` is imported from argostranslate: `argostranslate.translate`
    pulls stanza, spacy and torch (~2 s) and is never needed here.

    Raises:
        MissingDependencyError: one of them is not installed.
    """
    try:
        import argostranslate.package as argos_package
        import ctranslate2
        import sentencepiece
    except ImportError as error:
        raise missing_dependency(error) from error
    return argos_package, ctranslate2, sentencepiece


def argos_to_bcp47(code: str) -> str | None:
    """Argos's language code as BCP-47 (`zt` → `zh-Hant`, `pb` → `pt-BR`); None if unusable."""
    if code in _ARGOS_TO_BCP47:
        return _ARGOS_TO_BCP47[code]
    try:
        return normalize_tag(code)
    except ValueError:
        return None


def argos_code_candidates(tag: str) -> list[str]:
    """Argos codes that may serve a BCP-47 tag, best first: `pt-BR` → `["pb", "pt"]`."""
    tag = normalize_tag(tag)
    candidates = [_BCP47_TO_ARGOS.get(tag, tag)]
    base = tag.split("-")[0]
    if base == "zh":
        return candidates if candidates[0] in ("zh", "zt") else ["zh"]
    candidates.append(base)
    return list(dict.fromkeys(candidates))


def list_models(*, packages_dir: str | os.PathLike[str] | None = None) -> list[ArgosModel]:
    """The installed translation packages, sorted by code.

    Args:
        packages_dir: folder to look in; None means argostranslate's own (`ARGOS_PACKAGES_DIR`
            as it was when argostranslate was first imported, else
            `~/.local/share/argos-translate/packages`).

    Raises:
        MissingDependencyError: argostranslate is not installed.
        ConfigurationError: a package folder there has no readable `metadata.json`.
    """
    argos_package, _, _ = import_argos()
    folders = None if packages_dir is None else [Path(packages_dir)]
    if folders is not None and not folders[0].is_dir():
        return []
    try:
        packages = argos_package.get_installed_packages(path=folders)
    except (OSError, ValueError) as error:  # FileNotFoundError: a folder without metadata
        where = packages_dir or "the Argos packages folder"
        raise ConfigurationError(
            f"cannot read the Argos packages in {where}: {error}; remove or reinstall the "
            "broken package folder"
        ) from error
    models = [_describe(package) for package in packages]
    return sorted((m for m in models if m is not None), key=lambda m: (m.code, str(m.path)))


def install_model(
    path: str | os.PathLike[str], *, packages_dir: str | os.PathLike[str] | None = None
) -> ArgosModel:
    """Install a `.argosmodel` file, offline: checked, extracted aside, renamed into place.

    Needs no argostranslate: the archive is checked against size, file-count and ratio limits
    (zip bombs, symlinks and paths out of the folder are refused) and must hold one top-level
    folder, since argostranslate would take loose files for broken packages.

    Args:
        path: the `.argosmodel` file.
        packages_dir: where to install; None means argostranslate's own folder
            (`ARGOS_PACKAGES_DIR`, else `~/.local/share/argos-translate/packages`).

    Returns:
        The installed package.

    Raises:
        ConfigurationError: the file is missing or is not a valid, safe Argos translation package.
    """
    archive = Path(path)
    target_dir = Path(packages_dir) if packages_dir is not None else default_packages_dir()
    with _install_lock():
        folder = extract_package(archive, target_dir)
    _forget_argos_translations()
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    source, target = argos_to_bcp47(metadata["from_code"]), argos_to_bcp47(metadata["to_code"])
    if source is None or target is None:
        raise ConfigurationError(
            f"{archive}: metadata.json names languages {metadata.get('from_code')!r} → "
            f"{metadata.get('to_code')!r}, which are not language codes"
        )
    return ArgosModel(
        code=f"translate-{metadata['from_code']}_{metadata['to_code']}",
        source=source, target=target, from_code=metadata["from_code"],
        to_code=metadata["to_code"], version=str(metadata.get("package_version", "")),
        path=folder,
    )  # fmt: skip


def default_packages_dir() -> Path:
    """argostranslate's packages folder, found as argostranslate finds it (without importing it:
    the folder it fixed at import wins when it is loaded)."""
    settings = sys.modules.get("argostranslate.settings")
    if settings is not None:
        return Path(settings.package_data_dir)
    if os.environ.get("ARGOS_PACKAGES_DIR"):
        return Path(os.environ["ARGOS_PACKAGES_DIR"])
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "argos-translate" / "packages"


def load_model(
    model: ArgosModel,
    *,
    device: str,
    compute_type: str,
    inter_threads: int,
    intra_threads: int,
) -> LoadedModel:
    """Load a package's CTranslate2 model and tokenizer (40-300 ms: do it once per package).

    Args:
        model: the installed package.
        device: `cpu`, `cuda`, or `auto` (cuda when CTranslate2 sees a GPU).
        compute_type: CTranslate2 compute type (`auto`, `int8`, `float32`, ...).
        inter_threads: CTranslate2 batches run in parallel.
        intra_threads: CTranslate2 threads per batch.

    Raises:
        MissingDependencyError: argostranslate, ctranslate2 or sentencepiece is missing.
        ServiceUnavailableError: the package cannot be loaded (not retryable: reinstall it).
    """
    argos_package, ctranslate2, sentencepiece = import_argos()
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    try:
        translator = ctranslate2.Translator(
            str(model.path / "model"),
            device=device,
            compute_type=compute_type,
            inter_threads=inter_threads,
            intra_threads=intra_threads,
        )
        package = argos_package.Package(model.path)
    except (RuntimeError, ValueError, OSError) as error:
        raise _broken(model, str(error)) from error
    prefix = str(getattr(package, "target_prefix", "") or "")
    spm_file = model.path / "sentencepiece.model"
    if spm_file.is_file():
        processor = sentencepiece.SentencePieceProcessor(model_file=str(spm_file))

        def encode(text: str) -> list[str]:
            pieces: list[str] = processor.encode(text, out_type=str)
            return pieces

        def decode(pieces: list[str]) -> str:
            # Not argostranslate's decode: it turns every "_" into a space (ABC_123).
            text: str = processor.decode_pieces(pieces)
            return text

        return LoadedModel(model, translator, encode, decode, prefix)
    if hasattr(package, "tokenizer"):  # bpe.model packages: Moses + BPE (needs sacremoses)
        return LoadedModel(
            model, translator, package.tokenizer.encode, package.tokenizer.decode, prefix
        )
    raise _broken(model, "it has neither sentencepiece.model nor bpe.model")


def _broken(model: ArgosModel, problem: str) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        f"cannot load the Argos package {model.code} at {model.path} ({problem}); "
        "reinstall it with `tl-loop models install FILE.argosmodel`",
        service="argos",
        retryable=False,
    )


@functools.cache
def _install_lock() -> threading.Lock:
    """One lock for the temporary change of argostranslate's install folder."""
    return threading.Lock()


def _describe(package: Any) -> ArgosModel | None:
    """An `ArgosModel` for an argostranslate `Package`; None for non-translation packages."""
    if getattr(package, "type", "translate") != "translate":
        return None
    source, target = argos_to_bcp47(package.from_code), argos_to_bcp47(package.to_code)
    if source is None or target is None:
        return None
    return ArgosModel(
        code=f"translate-{package.from_code}_{package.to_code}",
        source=source,
        target=target,
        from_code=package.from_code,
        to_code=package.to_code,
        version=str(package.package_version),
        path=Path(package.package_path),
    )


def _forget_argos_translations() -> None:
    """Drop argostranslate's own translation caches if its translate module is loaded.

    Its module-global `installed_translates` list is never cleared by installs, so a replaced
    package would keep being served by the old model (argos.md §3).
    """
    translate = sys.modules.get("argostranslate.translate")
    if translate is not None:
        translate.installed_translates.clear()
        translate.get_installed_languages.cache_clear()
