"""``infogan sweep``: one config trained with several seeds, one after another, each evaluated.

Each seed trains in ``OUT/seed-S``. The table (``OUT/sweep.md`` and ``OUT/sweep.json``) holds per
seed the steps, training time, accuracy, NMI, L_I per code, FD-digits and the diagnosis, plus the
median and the worst seed. Rerunning the same command continues: a seed whose training reached its
budget and whose ``evaluation.json`` belongs to that final checkpoint is only read back; a seed cut
short resumes from its newest checkpoint (with what is left of a time budget).
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import api
from .config import Config
from .errors import ConfigError
from .files import atomic_write_bytes
from .runs import Checkpoint, RunDir
from .train import step_budget

SWEEP_MD, SWEEP_JSON = "sweep.md", "sweep.json"


@dataclass(frozen=True)
class SeedResult:
    seed: int
    steps: int
    seconds: float  # training time, summed over resumes
    accuracy: float | None
    nmi: float | None
    mi: dict[str, float]
    fd_digits: float | None
    diagnosis: str

    @classmethod
    def from_evaluation(cls, seed: int, ckpt: Checkpoint, ev: dict[str, Any]) -> SeedResult:
        return cls(seed, ckpt.step, round(float(ckpt.meta["elapsed"]), 1), ev.get("accuracy"), ev.get("nmi"),
                   ev.get("mi", {}), ev.get("fd_digits"), ev.get("diagnosis_line", ""))


@dataclass
class Sweep:
    results: list[SeedResult] = field(default_factory=list)
    stopped: bool = False  # a signal stopped a training; rerunning the command continues


def parse_overrides(items: list[str], config: Config) -> dict[str, Any]:
    """``section.key=value`` items; values read as TOML (``0.5``, ``true``, ``"x"``), else as plain text."""
    sections = dataclasses.asdict(config)
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or section not in sections or name not in sections[section]:
            raise ConfigError(f"--set {item}: expected SECTION.KEY=VALUE with a known key, e.g. loss.lambda_cont=0.5")
        try:
            out[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = raw
    return out


def run_sweep(config: Config, seeds: list[int], out: str | Path, overrides: dict[str, Any] | None = None, *,
              progress: bool = True, evaluate_kw: dict[str, Any] | None = None,
              log: Callable[[str], None] = print) -> Sweep:
    """Train, evaluate and tabulate every seed in turn (never in parallel); see the module docstring."""
    if len(set(seeds)) != len(seeds) or not seeds:
        raise ConfigError("--seeds needs one or more distinct seeds")
    out = Path(out)
    sweep = Sweep()
    for seed in seeds:
        seed_overrides = {**(overrides or {}), "train.seed": seed}
        target = api.apply_overrides(config, seed_overrides)
        if not (target.train.steps or target.train.epochs or target.train.minutes):
            raise ConfigError("no training budget: set --steps or --minutes, or one in the config")
        run = RunDir(out / f"seed-{seed}")
        ckpt = run.load_latest() if run.checkpoints() else None
        if ckpt is None:
            log(f"seed {seed}: training in {run.path}")
            result = api.train(config, run.path, overrides=seed_overrides, progress=progress)
        elif not _reached_budget(target, ckpt):
            log(f"seed {seed}: resuming from step {ckpt.step} in {run.path}")
            result = api.train(config, run.path, resume=True, overrides=_remaining(target, ckpt, seed_overrides),
                               progress=progress)
        else:
            result = None
        if result is not None and result.stopped_by_signal:
            sweep.stopped = True
            break
        ckpt = run.load_latest() if result is not None else ckpt
        ev = _read_json(run.path / "evaluation.json")
        if ev is None or ev.get("step") != ckpt.step:
            log(f"seed {seed}: evaluating step {ckpt.step}")
            ev = api.evaluate(run.path, **(evaluate_kw or {}))
        sweep.results.append(SeedResult.from_evaluation(seed, ckpt, ev))
        write_tables(sweep, out, config, overrides or {})  # after every seed, so a stopped sweep still has its table
    return sweep


def _reached_budget(cfg: Config, ckpt: Checkpoint) -> bool:
    """Whether the run behind ``ckpt`` ended by its budget (the training loop's own stopping rule)."""
    steps = step_budget(cfg, int(ckpt.tensors["rng.perm"].numel()))
    by_steps = steps is not None and ckpt.step >= steps
    by_time = cfg.train.minutes > 0 and float(ckpt.meta["elapsed"]) >= cfg.train.minutes * 60
    return by_steps or by_time


def _remaining(cfg: Config, ckpt: Checkpoint, overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides for a resume: a time budget shrinks by the time already trained (``--minutes`` counts per call)."""
    minutes = max(cfg.train.minutes - float(ckpt.meta["elapsed"]) / 60, 1e-3) if cfg.train.minutes > 0 else 0.0
    return {**overrides, "train.steps": cfg.train.steps, "train.epochs": cfg.train.epochs, "train.minutes": minutes}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# ---- the table -----------------------------------------------------------------------
def summary(results: list[SeedResult]) -> dict[str, dict[str, Any]]:
    """Median and worst over seeds: the lowest accuracy, NMI and L_I, the highest FD-digits."""

    def stat(values: list[float | None], worst: Callable[[list[float]], float]) -> tuple[float | None, float | None]:
        vals = [v for v in values if v is not None]
        return (statistics.median(vals), worst(vals)) if vals else (None, None)

    columns = {
        "steps": ([r.steps for r in results], None),
        "seconds": ([r.seconds for r in results], None),
        "accuracy": ([r.accuracy for r in results], min),
        "nmi": ([r.nmi for r in results], min),
        "fd_digits": ([r.fd_digits for r in results], max),
    }
    for code in results[0].mi if results else []:
        columns[f"mi/{code}"] = ([r.mi.get(code) for r in results], min)
    median, worst = {}, {}
    for key, (values, pick) in columns.items():
        median[key], w = stat(values, pick or min)
        if pick is not None:
            worst[key] = w
    if results and results[0].accuracy is not None:
        worst["seed"] = min(results, key=lambda r: r.accuracy if r.accuracy is not None else 1.0).seed
    return {"median": median, "worst": worst}


def write_tables(sweep: Sweep, out: Path, config: Config, overrides: dict[str, Any]) -> None:
    stats = summary(sweep.results)
    data = {"seeds": [dataclasses.asdict(r) for r in sweep.results], **stats, "overrides": overrides,
            "config": dataclasses.asdict(config)}
    atomic_write_bytes(out / SWEEP_JSON, (json.dumps(data, indent=2) + "\n").encode())
    atomic_write_bytes(out / SWEEP_MD, markdown(sweep.results, stats, overrides).encode())


def markdown(results: list[SeedResult], stats: dict[str, dict[str, Any]], overrides: dict[str, Any]) -> str:
    codes = list(results[0].mi) if results else []
    header = ["seed", "steps", "train time", "accuracy", "NMI", *(f"L_I({c})" for c in codes), "FD-digits", "diagnosis"]

    def cells(seed: str, d: dict[str, Any], diagnosis: str) -> list[str]:
        return [seed, _fmt(d.get("steps"), "{:,.0f}"), _fmt(d.get("seconds"), "{:.0f} s"),
                _fmt(d.get("accuracy"), "{:.2%}"), _fmt(d.get("nmi"), "{:.3f}"),
                *(_fmt(d.get(f"mi/{c}"), "{:.3f}") for c in codes), _fmt(d.get("fd_digits"), "{:.2f}"), diagnosis]

    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for r in results:
        flat = {**dataclasses.asdict(r), **{f"mi/{c}": v for c, v in r.mi.items()}}
        lines.append("| " + " | ".join(cells(str(r.seed), flat, r.diagnosis)) + " |")
    if results:
        worst_seed = stats["worst"].get("seed")
        lines.append("| " + " | ".join(cells("**median**", stats["median"], "")) + " |")
        lines.append("| " + " | ".join(cells("**worst**", stats["worst"], f"seed {worst_seed} has the lowest accuracy"
                                               if worst_seed is not None else "")) + " |")
    settings = ", ".join(f"`{k}={v}`" for k, v in overrides.items()) or "none"
    return (f"# Sweep over {len(results)} seed(s)\n\nOverrides: {settings}. Accuracy and NMI: the categorical code as a "
            "label-free classifier (Hungarian-matched); worst = lowest accuracy, NMI and L_I, highest FD-digits.\n\n"
            + "\n".join(lines) + "\n")


def _fmt(value: Any, spec: str) -> str:
    return "" if value is None else spec.format(value)
