"""Kill test: SIGKILL a training run at random moments, resume it each time, and check that it
ends bit-identical to an uninterrupted run of the same length: the two `infogan export --format
safetensors` files are byte-identical, and so is every tensor of the final checkpoints
(weights, Adam moments, RNG and data-order states).

    python scripts/kill_test.py --kills 20 --steps 80 [--workdir DIR] [--seed S] [--nproc N]

``--nproc N`` runs every training as a torchrun job of N CPU ranks and kills the launcher and all its
workers at once, as a power loss would. Prints one line per kill and a final verdict; exits 1 if any
tensor differs.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from infogan.config import preset
from infogan.runs import RunDir


def train_cmd(run: Path, config: Path, steps: int, nproc: int) -> list[str]:
    launch = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"] if nproc > 1 else []
    base = [sys.executable, *launch, "-m", "infogan", "train", "--out", str(run), "--steps", str(steps), "--quiet",
            "--deterministic"]
    if RunDir(run).checkpoints():
        return base + ["--resume"]
    return base + ["--config", str(config)]


def kill_all(pid: int) -> None:
    """SIGKILL a process and its children (torchrun starts each worker in a session of its own)."""
    kids = [int(k) for f in Path(f"/proc/{pid}/task").glob("*/children") for k in f.read_text().split()]
    for p in (pid, *kids):
        os.kill(p, signal.SIGKILL)


def final_state(run: Path) -> tuple[int, dict[str, torch.Tensor], bytes]:
    ck = RunDir(run).load_latest()
    export = run.with_suffix(".safetensors")
    subprocess.run([sys.executable, "-m", "infogan", "export", str(run), "--format", "safetensors", "--out", str(export)],
                   check=True, stdout=subprocess.DEVNULL)
    return ck.step, ck.tensors, export.read_bytes()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--steps", type=int, default=80)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", type=Path)
    p.add_argument("--nproc", type=int, default=1, help="ranks per training (torchrun, CPU)")
    args = p.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="infogan-kill-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cfg = preset("mnist")
    cfg.optim.batch_size = 32
    cfg.train.seed = args.seed
    cfg.train.minutes = 0
    cfg.train.log_every, cfg.train.sample_every, cfg.train.checkpoint_every = 1, 25, 3
    cfg.save(work / "config.toml")

    ref, victim = work / "reference", work / "victim"
    t0 = time.perf_counter()
    subprocess.run(train_cmd(ref, work / "config.toml", args.steps, args.nproc), check=True, stdout=subprocess.DEVNULL)
    run_s = time.perf_counter() - t0
    rng = random.Random(args.seed)
    ref_state = final_state(ref)
    kills, verdicts = 0, []

    def finish_and_compare() -> None:
        (ref_step, a, ref_export), (step, b, export) = ref_state, final_state(victim)
        differ = [k for k in a.keys() | b.keys() if k not in a or k not in b or not torch.equal(a[k], b[k])]
        verdicts.append(step == ref_step == args.steps and not differ and export == ref_export)
        if differ:
            print(f"run {len(verdicts)}: differing tensors: {', '.join(sorted(differ)[:5])}", file=sys.stderr)
        if export != ref_export:
            print(f"run {len(verdicts)}: the exported models differ", file=sys.stderr)
        shutil.rmtree(victim)

    while kills < args.kills:
        proc = subprocess.Popen(train_cmd(victim, work / "config.toml", args.steps, args.nproc), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.3, run_s))
        if proc.poll() is not None:  # this run reached its end before the next kill: check it, start another
            if proc.returncode != 0:
                print(proc.stderr.read().decode().strip(), file=sys.stderr)
                return 1
            finish_and_compare()
            continue
        kill_all(proc.pid)
        proc.wait()
        kills += 1
        done = [c.name for c in RunDir(victim).checkpoints()]
        print(f"kill {kills}/{args.kills}: newest checkpoint {done[-1] if done else 'none'}", flush=True)
    subprocess.run(train_cmd(victim, work / "config.toml", args.steps, args.nproc), check=True, stdout=subprocess.DEVNULL)
    finish_and_compare()
    ok = all(verdicts)
    print(f"{kills} kills over {len(verdicts)} runs of {args.steps} steps, each kill followed by a resume; "
          f"{sum(verdicts)}/{len(verdicts)} runs ended with a byte-identical exported model and all {len(ref_state[1])} "
          f"checkpoint tensors (weights, Adam moments, RNG states) bit-identical to the uninterrupted run: "
          f"{'yes' if ok else 'NO'}")
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())
