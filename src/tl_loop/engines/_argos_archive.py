"""Installing a `.argosmodel` archive safely: checked, extracted to a temporary folder, renamed.

An Argos package is a zip holding one top-level folder (`metadata.json`, `model/`, tokenizer).
Archives come from the network, so before anything is written the archive is checked against
limits (files, total size, compression ratio: a zip bomb is refused), and every member must be
a plain file or folder under that one folder (no absolute paths, no `..`, no symlinks). The
package is extracted into a temporary folder beside its destination and renamed into place, so
a reader never sees half a package and a failed install leaves the old one as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tl_loop._errors import ConfigurationError

__all__ = ["ArchiveLimits", "extract_package", "read_metadata"]


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """What an archive may hold. Real Argos packages: < 500 files, < 500 MB, ratio < 10.

    Args:
        max_files: members in the archive.
        max_bytes: total uncompressed size.
        max_ratio: uncompressed / compressed size of any member (zip bombs reach 1000+).
    """

    max_files: int = 5_000
    max_bytes: int = 2 * 1024**3
    max_ratio: float = 200.0


def read_metadata(
    archive: Path, limits: ArchiveLimits = ArchiveLimits()
) -> tuple[str, dict[str, Any]]:
    """Check an archive and return its top-level folder name and `metadata.json`.

    Raises:
        ConfigurationError: missing, not a zip, over a limit, unsafe, or not a translation
            package; the message says which and why.
    """
    if not archive.is_file():
        raise ConfigurationError(f"{archive}: no such file; give the path of a .argosmodel file")
    if not zipfile.is_zipfile(archive):
        raise ConfigurationError(f"{archive}: not an Argos model (a .argosmodel is a zip archive)")
    with zipfile.ZipFile(archive) as zipped:
        top = _check_members(archive, zipped.infolist(), limits)
        try:
            metadata = json.loads(zipped.read(f"{top}/metadata.json"))
        except KeyError:
            raise ConfigurationError(f"{archive}: {top}/metadata.json is missing") from None
        except ValueError as error:
            raise ConfigurationError(f"{archive}: metadata.json is not JSON: {error}") from None
    if not isinstance(metadata, dict) or metadata.get("type", "translate") != "translate":
        raise ConfigurationError(f"{archive}: not a translation package (metadata type)")
    if not metadata.get("from_code") or not metadata.get("to_code"):
        raise ConfigurationError(f"{archive}: metadata.json lacks from_code or to_code")
    return top, metadata


def _check_members(archive: Path, members: list[zipfile.ZipInfo], limits: ArchiveLimits) -> str:
    if len(members) > limits.max_files:
        raise ConfigurationError(
            f"{archive}: {len(members)} files, more than the {limits.max_files} a package holds"
        )
    total = sum(member.file_size for member in members)
    if total > limits.max_bytes:
        raise ConfigurationError(
            f"{archive}: {total / 1e6:.0f} MB uncompressed, over the {limits.max_bytes / 1e6:.0f}"
            " MB limit"
        )
    tops = set()
    for member in members:
        path = PurePosixPath(member.filename)
        if path.is_absolute() or ".." in path.parts or "\\" in member.filename:
            raise ConfigurationError(f"{archive}: unsafe path {member.filename!r} in the archive")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise ConfigurationError(f"{archive}: {member.filename!r} is a symbolic link; refused")
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1_000_000 and ratio > limits.max_ratio:
            raise ConfigurationError(
                f"{archive}: {member.filename!r} expands {ratio:.0f} times; refused as a zip bomb"
            )
        if member.filename.strip("/"):
            tops.add(path.parts[0])
        if len(path.parts) == 1 and not member.is_dir():
            tops.add("")  # a file at the archive's root
    if len(tops) != 1 or "" in tops:
        raise ConfigurationError(
            f"{archive}: an .argosmodel must hold exactly one top-level folder, found "
            f"{sorted(t or '(loose files)' for t in tops)[:5]}; rebuild the archive from the "
            "package folder's parent"
        )
    return tops.pop()


def extract_package(
    archive: Path, packages_dir: Path, limits: ArchiveLimits = ArchiveLimits()
) -> Path:
    """Install `archive` into `packages_dir`; returns the package folder.

    The archive is checked (`read_metadata`), extracted into a temporary folder in
    `packages_dir`, and renamed into place; an older copy of the package is replaced whole.

    Raises:
        ConfigurationError: the archive is refused, or the folder cannot be written.
    """
    top, _ = read_metadata(archive, limits)
    packages_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=packages_dir))
    try:
        with zipfile.ZipFile(archive) as zipped:
            written = 0
            for member in zipped.infolist():
                target = staging / member.filename
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(member) as source, target.open("wb") as sink:
                    # Counted while writing: a forged header cannot make it write more.
                    while chunk := source.read(1 << 20):
                        written += len(chunk)
                        if written > limits.max_bytes:
                            raise ConfigurationError(
                                f"{archive}: expands past {limits.max_bytes / 1e6:.0f} MB; refused"
                            )
                        sink.write(chunk)
        final = packages_dir / top
        old = packages_dir / f".replaced-{top}"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            os.replace(final, old)
        os.replace(staging / top, final)
        shutil.rmtree(old, ignore_errors=True)
        return final
    except OSError as error:
        raise ConfigurationError(
            f"cannot install {archive} into {packages_dir}: {error}"
        ) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
