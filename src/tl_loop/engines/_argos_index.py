"""The Argos package index: what can be installed, and downloading a package from it.

The index is argospm's `index.json`: a list of packages, each with `code`, `from_code`,
`to_code`, `package_version` and `links` (download URLs), as the Argos project publishes it.
A mirror may add `sha256` (hex digest of the archive) and `size` (bytes); when present they are
checked. The index is read from `--index URL`, else `TL_LOOP_ARGOS_INDEX`, else
`ARGOS_PACKAGE_INDEX`, else the Argos project's own URL; a local file path works too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tl_loop._errors import ConfigurationError, ServiceUnavailableError
from tl_loop.engines._argos_packages import argos_code_candidates, argos_to_bcp47

__all__ = [
    "DEFAULT_INDEX",
    "IndexPackage",
    "download_package",
    "index_url",
    "packages_for_pair",
    "read_index",
]

DEFAULT_INDEX = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json"
MAX_DOWNLOAD = 2 * 1024**3  # bytes; without a `size` in the index, no package is larger
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class IndexPackage:
    """One translation package the index offers.

    Args:
        code: its argospm name, `translate-en_el`.
        source: BCP-47 tag it translates from.
        target: BCP-47 tag it translates to.
        version: `package_version`.
        links: download URLs, tried in order.
        sha256: the archive's digest, when the index gives one.
        size: the archive's size in bytes, when the index gives one.
    """

    code: str
    source: str
    target: str
    version: str
    links: tuple[str, ...]
    sha256: str | None = None
    size: int | None = None


def index_url(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The index to read: `explicit`, else `TL_LOOP_ARGOS_INDEX`, else `ARGOS_PACKAGE_INDEX`,
    else the Argos project's."""
    env = os.environ if environ is None else environ
    return (
        explicit
        or env.get("TL_LOOP_ARGOS_INDEX")
        or env.get("ARGOS_PACKAGE_INDEX")
        or DEFAULT_INDEX
    )


def _client(
    client: httpx.Client | None, *, timeout: float
) -> contextlib.AbstractContextManager[httpx.Client]:
    """The caller's client, left open, or a new one closed after use."""
    if client is not None:
        return contextlib.nullcontext(client)
    return httpx.Client(timeout=timeout, follow_redirects=True)


def _fetch(url: str, client: httpx.Client) -> bytes:
    if "://" not in url or url.startswith("file://"):
        path = Path(url.removeprefix("file://"))
        try:
            return path.read_bytes()
        except OSError as error:
            raise ConfigurationError(f"cannot read the Argos index {path}: {error}") from error
    try:
        response = client.get(url)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise ServiceUnavailableError(
            f"cannot read the Argos index {url}: {error}; use a mirror with --index URL or "
            "TL_LOOP_ARGOS_INDEX, or install a downloaded file: tl-loop models install FILE",
            service="argos-index",
        ) from error
    return response.content


def read_index(url: str, *, client: httpx.Client | None = None) -> list[IndexPackage]:
    """The translation packages an index offers, sorted by code.

    Raises:
        ServiceUnavailableError: the index cannot be downloaded.
        ConfigurationError: a local index cannot be read, or is not an Argos index.
    """
    with _client(client, timeout=30) as http:
        raw = _fetch(url, http)
    try:
        entries = json.loads(raw)
    except ValueError as error:
        raise ConfigurationError(f"{url}: the Argos index is not JSON: {error}") from error
    if not isinstance(entries, list):
        raise ConfigurationError(f"{url}: an Argos index is a JSON list of packages")
    packages = [package for entry in entries if (package := _package(entry)) is not None]
    return sorted(packages, key=lambda p: p.code)


def _package(entry: Any) -> IndexPackage | None:
    if not isinstance(entry, dict) or entry.get("type", "translate") != "translate":
        return None
    source = argos_to_bcp47(str(entry.get("from_code", "")))
    target = argos_to_bcp47(str(entry.get("to_code", "")))
    links = entry.get("links")
    if source is None or target is None or not isinstance(links, list) or not links:
        return None
    code = entry.get("code") or f"translate-{entry['from_code']}_{entry['to_code']}"
    size = entry.get("size")
    return IndexPackage(
        code=str(code), source=source, target=target,
        version=str(entry.get("package_version", "")), links=tuple(map(str, links)),
        sha256=str(entry["sha256"]).lower() if entry.get("sha256") else None,
        size=int(size) if isinstance(size, int) else None,
    )  # fmt: skip


def packages_for_pair(
    packages: Sequence[IndexPackage], source: str, target: str, *, pivot: str = "en"
) -> list[IndexPackage]:
    """The package for source→target, else the two through `pivot`; [] when neither exists."""

    def find(src: str, tgt: str) -> IndexPackage | None:
        sources, targets = argos_code_candidates(src), argos_code_candidates(tgt)
        for package in packages:
            codes = package.code.removeprefix("translate-").split("_", 1)
            if len(codes) == 2 and codes[0] in sources and codes[1] in targets:
                return package
        return None

    direct = find(source, target)
    if direct is not None:
        return [direct]
    first, second = find(source, pivot), find(pivot, target)
    return [first, second] if first is not None and second is not None else []


def download_package(
    package: IndexPackage, folder: Path, *, client: httpx.Client | None = None
) -> Path:
    """Download a package's archive into `folder`, checking its size and digest.

    Written to a temporary name and renamed when complete and checked.

    Raises:
        ServiceUnavailableError: no link could be downloaded.
        ConfigurationError: the download is larger than announced (or than any package), or
            its digest differs from the index's.
    """
    folder.mkdir(parents=True, exist_ok=True)
    limit = package.size if package.size is not None else MAX_DOWNLOAD
    problems = []
    with _client(client, timeout=60) as http:
        for link in package.links:
            try:
                return _download(http, link, package, folder, limit)
            except httpx.HTTPError as error:
                problems.append(f"{link}: {error}")
    raise ServiceUnavailableError(
        f"cannot download {package.code} ({'; '.join(problems)}); download it yourself and "
        "run tl-loop models install FILE.argosmodel",
        service="argos-index",
    )


def _download(
    http: httpx.Client, link: str, package: IndexPackage, folder: Path, limit: int
) -> Path:
    digest = hashlib.sha256()
    handle, name = tempfile.mkstemp(prefix=".download-", suffix=".argosmodel", dir=folder)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as sink, http.stream("GET", link) as response:
            response.raise_for_status()
            size = 0
            for chunk in response.iter_bytes(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ConfigurationError(
                        f"{package.code}: the download from {link} is larger than the "
                        f"{limit} bytes announced; refused"
                    )
                digest.update(chunk)
                sink.write(chunk)
        if package.size is not None and size != package.size:
            raise ConfigurationError(
                f"{package.code}: downloaded {size} bytes, the index says {package.size}"
            )
        if package.sha256 is not None and digest.hexdigest() != package.sha256:
            raise ConfigurationError(
                f"{package.code}: the download's sha256 {digest.hexdigest()} differs from the "
                f"index's {package.sha256}; refused (a broken mirror or a tampered file)"
            )
        final = folder / f"{package.code}-{package.version}.argosmodel"
        os.replace(temporary, final)
        return final
    finally:
        temporary.unlink(missing_ok=True)
