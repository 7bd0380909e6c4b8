"""``infogan sweep``: one config trained with several seeds, each evaluated, in one table.

Each seed trains in ``OUT/seed-S``: one after another in this process, or, given devices (``--devices``,
``--parallel``), several at a time, each in its own ``python -m infogan train`` process on one device, its output
in ``OUT/seed-S/train.log``. The table (``OUT/sweep.md`` and ``OUT/sweep.json``) holds per seed the steps, training
time, accuracy, NMI, L_I per code, FD-digits and the diagnosis (on data with known factors, such as dSprites, the
disentanglement scores instead of the digit ones), plus the median and the worst seed, and with two or more
trained seeds each seed's ModelCentrality among them (:mod:`infogan.metrics.centrality`, no labels) and the most
central seed; a seed whose training failed, or that another process is training (its run directory is locked), gets a row with its error, and
the others carry on. Rerunning the same command continues: a seed
whose training reached its budget and whose ``evaluation.json`` belongs to that final checkpoint is only read back
(and the centralities, from ``OUT/centrality.json``, while the same seeds at the same steps are compared);
a seed cut short or failed resumes from its newest checkpoint (with what is left of a time budget). Ctrl-C or
SIGTERM stops every training after its current step, with a checkpoint; a second Ctrl-C kills them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from . import api
from .config import Config, apply_overrides, check_resumable
from .distributed import resolve_device
from .errors import BusyError, ConfigError, DivergenceError, InfoganError
from .files import atomic_write_bytes
from .lock import busy
from .metrics.centrality import centrality
from .runs import Checkpoint, RunDir, load_model
from .train import step_budget

SWEEP_MD, SWEEP_JSON = "sweep.md", "sweep.json"
CENTRALITY_JSON = "centrality.json"  # the seeds' ModelCentrality and the (seed, step) models it compared
TRAIN_LOG = "train.log"  # a training subprocess's output, in its seed's run directory
# The disentanglement scores a sweep tabulates (higher is better), with their column headers.
DISENTANGLEMENT = {"factor_vae": "FactorVAE", "mig": "MIG", "sap": "SAP", "dci_disentanglement": "DCI-D",
                   "dci_completeness": "DCI-C", "dci_informativeness": "DCI-I"}
_BUDGET_FLAGS = {"train.steps": "--steps", "train.epochs": "--epochs", "train.minutes": "--minutes"}


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
    error: str = ""  # why the seed's training failed; the other fields are then empty
    stability: float | None = None  # label-free: the share of images keeping their first categorical code's value
    disentanglement: dict[str, float] = field(default_factory=dict)  # on data with factors: DISENTANGLEMENT's scores
    # 28x28 grey models: per continuous code, its dominant measure, |rho|, the next |rho| and the digit kept
    morphometry: dict[str, dict[str, Any]] = field(default_factory=dict)
    centrality: float | None = None  # label-free: the mean agreement of its codes with the other seeds' codes
    pairing: dict[str, Any] = field(default_factory=dict)  # the continuous codes paired with measures: own, cross

    @classmethod
    def from_evaluation(cls, seed: int, ckpt: Checkpoint, ev: dict[str, Any]) -> SeedResult:
        scores = ev.get("disentanglement", {})
        stability = next(iter(ev.get("stability", {}).values()), {}).get("kept")
        return cls(seed, ckpt.step, round(float(ckpt.meta["elapsed"]), 1), ev.get("accuracy"), ev.get("nmi"),
                   ev.get("mi", {}), ev.get("fd_digits"), ev.get("diagnosis_line", ""), stability=stability,
                   disentanglement={key: scores[key] for key in DISENTANGLEMENT if key in scores},
                   morphometry={code: {"dominant": e["dominant"], "rho": abs(e["rho"][e["dominant"]]),
                                       "other": e["other"], "digit_kept": e["digit_kept"],
                                       "gap": e.get("extrapolation_gap")}
                                for code, e in ev.get("morphometry", {}).items()},
                   pairing=ev.get("morphometry_pairing", {}))

    @classmethod
    def failed(cls, seed: int, error: str) -> SeedResult:
        return cls(seed, 0, 0.0, None, None, {}, None, "", error)


@dataclass
class Sweep:
    results: list[SeedResult] = field(default_factory=list)
    stopped: bool = False  # a signal stopped a training; rerunning the command continues


@dataclass(frozen=True)
class _Seed:
    """What one seed still needs: nothing (``trained``), a fresh start, or a resume (``resume_from``)."""

    seed: int
    run: RunDir
    config: Config  # the sweep's
    overrides: dict[str, Any]  # what `api.train` gets: the sweep's overrides, the seed and the (remaining) budget
    target: Config  # what the seed trains to: the sweep's config with its overrides and the seed
    trained: bool = False
    resume_from: int | None = None  # the step of the checkpoint it continues from

    @property
    def what(self) -> str:
        return "training" if self.resume_from is None else f"resuming from step {self.resume_from}"


@dataclass(frozen=True)
class _Outcome:
    stopped: bool = False
    error: str = ""


_Ended = tuple[_Seed, _Outcome]  # a seed whose training has ended, and how


def run_sweep(config: Config, seeds: list[int], out: str | Path, overrides: dict[str, Any] | None = None, *,
              devices: Sequence[str] = (), progress: bool = True, evaluate_kw: dict[str, Any] | None = None,
              log: Callable[[str], None] = print) -> Sweep:
    """Train, evaluate and tabulate every seed; see the module docstring. ``devices``: train in subprocesses, one
    per device at a time (a device may repeat: ``["cpu", "cpu"]`` trains two at once); empty: one after another
    in this process."""
    if len(set(seeds)) != len(seeds) or not seeds:
        raise ConfigError("--seeds needs one or more distinct seeds")
    out, overrides = Path(out), overrides or {}
    plans = [_plan(config, seed, out, overrides) for seed in seeds]  # every seed's settings checked before any trains
    if devices:
        _check_side_by_side(plans[0].target, devices)
    sweep = Sweep()
    with closing(_side_by_side(plans, devices, log) if devices else _one_after_another(plans, progress, log)) as runs:
        for plan, outcome in runs:
            if outcome.stopped:
                sweep.stopped = True
                continue
            if outcome.error:
                log(f"seed {plan.seed}: failed: {outcome.error}")
                sweep.results.append(SeedResult.failed(plan.seed, outcome.error))
            elif not sweep.stopped:  # evaluating can wait for the rerun
                sweep.results.append(_evaluated(plan, evaluate_kw, log))
            sweep.results.sort(key=lambda r: seeds.index(r.seed))
            write_tables(sweep, out, config, overrides)  # after every seed, so a killed sweep still has its table
    if not sweep.stopped:  # the rerun compares the seeds once all have trained
        sweep.results = with_centrality(sweep.results, out, resolve_device(plans[0].target.train.device))
    write_tables(sweep, out, config, overrides)
    return sweep


def with_centrality(results: list[SeedResult], out: Path, device: torch.device | str = "cpu") -> list[SeedResult]:
    """``results`` with each trained seed's centrality among the trained seeds whose run has a model, when there
    are two or more of them (else unchanged): the seeds' codes compared with each other on ``device``, no labels."""
    trained = [r for r in results if not r.error and _run_dir(out, r.seed).checkpoints()]
    if len(trained) < 2:
        return results
    models = [[r.seed, r.steps] for r in trained]  # what the scores belong to: a rerun of a finished sweep reads them
    cached = _read_json(out / CENTRALITY_JSON)
    if cached is not None and cached.get("models") == models:
        scores = {int(seed): score for seed, score in cached["scores"].items()}
    else:
        scores = dict(zip((r.seed for r in trained),
                          centrality([load_model(_run_dir(out, r.seed).path, device) for r in trained])))
        atomic_write_bytes(out / CENTRALITY_JSON, json.dumps({"models": models, "scores": scores}).encode())
    return [dataclasses.replace(r, centrality=round(scores[r.seed], 5)) if r.seed in scores else r for r in results]


def most_central(results: list[SeedResult]) -> int | None:
    """The seed of the highest centrality (the first of equals), None when no seed has one."""
    scored = [r for r in results if r.centrality is not None]
    return max(scored, key=lambda r: r.centrality).seed if scored else None


def _run_dir(out: Path, seed: int) -> RunDir:
    return RunDir(out / f"seed-{seed}")


def _plan(config: Config, seed: int, out: Path, overrides: dict[str, Any]) -> _Seed:
    seed_overrides = {**overrides, "train.seed": seed}
    target = apply_overrides(config, seed_overrides)
    if not (target.train.steps or target.train.epochs or target.train.minutes):
        raise ConfigError("no training budget: set --steps or --minutes, or one in the config")
    run = _run_dir(out, seed)
    if not run.checkpoints():
        return _Seed(seed, run, config, seed_overrides, target)
    ckpt = run.load_latest()
    if _reached_budget(target, ckpt):
        return _Seed(seed, run, config, seed_overrides, target, trained=True)
    remaining = _remaining(target, ckpt, seed_overrides)
    check_resumable(ckpt.config, remaining)
    return _Seed(seed, run, config, remaining, target, resume_from=ckpt.step)


def _evaluated(plan: _Seed, evaluate_kw: dict[str, Any] | None, log: Callable[[str], None]) -> SeedResult:
    """The seed's row: its evaluation, read back when it belongs to the newest checkpoint."""
    ckpt = plan.run.load_latest()
    ev = _read_json(plan.run.path / "evaluation.json")
    if ev is None or ev.get("step") != ckpt.step:
        log(f"seed {plan.seed}: evaluating step {ckpt.step}")
        ev = api.evaluate(plan.run.path, **(evaluate_kw or {}))
    return SeedResult.from_evaluation(plan.seed, ckpt, ev)


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


# ---- training the seeds --------------------------------------------------------------
def _one_after_another(plans: list[_Seed], progress: bool, log: Callable[[str], None]) -> Iterator[_Ended]:
    """Train each seed in this process, in turn; a signal ends the sweep after the seed it stopped."""
    for plan in plans:
        if plan.trained:
            yield plan, _Outcome()
            continue
        log(f"seed {plan.seed}: {plan.what} in {plan.run.path}")
        try:
            result = api.train(plan.config, plan.run.path, resume=plan.resume_from is not None,
                               overrides=plan.overrides, progress=progress)
        except (DivergenceError, BusyError) as e:  # busy: another process trains this seed
            yield plan, _Outcome(error=str(e))
            continue
        yield plan, _Outcome(stopped=result.stopped_by_signal)
        if result.stopped_by_signal:
            return


def _check_side_by_side(target: Config, devices: Sequence[str]) -> None:
    for device in devices:
        try:
            resolve_device(apply_overrides(target, {"train.device": device}).train.device)  # a known one, present
        except InfoganError as e:
            raise ConfigError(f"--devices {device}: {e}") from None
    t = target.train
    if sum(map(bool, (t.steps, t.epochs, t.minutes))) > 1:
        raise ConfigError("a sweep over several devices takes one budget (a resumed seed gets it as one flag); "
                          "give --steps or --minutes")


def _side_by_side(plans: list[_Seed], devices: Sequence[str], log: Callable[[str], None]) -> Iterator[_Ended]:
    """Train the seeds in ``python -m infogan train`` subprocesses, one per device at a time, and yield each seed
    as its process ends. The first SIGINT or SIGTERM passes SIGTERM on to every training (each stops after its
    step and saves a checkpoint) and starts no more; a second Ctrl-C, or an error here, kills them."""
    waiting: deque[_Seed] = deque()
    for plan in plans:
        if plan.trained:
            yield plan, _Outcome()
        else:
            waiting.append(plan)
    free = list(devices)
    threads = _cpu_threads(plans[0].target, devices)
    running: dict[subprocess.Popen, tuple[_Seed, str]] = {}
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        if stopping and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stopping = True
        for child in running:
            child.terminate()

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)} \
        if threading.current_thread() is threading.main_thread() else {}  # only the main thread may handle signals
    try:
        while running or (waiting and not stopping):
            while waiting and free and not stopping:
                plan = waiting.popleft()
                held_by = busy(plan.run.path)
                if held_by:  # another process trains this seed: a launch would write its config and log
                    yield plan, _Outcome(error=held_by)
                    continue
                device = free.pop(0)
                log(f"seed {plan.seed}: {plan.what} in {plan.run.path} on {device} (output in {TRAIN_LOG})")
                child = _launch(plan, device, threads.get(device))
                running[child] = (plan, device)
                if stopping:  # the signal came while it started
                    child.terminate()
            ended = [child for child in running if child.poll() is not None]
            if not ended:
                time.sleep(0.1)
            for child in ended:
                plan, device = running.pop(child)
                free.append(device)
                yield plan, _ended(plan, child.returncode, stopping)
        for plan in waiting:  # a signal came between two trainings
            yield plan, _Outcome(stopped=True)
    finally:
        for child in running:
            child.kill()
            child.wait()
        for s, handler in old.items():
            signal.signal(s, handler)


def _cpu_threads(target: Config, devices: Sequence[str]) -> dict[str, int]:
    """``--threads`` for trainings that share the CPU: its cores split between them (unless the config sets them)."""
    on_cpu = [d for d in devices if resolve_device(d).type == "cpu"]
    if len(on_cpu) < 2 or target.train.threads:
        return {}
    return {d: max(1, (os.cpu_count() or 1) // len(on_cpu)) for d in on_cpu}


def _launch(plan: _Seed, device: str, threads: int | None) -> subprocess.Popen:
    command = [sys.executable, "-m", "infogan", "train", "--out", str(plan.run.path), "--device", device, "--quiet"]
    if plan.resume_from is None:
        plan.target.save(plan.run.config_path)
        command += ["--config", str(plan.run.config_path)]
    else:
        command += ["--resume", *next([flag, str(plan.overrides[key])] for key, flag in _BUDGET_FLAGS.items()
                                      if plan.overrides[key])]
    if threads:
        command += ["--threads", str(threads)]
    with open(plan.run.path / TRAIN_LOG, "ab") as output:
        # A session of its own: a Ctrl-C in the terminal reaches this process only, which passes it on as SIGTERM.
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _ended(plan: _Seed, returncode: int, stopping: bool) -> _Outcome:
    """How a training process ended: its budget reached, stopped early (by a signal), or failed (its error line)."""
    if returncode == 0:
        return _Outcome(stopped=not _reached_budget(plan.target, plan.run.load_latest()))
    if returncode < 0 and stopping:  # our SIGTERM came before it could handle signals
        return _Outcome(stopped=True)
    if returncode < 0:
        return _Outcome(error=f"training killed by {signal.Signals(-returncode).name}")
    lines = (plan.run.path / TRAIN_LOG).read_text(errors="replace").splitlines()
    errors = [line.split(": error: ", 1)[1] for line in lines if line.startswith("infogan train: error: ")]
    return _Outcome(error=errors[-1] if errors else f"training exited with code {returncode} (see {TRAIN_LOG})")


# ---- the table -----------------------------------------------------------------------
def summary(results: list[SeedResult]) -> dict[str, dict[str, Any]]:
    """Median and worst over the seeds that trained: the lowest accuracy, NMI, stability and L_I, the highest
    FD-digits."""
    results = [r for r in results if not r.error]

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
    if any(r.stability is not None for r in results):
        columns["stability"] = ([r.stability for r in results], min)
    for code in results[0].mi if results else []:
        columns[f"mi/{code}"] = ([r.mi.get(code) for r in results], min)
    for key in DISENTANGLEMENT:
        if any(key in r.disentanglement for r in results):
            columns[key] = ([r.disentanglement.get(key) for r in results], min)
    for code in results[0].morphometry if results else []:  # a code's one factor: high |rho|, low next, digit kept
        for key, worst in (("rho", min), ("other", max), ("digit_kept", min), ("gap", max)):
            columns[f"{key}/{code}"] = ([r.morphometry.get(code, {}).get(key) for r in results], worst)
    if any(r.pairing for r in results):
        columns["pair_own"] = ([r.pairing.get("own") for r in results], min)
        columns["pair_cross"] = ([r.pairing.get("cross") for r in results], max)
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
    data = {"seeds": [dataclasses.asdict(r) for r in sweep.results], **stats,
            "most_central": most_central(sweep.results), "overrides": overrides, "config": dataclasses.asdict(config)}
    atomic_write_bytes(out / SWEEP_JSON, (json.dumps(data, indent=2) + "\n").encode())
    atomic_write_bytes(out / SWEEP_MD, markdown(sweep.results, stats, overrides).encode())


def markdown(results: list[SeedResult], stats: dict[str, dict[str, Any]], overrides: dict[str, Any]) -> str:
    trained = [r for r in results if not r.error]
    codes = list(trained[0].mi) if trained else []
    shaped = list(trained[0].morphometry) if trained else []
    rows = [({} if r.error else {**dataclasses.asdict(r), **{f"mi/{c}": v for c, v in r.mi.items()},
                                 **r.disentanglement, **_morphometry_cells(r)}) for r in results]
    columns = [("steps", "steps", "{:,.0f}"), ("train time", "seconds", "{:.0f} s"),
               ("accuracy", "accuracy", "{:.2%}"), ("NMI", "nmi", "{:.3f}"), ("stability", "stability", "{:.3f}"),
               ("centrality", "centrality", "{:.3f}"),
               *((f"L_I({c})", f"mi/{c}", "{:.3f}") for c in codes), ("FD-digits", "fd_digits", "{:.2f}"),
               *((header, key, "{:.3f}") for key, header in DISENTANGLEMENT.items()),
               *(col for c in shaped for col in ((f"{c}: top \\|rho\\|", f"rho/{c}", "{:.2f}"),
                                                  (f"{c}: next \\|rho\\|", f"other/{c}", "{:.2f}"),
                                                  (f"{c}: digit kept", f"digit_kept/{c}", "{:.1%}"),
                                                  (f"{c}: -2..2 change", f"gap/{c}", "{:.2f}"))),
               ("paired: own \\|rho\\|", "pair_own", "{:.2f}"), ("paired: cross \\|rho\\|", "pair_cross", "{:.2f}")]
    # Only the columns this data has: digits have no factors, dSprites has no labels or digit classifier.
    columns = [c for c in columns if any(row.get(c[1]) is not None for row in rows)] or columns[:2]

    def cells(seed: str, d: dict[str, Any], diagnosis: str) -> list[str]:
        return [seed, *(_fmt(d.get(key), spec) for _, key, spec in columns), diagnosis]

    header = ["seed", *(c[0] for c in columns), "diagnosis"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for r, row in zip(results, rows):
        note = "failed: " + r.error.replace("|", "\\|") if r.error else r.diagnosis
        lines.append("| " + " | ".join(cells(str(r.seed), row, note)) + " |")
    if trained:
        worst_seed = stats["worst"].get("seed")
        lines.append("| " + " | ".join(cells("**median**", stats["median"], "")) + " |")
        lines.append("| " + " | ".join(cells("**worst**", stats["worst"], f"seed {worst_seed} has the lowest accuracy"
                                               if worst_seed is not None else "")) + " |")
    central = most_central(results)
    if central is not None:
        lines.append(f"\nmost central (ModelCentrality, no labels): seed {central}")
    settings = ", ".join(f"`{k}={v}`" for k, v in overrides.items()) or "none"
    return (f"# Sweep over {len(results)} seed(s)\n\nOverrides: {settings}. Accuracy and NMI: the categorical code as a "
            "label-free classifier (Hungarian-matched); stability (label-free): the share of images whose categorical code "
            "value survives small random moves; centrality (label-free): the mean agreement of the seed's codes with the "
            "other seeds' codes, each seed's Q reading the others' generated images by the FactorVAE score (InfoGAN-CR's "
            "ModelCentrality); disentanglement scores: Q as an encoder of the data's factors; "
            "top and next |rho|: a continuous code's largest and second-largest Spearman |rho| with the digits' "
            "shape measures along its traversals (the top one named), digit kept: the share of traversal images that "
            "keep their row's digit; -2..2 change: the largest change of a rho or the digit kept when the traversal "
            "goes from -2 to 2 (the paper's extrapolation); paired: the continuous codes matched to distinct measures "
            "(named in the own cell), the weakest code's |rho| on its own measure and the largest |rho| of a code on "
            "another code's measure; worst = the lowest of each score, the highest FD-digits, next |rho|, -2..2 change "
            "and cross |rho|.\n\n"
            + "\n".join(lines) + "\n")


def _morphometry_cells(r: SeedResult) -> dict[str, Any]:
    """A seed's morphometry columns; the top |rho| cell also names its measure."""
    cells: dict[str, Any] = {}
    for code, m in r.morphometry.items():
        cells.update({f"rho/{code}": f"{m['rho']:.2f} {m['dominant']}", f"other/{code}": m["other"],
                      f"digit_kept/{code}": m["digit_kept"], f"gap/{code}": m.get("gap")})
    if r.pairing:
        cells.update({"pair_own": f"{r.pairing['own']:.2f} {'/'.join(r.pairing['measures'].values())}",
                      "pair_cross": r.pairing["cross"]})
    return cells


def _fmt(value: Any, spec: str) -> str:
    return "" if value is None else value if isinstance(value, str) else spec.format(value)
