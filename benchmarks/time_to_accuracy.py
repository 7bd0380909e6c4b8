"""Categorical accuracy against wall-clock training time, per trainer variant and seed.

    python benchmarks/time_to_accuracy.py [--variants fp32:10 bf16:5] [--seeds 0 1 2] [--marks 1 2 5 10]

Each variant (``precision:minutes``) trains the MNIST preset on the bundled digits for its minutes;
at each time mark the model is copied aside (a few ms, inside the timed loop), and after training
every copy is scored: Q's argmax of cat0 on the evaluation data, mapped to labels by the Hungarian
algorithm. Runs alternate between variants (A B A B), seed by seed. Prints one table last and
appends one JSON line per run to --results.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch
from common import add_machine_args, setup

from infogan.config import preset
from infogan.data import load_dataset
from infogan.metrics import cluster_score
from infogan.train import Hook, Trainer


class Snapshots(Hook):
    """Copies of G and D/Q when training time passes each mark (seconds)."""

    def __init__(self, marks: list[float]):
        self.pending = sorted(marks)
        self.taken: list[tuple[float, int, dict, dict]] = []

    def after_step(self, trainer: Trainer, out) -> None:
        while self.pending and trainer.elapsed >= self.pending[0]:
            m = trainer.model
            self.taken.append((self.pending.pop(0), trainer.step, copy.deepcopy(m.generator.state_dict()),
                               copy.deepcopy(m.discriminator.state_dict())))


def accuracy(trainer: Trainer, discriminator_state: dict, data) -> float:
    model = trainer.model
    model.discriminator.load_state_dict(discriminator_state)
    code = next(c for c in model.spec.codes if c.categorical)
    pred = model.spec.point_estimate(model.encode(data.images))[code.name].numpy()
    labels = data.labels.numpy()
    return cluster_score(pred, labels, code.k, int(labels.max()) + 1).accuracy


def run(precision: str, minutes: float, seed: int, marks: list[float], data, eval_data, batch_size: int | None,
        device: str) -> dict:
    cfg = preset("mnist")
    cfg.train.seed, cfg.train.precision, cfg.train.device = seed, precision, device
    if batch_size:
        cfg.optim.batch_size = batch_size
    trainer = Trainer(cfg, data, device)
    snaps = Snapshots([m * 60 for m in marks if m <= minutes])
    trainer.fit(seconds=minutes * 60, hooks=[snaps])
    scores = {f"{mark / 60:g}": {"step": step, "accuracy": accuracy(trainer, d, eval_data)}
              for mark, step, _, d in snaps.taken}
    return {"variant": precision, "minutes": minutes, "seed": seed, "batch": cfg.optim.batch_size,
            "steps": trainer.step, "marks": scores}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="+", default=["fp32:10", "bf16:5"], help="PRECISION:MINUTES")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--marks", type=float, nargs="+", default=[1, 2, 5, 10], help="minutes")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--eval-data", default="bundled", help="dataset spec to score on (e.g. mnist with --eval-data-dir)")
    p.add_argument("--eval-data-dir")
    p.add_argument("--eval-split", default="train")
    add_machine_args(p, "time_to_accuracy.jsonl")
    args = p.parse_args()
    data = setup(args)
    variants = [(v.split(":")[0], float(v.split(":")[1])) for v in args.variants]
    eval_data = load_dataset(args.eval_data, args.eval_data_dir, args.eval_split)
    rows = []
    for seed in args.seeds:
        for precision, minutes in variants:
            t0 = time.perf_counter()
            row = run(precision, minutes, seed, args.marks, data, eval_data, args.batch_size, args.device)
            row.update(time=time.strftime("%Y-%m-%dT%H:%M:%S"), eval_data=eval_data.name, threads=torch.get_num_threads(),
                       device=args.device, torch=torch.__version__, wall_s=round(time.perf_counter() - t0, 1))
            rows.append(row)
            with args.results.open("a") as f:
                f.write(json.dumps(row) + "\n")
            got = "  ".join(f"{m} min: {s['accuracy']:.2%} (step {s['step']})" for m, s in row["marks"].items())
            print(f"{precision} seed {seed}: {got}", flush=True)

    marks = [f"{m:g}" for m in args.marks]
    print(f"\naccuracy of cat0 on {eval_data.name} ({len(eval_data)} images) after N minutes of training")
    print(f"{'variant':<8} {'seed':>6} " + " ".join(f"{m + ' min':>10}" for m in marks) + f" {'img/s':>7}")
    for precision, minutes in variants:
        mine = [r for r in rows if r["variant"] == precision and r["minutes"] == minutes]
        for r in mine + [None]:
            cells = []
            for m in marks:
                accs = [x["marks"][m]["accuracy"] for x in ([r] if r else mine) if m in x["marks"]]
                cells.append(f"{statistics.median(accs):>10.2%}" if accs else f"{'-':>10}")
            rate = statistics.median([x["steps"] * x["batch"] / (x["minutes"] * 60) for x in ([r] if r else mine)])
            print(f"{precision:<8} {str(r['seed']) if r else 'median':>6} " + " ".join(cells) + f" {rate:>7.0f}")


if __name__ == "__main__":
    main()
