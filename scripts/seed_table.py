"""The results table of a `scripts/demo_seeds.sh` run: one row per seed (its starts' stability, steps, wall time of
train + evaluate + report, accuracy, NMI, stability, L_I(cat0), FD-digits, diagnosis), then the median and the worst.
Where the runs were also evaluated on held-out digits (`infogan evaluate RUN --data mnist --split test ...`, saved as
`evaluation-mnist-test.json`), two more columns: the accuracy and the diagnosis on them.

    python scripts/seed_table.py runs/test-seeds [--shared SEED...]

``--shared``: seeds whose wall time was measured while other work shared the CPU; marked, and left out of the
median and the longest time.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

HELD_OUT = "evaluation-mnist-test.json"


def main() -> None:
    out = Path(sys.argv[1])
    shared = {int(s) for s in sys.argv[3:]} if sys.argv[2:3] == ["--shared"] else set()
    walls = {r["seed"]: r for r in map(json.loads, (out / "wall.jsonl").read_text().splitlines())}
    held = {seed: out / f"seed-{seed}" / HELD_OUT for seed in walls}
    held = {seed: json.loads(path.read_text()) for seed, path in held.items() if path.is_file()}
    extra = " held-out accuracy | held-out diagnosis |" if held else ""
    print("| seed | stability of each start at step 1,000 (kept in bold) | steps (all starts) | wall time | accuracy | NMI "
          "| stability | L_I(cat0) | FD-digits | diagnosis |" + extra)
    print("|" + " --- |" * (10 + 2 * bool(held)))
    acc, wall, held_acc = [], [], []
    for seed in sorted(walls):
        run = out / f"seed-{seed}"
        ev = json.loads((run / "evaluation.json").read_text())
        starts_path = run / "starts.json"
        if starts_path.exists():
            starts = json.loads(starts_path.read_text())
            kept = " / ".join(f"**{s['kept']:.3f}**" if s["start"] == starts["chosen"] else f"{s['kept']:.3f}"
                              for s in starts["starts"])
        else:
            kept = "one start"
        steps = int(ev["step"]) + sum(s["step"] for s in starts["starts"] if s["start"] != starts["chosen"]) \
            if starts_path.exists() else int(ev["step"])
        acc.append(ev["accuracy"])
        if seed not in shared:
            wall.append(walls[seed]["wall_s"])
        mark = " (shared CPU)" if seed in shared else ""
        print(f"| {seed} | {kept} | {steps:,} | {walls[seed]['wall_s'] / 60:.1f} min{mark} | {ev['accuracy']:.2%} "
              f"| {ev['nmi']:.3f} | {ev['stability']['cat0']['kept']:.1%} | {ev['mi']['cat0']:.3f} "
              f"| {ev['fd_digits']:.2f} | {ev['diagnosis_line']} |" + _held_out(held.get(seed), held_acc, bool(held)))
    median_held = f" **{statistics.median(held_acc):.2%}** | |" if held_acc else ""
    worst_held = f" **{min(held_acc):.2%}** | |" if held_acc else ""
    if wall:
        print(f"| **median** | | | {statistics.median(wall) / 60:.1f} min | **{statistics.median(acc):.2%}** | | | | | |"
              + median_held)
        print(f"| **worst** | | | {max(wall) / 60:.1f} min (longest) | **{min(acc):.2%}** | | | | | |" + worst_held)
    else:  # every wall time shared the CPU
        print(f"| **median** | | | | **{statistics.median(acc):.2%}** | | | | | |" + median_held)
        print(f"| **worst** | | | | **{min(acc):.2%}** | | | | | |" + worst_held)


def _held_out(ev: dict | None, accs: list[float], wanted: bool) -> str:
    if not wanted:
        return ""
    if ev is None:
        return " | |"
    accs.append(ev["accuracy"])
    return f" {ev['accuracy']:.2%} | {ev['diagnosis_line']} |"


if __name__ == "__main__":
    main()
