"""A loop configuration that travels: paths made absolute, input files carried inside.

On a cluster a worker runs on another machine, in another folder: a relative `glossary =
"terms.csv"` means nothing there, and the file may not exist at all. Before a job is submitted,
`pack` resolves every path of the configuration against the coordinator's folder and reads the
files a loop is built from (the glossary, the hint phrase and locale files) into the spec;
`unpack` writes them once per worker process and points the configuration at those copies.
State files (a memory database, relay queues) are not carried: they belong to one machine.
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
from pathlib import Path
from typing import Any

from tl_loop._config import TlLoopConfig

__all__ = ["pack", "unpack"]

# What a loop is built from, and is read-only: shipped with the job.
_SHIPPED: tuple[tuple[str, ...], ...] = (("glossary",), ("hints", "phrases"), ("hints", "locales"))
# Every path the configuration may hold: made absolute before submission.
_PATHS: tuple[tuple[str, ...], ...] = (
    *_SHIPPED,
    ("memory", "path"),
    ("engine", "argos", "packages_dir"),
    ("engine", "apertium", "modes_dir"),
)


def _table(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any] | None:
    table: Any = data
    for key in keys[:-1]:
        table = table.get(key) if isinstance(table, dict) else None
    return table if isinstance(table, dict) else None


def pack(config_json: str) -> tuple[str, tuple[tuple[str, str, bytes], ...]]:
    """Resolve the configuration's paths here and read its input files.

    Returns:
        The configuration as JSON with absolute paths, and (dotted key, file name, bytes) of
        each input file to carry.

    Raises:
        FileNotFoundError: an input file named by the configuration does not exist (said
            with the key and path, before anything is submitted).
    """
    data = TlLoopConfig.model_validate_json(config_json).model_dump(mode="json")
    files: list[tuple[str, str, bytes]] = []
    for keys in _PATHS:
        table = _table(data, keys)
        value = table.get(keys[-1]) if table is not None else None
        if table is None or not isinstance(value, str) or value == ":memory:":
            continue
        path = Path(value).expanduser().resolve()
        table[keys[-1]] = str(path)
        if keys in _SHIPPED:
            if not path.is_file():
                raise FileNotFoundError(f"{'.'.join(keys)} = {str(path)!r}: no such file")
            files.append((".".join(keys), path.name, path.read_bytes()))
    return TlLoopConfig.model_validate(data).model_dump_json(), tuple(files)


@functools.cache
def _copy(name: str, content: bytes) -> Path:
    digest = hashlib.sha256(content).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"tl-loop-job-{digest}"
    folder.mkdir(exist_ok=True)
    path = folder / name
    if not path.exists() or path.read_bytes() != content:
        partial = folder / f".{name}.partial"
        partial.write_bytes(content)
        partial.replace(path)  # atomic: two workers on one node may race
    return path


def unpack(config_json: str, files: tuple[tuple[str, str, bytes], ...]) -> TlLoopConfig:
    """The configuration with each carried file written here and its key pointing at it."""
    data = TlLoopConfig.model_validate_json(config_json).model_dump(mode="json")
    for dotted, name, content in files:
        keys = tuple(dotted.split("."))
        table = _table(data, keys)
        if table is not None:
            table[keys[-1]] = str(_copy(name, content))
    return TlLoopConfig.model_validate(data)
