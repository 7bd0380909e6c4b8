import json

import pytest
import torch

from infogan.cli import main
from infogan.errors import ConfigError
from infogan.runs import Checkpoint
from infogan.sweep import SeedResult, _reached_budget, _remaining, parse_overrides, run_sweep, summary

FAST_EVAL = {"mi_samples": 200, "quality_samples": 200}


def test_sweep_trains_each_seed_once_and_resumes_short_ones(tmp_path, tiny_config, capsys):
    logs: list[str] = []
    kw = {"progress": False, "evaluate_kw": FAST_EVAL, "log": logs.append}
    sweep = run_sweep(tiny_config, [0, 1], tmp_path, {"train.steps": 2}, **kw)
    assert [(r.seed, r.steps) for r in sweep.results] == [(0, 2), (1, 2)] and not sweep.stopped
    assert [line.split(":")[1].strip().split()[0] for line in logs] == ["training", "evaluating"] * 2
    for seed in (0, 1):
        assert f"seed = {seed}" in (tmp_path / f"seed-{seed}" / "config.toml").read_text()
    table = json.loads((tmp_path / "sweep.json").read_text())
    accs = [row["accuracy"] for row in table["seeds"]]
    assert table["worst"]["accuracy"] == min(accs) and table["median"]["accuracy"] == pytest.approx(sum(accs) / 2)
    assert table["seeds"][0]["diagnosis"] and set(table["seeds"][0]["mi"]) == {"cat0", "c1", "c2"}
    md = (tmp_path / "sweep.md").read_text()
    assert "| **median** |" in md and "| **worst** |" in md and "FD-digits" in md
    assert f"{table['seeds'][1]['fd_digits']:.2f}" in md

    logs.clear()  # the same sweep again: everything is read back
    again = run_sweep(tiny_config, [0, 1], tmp_path, {"train.steps": 2}, **kw)
    assert logs == [] and again.results == sweep.results

    tiny_config.save(tmp_path / "tiny.toml")  # the CLI, on the finished sweep: prints the table
    assert main(["sweep", "--seeds", "0", "1", "--config", str(tmp_path / "tiny.toml"), "--steps", "2",
                 "--out", str(tmp_path), "--quiet"]) == 0
    assert capsys.readouterr().out == md

    longer = run_sweep(tiny_config, [1], tmp_path, {"train.steps": 4}, **kw)  # a larger budget: seed 1 continues
    assert logs == ["seed 1: resuming from step 2 in " + str(tmp_path / "seed-1"), "seed 1: evaluating step 4"]
    assert longer.results[0].steps == 4


def _ckpt(config, step: int, elapsed: float) -> Checkpoint:
    return Checkpoint(step, config, {}, {"rng.perm": torch.arange(160)}, {"elapsed": elapsed})


def test_budget_reached_by_steps_epochs_or_time(tiny_config):
    tiny_config.train.steps = 10
    assert not _reached_budget(tiny_config, _ckpt(tiny_config, 9, 1e9)) and _reached_budget(tiny_config, _ckpt(tiny_config, 10, 0))
    tiny_config.train.steps, tiny_config.train.epochs = 0, 2.0  # 160 images / batch 16 = 10 steps per epoch
    assert not _reached_budget(tiny_config, _ckpt(tiny_config, 19, 0)) and _reached_budget(tiny_config, _ckpt(tiny_config, 20, 0))
    tiny_config.train.epochs, tiny_config.train.minutes = 0.0, 2.0
    assert not _reached_budget(tiny_config, _ckpt(tiny_config, 5, 119)) and _reached_budget(tiny_config, _ckpt(tiny_config, 5, 120))
    # A resumed time budget is what is left of it, since --minutes counts per call.
    assert _remaining(tiny_config, _ckpt(tiny_config, 5, 30), {"train.seed": 1}) == {
        "train.seed": 1, "train.steps": 0, "train.epochs": 0.0, "train.minutes": pytest.approx(1.5)}


def test_summary_median_and_worst():
    rows = [SeedResult(s, 100, 10.0, acc, nmi, {"cat0": mi}, fd, "")
            for s, acc, nmi, mi, fd in ((0, 0.9, 0.8, 2.2, 5.0), (1, 0.7, 0.6, 2.0, 9.0), (2, 0.8, 0.9, 2.3, 1.0))]
    s = summary(rows)
    assert s["median"] == {"steps": 100, "seconds": 10.0, "accuracy": 0.8, "nmi": 0.8, "fd_digits": 5.0, "mi/cat0": 2.2}
    assert s["worst"] == {"accuracy": 0.7, "nmi": 0.6, "fd_digits": 9.0, "mi/cat0": 2.0, "seed": 1}


def test_parse_overrides(tiny_config):
    assert parse_overrides(["loss.lambda_cont=0.5", "train.device=cpu", "train.deterministic=true"], tiny_config) == {
        "loss.lambda_cont": 0.5, "train.device": "cpu", "train.deterministic": True}
    for bad in ("loss.lambda_cont", "lambda_cont=1", "loss.nope=1", "nope.x=1"):
        with pytest.raises(ConfigError, match="SECTION.KEY=VALUE"):
            parse_overrides([bad], tiny_config)
    with pytest.raises(ConfigError, match="distinct"):
        run_sweep(tiny_config, [1, 1], "unused")
