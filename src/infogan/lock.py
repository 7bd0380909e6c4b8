"""One writer per run directory.

A training holds an exclusive ``flock`` on ``RUN_DIR/.lock`` for its whole run (under torchrun, rank 0 holds it for
the job); a second writer stops at once with a line naming the holder. The kernel lock is the truth: the kernel drops
it when its holder dies, however it dies, so a killed training never leaves a lock that blocks. The file's text (PID,
host, start) only names the holder; a holder that stops cleanly empties it, so text found by the next holder means
the last training was killed. Readers (evaluate, sample, report, ...) take no lock: checkpoints are written to a temp
file and renamed, so a reader only ever opens whole files.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import BusyError

LOCK = ".lock"
_held: set[int] = set()  # descriptors of the locks this process holds


class StaleLockWarning(UserWarning):
    """The last training of a run directory ended without releasing its lock: it was killed or crashed."""


def _close_in_child() -> None:
    # A forked child (a data-loading worker) shares the parent's lock: closing its copy lets the lock die with the
    # parent, instead of living on in an orphaned worker. (Closing drops a reference; only LOCK_UN would release.)
    for fd in _held:
        os.close(fd)
    _held.clear()


os.register_at_fork(after_in_child=_close_in_child)


@contextmanager
def hold(run_dir: str | Path) -> Iterator[None]:
    """Hold ``run_dir``'s lock while the block runs (creating the folder if needed); :class:`BusyError` naming the
    holder if another process holds it. A folder this call created and nothing else wrote to is removed again."""
    run_dir = Path(run_dir)
    created = not run_dir.exists()
    fd = _acquire(run_dir / LOCK)
    _held.add(fd)
    try:
        last = _read(fd)
        if last:
            warnings.warn(f"the last training of {run_dir} ({_describe(last)}) ended without stopping cleanly "
                          "(killed or crashed); its lock went with it", StaleLockWarning, stacklevel=3)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                  "since": time.strftime("%Y-%m-%d %H:%M:%S %Z")}).encode(), 0)
        yield
    finally:
        os.ftruncate(fd, 0)  # a clean end: the next holder finds no text, so no warning
        if created and os.listdir(run_dir) == [LOCK]:  # still held, so no other training is about to write here
            (run_dir / LOCK).unlink()
            run_dir.rmdir()
        _held.discard(fd)
        os.close(fd)


def busy(run_dir: str | Path) -> str | None:
    """The message :func:`hold` would raise for ``run_dir`` now, or None when no one holds its lock (a probe that
    creates nothing and changes nothing)."""
    try:
        fd = os.open(Path(run_dir) / LOCK, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # conflicts with a holder's exclusive lock only
        return None
    except BlockingIOError:
        return _busy_message(Path(run_dir), _read(fd))
    finally:
        os.close(fd)  # also releases the probe's shared lock


def _acquire(path: Path) -> int:
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise BusyError(_busy_message(path.parent, holder)) from None
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # the holder we waited on removed this file with its empty folder (see hold): take a new one


def _read(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:  # written by a holder that was killed mid-write, or is writing it right now
        return {"pid": "?"}


def _describe(holder: dict) -> str:
    return f"PID {holder.get('pid', '?')} on {holder.get('host', '?')} since {holder.get('since', '?')}"


def _busy_message(run_dir: Path, holder: dict) -> str:
    who = _describe(holder) if holder.get("host") else "another process"  # it has not written its name yet
    return f"{run_dir} is being trained by {who}; wait for it or stop it"
