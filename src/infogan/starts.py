"""Label-free selection among several short starts of one run (``train.starts``).

Which digits a categorical code merges is settled early in training and rarely undone later: a seed
that merges 4 and 9 after a few hundred steps still merges them at the end. So a run may begin with
``starts`` short trainings from different initialisations, ``start_steps`` steps each, and go on with
the one ``start_score`` prefers, without labels: by default the start whose categorical code is most
stable under small moves of the real images (:mod:`infogan.metrics.stability`), or the start whose
partition of the real images agrees best with the other starts' partitions, or the start whose codes, all
of them, agree best with the other starts' codes (:mod:`infogan.metrics.centrality`, the one score that
needs no categorical code). Start 0 uses the run's own seed; start i a seed derived from it.
``starts.json`` in the run directory records every start's seed and scores, and each start's losses
are kept in ``starts/start-I/metrics.jsonl``; the chosen start's are copied into ``metrics.jsonl``."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from collections.abc import Callable

import numpy as np
import torch

from .config import Config
from .data import ImageData, ImageFiles
from .distributed import ONE_PROCESS, World
from .errors import ConfigError
from .files import atomic_write_bytes
from .metrics.centrality import centrality
from .metrics.clustering import confusion_matrix, nmi
from .metrics.stability import code_stability, stability_images
from .runs import RunDir
from .train import Trainer


SCORES = {"kept": "share of real images whose value of the code survives small random moves",
          "entropy": "mean H(c|x) in nats",
          "agreement": "mean NMI of the start's partition of the real images with the other starts' partitions",
          "centrality": "mean FactorVAE agreement of the start's codes with the other starts' codes, each start's Q "
                        "reading the other's generated images both ways (ModelCentrality)"}


def start_seed(seed: int, start: int) -> int:
    """The seed of start ``start`` of a run seeded ``seed``: the run's own for start 0, else one derived from both,
    so that no two (seed, start) pairs of a sweep share initial weights."""
    if start == 0:
        return seed
    return int.from_bytes(hashlib.sha256(f"infogan-start:{seed}:{start}".encode()).digest()[:4], "little") >> 1


def check_starts(config: Config) -> None:
    """Refuse what selection cannot do, before any training."""
    t = config.train
    if t.starts == 1 or any(c.categorical for c in config.latent.spec().codes):
        return
    if t.start_score != "centrality":
        raise ConfigError(f"train.start_score = {t.start_score!r} scores each start by its categorical code, and this "
                          "config has none; set train.start_score = \"centrality\" or train.starts = 1")
    if t.start_enough > 0:
        raise ConfigError("train.start_enough is a stability, which needs a categorical code, and this config has "
                          "none; set train.start_enough = 0 (centrality compares every start)")
    if t.starts == 2:
        raise ConfigError("train.start_score = \"centrality\" cannot tell 2 starts apart (each is as central as the "
                          "other) and this config has no categorical code to fall back on; set train.starts >= 3")


def agreement(codes: list[np.ndarray], k: int) -> list[float]:
    """Each clustering's mean NMI with the others (code values of the same images, ``k`` values each)."""
    n = len(codes)
    pair = np.ones((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            pair[i, j] = pair[j, i] = nmi(confusion_matrix(codes[i], codes[j], k, k))
    return [float((pair[i].sum() - 1) / (n - 1)) if n > 1 else 0.0 for i in range(n)]


def pick(records: list[dict], score: str) -> int:
    """The index of the start to keep: the highest ``score`` ("agreement" and "centrality" compare a start with
    the others and need three starts to mean anything; with fewer, and on ties, the more stable start wins, where
    there is a categorical code; then the earlier)."""
    key = score if score in ("agreement", "centrality") and len(records) >= 3 else "kept"
    return max(range(len(records)), key=lambda i: (records[i].get(key, 0.0), records[i].get("kept", 0.0), -i))


def choose_start(
    config: Config,
    data: ImageData | ImageFiles,
    device: torch.device,
    run: RunDir,
    fit_start: Callable[[Trainer, RunDir | None, int], None],
    world: World = ONE_PROCESS,
) -> Trainer:
    """Train ``config.train.starts`` starts for ``config.train.start_steps`` steps each and return the trainer of
    the one ``config.train.start_score`` prefers (no labels either way):

    * ``"stability"``: the start whose categorical code best survives small moves of the real images.
    * ``"agreement"``: the start whose categorical code partitions the real images most like the other starts do
      (mean NMI). It finds the clean start when most starts are clean, and misses it when most merge alike.
    * ``"centrality"``: the start whose codes, all of them, agree best with the other starts' codes
      (:func:`infogan.metrics.centrality.centrality`, InfoGAN-CR's ModelCentrality). It needs no categorical code
      and no data.

    Where there is a categorical code, every start records its stability (and agreement). With
    ``train.start_enough`` > 0, a start whose stability reaches it ends the selection and is kept: the later
    starts are not trained. ``fit_start(trainer, start_run, start)`` trains one start (with its own metrics log in ``start_run``, None on
    the ranks of a torchrun job other than rank 0). Under torchrun every rank trains every start in step, rank 0
    scores them and every rank goes on with the start it chose. A stop
    request (Ctrl-C) during a start drops that start and returns the best finished one, still asked to stop, or
    the stopped start itself when none has finished. The returned trainer carries ``config`` itself (the run's
    seed), so its checkpoints resume as the run."""
    t = config.train
    main = world.is_main
    code = next((c for c in config.latent.spec().codes if c.categorical), None)  # none: scored by centrality alone
    images = stability_images(data) if main and code is not None else None  # the same images, whatever the start
    records: list[dict] = []
    finished: list[Trainer] = []
    codes: list[np.ndarray] = []
    stopped: Trainer | None = None
    enough = False  # a start reached train.start_enough: it is the one kept, whatever start_score prefers
    for i in range(t.starts):
        cfg = copy.deepcopy(config)
        cfg.train.seed = start_seed(t.seed, i)
        trainer = Trainer(cfg, data, device, world)
        start_run = RunDir(run.path / "starts" / f"start-{i}") if main else None
        if start_run is not None:
            start_run.path.mkdir(parents=True, exist_ok=True)
            start_run.metrics_path.unlink(missing_ok=True)  # left by an earlier, killed attempt at this run
        fit_start(trainer, start_run, i)
        if trainer.stop_requested:  # the same on every rank: the loop stops them together
            stopped = trainer
            break
        finished.append(trainer)
        if main:  # rank 0 alone scores: each rank's BatchNorm statistics are its own, and the choice must be one
            records.append({"start": i, "seed": cfg.train.seed, "step": trainer.step})
        if main and code is not None:
            stability = code_stability(trainer.model, images)[code.name]
            model = trainer.model
            codes.append(model.spec.point_estimate(model.encode(images))[code.name].numpy())
            records[-1].update(kept=round(stability.kept, 5), entropy=round(stability.entropy, 5))
        enough = bool(world.broadcast(int(main and 0 < t.start_enough <= records[-1]["kept"])))
        if enough:
            break  # stable enough: the starts not yet trained could only match it
    if code is not None:
        for record, value in zip(records, agreement(codes, code.k)):
            record["agreement"] = round(value, 5)
    if main and t.start_score == "centrality":
        for record, value in zip(records, centrality([trainer.model for trainer in finished])):
            record["centrality"] = round(value, 5)
    if finished:
        chosen = len(finished) - 1 if enough else world.broadcast(pick(records, t.start_score) if main else 0)
        best = finished[chosen]
        if stopped is not None:
            stopped.real.close()
            best.stop_requested = True
    else:
        chosen, best = len(finished), stopped
    for trainer in finished:
        if trainer is not best:
            trainer.real.close()
    if main:
        atomic_write_bytes(run.path / "starts.json", json.dumps(
            {"chosen": chosen, "code": code.name if code else None, "score": t.start_score, "enough": t.start_enough,
             "scores": SCORES, "starts": records},
            indent=1).encode())
        chosen_log = run.path / "starts" / f"start-{chosen}" / "metrics.jsonl"
        if chosen_log.exists():  # absent only for a start stopped before its first step
            shutil.copyfile(chosen_log, run.metrics_path)
    best.config = best.model.config = config
    return best
