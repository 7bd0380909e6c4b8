"""Categorical accuracy against wall-clock training time, per trainer variant and seed.

    python benchmarks/time_to_accuracy.py [--variants fp32:10 bf16:5] [--seeds 0 1 2] [--marks 1 2 5 10]

Each variant (``precision:minutes``, optionally ``:SECTION.KEY=VALUE,...`` config overrides, e.g.
``bf16:5:optim.batch_size=64,optim.lr_d=4e-4``) trains the MNIST preset on the bundled digits for its
minutes; at each time mark the model is copied aside (a few ms, inside the timed loop), and after training
every copy is scored: Q's argmax of cat0 on the evaluation data, mapped to labels by the Hungarian
algorithm, and, label-free, the mean entropy H(cat0|x) of Q's posterior on those images (lower: more
confident). Runs alternate between variants (A B A B), seed by seed. Prints one table last and appends one
JSON line per run to --results.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch
from common import add_machine_args, setup

from infogan.config import apply_overrides, parse_overrides, preset
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


def scores(trainer: Trainer, discriminator_state: dict, data) -> dict[str, float]:
    model = trainer.model
    model.discriminator.load_state_dict(discriminator_state)
    code = next(c for c in model.spec.codes if c.categorical)
    logits = model.spec.split_q(model.encode(data.images))[code.name].logits.float()
    labels = data.labels.numpy()
    accuracy = cluster_score(logits.argmax(1).numpy(), labels, code.k, int(labels.max()) + 1).accuracy
    entropy = -(logits.softmax(1) * logits.log_softmax(1)).sum(1).mean()
    return {"accuracy": accuracy, "h_c_given_x": round(float(entropy), 4)}


def run(variant: str, minutes: float, overrides: dict, seed: int, marks: list[float], data, eval_data,
        batch_size: int | None, device: str) -> dict:
    cfg = apply_overrides(preset("mnist"), overrides)
    cfg.train.seed, cfg.train.precision, cfg.train.device = seed, variant.split(":")[0], device
    if batch_size:
        cfg.optim.batch_size = batch_size
    trainer = Trainer(cfg, data, device)
    snaps = Snapshots([m * 60 for m in marks if m <= minutes])
    trainer.fit(seconds=minutes * 60, hooks=[snaps])
    at_marks = {f"{mark / 60:g}": {"step": step, **scores(trainer, d, eval_data)} for mark, step, _, d in snaps.taken}
    return {"variant": variant, "minutes": minutes, "overrides": overrides, "seed": seed,
            "batch": cfg.optim.batch_size, "steps": trainer.step, "marks": at_marks}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="+", default=["fp32:10", "bf16:5"],
                   help="PRECISION:MINUTES[:SECTION.KEY=VALUE,...]")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--marks", type=float, nargs="+", default=[1, 2, 5, 10], help="minutes")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--eval-data", default="bundled", help="dataset spec to score on (e.g. mnist with --eval-data-dir)")
    p.add_argument("--eval-data-dir")
    p.add_argument("--eval-split", default="train")
    add_machine_args(p, "time_to_accuracy.jsonl")
    args = p.parse_args()
    data = setup(args)
    variants = []
    for v in args.variants:
        precision, minutes, *rest = v.split(":", 2)
        overrides = parse_overrides(rest[0].split(",") if rest else [])
        variants.append((f"{precision}:{rest[0]}" if rest else precision, float(minutes), overrides))
    eval_data = load_dataset(args.eval_data, args.eval_data_dir, args.eval_split)
    rows = []
    for seed in args.seeds:
        for variant, minutes, overrides in variants:
            t0 = time.perf_counter()
            row = run(variant, minutes, overrides, seed, args.marks, data, eval_data, args.batch_size, args.device)
            row.update(time=time.strftime("%Y-%m-%dT%H:%M:%S"), eval_data=eval_data.name, threads=torch.get_num_threads(),
                       device=args.device, torch=torch.__version__, wall_s=round(time.perf_counter() - t0, 1))
            rows.append(row)
            with args.results.open("a") as f:
                f.write(json.dumps(row) + "\n")
            got = "  ".join(f"{m} min: {s['accuracy']:.2%} (step {s['step']}, H(c|x) {s['h_c_given_x']:.3f})"
                            for m, s in row["marks"].items())
            print(f"{variant} seed {seed}: {got}", flush=True)

    marks = [f"{m:g}" for m in args.marks]
    print(f"\naccuracy of cat0 on {eval_data.name} ({len(eval_data)} images) after N minutes of training")
    width = max(8, *(len(v) for v, _, _ in variants))
    print(f"{'variant':<{width}} {'seed':>6} " + " ".join(f"{m + ' min':>10}" for m in marks) + f" {'img/s':>7}")
    for variant, minutes, _ in variants:
        mine = [r for r in rows if r["variant"] == variant and r["minutes"] == minutes]
        for r in mine + [None]:
            cells = []
            for m in marks:
                accs = [x["marks"][m]["accuracy"] for x in ([r] if r else mine) if m in x["marks"]]
                cells.append(f"{statistics.median(accs):>10.2%}" if accs else f"{'-':>10}")
            rate = statistics.median([x["steps"] * x["batch"] / (x["minutes"] * 60) for x in ([r] if r else mine)])
            print(f"{variant:<{width}} {str(r['seed']) if r else 'median':>6} " + " ".join(cells) + f" {rate:>7.0f}")


if __name__ == "__main__":
    main()
