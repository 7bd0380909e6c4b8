"""Train the digit classifier behind FD-digits and write its weights into the package.

    python scripts/train_digit_classifier.py [--epochs 6] [--lr 0.005] [--seed 0] [--out FILE]

Trains on the bundled digits minus the held-out split (100 per class, fixed seed; see
infogan.metrics.digit_classifier.held_out_split), with random shifts of up to 2 pixels, on the
CPU, and stores the held-out accuracy, the data hashes and this command in the file's metadata.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from infogan.data.bundled import IMAGES_SHA256, LABELS_SHA256, load_bundled
from infogan.metrics.digit_classifier import (
    WEIGHTS,
    DigitClassifier,
    TrainedClassifier,
    held_out_split,
    save_classifier,
)


def shift(x: torch.Tensor, max_px: int, gen: torch.Generator) -> torch.Tensor:
    """Each image moved by a random whole number of pixels in [-max_px, max_px] per axis, zero-filled."""
    n, _, h, w = x.shape
    d = torch.randint(-max_px, max_px + 1, (n, 2), generator=gen).float()
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2], theta[:, 1, 2] = -2 * d[:, 0] / w, -2 * d[:, 1] / h
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.005)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=WEIGHTS)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)

    images, labels = load_bundled()
    train_idx, held_idx = held_out_split(labels)
    x = torch.from_numpy(images).unsqueeze(1).float() / 255.0
    y = torch.from_numpy(labels)
    net = DigitClassifier()
    steps_per_epoch = len(train_idx) // args.batch_size
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.epochs * steps_per_epoch)
    train_idx_t = torch.from_numpy(train_idx)
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        net.train()
        order = train_idx_t[torch.randperm(len(train_idx_t), generator=gen)]
        for i in range(steps_per_epoch):
            idx = order[i * args.batch_size : (i + 1) * args.batch_size]
            loss = F.cross_entropy(net(shift(x[idx], 2, gen)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        acc = held_out_accuracy(net, x, labels, held_idx)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}  held-out accuracy {acc * 100:.2f}%"
              f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    seconds = time.perf_counter() - t0
    meta = {
        "held_out_accuracy": f"{acc:.4f}",
        "held_out": str(len(held_idx)),
        "data": "bundled",
        "images_sha256": IMAGES_SHA256,
        "labels_sha256": LABELS_SHA256,
        "command": shlex.join(["python", "scripts/train_digit_classifier.py", *sys.argv[1:]]),
        "train_seconds": f"{seconds:.0f}",
        "torch": torch.__version__,
    }
    save_classifier(net, meta, args.out)
    print(f"held-out accuracy {acc * 100:.2f}% on {len(held_idx)} digits after {seconds:.0f} s; wrote {args.out}")
    return 0


def held_out_accuracy(net: DigitClassifier, x: torch.Tensor, labels: np.ndarray, held_idx: np.ndarray) -> float:
    probs = TrainedClassifier(net, {}).embed(x[torch.from_numpy(held_idx)]).probs
    return float((probs.argmax(1) == labels[held_idx]).mean())


if __name__ == "__main__":
    sys.exit(main())
