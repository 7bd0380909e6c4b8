"""Safe extraction: good archives unpack, malicious ones are refused whole and write nothing."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from infogan.data.archive import safe_extract
from infogan.errors import DataError


def _zip(path: Path, members: dict[str, bytes], symlink: tuple[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink[0])
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, symlink[1])
    return path


def _tar(path: Path, members: dict[str, bytes], links: dict[str, tuple[bytes, str]] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, (kind, target) in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            tf.addfile(info)
    return path


def _everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_good_archive_extracts(tmp_path: Path, kind: str) -> None:
    members = {"faces/a.txt": b"A", "faces/sub/b.txt": b"B"}
    archive = _zip(tmp_path / "x.zip", members) if kind == "zip" else _tar(tmp_path / "x.tgz", members)
    target = safe_extract(archive, tmp_path / "out" / "x")
    assert (target / "faces/sub/b.txt").read_bytes() == b"B" and (target / "faces/a.txt").read_bytes() == b"A"
    assert _everything_under(tmp_path / "out") == ["x", "x/faces", "x/faces/a.txt", "x/faces/sub", "x/faces/sub/b.txt"]


def test_internal_tar_link_is_allowed(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "x.tgz", {"d/a.txt": b"A"}, {"d/link": (tarfile.SYMTYPE, "a.txt")})
    target = safe_extract(archive, tmp_path / "out")
    assert (target / "d/link").read_bytes() == b"A"


@pytest.mark.parametrize(
    "build, naming",
    [
        (lambda p: _zip(p / "m.zip", {"ok.txt": b"1", "../evil.txt": b"x"}), "'../evil.txt'"),
        (lambda p: _zip(p / "m.zip", {"ok.txt": b"1", "a/../../evil.txt": b"x"}), "'a/../../evil.txt'"),
        (lambda p: _zip(p / "m.zip", {"/tmp/evil.txt": b"x"}), "'/tmp/evil.txt'"),
        (lambda p: _zip(p / "m.zip", {"ok.txt": b"1"}, symlink=("link", "/etc/passwd")), "symbolic link"),
        (lambda p: _tar(p / "m.tgz", {"ok.txt": b"1", "../evil.txt": b"x"}), "'../evil.txt'"),
        (lambda p: _tar(p / "m.tgz", {"/abs/evil.txt": b"x"}), "'/abs/evil.txt'"),
        (lambda p: _tar(p / "m.tgz", {}, {"link": (tarfile.SYMTYPE, "../../etc/passwd")}), "points outside"),
        (lambda p: _tar(p / "m.tgz", {}, {"link": (tarfile.SYMTYPE, "/etc/passwd")}), "points outside"),
        (lambda p: _tar(p / "m.tgz", {}, {"hard": (tarfile.LNKTYPE, "../outside")}), "hard link"),
        (lambda p: _tar(p / "m.tgz", {}, {"dev": (tarfile.CHRTYPE, "")}), "device or pipe"),
    ],
)
def test_malicious_archive_is_refused_and_writes_nothing(tmp_path: Path, build, naming: str) -> None:
    archive = build(tmp_path)
    work = tmp_path / "work"
    with pytest.raises(DataError) as info:
        safe_extract(archive, work / "target")
    message = str(info.value)
    assert "\n" not in message and naming in message and "refusing" in message
    assert _everything_under(work) == []  # no target, no temp folder, nothing outside either
    assert not (tmp_path / "evil.txt").exists()


def test_not_an_archive(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not an archive at all")
    with pytest.raises(DataError, match="not a zip or tar archive"):
        safe_extract(junk, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_existing_target_is_reused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "x.zip", {"a.txt": b"new"})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_bytes(b"old")
    safe_extract(archive, tmp_path / "out")
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"old"
