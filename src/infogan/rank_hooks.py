"""Hooks that keep the ranks of a torchrun job in step while only rank 0 writes files.

Every rank runs the metrics log (rank 0's writes ``metrics.jsonl``), after the losses have been averaged
over the ranks, so all ranks see the same figures and stop together on NaN/Inf. Rank 0 checks the weights
before each checkpoint; the others check them at the same steps, so a divergence stops all ranks at once
(the weights are the same on every rank: DDP averages the gradients).
"""

from __future__ import annotations

from .hooks import MetricsLog, check_weights
from .train import Hook, StepOutput, Trainer


class MeanOverRanks(Hook):
    """Replaces the step's logged terms (``StepOutput.scalars``) by their means over the ranks, in place, whenever
    ``log`` is about to read them: put it just before ``log``."""

    def __init__(self, log: MetricsLog):
        self.log, self.every = log, log.every

    def after_step(self, trainer: Trainer, out: StepOutput) -> None:
        trainer.world.mean_(list(out.scalars().values()))

    def end(self, trainer: Trainer, completed: bool) -> None:
        # The log's own test for logging the final step; it holds the same on every rank.
        if completed and trainer.last_output is not None and (self.log.last or {}).get("step") != trainer.step:
            self.after_step(trainer, trainer.last_output)


class WeightCheck(Hook):
    """Stops with the same error as rank 0's checkpoint hook, at the same steps, on the other ranks."""

    def __init__(self, every: int):
        self.every = every

    def after_step(self, trainer: Trainer, out: StepOutput) -> None:
        check_weights(trainer)
