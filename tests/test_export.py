import pytest
import torch
from safetensors import safe_open

from infogan.cli import main
from infogan.errors import CheckpointError
from infogan.export import export
from infogan.runs import load_checkpoint, load_model
from infogan.train import Trainer


@pytest.fixture
def run(tiny_config, tiny_data, tmp_path):
    t = Trainer(tiny_config, tiny_data)
    t.train_step()
    t.save(tmp_path / "run" / "checkpoints" / "step-0000001.safetensors")
    return tmp_path / "run", t


def test_safetensors_export_holds_weights_and_config_only(run, tmp_path):
    run_dir, t = run
    out = export(run_dir, "safetensors", tmp_path / "model.safetensors")
    with safe_open(str(out), framework="pt") as f:
        keys = set(f.keys())
        assert f.metadata()["format"] == "infogan-model"
    assert keys == {f"G.{k}" for k in t.model.generator.state_dict()} | {f"D.{k}" for k in t.model.discriminator.state_dict()}
    ck = load_checkpoint(out)
    assert ck.step == 1 and ck.config == t.config
    for k, v in t.model.generator.state_dict().items():
        assert torch.equal(ck.tensors[f"G.{k}"], v)


def test_exported_model_generates_like_the_run(run, tmp_path):
    run_dir, _ = run
    out = export(run_dir, "safetensors", tmp_path / "model.safetensors")
    a, b = load_model(run_dir), load_model(out)
    latent = a.spec.sample(5, torch.Generator().manual_seed(3))
    assert torch.equal(a.generate(latent), b.generate(latent))


def test_export_is_reproducible_byte_for_byte(run, tmp_path):
    run_dir, _ = run
    a = export(run_dir, "safetensors", tmp_path / "a.safetensors").read_bytes()
    assert a == export(run_dir, "safetensors", tmp_path / "b.safetensors").read_bytes()


def test_a_model_file_cannot_be_resumed(run, tmp_path, tiny_data):
    run_dir, _ = run
    ck = load_checkpoint(export(run_dir, "safetensors", tmp_path / "m.safetensors"))
    with pytest.raises(CheckpointError, match="training state is incomplete"):
        Trainer.resume(ck, tiny_data)


def test_cli_export(run, tmp_path, capsys):
    run_dir, _ = run
    assert main(["export", str(run_dir), "--format", "safetensors", "--out", str(tmp_path / "m.safetensors")]) == 0
    assert (tmp_path / "m.safetensors").is_file()
    assert main(["export", str(run_dir), "--format", "safetensors", "--out", str(tmp_path / "m.bin")]) == 1
    assert "should end in .safetensors" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nope"), "--format", "safetensors", "--out", str(tmp_path / "x.safetensors")]) == 1
