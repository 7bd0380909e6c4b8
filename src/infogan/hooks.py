"""Bookkeeping around the training loop: metrics log, progress bar, sample grids, checkpoints.

Each hook is small and independent; the loop in :mod:`infogan.train` only calls them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time

import numpy as np
from PIL import Image
from tqdm import tqdm

from .data import ImageData
from .errors import ConfigError, DivergenceError
from .metrics.disentanglement import disentanglement_scores
from .report import write_report
from .runs import RunDir
from .train import Hook, StepOutput, Trainer
from .viz import grid, sample_latent, save_png, traversal_png


class MetricsLog(Hook):
    """Appends one JSON line per tick to ``metrics.jsonl``; stops the run on NaN/Inf.

    Reading losses forces a device sync, so it happens only here, every ``every`` steps."""

    POSITION = ("step", "epoch", "time")  # where in the run a record stands; the other fields are measurements

    def __init__(self, run: RunDir | None, every: int):
        self.run, self.every = run, every
        self.last: dict | None = None

    def start(self, trainer: Trainer) -> None:
        self._mark = (trainer.step, time.perf_counter())

    def after_step(self, trainer: Trainer, out: StepOutput) -> None:
        step0, t0 = self._mark
        now = time.perf_counter()
        rec = {
            "step": trainer.step,
            "epoch": round(trainer.step / trainer.batches.per_epoch, 3),
            "time": round(trainer.elapsed, 2),
            "img_per_s": round((trainer.step - step0) * trainer.config.optim.batch_size / max(now - t0, 1e-9), 1),
            **{key: value.item() for key, value in out.scalars().items()},
            **{f"H/{c.name}": c.entropy for c in trainer.model.spec.codes},
        }
        self._mark = (trainer.step, now)
        bad = [k for k, v in rec.items() if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            raise _diverged(trainer, f"{bad[0]} is {rec[bad[0]]}")
        check_weights(trainer)
        self.last = rec
        if self.run is not None:
            with self.run.metrics_path.open("a") as f:
                f.write(json.dumps(rec) + "\n")

    def end(self, trainer: Trainer, completed: bool) -> None:
        # Log the final step too, so every run ends with a record of where it stopped.
        if completed and trainer.last_output is not None and (self.last or {}).get("step") != trainer.step:
            self.after_step(trainer, trainer.last_output)


def check_weights(trainer: Trainer) -> None:
    bad = trainer.nonfinite()
    if bad:
        raise _diverged(trainer, f"weight {bad} holds NaN/Inf")


def _diverged(trainer: Trainer, what: str) -> DivergenceError:
    return DivergenceError(
        f"training diverged at step {trainer.step}: {what}; the checkpoints on disk are intact; "
        "restart with lower --lr-d/--lr-g, or train with --set train.on_divergence=rollback"
    )


class Progress(Hook):
    """A progress bar over steps (or seconds, for a time budget) showing the latest losses and L_I.

    When stderr is not a terminal (CI, a log file) it prints a plain status line every
    ``every_s`` seconds instead, so logs stay readable."""

    def __init__(self, log: MetricsLog, steps: int | None, seconds: float | None, every_s: float = 30.0,
                 label: str = "train"):
        self.log, self.steps, self.seconds, self.every_s, self.label = log, steps, seconds, every_s, label
        self.bar: tqdm | None = None
        self._shown: dict | None = None

    def start(self, trainer: Trainer) -> None:
        self._origin = trainer.elapsed
        self._printed = time.monotonic()
        if not sys.stderr.isatty():
            return
        by_time = self.steps is None
        self.bar = tqdm(
            total=round(self.seconds) if by_time else self.steps,
            initial=0 if by_time else trainer.step,
            unit="s" if by_time else "step",
            desc=f"{self.label} ({trainer.precision})",  # "auto" precision shows what it became here
            file=sys.stderr,
            dynamic_ncols=True,
            bar_format="{l_bar}{bar}| {n:.0f}/{total_fmt} [{elapsed}<{remaining}{postfix}]" if by_time else None,
        )

    def after_step(self, trainer: Trainer, out: StepOutput) -> None:
        if self.bar is not None:
            if self.steps is None:
                self.bar.n = min(trainer.elapsed - self._origin, self.bar.total)
                self.bar.update(0)  # redraws, rate-limited by mininterval
            else:
                self.bar.update(1)
        rec = self.log.last
        if rec is None or rec is self._shown:
            return
        mi = " ".join(f"{k[3:]}={v:.2f}" for k, v in rec.items() if k.startswith("mi/"))
        status = f"step={rec['step']} D={rec['loss_d']:.3f} G={rec['loss_g']:.3f} L_I[{mi}] {rec['img_per_s']:.0f}img/s"
        if self.bar is not None:
            self._shown = rec
            self.bar.set_postfix_str(status, refresh=False)
        elif time.monotonic() - self._printed >= self.every_s:
            self._shown, self._printed = rec, time.monotonic()
            total = f"/{self.steps}" if self.steps else f" ({trainer.elapsed - self._origin:.0f}/{self.seconds:.0f} s)"
            print(f"{self.label} ({trainer.precision}) {trainer.step}{total} {status}", file=sys.stderr, flush=True)

    def end(self, trainer: Trainer, completed: bool) -> None:
        if self.bar is not None:
            self.bar.close()


class TensorBoard(Hook):
    """Mirrors each ``metrics.jsonl`` record into TensorBoard event files in ``RUN_DIR/tensorboard`` (losses, L_I
    and H(c) per code, images/s), and each grid :class:`Samples` drew at that tick. Runs after both at its ticks;
    a resumed run appends to the same folder."""

    def __init__(self, run: RunDir, log: MetricsLog, samples: Samples):
        self.run, self.log, self.samples, self.every = run, log, samples, log.every
        self.writer = None

    def start(self, trainer: Trainer) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError("--tensorboard needs the tensorboard package: pip install 'infogan[tensorboard]'") from None
        self.writer = SummaryWriter(str(self.run.path / "tensorboard"))

    def after_step(self, trainer: Trainer, out: StepOutput) -> None:
        rec = self.log.last
        if rec is None or rec["step"] != trainer.step:
            return
        for key, value in rec.items():
            if key not in MetricsLog.POSITION:
                self.writer.add_scalar(key, value, trainer.step)
        if self.samples.last is not None and self.samples.last[0] == trainer.step:
            picture = np.array(self.samples.last[1])
            self.writer.add_image("samples", picture, trainer.step, dataformats="HW" if picture.ndim == 2 else "HWC")

    def end(self, trainer: Trainer, completed: bool) -> None:
        if self.writer is None:
            return
        if completed and trainer.step % self.every:  # MetricsLog's end has just logged the final step
            self.after_step(trainer, trainer.last_output)
        self.writer.close()


class Samples(Hook):
    """A grid from one fixed latent batch every ``every`` steps, so progress is comparable."""

    def __init__(self, run: RunDir, every: int, n: int = 100, seed: int = 1234):
        self.run, self.every, self.n, self.seed = run, every, n, seed
        self.last: tuple[int, Image.Image] | None = None  # (step, grid) of the newest, for TensorBoard

    def after_step(self, trainer: Trainer, out: StepOutput) -> None:
        images = trainer.model.generate(sample_latent(trainer.model, self.n, self.seed))
        self.last = (trainer.step, grid(images, 10))
        save_png(self.last[1], self.run.path / "samples" / f"step-{trainer.step:07d}.png")


class Checkpoints(Hook):
    """Saves every ``every`` steps and at the end; keeps the newest ``keep`` files."""

    def __init__(self, run: RunDir, every: int, keep: int):
        self.run, self.every, self.keep = run, every, keep
        self.saved_step = -1

    def after_step(self, trainer: Trainer, out: StepOutput) -> None:
        check_weights(trainer)  # a checkpoint never holds NaN, whatever the logging interval
        trainer.save(self.run.checkpoint_path(trainer.step))
        self.run.prune(self.keep)
        self.saved_step = trainer.step

    def end(self, trainer: Trainer, completed: bool) -> None:
        if completed and trainer.step != self.saved_step and trainer.step > 0:
            self.after_step(trainer, None)


class Figures(Hook):
    """A traversal grid per code (the paper's Figure 2), refreshed every ``every`` steps and at the end."""

    def __init__(self, run: RunDir, every: int):
        self.run, self.every = run, every

    def after_step(self, trainer: Trainer, out: StepOutput | None) -> None:
        for code in trainer.model.spec.codes:
            traversal_png(trainer.model, code.name, self.run.path / "figures" / f"traverse-{code.name}.png")

    def end(self, trainer: Trainer, completed: bool) -> None:
        if completed and trainer.step > 0:
            self.after_step(trainer, None)


class Scores(Hook):
    """Q's disentanglement scores on ``n`` images of the training data, every ``every`` steps and at the end, a JSON
    line each in ``scores.jsonl``: the curve that shows a short run's trend (FactorVAE and MIG against steps)."""

    def __init__(self, run: RunDir, every: int, data: ImageData, n: int = 5000):
        self.run, self.every, self.data, self.n = run, every, data, n
        self._last = -1

    def after_step(self, trainer: Trainer, out: StepOutput) -> None:
        scores = disentanglement_scores(trainer.model, self.data, self.n).to_dict()
        record = {"step": trainer.step, **{k: v for k, v in scores.items() if isinstance(v, float)}}
        with self.run.scores_path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        self._last = trainer.step

    def end(self, trainer: Trainer, completed: bool) -> None:
        if completed and trainer.step != self._last and trainer.step > 0:
            self.after_step(trainer, trainer.last_output)


class Report(Hook):
    """Writes ``report.html`` (curves, samples, traversals, animations, evaluation) when a run ends."""

    every = None  # nothing to do between steps

    def __init__(self, run: RunDir):
        self.run = run

    def end(self, trainer: Trainer, completed: bool) -> None:
        if completed and trainer.step > 0:  # the trainer counts the steps; its model's own field stays 0
            write_report(self.run.path, model=dataclasses.replace(trainer.model, step=trainer.step))
