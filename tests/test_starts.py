"""Label-free selection among short starts: seeds, the choice, its records, budgets and stops."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from infogan.api import train
from infogan.config import CodeConfig, preset
from infogan.distributed import World
from infogan.errors import ConfigError
from infogan.metrics.stability import code_stability, stability_images
from infogan.runs import RunDir, load_checkpoint
from infogan.starts import agreement, check_starts, choose_start, pick, start_seed
from infogan.train import Trainer


def _fit(trainer, start_run, start):
    from infogan.hooks import MetricsLog

    trainer.fit(steps=trainer.config.train.start_steps, hooks=[MetricsLog(start_run, 1)])


def test_start_seeds_keep_the_runs_own_first_and_differ_across_runs_and_starts():
    assert start_seed(7, 0) == 7
    seeds = {start_seed(s, i) for s in range(20) for i in range(1, 5)}
    assert len(seeds) == 80 and not seeds & set(range(20))
    assert all(0 <= s < 2**31 for s in seeds)


def test_agreement_is_the_mean_nmi_with_the_other_partitions():
    rng = np.random.default_rng(0)
    digits = rng.integers(0, 10, 5000)
    renamed = (digits + 3) % 10  # the same partition under other code values
    merged = np.where(digits == 9, 4, digits)  # 4 and 9 share a value...
    merged = np.where((digits == 0) & (rng.random(5000) < 0.5), 9, merged)  # ...and 0 is split over two
    noise = rng.integers(0, 10, 5000)
    score = agreement([digits, renamed, merged, noise], 10)
    assert score[0] == pytest.approx(score[1])  # NMI ignores the names of code values
    assert score[0] > score[2] > score[3]  # the consensus partition first, the partition that matches none last
    assert score[3] < 0.05
    assert agreement([digits, renamed], 10) == pytest.approx([1.0, 1.0])
    assert agreement([digits], 10) == [0.0]


def test_pick_prefers_agreement_from_three_starts_and_stability_otherwise():
    records = [{"kept": 0.95, "agreement": 0.80}, {"kept": 0.90, "agreement": 0.85}, {"kept": 0.91, "agreement": 0.85}]
    assert pick(records, "agreement") == 2  # agreement ties: the more stable
    assert pick(records, "stability") == 0
    assert pick(records[:2], "agreement") == 0  # two starts always agree equally with each other
    assert pick([{"kept": 0.9, "agreement": 0.5}] * 3, "agreement") == 0  # full ties: the earlier start
    central = [{"centrality": 0.4}, {"centrality": 0.7}, {"centrality": 0.7}]  # no categorical code: no stability
    assert pick(central, "centrality") == 1 and pick(central[:2], "centrality") == 0


@pytest.mark.parametrize("score", ["agreement", "stability", "centrality"])
def test_the_preferred_start_is_kept_and_every_start_is_recorded(tiny_config, tiny_data, tmp_path, score):
    tiny_config.train.starts, tiny_config.train.start_steps, tiny_config.train.start_score = 3, 2, score
    run = RunDir(tmp_path)
    best = choose_start(tiny_config, tiny_data, torch.device("cpu"), run, _fit)
    record = json.loads((tmp_path / "starts.json").read_text())
    starts = record["starts"]
    assert [s["start"] for s in starts] == [0, 1, 2] and all(s["step"] == 2 for s in starts)
    assert starts[0]["seed"] == tiny_config.train.seed and len({s["seed"] for s in starts}) == 3
    assert record["score"] == score and record["chosen"] == pick(starts, score)
    assert all(0 <= s["agreement"] <= 1 for s in starts)
    # Centrality only where it chooses: it costs a G and Q pass over generated images per start and pair.
    assert all(("centrality" in s) == (score == "centrality") and 0 <= s.get("centrality", 0) <= 1 for s in starts)
    # The kept trainer is that start, and scores what the record says; it carries the run's own config.
    again = code_stability(best.model, stability_images(tiny_data))["cat0"].kept
    assert again == pytest.approx(starts[record["chosen"]]["kept"], abs=1e-5)
    assert best.step == 2 and best.config.train.seed == tiny_config.train.seed
    assert best.model.config.train.seed == tiny_config.train.seed
    # Each start's losses are kept; the chosen start's open the run's own log.
    logs = [(tmp_path / "starts" / f"start-{i}" / "metrics.jsonl").read_text() for i in range(3)]
    assert len(set(logs)) == 3
    assert run.metrics_path.read_text() == logs[record["chosen"]]


def test_a_start_stable_enough_is_kept_without_training_the_others(tiny_config, tiny_data, tmp_path):
    tiny_config.train.starts, tiny_config.train.start_steps = 3, 2
    tiny_config.train.start_enough = 2.0  # never reached: every start trains
    choose_start(tiny_config, tiny_data, torch.device("cpu"), RunDir(tmp_path / "all"), _fit)
    first = json.loads((tmp_path / "all" / "starts.json").read_text())["starts"][0]["kept"]
    assert len(json.loads((tmp_path / "all" / "starts.json").read_text())["starts"]) == 3
    tiny_config.train.start_enough = first  # start 0 reaches it: starts 1 and 2 are never trained
    run = RunDir(tmp_path / "enough")
    best = choose_start(tiny_config, tiny_data, torch.device("cpu"), run, _fit)
    record = json.loads((run.path / "starts.json").read_text())
    assert [s["start"] for s in record["starts"]] == [0] and record["chosen"] == 0 and record["enough"] == first
    assert not (run.path / "starts" / "start-1").exists()
    assert best.step == 2 and best.config.train.seed == tiny_config.train.seed


def test_the_start_that_reaches_the_bar_is_kept_whatever_the_score_prefers(tiny_config, tiny_data, tmp_path,
                                                                            monkeypatch):
    from infogan import starts
    from infogan.metrics.stability import Stability

    kept = iter([0.5, 0.6, 0.99])  # only the third start reaches the bar
    monkeypatch.setattr(starts, "code_stability", lambda model, images: {"cat0": Stability(next(kept), 1.0)})
    monkeypatch.setattr(starts, "agreement", lambda codes, k: [0.9, 0.1, 0.1])  # agreement prefers the first
    tiny_config.train.starts, tiny_config.train.start_steps, tiny_config.train.start_score = 3, 1, "agreement"
    tiny_config.train.start_enough = 0.97
    run = RunDir(tmp_path)
    best = choose_start(tiny_config, tiny_data, torch.device("cpu"), run, _fit)
    record = json.loads((run.path / "starts.json").read_text())
    assert record["chosen"] == 2 and pick(record["starts"], "agreement") == 0
    assert best.config.train.seed == tiny_config.train.seed and best.step == 1


def test_a_start_trains_as_a_run_of_its_seed_would(tiny_config, tiny_data, tmp_path):
    tiny_config.train.starts, tiny_config.train.start_steps = 2, 2
    best = choose_start(tiny_config, tiny_data, torch.device("cpu"), RunDir(tmp_path), _fit)
    record = json.loads((tmp_path / "starts.json").read_text())
    tiny_config.train.seed = record["starts"][record["chosen"]]["seed"]
    alone = Trainer(tiny_config, tiny_data)
    for _ in range(2):
        alone.train_step()
    for a, b in zip(alone.model.generator.parameters(), best.model.generator.parameters()):
        assert torch.equal(a, b)


def test_train_with_starts_counts_the_kept_starts_steps_and_resumes(tiny_config, tmp_path, monkeypatch, tiny_data):
    monkeypatch.setattr("infogan.api.load_data", lambda config, device: tiny_data)
    tiny_config.train.starts, tiny_config.train.start_steps, tiny_config.train.steps = 2, 2, 4
    result = train(tiny_config, tmp_path / "run", progress=False)
    assert result.step == 4
    ckpt = load_checkpoint(result.run.latest_checkpoint())
    assert ckpt.step == 4 and ckpt.config.train.seed == tiny_config.train.seed and ckpt.config.train.starts == 2
    steps = [json.loads(line)["step"] for line in result.run.metrics_path.read_text().splitlines()]
    assert steps == [1, 2, 3, 4]  # the kept start's steps, then the run's
    assert train(tiny_config, tmp_path / "run", resume=True, overrides={"train.steps": 6}, progress=False).step == 6


def test_a_stop_during_a_start_keeps_the_best_finished_start(tiny_config, tiny_data, tmp_path):
    tiny_config.train.starts, tiny_config.train.start_steps = 3, 2

    def stop_in_second(trainer, start_run, start):
        trainer.stop_requested = start == 1
        _fit(trainer, start_run, start)

    best = choose_start(tiny_config, tiny_data, torch.device("cpu"), RunDir(tmp_path), stop_in_second)
    record = json.loads((tmp_path / "starts.json").read_text())
    assert [s["start"] for s in record["starts"]] == [0] and record["chosen"] == 0
    assert best.stop_requested and best.step == 2


def test_selection_without_a_categorical_code_needs_centrality(tiny_config):
    tiny_config.train.starts = 2
    check_starts(tiny_config)
    tiny_config.latent.codes = [CodeConfig(name="c1", kind="continuous")]
    with pytest.raises(ConfigError, match="categorical code.*start_score = \"centrality\""):
        check_starts(tiny_config)
    tiny_config.train.start_score = "centrality"
    with pytest.raises(ConfigError, match="cannot tell 2 starts apart"):
        check_starts(tiny_config)
    tiny_config.train.starts, tiny_config.train.start_enough = 3, 0.97
    with pytest.raises(ConfigError, match="start_enough is a stability"):  # no stability to reach
        check_starts(tiny_config)
    tiny_config.train.start_enough = 0.0
    check_starts(tiny_config)
    tiny_config.train.starts, tiny_config.train.start_score = 1, "stability"
    check_starts(tiny_config)


def test_starts_without_a_categorical_code_are_chosen_by_centrality(tiny_config, tmp_path, monkeypatch, tiny_data):
    monkeypatch.setattr("infogan.api.load_data", lambda config, device: tiny_data)
    tiny_config.latent.codes = [CodeConfig(name="c1", kind="continuous"), CodeConfig(name="c2", kind="continuous")]
    tiny_config.train.starts, tiny_config.train.start_steps, tiny_config.train.steps = 3, 2, 3
    tiny_config.train.start_score = "centrality"
    result = train(tiny_config, tmp_path / "run", progress=False)
    assert result.step == 3
    record = json.loads((tmp_path / "run" / "starts.json").read_text())
    starts = record["starts"]
    assert record["code"] is None and record["score"] == "centrality" and [s["start"] for s in starts] == [0, 1, 2]
    assert all(set(s) == {"start", "seed", "step", "centrality"} and 0 <= s["centrality"] <= 1 for s in starts)
    assert record["chosen"] == pick(starts, "centrality")


def test_the_default_preset_trains_with_starts_under_torchrun(tmp_path):
    """The default (the mnist preset on the bundled digits), with two starts, on 2 CPU ranks: every rank trains every
    start, rank 0 chooses, and both go on with that start to the end of the budget."""
    cfg = preset("mnist")
    cfg.train.starts, cfg.train.start_steps, cfg.train.steps, cfg.train.device = 2, 2, 3, "cpu"
    cfg.train.start_enough = 0.0  # both starts train, whatever the first one scores
    cfg.train.log_every, cfg.train.sample_every, cfg.train.checkpoint_every = 1, 1000, 1000
    cfg.save(tmp_path / "default.toml")
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", "-m", "infogan",
           "train", "--config", str(tmp_path / "default.toml"), "--out", str(out), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((out / "starts.json").read_text())
    assert [s["start"] for s in record["starts"]] == list(range(cfg.train.starts))
    ckpt = load_checkpoint(RunDir(out).latest_checkpoint())
    assert ckpt.step == 3 and ckpt.config.train.seed == cfg.train.seed  # the kept start went on as the run
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]  # the chosen start's records, then the run's own


def test_a_step_budget_within_one_start_selects_nothing(tiny_config, tmp_path, monkeypatch, tiny_data):
    monkeypatch.setattr("infogan.api.load_data", lambda config, device: tiny_data)
    tiny_config.train.starts, tiny_config.train.start_steps, tiny_config.train.steps = 3, 4, 4
    result = train(tiny_config, tmp_path / "run", progress=False)
    assert result.step == 4 and not (tmp_path / "run" / "starts.json").exists()


def test_a_signal_between_starts_stops_the_run_with_the_best_finished_start(tiny_config, tmp_path, monkeypatch, tiny_data):
    import os
    import signal

    import infogan.starts

    monkeypatch.setattr("infogan.api.load_data", lambda config, device: tiny_data)
    scored = []

    def score_then_terminate(model, images):  # SIGTERM arrives while start 0 is scored: no trainer is running
        scored.append(1)
        if len(scored) == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        return code_stability(model, images)

    monkeypatch.setattr(infogan.starts, "code_stability", score_then_terminate)
    tiny_config.train.starts, tiny_config.train.start_steps, tiny_config.train.steps = 3, 2, 10
    before = signal.getsignal(signal.SIGTERM)
    result = train(tiny_config, tmp_path / "run", progress=False)
    assert signal.getsignal(signal.SIGTERM) is before  # the handlers are put back
    assert result.stopped_by_signal and result.step == 2  # start 0's steps, and no more
    record = json.loads((tmp_path / "run" / "starts.json").read_text())
    assert [s["start"] for s in record["starts"]] == [0] and record["chosen"] == 0
    assert load_checkpoint(result.run.latest_checkpoint()).step == 2
