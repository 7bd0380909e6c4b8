"""How early a merged-digit seed shows: label-free stability and (label-based) accuracy of cat0 during training.

    python scripts/stability_over_steps.py 3:1500 4:1000 0:1000 1:1000 [--every 250] [--out FILE.jsonl]
        [--set SECTION.KEY=VALUE ...]
    python scripts/stability_over_steps.py 0:750:0 0:750:1 0:750:2 0:750:3 --every 750   # the 4 starts of seed 0

Trains the MNIST preset (one start, as ``Trainer`` alone does) on the bundled digits for each SEED:STEPS (SEED:STEPS:I:
start I of a run seeded SEED, as ``train.starts`` trains it) and every
``--every`` steps prints one JSON line: the seed, the step, the stability of cat0 on the 10,000 digits (kept: share of
images whose value survives small random moves; entropy: mean H(cat0|x)) and the Hungarian-matched accuracy. The
evaluation runs in eval mode and draws from its own generator, so the training is the one a run of that seed trains.
This is the measurement behind ``train.start_steps``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from infogan.config import apply_overrides, parse_overrides, preset
from infogan.data import load_dataset
from infogan.metrics import cluster_score
from infogan.metrics.diagnosis import diagnose
from infogan.metrics.stability import code_stability
from infogan.starts import start_seed
from infogan.train import Hook, Trainer


class Probe(Hook):
    def __init__(self, every: int, data, out: Path | None, overrides: list[str]):
        self.every, self.data, self.out, self.overrides = every, data, out, " ".join(overrides)

    def after_step(self, trainer: Trainer, out) -> None:
        model, images = trainer.model, self.data.images
        stability = code_stability(model, images)["cat0"]
        logits = model.spec.split_q(model.encode(images))["cat0"].logits
        labels = self.data.labels.numpy()
        score = cluster_score(logits.argmax(1).numpy(), labels, 10, 10)
        row = {"seed": trainer.config.train.seed, "overrides": self.overrides, "step": trainer.step, "kept": round(stability.kept, 4),
               "entropy": round(stability.entropy, 4), "accuracy": score.accuracy,
               "diagnosis": diagnose(score.confusion).line("cat0")}
        print(json.dumps(row), flush=True)
        if self.out:
            with self.out.open("a") as f:
                f.write(json.dumps(row) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", help="SEED:STEPS or SEED:STEPS:START")
    p.add_argument("--every", type=int, default=250)
    p.add_argument("--out", type=Path)
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="config overrides")
    args = p.parse_args()
    data = load_dataset("bundled")
    for spec in args.runs:
        seed, steps, start = (list(map(int, spec.split(":"))) + [0])[:3]
        cfg = preset("mnist")
        cfg = apply_overrides(cfg, {**parse_overrides(args.set), "train.seed": start_seed(seed, start)})
        Trainer(cfg, data).fit(steps=steps, hooks=[Probe(args.every, data, args.out, args.set)])


if __name__ == "__main__":
    main()
