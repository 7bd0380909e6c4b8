import json
import os
import signal
import socket
import subprocess
import sys
import time
from unittest import mock

import pytest
import torch

from infogan.cli import main
from infogan.errors import ConfigError
from infogan.metrics import evaluate as evaluate_model
from infogan.runs import Checkpoint, RunDir
from infogan.sweep import DISENTANGLEMENT, SeedResult, _reached_budget, _remaining, markdown, run_sweep, summary

FAST_EVAL = {"mi_samples": 200, "quality_samples": 200, "shape_rows": 1}


def _fast_evaluate(model, data, code, *_):
    return evaluate_model(model, data, code, **FAST_EVAL)


def test_sweep_trains_each_seed_once_and_resumes_short_ones(tmp_path, tiny_config, capsys, monkeypatch):
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
    shape = table["seeds"][0]["morphometry"]["c1"]
    assert f"{shape['rho']:.2f} {shape['dominant']}" in md and "c1: top \\|rho\\|" in md and "c2: digit kept" in md
    assert table["worst"]["other/c2"] == max(row["morphometry"]["c2"]["other"] for row in table["seeds"])
    assert table["worst"]["gap/c1"] == max(row["morphometry"]["c1"]["gap"] for row in table["seeds"]) and "c1: -2..2 change" in md
    assert f"{table['seeds'][1]['fd_digits']:.2f}" in md
    pairs = [row["pairing"] for row in table["seeds"]]
    assert table["worst"]["pair_cross"] == max(p["cross"] for p in pairs) and "paired: cross \\|rho\\|" in md
    assert f"{pairs[0]['own']:.2f} {'/'.join(pairs[0]['measures'].values())}" in md
    # Two trained seeds: each one's ModelCentrality among them (no labels), and the most central named.
    central = [row["centrality"] for row in table["seeds"]]
    assert all(0 <= c <= 1 for c in central) and "| stability | centrality |" in md
    assert table["most_central"] == [0, 1][central.index(max(central))]
    assert f"most central (ModelCentrality, no labels): seed {table['most_central']}" in md

    logs.clear()  # the same sweep again: everything is read back, the centrality too
    with monkeypatch.context() as m:
        m.setattr("infogan.sweep.centrality", lambda models: pytest.fail("centrality computed again"))
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
    rows = [SeedResult(s, 100, 10.0, acc, nmi, {"cat0": mi}, fd, "", stability=st)
            for s, acc, nmi, mi, fd, st in ((0, 0.9, 0.8, 2.2, 5.0, 0.97), (1, 0.7, 0.6, 2.0, 9.0, 0.88),
                                            (2, 0.8, 0.9, 2.3, 1.0, 0.95))]
    s = summary(rows)
    assert s["median"] == {"steps": 100, "seconds": 10.0, "accuracy": 0.8, "nmi": 0.8, "fd_digits": 5.0,
                           "stability": 0.95, "mi/cat0": 2.2}
    assert s["worst"] == {"accuracy": 0.7, "nmi": 0.6, "fd_digits": 9.0, "stability": 0.88, "mi/cat0": 2.0, "seed": 1}
    no_codes = summary([SeedResult(0, 100, 10.0, None, None, {}, None, "")])  # no categorical code: no column
    assert "stability" not in no_codes["median"]


def test_seeds_must_be_distinct(tiny_config):
    with pytest.raises(ConfigError, match="distinct"):
        run_sweep(tiny_config, [1, 1], "unused")


def test_sweep_fans_out_over_devices_and_reports_a_failed_seed_in_the_table(tiny_config, tmp_path, capsys):
    tiny_config.save(tmp_path / "tiny.toml")
    args = ["sweep", "--seeds", "0", "1", "2", "--config", str(tmp_path / "tiny.toml"), "--steps", "2",
            "--out", str(tmp_path), "--quiet"]
    (tmp_path / "seed-1" / "metrics.jsonl").mkdir(parents=True)  # seed 1's training cannot write its log
    with mock.patch("infogan.api.evaluate_model", _fast_evaluate):
        assert main([*args, "--devices", "cpu", "cpu"]) == 1
    out, err = capsys.readouterr()
    # Three trainings, two at a time (each given half of the CPU's threads), in their own processes.
    assert sorted(line.split(" in ")[0] for line in out.splitlines() if " on cpu (output in train.log)" in line) == [
        "seed 0: training", "seed 1: training", "seed 2: training"]
    assert RunDir(tmp_path / "seed-0").load_latest().config.train.threads == max(1, (os.cpu_count() or 1) // 2)
    assert "done at step 2" in (tmp_path / "seed-2" / "train.log").read_text()
    assert err.count("\n") == 1 and err.startswith("infogan sweep: error: 1 of 3 seeds failed (seed 1: ")
    assert "metrics.jsonl: Is a directory" in err and "run the same command again" in err
    table = json.loads((tmp_path / "sweep.json").read_text())
    assert [(row["seed"], row["steps"], bool(row["error"])) for row in table["seeds"]] == [
        (0, 2, False), (1, 0, True), (2, 2, False)]
    accs = [table["seeds"][i]["accuracy"] for i in (0, 2)]
    assert table["median"]["accuracy"] == pytest.approx(sum(accs) / 2) and table["worst"]["accuracy"] == min(accs)
    assert "| 1 |" in out and "failed: " in out.split("| 1 |")[1].splitlines()[0]

    (tmp_path / "seed-1" / "metrics.jsonl").rmdir()  # fixed: the rerun trains seed 1 only
    with mock.patch("infogan.api.evaluate_model", _fast_evaluate):
        assert main([*args, "--parallel", "2"]) == 0
    out = capsys.readouterr().out
    assert [line.split(" in ")[0] for line in out.splitlines() if "(output in" in line] == ["seed 1: training"]
    assert [row["steps"] for row in json.loads((tmp_path / "sweep.json").read_text())["seeds"]] == [2, 2, 2]


def test_ctrl_c_stops_every_seed_with_a_checkpoint_and_the_rerun_resumes_them(tiny_config, tmp_path):
    tiny_config.train.sample_every = tiny_config.train.checkpoint_every = 10_000  # the only checkpoint: the signal's
    tiny_config.save(tmp_path / "tiny.toml")
    out = tmp_path / "sweep"
    sweep = subprocess.Popen([sys.executable, "-m", "infogan", "sweep", "--seeds", "0", "1", "--config",
                              str(tmp_path / "tiny.toml"), "--steps", "100000", "--devices", "cpu", "cpu",
                              "--out", str(out), "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    logs = [out / f"seed-{seed}" / "metrics.jsonl" for seed in (0, 1)]
    try:
        deadline = time.monotonic() + 120
        while not all(log.exists() and log.stat().st_size for log in logs):  # both are training
            assert sweep.poll() is None and time.monotonic() < deadline, sweep.communicate()[0]
            time.sleep(0.2)
        sweep.send_signal(signal.SIGINT)
        output = sweep.communicate(timeout=120)[0]
    finally:
        if sweep.poll() is None:  # SIGTERM: the sweep passes it on to its trainings
            sweep.terminate()
            sweep.wait(60)
    assert sweep.returncode == 0 and "stopped by signal; run the same command again" in output, output
    steps = [RunDir(out / f"seed-{seed}").load_latest().step for seed in (0, 1)]
    assert all(0 < step < 100_000 for step in steps)
    assert all("stopped by signal at step" in (out / f"seed-{seed}" / "train.log").read_text() for seed in (0, 1))
    assert json.loads((out / "sweep.json").read_text())["seeds"] == []

    logs = []
    budget = max(steps) + 1
    again = run_sweep(tiny_config, [0, 1], out, {"train.steps": budget}, devices=["cpu", "cpu"],
                      evaluate_kw=FAST_EVAL, log=logs.append)
    assert sorted(line.split(" in ")[0] for line in logs if "resuming" in line) == [
        f"seed {seed}: resuming from step {step}" for seed, step in zip((0, 1), steps)]
    assert [r.steps for r in again.results] == [budget, budget] and not again.stopped


def test_a_seed_another_process_trains_is_reported_busy_and_the_others_train(tiny_config, tmp_path, lock_holder):
    holder = lock_holder(tmp_path / "seed-0")  # e.g. a first sweep, still training seed 0
    busy = f"{tmp_path / 'seed-0'} is being trained by PID {holder.pid} on {socket.gethostname()} "
    logs: list[str] = []
    sweep = run_sweep(tiny_config, [0, 1], tmp_path, {"train.steps": 2}, progress=False, evaluate_kw=FAST_EVAL,
                      log=logs.append)
    assert [(r.seed, r.steps, r.error.split("since")[0]) for r in sweep.results] == [(0, 0, busy), (1, 2, "")]
    assert logs[1].startswith(f"seed 0: failed: {busy}") and logs[1].endswith("; wait for it or stop it")
    # Side by side, the busy seed is not even launched: its folder gets no config or log of this sweep.
    again = run_sweep(tiny_config, [0, 1], tmp_path, {"train.steps": 2}, devices=["cpu"], evaluate_kw=FAST_EVAL,
                      log=logs.append)
    assert again.results == sweep.results
    assert [p.name for p in (tmp_path / "seed-0").iterdir()] == [".lock"]


def test_failed_rows_stay_out_of_the_median():
    rows = [SeedResult(0, 100, 10.0, 0.9, 0.8, {"cat0": 2.2}, 5.0, "fine"), SeedResult.failed(1, "a | b")]
    s = summary(rows)
    assert s["median"]["accuracy"] == 0.9 and s["worst"]["seed"] == 0 and s["median"]["steps"] == 100
    assert "| 1 |  |  |  |  |  |  | failed: a \\| b |" in markdown(rows, s, {})


def test_data_with_factors_gets_disentanglement_columns_instead_of_the_digit_ones(tiny_config):
    # What `infogan evaluate` writes for dSprites: no labels and no digit classifier, but the factor scores.
    ckpt = _ckpt(tiny_config, 50, 60)
    scores = {"factor_vae": 0.6, "mig": 0.2, "sap": 0.3, "dci_disentanglement": 0.25, "dci_completeness": 0.3,
              "dci_informativeness": 0.7, "factor_vae_train": 0.61, "mutual_info": [[0.1]]}
    rows = [SeedResult.from_evaluation(s, ckpt, {"mi": {"c1": 1.0}, "disentanglement": {**scores, "mig": mig}})
            for s, mig in ((0, 0.2), (1, 0.1), (2, 0.4))]
    assert rows[0].disentanglement == {k: v for k, v in scores.items() if k in DISENTANGLEMENT}
    s = summary(rows)
    assert s["median"]["mig"] == 0.2 and s["worst"]["mig"] == 0.1 and s["worst"]["factor_vae"] == 0.6
    table = markdown(rows, s, {})
    assert "| seed | steps | train time | L_I(c1) | FactorVAE | MIG | SAP | DCI-D | DCI-C | DCI-I | diagnosis |" in table
    assert "| 2 | 50 | 60 s | 1.000 | 0.600 | 0.400 | 0.300 | 0.250 | 0.300 | 0.700 |  |" in table
    rows_text = "\n".join(line for line in table.splitlines() if line.startswith("|"))
    assert "accuracy" not in rows_text and "NMI" not in rows_text and "FD-digits" not in rows_text
