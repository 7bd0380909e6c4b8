"""Label-free selection among several short starts of one run (``train.starts``).

Which digits a categorical code merges is settled early in training and rarely undone later: a seed
that merges 4 and 9 after a few hundred steps still merges them at the end. So a run may begin with
``starts`` short trainings from different initialisations, ``start_steps`` steps each, score each by
the stability of its categorical code on real images (:mod:`infogan.metrics.stability`: no labels),
and go on with the most stable one. Start 0 uses the run's own seed; start i a seed derived from it.
``starts.json`` in the run directory records every start's seed and scores, and each start's losses
are kept in ``starts/start-I/metrics.jsonl``; the chosen start's are copied into ``metrics.jsonl``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from collections.abc import Callable

import torch

from .config import Config
from .data import ImageData, ImageFiles
from .distributed import World
from .errors import ConfigError
from .files import atomic_write_bytes
from .metrics.stability import code_stability, stability_images
from .runs import RunDir
from .train import Trainer


def start_seed(seed: int, start: int) -> int:
    """The seed of start ``start`` of a run seeded ``seed``: the run's own for start 0, else one derived from both,
    so that no two (seed, start) pairs of a sweep share initial weights."""
    if start == 0:
        return seed
    return int.from_bytes(hashlib.sha256(f"infogan-start:{seed}:{start}".encode()).digest()[:4], "little") >> 1


def check_starts(config: Config, world: World) -> None:
    """Refuse what selection cannot do, before any training."""
    if config.train.starts <= 1:
        return
    if not any(c.categorical for c in config.latent.spec().codes):
        raise ConfigError("train.starts > 1 scores each start by its categorical code, and this config has none; "
                          "set train.starts = 1")
    if world.size > 1:
        raise ConfigError("train.starts > 1 is not supported under torchrun yet; set train.starts = 1")


def choose_start(
    config: Config,
    data: ImageData | ImageFiles,
    device: torch.device,
    run: RunDir,
    fit_start: Callable[[Trainer, RunDir, int], None],
) -> Trainer:
    """Train ``config.train.starts`` starts for ``config.train.start_steps`` steps each and return the trainer of
    the one whose first categorical code is most stable on real images (ties: the earlier start).

    ``fit_start(trainer, start_run, start)`` trains one start (with its own metrics log in ``start_run``). A stop
    request (Ctrl-C) during a start drops that start and returns the best finished one, still asked to stop, or
    the stopped start itself when none has finished. The returned trainer carries ``config`` itself (the run's
    seed), so its checkpoints resume as the run."""
    t = config.train
    images = stability_images(data)  # the same images, whatever the start
    code = next(c for c in config.latent.spec().codes if c.categorical).name
    records: list[dict] = []
    best: Trainer | None = None
    chosen = 0
    for i in range(t.starts):
        cfg = copy.deepcopy(config)
        cfg.train.seed = start_seed(t.seed, i)
        trainer = Trainer(cfg, data, device)
        start_run = RunDir(run.path / "starts" / f"start-{i}")
        start_run.path.mkdir(parents=True, exist_ok=True)
        start_run.metrics_path.unlink(missing_ok=True)  # left by an earlier, killed attempt at this run
        fit_start(trainer, start_run, i)
        if trainer.stop_requested:
            if best is None:
                best, chosen = trainer, i
            else:
                trainer.real.close()
                best.stop_requested = True
            break
        stability = code_stability(trainer.model, images)[code]
        records.append({"start": i, "seed": cfg.train.seed, "step": trainer.step,
                        "kept": round(stability.kept, 5), "entropy": round(stability.entropy, 5)})
        if best is None or stability.kept > max(r["kept"] for r in records[:-1]):
            if best is not None:
                best.real.close()
            best, chosen = trainer, i
        else:
            trainer.real.close()
    atomic_write_bytes(run.path / "starts.json", json.dumps(
        {"chosen": chosen, "code": code, "score": "kept: share of real images whose value of the code survives "
         "small random moves; entropy: mean H(c|x) in nats", "starts": records}, indent=1).encode())
    chosen_log = run.path / "starts" / f"start-{chosen}" / "metrics.jsonl"
    if chosen_log.exists():  # absent only for a start stopped before its first step
        shutil.copyfile(chosen_log, run.metrics_path)
    best.config = best.model.config = config
    return best
