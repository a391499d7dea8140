"""`tl-loop models install en el` and `models available` against an Argos package index and a
tiny model served on loopback; archive safety (zip bombs, symlinks, loose files) refused."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import stat
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("ctranslate2")
from argos_model import build_package
from tl_loop.cli import main

GREEK = {"Hello": "Γεια", "world": "κόσμε"}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A folder served on 127.0.0.1 holding the tiny en→el package; (base URL, folder)."""
    folder = tmp_path_factory.mktemp("index")
    build_package(
        folder, source="en", target="el", lexicon=GREEK, extra_text=["Γεια σου κόσμε."] * 20
    )
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()


def write_index(folder: Path, base: str, *, name: str = "index.json", **extra: object) -> str:
    archive = folder / "translate-en_el-1.0.argosmodel"
    entry = {
        "package_version": "1.0", "argos_version": "1.9", "from_code": "en", "from_name": "English",
        "to_code": "el", "to_name": "Greek", "type": "translate", "code": "translate-en_el",
        "links": [f"{base}/{archive.name}"], "size": archive.stat().st_size,
        "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(),
    }  # fmt: skip
    (folder / name).write_text(json.dumps([{**entry, **extra}]), encoding="utf-8")
    return f"{base}/{name}"


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "tl-loop.toml"
    path.write_text(
        'engines = ["argos"]\n[engine.argos]\npackages_dir = "packages"\n', encoding="utf-8"
    )
    return str(path)


def test_install_a_pair_from_the_index_and_translate_greek(
    served: tuple[str, Path], config: str, tmp_path: Path
) -> None:
    base, folder = served
    index = write_index(folder, base)
    code, out, err = run("models", "available", "--index", index, "--config", config)
    assert code == 0, err
    assert out.startswith("translate-en_el\ten → el\t1.0")
    code, out, err = run("models", "install", "en", "el", "--index", index, "--config", config)
    assert code == 0, err
    assert out == "installed translate-en_el 1.0 (en → el)\n"
    assert (tmp_path / "packages" / "translate-en_el-1.0" / "metadata.json").is_file()
    code, out, _ = run("models", "list", "--config", config)
    assert out.startswith("translate-en_el\ten → el")
    code, out, err = run(
        "translate", "--config", config, "--from", "en", "--to", "el", "Hello world."
    )
    assert (code, out) == (0, "Γεια κόσμε.\n"), err


def test_the_index_may_come_from_the_environment(
    served: tuple[str, Path], config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, folder = served
    monkeypatch.setenv("TL_LOOP_ARGOS_INDEX", write_index(folder, base, name="env.json"))
    code, out, err = run("models", "available", "--json", "--config", config)
    assert code == 0, err
    assert [row["code"] for row in json.loads(out)] == ["translate-en_el"]


def test_a_wrong_checksum_is_refused_and_nothing_is_installed(
    served: tuple[str, Path], config: str, tmp_path: Path
) -> None:
    base, folder = served
    index = write_index(folder, base, name="bad-sum.json", sha256="0" * 64)
    code, _, err = run("models", "install", "en", "el", "--index", index, "--config", config)
    assert code == 2
    assert "sha256" in err
    assert "refused" in err
    assert not (tmp_path / "packages").exists()


def test_a_download_larger_than_announced_is_refused(served: tuple[str, Path], config: str) -> None:
    base, folder = served
    index = write_index(folder, base, name="bad-size.json", size=1000)
    code, _, err = run("models", "install", "en", "el", "--index", index, "--config", config)
    assert code == 2
    assert "larger than the 1000 bytes announced" in err


def test_a_pair_the_index_lacks_is_named_with_what_it_covers(
    served: tuple[str, Path], config: str
) -> None:
    base, folder = served
    index = write_index(folder, base, name="pair.json")
    code, _, err = run("models", "install", "fa", "lt", "--index", index, "--config", config)
    assert code == 2
    assert "no package for fa→lt" in err
    assert "it covers: el, en" in err


def test_an_unreachable_index_says_how_to_install_offline(config: str) -> None:
    code, _, err = run("models", "install", "en", "el", "--index", "http://127.0.0.1:9/i.json",
                       "--config", config)  # fmt: skip
    assert code == 1
    assert "tl-loop models install FILE" in err


def test_an_offline_file_still_installs(served: tuple[str, Path], config: str) -> None:
    _, folder = served
    archive = folder / "translate-en_el-1.0.argosmodel"
    code, out, err = run("models", "install", str(archive), "--config", config)
    assert (code, out) == (0, "installed translate-en_el 1.0 (en → el)\n"), err


def _zip(path: Path, members: dict[str, bytes], *, link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zipped.writestr(info, "/etc/passwd")
    return path


META = json.dumps({"from_code": "en", "to_code": "el", "package_version": "1"}).encode()


@pytest.mark.parametrize(
    ("members", "link", "problem"),
    [
        ({"p/metadata.json": META, "p/model/bomb.bin": b"\0" * 50_000_000}, None, "zip bomb"),
        ({"p/metadata.json": META}, "p/model/evil", "symbolic link"),
        ({"p/metadata.json": META, "../escape.txt": b"x"}, None, "unsafe path"),
        ({"metadata.json": META}, None, "one top-level folder"),
    ],
    ids=["zip bomb", "symlink", "path traversal", "loose files"],
)
def test_unsafe_archives_are_refused_before_anything_is_written(
    tmp_path: Path, config: str, members: dict[str, bytes], link: str | None, problem: str
) -> None:
    archive = _zip(tmp_path / "evil.argosmodel", members, link=link)
    code, _, err = run("models", "install", str(archive), "--config", config)
    assert code == 2
    assert problem in err
    assert not (tmp_path / "packages").exists() or not any((tmp_path / "packages").iterdir())
