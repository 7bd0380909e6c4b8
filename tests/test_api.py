"""api.train's recovery policy (a divergence stops the run, or rolls it back with lower learning rates), and where
api.evaluate saves its result."""

import json

import numpy as np
import pytest
import torch

from infogan import api
from infogan.api import DivergenceWarning, train
from infogan.data.idx import write_idx
from infogan.errors import ConfigError, DivergenceError
from infogan.runs import RunDir, load_checkpoint
from infogan.train import Hook


class Poison(Hook):
    """Fills a generator weight with NaN after the given steps (each at most once)."""

    def __init__(self, *steps):
        self.steps = set(steps)

    def after_step(self, trainer, out):
        if trainer.step in self.steps:
            self.steps.discard(trainer.step)
            with torch.no_grad():
                trainer.model.generator.net[0].weight.fill_(float("nan"))


@pytest.fixture(autouse=True)
def bundled_is_tiny(monkeypatch, tiny_data):
    monkeypatch.setattr("infogan.api.load_data", lambda config, device: tiny_data)


def test_divergence_stops_and_keeps_the_good_checkpoint(tiny_config, tmp_path):
    with pytest.raises(DivergenceError, match="diverged at step 4: loss_d is nan"):
        train(tiny_config, tmp_path, overrides={"train.steps": 8}, progress=False, hooks=[Poison(3)])
    assert [p.name for p in RunDir(tmp_path).checkpoints()] == ["step-0000002.safetensors"]


def test_rollback_restores_the_checkpoint_and_halves_the_learning_rates(tiny_config, tmp_path):
    tiny_config.train.on_divergence = "rollback"
    with pytest.warns(DivergenceWarning, match="diverged at step 4.*rolled back to step 2 with lr_d 0.0001, lr_g 0.0005"):
        result = train(tiny_config, tmp_path, overrides={"train.steps": 8}, progress=False, hooks=[Poison(3)])
    assert result.step == 8 and result.rollbacks == 1
    final = load_checkpoint(RunDir(tmp_path).checkpoints()[-1])
    assert final.step == 8
    assert [g["lr"] for g in final.optim_groups["d"]] == [1e-4] and [g["lr"] for g in final.optim_groups["g"]] == [5e-4]
    assert all(torch.isfinite(v).all() for v in final.tensors.values() if v.is_floating_point())
    steps = [json.loads(line)["step"] for line in RunDir(tmp_path).metrics_path.read_text().splitlines()]
    assert steps == list(range(1, 9))  # the diverged tail was dropped and logged again


def test_rollback_gives_up_after_max_rollbacks(tiny_config, tmp_path):
    tiny_config.train.on_divergence = "rollback"
    tiny_config.train.max_rollbacks = 2
    # NaN after 3: diverges at 4, back to 2; after 4 (saved first): at 5, back to 4; after 5: at 6, give up.
    with pytest.warns(DivergenceWarning) as caught, pytest.raises(DivergenceError, match="diverged at step 6"):
        train(tiny_config, tmp_path, overrides={"train.steps": 8}, progress=False, hooks=[Poison(3, 4, 5)])
    assert [str(w.message).split("; ")[1] for w in caught] == [
        "rolled back to step 2 with lr_d 0.0001, lr_g 0.0005",
        "rolled back to step 4 with lr_d 5e-05, lr_g 0.00025",
    ]
    assert RunDir(tmp_path).checkpoints()[-1].name == "step-0000004.safetensors"


def test_rollback_needs_a_checkpoint(tiny_config, tmp_path):
    tiny_config.train.on_divergence = "rollback"
    with pytest.raises(DivergenceError, match="diverged at step 2"):
        train(tiny_config, tmp_path, overrides={"train.steps": 8}, progress=False, hooks=[Poison(1)])


def test_tensorboard_mirrors_the_metrics_and_sample_grids(tiny_config, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tiny_config.train.log_every, tiny_config.train.tensorboard = 2, True
    train(tiny_config, tmp_path, overrides={"train.steps": 5}, progress=False)
    events = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"scalars": 0, "images": 0}).Reload()
    logged = [json.loads(line) for line in RunDir(tmp_path).metrics_path.read_text().splitlines()]
    assert [r["step"] for r in logged] == [2, 4, 5]  # the end logs the last step too
    for key in ("loss_d", "loss_g", "mi/cat0", "H/cat0", "img_per_s"):
        scalars = events.Scalars(key)
        assert [s.step for s in scalars] == [2, 4, 5], key
        assert [s.value for s in scalars] == pytest.approx([r[key] for r in logged], rel=1e-6), key
    assert [i.step for i in events.Images("samples")] == [2, 4]  # every sample_every (2) steps
    assert events.Images("samples")[0].width == 10 * (28 + 2) + 2


def test_tensorboard_without_its_package_is_a_one_line_error(tiny_config, tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "torch.utils.tensorboard", None)  # import fails
    tiny_config.train.tensorboard = True
    with pytest.raises(ConfigError, match=r"--tensorboard needs the tensorboard package: pip install 'infogan\[tensorboard\]'"):
        train(tiny_config, tmp_path, overrides={"train.steps": 2}, progress=False)
    assert not RunDir(tmp_path).checkpoints()


def test_evaluating_on_other_data_keeps_the_runs_own_evaluation(trained_run, tmp_path):
    """Held-out digits (``--data mnist --data-dir D --split test``) get a file of their own: evaluation.json, which the
    report and sweeps read, stays the evaluation on the run's own data."""
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (40, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 40, dtype=np.uint8))
    fast = {"mi_samples": 50, "quality_samples": 20, "shape_rows": 1}
    (trained_run / "evaluation.json").unlink(missing_ok=True)
    held_out = api.evaluate(trained_run, "mnist", str(tmp_path), "test", **fast)
    assert held_out["n_images"] == 40 and not (trained_run / "evaluation.json").exists()
    assert json.loads((trained_run / "evaluation-mnist-test.json").read_text())["n_images"] == 40
    own = api.evaluate(trained_run, **fast)
    assert json.loads((trained_run / "evaluation.json").read_text())["n_images"] == own["n_images"] != 40


def test_scores_over_training_are_logged_plotted_and_trimmed_on_resume(tiny_config, tiny_data, tmp_path, monkeypatch):
    from infogan.data.image_data import Factors, ImageData

    factors = Factors(("parity", "fives"), torch.stack([tiny_data.labels % 2, tiny_data.labels // 5], 1), ((0, 1),) * 2)
    with_factors = ImageData("tiny", tiny_data.images, tiny_data.labels, factors)
    monkeypatch.setattr("infogan.api.load_data", lambda config, device: with_factors)
    train(tiny_config, tmp_path, overrides={"train.steps": 5, "train.score_every": 2}, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "scores.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4, 5]  # every 2 steps, and the end
    assert all(0 <= r[k] <= 1 for r in rows for k in ("factor_vae", "mig", "sap", "dci_disentanglement"))
    assert 'id="scores"' in (tmp_path / "report.html").read_text()
    RunDir(tmp_path).clean_after_crash(4)  # a resume from step 4 logs step 5 again
    assert [json.loads(line)["step"] for line in (tmp_path / "scores.jsonl").read_text().splitlines()] == [2, 4]


def test_scores_over_training_need_data_with_factors(tiny_config, tmp_path):
    with pytest.raises(ConfigError, match="train.score_every .* has none"):
        train(tiny_config, tmp_path, overrides={"train.steps": 2, "train.score_every": 1}, progress=False)
