"""The jobs behind the CLI, usable from Python: train a run, draw traversals and samples, evaluate, encode, explore."""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import threading
import time
import warnings
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch

from .config import Config, TrainConfig, apply_overrides, check_resumable
from .data import ImageData, ImageFiles, load_dataset, open_dataset
from .data.stream import memory_budget
from .distributed import World
from .encode import estimate, read_image
from .errors import ConfigError, DataError, DivergenceError
from .explore.server import ExploreServer, make_server
from .files import atomic_write_bytes
from .hooks import Checkpoints, Figures, MetricsLog, Progress, Report, Samples, Scores, TensorBoard
from .lock import hold
from .metrics import evaluate as evaluate_model
from .rank_hooks import MeanOverRanks, WeightCheck
from .report import write_report
from .runs import RunDir, load_model
from .starts import check_starts, choose_start
from .train import Hook, Trainer, step_budget
from .viz import grid, parse_assignments, sample_latent, save_png, traversal_png

def load_data(config: Config, device: torch.device) -> ImageData | ImageFiles:
    """The run's data: in memory, or image files left on disk when they are too large for it (`data.stream`)."""
    d = config.data
    return open_dataset(d.name, d.data_dir or None, d.split, stream=d.stream,
                        max_bytes=memory_budget(d.max_memory_mb, device))


class DivergenceWarning(UserWarning):
    """Training diverged and was rolled back to a checkpoint with lower learning rates."""


@dataclass
class TrainResult:
    run: RunDir
    step: int
    stopped_by_signal: bool
    rollbacks: int = 0  # divergences recovered from (train.on_divergence = "rollback")
    main: bool = True  # False on the ranks of a torchrun job other than rank 0, which reports for all


class _StopRequest:
    """Where a signal is noted while no trainer is running."""

    stop_requested = False


@contextmanager
def _stop_on_signals(trainer: Trainer | _StopRequest) -> Iterator[None]:
    """SIGINT/SIGTERM ask the loop to stop after the current step (a second Ctrl-C aborts)."""

    def request(signum, frame):
        if trainer.stop_requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        trainer.stop_requested = True

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may install signal handlers
        return
    old = {s: signal.signal(s, request) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def train(
    config: Config,
    out: str | Path,
    *,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
    hooks: Sequence[Hook] = (),
) -> TrainResult:
    """Train a new run in ``out``, or continue the one there with ``resume``.

    ``hooks`` run after the built-in ones (metrics, progress, samples, checkpoints, figures). Under torchrun
    every rank calls this; only rank 0 writes to ``out``, and ``hooks`` run on every rank. Rank 0 holds ``out``'s
    lock (:mod:`infogan.lock`) from before its first read to the end: a second writer gets a BusyError at once."""
    with hold(out) if World.from_env().is_main else nullcontext():
        return _train(config, out, resume, overrides, progress, hooks)


def _train(config: Config, out: str | Path, resume: bool, overrides: dict[str, Any] | None, progress: bool,
           hooks: Sequence[Hook]) -> TrainResult:
    run = RunDir(Path(out))
    world = World.from_env()
    overrides = overrides or {}
    if resume:
        ckpt = run.load_latest()
        if world.is_main:
            run.clean_after_crash(ckpt.step)
        config = ckpt.config
        check_resumable(config, overrides)
    else:
        if run.checkpoints():
            raise ConfigError(f"{run.path} already holds a run; pass --resume to continue it or choose another --out")
        if world.is_main:
            run.clean_after_crash(0)  # a run killed before its first checkpoint left nothing to keep
    config = apply_overrides(config, overrides).validate()
    if not (config.train.steps or config.train.epochs or config.train.minutes):
        raise ConfigError("no training budget: set --steps, --epochs or --minutes")
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    if config.train.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS needs it to be deterministic
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    device = world.device(config.train.device)
    world.join(device)
    check_starts(config)
    data = load_data(config, device)
    if config.train.score_every and getattr(data, "factors", None) is None:
        raise ConfigError(f"train.score_every scores Q against the data's factors, and {config.data.name} has none; "
                          "use data with factors (dsprites) or set train.score_every = 0")
    if world.is_main:
        config.save(run.config_path)
    steps = step_budget(config, len(data))
    # A signal before the loop (while building the trainer, or between starts) stops the run at its first chance.
    early = _StopRequest()
    with _stop_on_signals(early):
        if resume:
            trainer = Trainer.resume(ckpt, data, device, config, world)
        elif config.train.starts > 1 and (steps is None or steps > config.train.start_steps):  # else no selection
            fit_start = functools.partial(_fit_start, progress=progress and world.is_main, early=early)
            trainer = choose_start(config, data, device, run, fit_start, world)
        else:
            trainer = Trainer(config, data, device, world)
    trainer.stop_requested = trainer.stop_requested or early.stop_requested

    seconds = config.train.minutes * 60 if config.train.minutes > 0 else None
    if seconds is not None and not resume:  # a kept start has spent some of the run's minutes already
        seconds = max(0.0, seconds - trainer.elapsed)
    every = training_hooks(run, config.train, world, steps, seconds, progress, data) + list(hooks)
    with _stop_on_signals(trainer), closing(trainer.real):
        rollbacks = _fit_rolling_back(trainer, run, steps, seconds, every)
    return TrainResult(run, trainer.step, trainer.stop_requested, rollbacks, world.is_main)


def training_hooks(run: RunDir, t: TrainConfig, world: World, steps: int | None, seconds: float | None,
                   progress: bool, data: ImageData | ImageFiles | None = None) -> list[Hook]:
    """The built-in hooks of a training, in the order the loop calls them, after a step and at the end alike.

    The order matters where a hook reads what an earlier one left:

    1. ``MeanOverRanks`` (torchrun only) replaces the step's logged terms by their means over the ranks; it must
       run just before the log, at the log's steps, on every rank (an all-reduce that every rank joins).
    2. ``MetricsLog`` reads the terms (a device sync), writes ``metrics.jsonl`` (rank 0) and stops every rank on
       NaN/Inf; Progress and TensorBoard show its ``last`` record, Report reads the file.
    3. Rank 0 only: ``Progress`` (shows ``MetricsLog.last``), ``Samples``, ``Checkpoints`` (checks the weights,
       then saves), ``Figures``, ``Scores``, ``Report`` (only at the end, once the log has written the final step) and
       ``TensorBoard`` (mirrors ``MetricsLog.last`` and ``Samples.last``, so after both); ``Scores`` (when
       ``train.score_every`` is set: Q against ``data``'s factors) before ``Report``, which plots them.
       The other ranks run ``WeightCheck`` instead, at the checkpoint steps, so a divergence stops all at once.

    The short starts of ``train.starts`` (``_fit_start``) run only a log of their own (averaged over the ranks) and
    its progress bar.
    """
    log = MetricsLog(run if world.is_main else None, t.log_every)
    hooks: list[Hook] = [MeanOverRanks(log), log] if world.size > 1 else [log]
    if not world.is_main:
        return hooks + [WeightCheck(t.checkpoint_every)]
    if progress:
        hooks.append(Progress(log, steps, seconds))
    samples = Samples(run, t.sample_every)
    hooks += [samples, Checkpoints(run, t.checkpoint_every, t.keep_checkpoints), Figures(run, t.sample_every)]
    if t.score_every:
        hooks.append(Scores(run, t.score_every, data))
    hooks.append(Report(run))
    if t.tensorboard:
        hooks.append(TensorBoard(run, log, samples))
    return hooks


def _fit_start(trainer: Trainer, start_run: RunDir | None, start: int, progress: bool, early: "_StopRequest") -> None:
    """One of the short starts of ``train.starts``: its losses into ``start_run`` (rank 0's), a progress bar, stop
    on signals (also on one that came between starts, into ``early``)."""
    trainer.stop_requested = early.stop_requested
    t = trainer.config.train
    log = MetricsLog(start_run, t.log_every)
    hooks: list[Hook] = [MeanOverRanks(log), log]
    if progress:
        hooks.append(Progress(log, t.start_steps, None, label=f"start {start + 1}/{t.starts}"))
    with _stop_on_signals(trainer):
        trainer.fit(steps=t.start_steps, hooks=hooks)


def _fit_rolling_back(trainer: Trainer, run: RunDir, steps: int | None, seconds: float | None, hooks: list[Hook]) -> int:
    """``trainer.fit``; with ``on_divergence = "rollback"`` a divergence restores the newest
    checkpoint and lowers both learning rates, up to ``max_rollbacks`` times. Returns how many."""
    t = trainer.config.train
    t0 = time.perf_counter()
    rollbacks = 0
    while True:
        left = None if seconds is None else max(0.0, seconds - (time.perf_counter() - t0))
        try:
            trainer.fit(steps=steps, seconds=left, hooks=hooks)
            return rollbacks
        except DivergenceError as e:
            if t.on_divergence != "rollback" or rollbacks == t.max_rollbacks or not run.checkpoints():
                raise
            ckpt = run.load_latest()
            if trainer.world.is_main:
                run.clean_after_crash(ckpt.step)
            trainer.restore(ckpt)
            lr_d, lr_g = trainer.scale_learning_rates(t.rollback_lr_factor)
            rollbacks += 1
            warnings.warn(f"{str(e).split(';')[0]}; rolled back to step {ckpt.step} with lr_d {lr_d:.3g}, lr_g {lr_g:.3g}",
                          DivergenceWarning, stacklevel=2)


def traverse(run_dir: str | Path, out: str | Path, code: str | None = None, lo: float = -2.0, hi: float = 2.0,
             steps: int = 10, rows: int = 10, seed: int = 0) -> Path:
    model = load_model(run_dir)
    if not model.spec.codes:
        raise ConfigError("this model has no latent codes to traverse")
    name = code or model.spec.codes[0].name
    if steps < 2 or rows < 1:
        raise ConfigError("--steps must be >= 2 and --rows >= 1")
    traversal_png(model, name, out, lo=lo, hi=hi, steps=steps, rows=rows, seed=seed)
    return Path(out)


def sample(run_dir: str | Path, out: str | Path, n: int = 64, assignments: list[str] | None = None, seed: int = 0) -> Path:
    if n < 1:
        raise ConfigError("--n must be >= 1")
    model = load_model(run_dir)
    latent = sample_latent(model, n, seed, parse_assignments(model, assignments or []))
    save_png(grid(model.generate(latent), ncol=max(1, round(n**0.5)), scale=2), out)
    return Path(out)


def evaluate(run_dir: str | Path, data: str | None = None, data_dir: str | None = None, split: str | None = None,
             code: str | None = None, *, mi_samples: int = 10_000, quality_samples: int = 10_000,
             shape_rows: int = 10) -> dict[str, Any]:
    """Evaluate the newest checkpoint of a run; also saves the result in the run: ``evaluation.json`` on the run's
    own data and split (what the report and sweeps read), ``evaluation-DATA-SPLIT.json`` on any other."""
    model = load_model(run_dir)
    cfg = model.config.data
    name, split = data or cfg.name, split or cfg.split
    dataset = load_dataset(name, data_dir or cfg.data_dir or None, split)
    model.check_data(dataset)
    t0 = time.perf_counter()
    result = evaluate_model(model, dataset, code, mi_samples, quality_samples, shape_rows)
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result["step"] = model.step
    if Path(run_dir).is_dir():
        own = (name, split) == (cfg.name, cfg.split)
        file = "evaluation.json" if own else f"evaluation-{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}-{split}.json"
        atomic_write_bytes(Path(run_dir) / file, (json.dumps(result, indent=2) + "\n").encode())
    return result


def report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the run's self-contained ``report.html`` (or ``out``) from its files and newest checkpoint."""
    return write_report(run_dir, out)


def encode(run_dir: str | Path, images: Sequence[str | Path], invert: bool = False) -> list[dict[str, Any]]:
    """Q's estimate of every code for each PNG or JPEG file, in order: ``{"file": path, "codes": estimates}``.
    All files are read before any is encoded, so an unreadable one fails the call before there is output."""
    if not images:
        raise ConfigError("give at least one image file")
    model = load_model(run_dir)
    pixels = []
    for path in map(Path, images):
        try:
            data = path.read_bytes()
        except OSError as e:
            raise DataError(f"cannot read image {path}: {e.strerror or e}") from None
        pixels.append(read_image(data, model.image_shape, str(path), invert))
    rows = estimate(model, torch.stack(pixels))
    return [{"file": str(path), "codes": row} for path, row in zip(images, rows)]


def explore(run_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, threads: int | None = None) -> ExploreServer:
    """The latent explorer's web server for a run, bound and not yet serving: call its ``serve_forever()`` and open
    its ``url`` (``port`` 0 picks a free one). ``threads`` sets torch's threads for this process."""
    if threads:
        torch.set_num_threads(threads)
    return make_server(load_model(run_dir), host, port)


__all__ = ["encode", "evaluate", "explore", "report", "sample", "train", "traverse"]
