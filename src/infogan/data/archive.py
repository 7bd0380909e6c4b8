"""Safe extraction of zip and tar archives: no member may land, or point, outside the target folder."""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from infogan.errors import DataError


def _inside(root: Path, relative: str) -> bool:
    """Whether `relative` (a member name or link target, '/'-separated) stays inside `root`."""
    if not relative or relative.startswith(("/", "\\")) or PurePosixPath(relative).is_absolute():
        return False
    if len(relative) > 1 and relative[1] == ":":  # a Windows drive letter
        return False
    resolved = os.path.normpath(os.path.join(root, relative.replace("\\", "/")))
    return resolved == str(root) or resolved.startswith(str(root) + os.sep)


def _check_zip(archive: Path, zf: zipfile.ZipFile, root: Path) -> None:
    for info in zf.infolist():
        if not _inside(root, info.filename):
            raise DataError(f"{archive}: member {info.filename!r} would be written outside the target folder; "
                            "refusing to extract this archive")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise DataError(f"{archive}: member {info.filename!r} is a symbolic link; refusing to extract this archive")


def _check_tar(archive: Path, tf: tarfile.TarFile, root: Path) -> None:
    for member in tf.getmembers():
        if not _inside(root, member.name):
            raise DataError(f"{archive}: member {member.name!r} would be written outside the target folder; "
                            "refusing to extract this archive")
        if member.issym():
            target = os.path.join(os.path.dirname(member.name), member.linkname)
            if member.linkname.startswith("/") or not _inside(root, target):
                raise DataError(f"{archive}: link {member.name!r} -> {member.linkname!r} points outside the target "
                                "folder; refusing to extract this archive")
        elif member.islnk() and not _inside(root, member.linkname):
            raise DataError(f"{archive}: hard link {member.name!r} -> {member.linkname!r} points outside the target "
                            "folder; refusing to extract this archive")
        elif not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            raise DataError(f"{archive}: member {member.name!r} is a device or pipe; refusing to extract this archive")


def safe_extract(archive: Path, target: Path) -> Path:
    """Extract a .zip or .tar(.gz/.bz2/.xz) archive into `target` and return it.

    Every member is checked before anything is written: absolute paths, `..` components, symbolic
    links in zips, and links in tars that point outside `target` make the whole archive refused.
    The archive is unpacked into a temp folder beside `target` and renamed into place, so `target`
    exists only complete.
    """
    archive, target = Path(archive), Path(target)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part"))
    try:
        root = tmp.resolve()
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                _check_zip(archive, zf, root)
                zf.extractall(root)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                _check_tar(archive, tf, root)
                # Python's own "data" filter (3.11.4+) as a second line of defence.
                tf.extractall(root, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        else:
            raise DataError(f"{archive}: not a zip or tar archive (or it is truncated); download it again")
        os.replace(tmp, target)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as e:
        raise DataError(f"{archive}: corrupt archive ({e}); download it again") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
