"""Fetching dataset files into the cache: several mirrors, checksums, retries with backoff, atomic writes.

A file only ever appears under its final name after its checksum matched: it is streamed into a
temp file in the same folder and moved into place with `os.replace`. A partial or corrupt
download is deleted, and a cached file that no longer matches its checksum is fetched again.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from infogan import __version__
from infogan.errors import DataError

CACHE_ENV = "INFOGAN_DATA"  # root of the download cache (default ~/.cache/infogan)
OFFLINE_ENV = "INFOGAN_OFFLINE"  # set to 1 to never download
_CHUNK = 1 << 20
_STALE_PART_S = 600  # a temp file untouched this long belongs to a killed download
_PERMANENT_HTTP = (401, 403, 404, 410)  # retrying the same mirror will not help


def cache_dir(dataset: str) -> Path:
    """Where downloads of `dataset` go: $INFOGAN_DATA/NAME, else $XDG_CACHE_HOME/infogan/NAME or ~/.cache/infogan/NAME."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "infogan"
    return Path(root).expanduser() / dataset


def downloads_allowed() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("", "0", "false", "no")


@dataclass(frozen=True)
class RemoteFile:
    """A file that mirrors serve under `name`, with its published checksum ("md5:HEX" or "sha256:HEX")."""

    name: str
    checksum: str

    def __post_init__(self) -> None:
        algorithm, _, digest = self.checksum.partition(":")
        if algorithm not in ("md5", "sha256") or not digest:
            raise ValueError(f"checksum must be md5:HEX or sha256:HEX, got {self.checksum!r}")

    @property
    def algorithm(self) -> str:
        return self.checksum.partition(":")[0]

    @property
    def digest(self) -> str:
        return self.checksum.partition(":")[2].lower()

    def new_hash(self) -> hashlib._Hash:
        return hashlib.new(self.algorithm, usedforsecurity=False)

    def matches(self, path: Path) -> bool:
        h = self.new_hash()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        return h.hexdigest() == self.digest


class _MirrorFailure(Exception):
    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def ensure_files(dataset: str, files: Sequence[RemoteFile], directory: Path, mirrors: Sequence[str], *,
                 tries: int = 3, timeout_s: float = 30.0, backoff_s: float = 1.0) -> list[Path]:
    """Paths of `files` in `directory`, each verified, downloading those missing or corrupt.

    Each round tries every mirror in order; rounds are `tries` apart by exponential backoff
    (backoff_s, 2 * backoff_s, ...). A mirror that answers 401/403/404/410 is not asked again.
    """
    missing = []
    for file in files:
        path = directory / file.name
        if path.is_file() and not file.matches(path):
            warnings.warn(f"{path} does not match its {file.algorithm} checksum; downloading it again")
            path.unlink()
        if not path.is_file():
            missing.append(file)
    if missing and not downloads_allowed():
        names = " and ".join(f.name for f in missing)
        raise DataError(f"--data {dataset} needs --data-dir DIR holding {names}, or a download (into ${CACHE_ENV} "
                        f"or ~/.cache/infogan); downloads are off ({OFFLINE_ENV}=1)")
    for file in missing:
        download(file, directory, mirrors, tries=tries, timeout_s=timeout_s, backoff_s=backoff_s)
    return [directory / f.name for f in files]


def download(file: RemoteFile, directory: Path, mirrors: Sequence[str], *,
             tries: int = 3, timeout_s: float = 30.0, backoff_s: float = 1.0) -> Path:
    """Download `file` into `directory` from the first mirror that serves it intact; one-line DataError if none does."""
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(directory, file.name)
    reasons: dict[str, list[str]] = {m: [] for m in mirrors}
    given_up: set[str] = set()
    for attempt in range(tries):
        if attempt:
            time.sleep(backoff_s * 2 ** (attempt - 1))
        for mirror in mirrors:
            if mirror in given_up:
                continue
            try:
                return _fetch(_url(mirror, file.name), file, directory, timeout_s)
            except _MirrorFailure as e:
                reasons[mirror].append(e.reason)
                if e.permanent:
                    given_up.add(mirror)
        if len(given_up) == len(mirrors):
            break
    summary = "; ".join(f"{m}: {_summarise(r)}" for m, r in reasons.items())
    raise DataError(f"could not download {file.name}: {summary}; put the file in {directory} "
                    "or pass --data-dir DIR holding it")


def _summarise(reasons: list[str]) -> str:
    last = reasons[-1] if reasons else "not tried"
    return last if len(reasons) < 2 else f"{last} ({len(reasons)} tries)"


def _url(mirror: str, name: str) -> str:
    url = urllib.parse.urljoin(mirror if mirror.endswith("/") else mirror + "/", name)
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DataError(f"mirror {mirror!r} is not an http(s) URL")
    return url


def _remove_stale_parts(directory: Path, name: str) -> None:
    """Delete temp files that a killed download left behind (a live one is written to all the time)."""
    for part in directory.glob(f".{name}.*.part"):
        try:
            if time.time() - part.stat().st_mtime > _STALE_PART_S:
                part.unlink()
        except FileNotFoundError:
            pass


def _network_reason(e: BaseException) -> _MirrorFailure:
    """A short reason for a network error, and whether asking the same mirror again is pointless."""
    if isinstance(e, urllib.error.HTTPError):
        return _MirrorFailure(f"HTTP {e.code}", permanent=e.code in _PERMANENT_HTTP)
    if isinstance(e, urllib.error.URLError):
        e = e.reason if isinstance(e.reason, BaseException) else OSError(str(e.reason))
    if isinstance(e, (TimeoutError, socket.timeout)):
        return _MirrorFailure("timed out")
    if isinstance(e, ConnectionRefusedError):
        return _MirrorFailure("connection refused")
    if isinstance(e, socket.gaierror):
        return _MirrorFailure(f"host not found ({e.strerror or e})")
    if isinstance(e, http.client.IncompleteRead):
        return _MirrorFailure(f"truncated ({len(e.partial)} bytes read)")
    if isinstance(e, (http.client.HTTPException, ConnectionError)):
        return _MirrorFailure(f"connection dropped ({type(e).__name__})")
    return _MirrorFailure(str(getattr(e, "strerror", None) or e) or type(e).__name__)


def _fetch(url: str, file: RemoteFile, directory: Path, timeout_s: float) -> Path:
    """One download attempt of `url` into directory/file.name; raises _MirrorFailure on any network or checksum fault."""
    request = urllib.request.Request(url, headers={"User-Agent": f"infogan/{__version__}"})
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{file.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(request, timeout=timeout_s)
            except (OSError, http.client.HTTPException) as e:
                raise _network_reason(e) from None
            with response:
                expected = response.length  # Content-Length, or None
                h, written = file.new_hash(), 0
                tty = sys.stderr.isatty()
                if not tty:
                    print(f"infogan: downloading {url}", file=sys.stderr)
                with tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024, desc=file.name,
                          disable=not tty, leave=False) as bar:
                    while True:
                        try:
                            chunk = response.read(_CHUNK)
                        except (OSError, http.client.HTTPException) as e:
                            raise _network_reason(e) from None
                        if not chunk:
                            break
                        out.write(chunk)
                        h.update(chunk)
                        written += len(chunk)
                        bar.update(len(chunk))
            if expected is not None and response.length:  # http.client counts down what is still owed
                raise _MirrorFailure(f"truncated ({written} of {written + response.length} bytes)")
            if h.hexdigest() != file.digest:
                raise _MirrorFailure(f"{file.algorithm} mismatch (got {h.hexdigest()}, expected {file.digest})")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, directory / file.name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return directory / file.name
