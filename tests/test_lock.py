"""One writer per run directory (infogan.lock): a second writer is refused with one line and changes nothing, a
killed writer's lock never blocks, and readers, which take no lock, never see a torn checkpoint."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import warnings

from infogan.cli import main
from infogan.lock import LOCK, busy
from infogan.runs import RunDir


def _files(folder):
    """Every file under ``folder`` with its bytes: what a second writer must leave as it was."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _busy_line(run, pid):
    """The one line a second writer gets, with the holder's start time read from its lock file."""
    message = busy(run)
    assert message is not None and f" by PID {pid} on {socket.gethostname()} since " in message
    return message


def _training(tiny_config, tmp_path, **train):
    """``infogan train`` of the tiny config in a process of its own, with a checkpoint at every step (no figures),
    on until killed; returns it with its run directory once it has saved its first checkpoint."""
    tiny_config.train.steps = 100_000
    tiny_config.train.checkpoint_every, tiny_config.train.sample_every = 1, 100_000
    for key, value in train.items():
        setattr(tiny_config.train, key, value)
    tiny_config.save(tmp_path / "tiny.toml")
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "infogan", "train", "--config", str(tmp_path / "tiny.toml"),
                             "--out", str(run), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not RunDir(run).checkpoints():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.1)
    return proc, run


def test_a_second_writer_exits_1_at_once_with_one_line_and_changes_nothing(trained_run, tmp_path, lock_holder, capsys):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    holder = lock_holder(run)
    line = _busy_line(run, holder.pid)
    assert line.endswith("; wait for it or stop it") and line.startswith(f"{run} is being trained by PID")
    before = _files(run)
    for argv in (["--resume", "--steps", "4"], ["--steps", "4"], ["--resume", "--steps", "4", "--lambda-cat", "3"]):
        t0 = time.perf_counter()
        assert main(["train", "--out", str(run), "--quiet", *argv]) == 1
        assert time.perf_counter() - t0 < 5  # at once: before the data, the networks or the checkpoint are read
        assert capsys.readouterr().err == f"infogan train: error: {line}\n"
    assert _files(run) == before


def test_a_training_holds_the_lock_and_a_sigkill_leaves_none_that_blocks(tiny_config, tmp_path, capsys):
    proc, run = _training(tiny_config, tmp_path)
    try:
        line = _busy_line(run, proc.pid)
        assert main(["train", "--resume", "--out", str(run), "--steps", "1000", "--quiet"]) == 1
        assert capsys.readouterr().err == f"infogan train: error: {line}\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert busy(run) is None  # the kernel dropped the lock with its holder
    step = RunDir(run).load_latest().step
    assert main(["train", "--resume", "--out", str(run), "--steps", str(step + 1), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert out == f"done at step {step + 1}; run directory: {run}\n"
    since = line.split(" since ")[1].split(";")[0]
    assert err == (f"infogan train: warning: the last training of {run} (PID {proc.pid} on {socket.gethostname()} "
                   f"since {since}) ended without stopping cleanly (killed or crashed); its lock went with it\n")
    assert busy(run) is None and (run / LOCK).read_bytes() == b""  # a clean end: the next run gets no warning


def test_the_lock_dies_with_its_holder_even_when_a_forked_child_lives_on(tmp_path):
    """A data-loading worker forked by a training inherits the lock's descriptor; killing the training must still
    free the directory while the orphaned worker lives."""
    script = textwrap.dedent("""
        import os, sys, time
        from infogan.lock import hold
        with hold(sys.argv[1]):
            child = os.fork()
            if child == 0:
                time.sleep(60)
                os._exit(0)
            print(child, flush=True)
            time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    try:
        assert busy(tmp_path) is not None
        parent.kill()
        parent.wait()
        os.kill(child, 0)  # still alive
        assert busy(tmp_path) is None
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_reader_beside_a_training_never_sees_a_torn_checkpoint(tiny_config, tmp_path):
    """Readers take no lock: while a training saves a checkpoint at every step and deletes the one before
    (keep_checkpoints 1), each read gets a whole, verified checkpoint, never a torn or vanished file."""
    proc, run = _training(tiny_config, tmp_path, keep_checkpoints=1)
    steps = []
    deadline = time.monotonic() + 120
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a skipped torn checkpoint warns
            while len(set(steps)) < 3:  # reading in a loop through two saves
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
                steps.append(RunDir(run).load_latest().step)
    finally:
        proc.kill()
        proc.wait()
    assert steps == sorted(steps) and len(steps) > 3, steps


def test_a_folder_made_for_a_training_that_failed_before_writing_is_removed(tmp_path, capsys):
    assert main(["train", "--data", "mnist", "--out", str(tmp_path / "run"), "--quiet"]) == 1
    assert "needs --data-dir" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no empty run directory holding only its lock file


def test_readers_need_no_lock(trained_run, tmp_path, lock_holder, capsys):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    lock_holder(run)
    assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert capsys.readouterr().err == "" and (tmp_path / "s.png").is_file()
