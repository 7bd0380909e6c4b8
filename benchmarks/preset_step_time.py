"""Training step time of the presets beyond digits (dSprites, InfoGAN-CR on dSprites, the shapes3d scene) by batch
size and precision: what a CPU affords of the long runs these experiments need, and what to expect of a GPU.

    python benchmarks/preset_step_time.py [--presets dsprites dsprites-cr shapes3d] [--batch-sizes 64 128]
        [--precisions fp32 bf16] [--seconds 6] [--device cpu]

Each preset trains on 2,048 of its own images (rendered here; the step does not depend on how many). Settings run
in alternation over --rounds and each figure is the median, since a shared machine is noisy. Prints one table
(ms per step, images per second, steps per hour, hours for InfoGAN-CR's 320,000 steps at batch 64) and appends one
JSON line per setting to --results. The networks run NHWC (channels_last), as in training.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch
from common import add_machine_args, apply_machine_args, seconds_per_step

from infogan.config import preset
from infogan.data import load_dataset
from infogan.distributed import resolve_device
from infogan.train import Trainer

CR_STEPS = 320_000  # InfoGAN-CR's training on dSprites (Lin et al. 2020), batch 64


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", nargs="+", default=["dsprites", "dsprites-cr", "shapes3d"])
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128])
    p.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--seconds", type=float, default=6.0, help="timed seconds per setting per round")
    add_machine_args(p, "preset_step_time.jsonl")
    args = p.parse_args()
    apply_machine_args(args)
    device = resolve_device(args.device)

    trainers = {}
    for name in args.presets:
        cfg = preset(name)
        data = load_dataset(cfg.data.name.split(":")[0], n=2048)
        for bs in args.batch_sizes:
            for precision in args.precisions:
                cfg.optim.batch_size, cfg.train.precision, cfg.train.device = bs, precision, str(device)
                trainers[name, bs, precision] = Trainer(cfg, data, device)
    times: dict[tuple, list[float]] = {key: [] for key in trainers}
    for r in range(args.rounds):
        for key, trainer in trainers.items():
            times[key].append(seconds_per_step(trainer.train_step, device, args.seconds))
            print(f"  round {r + 1}/{args.rounds} {key[0]} batch {key[1]} {key[2]}: {times[key][-1] * 1e3:.0f} ms/step",
                  flush=True)

    meta = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "device": str(device), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "cpu": platform.processor() or platform.machine()}
    if device.type == "cuda":
        meta["card"] = torch.cuda.get_device_name(device)
    print(f"\n{'preset':<13} {'batch':>5} {'precision':>9} {'ms/step':>8} {'img/s':>7} {'steps/h':>8} "
          f"{'320k steps':>10}")
    with args.results.open("a") as f:
        for (name, bs, precision), ts in times.items():
            s = statistics.median(ts)
            row = {"preset": name, "batch": bs, "precision": precision, "ms_per_step": s * 1e3, "img_per_s": bs / s,
                   "rounds": args.rounds}
            f.write(json.dumps({**meta, **row}) + "\n")
            print(f"{name:<13} {bs:>5} {precision:>9} {s * 1e3:>8.1f} {bs / s:>7.0f} {3600 / s:>8.0f} "
                  f"{CR_STEPS * 64 / bs * s / 3600:>9.1f}h")
    print(f"\n({meta['cpu']}, {meta['threads']} threads, torch {meta['torch']}, {device}; 320k steps: InfoGAN-CR's "
          "dSprites training at batch 64, the same images at this batch size)")


if __name__ == "__main__":
    main()
