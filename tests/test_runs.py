import json

import pytest
import torch
from safetensors.torch import save_file

from infogan.errors import CheckpointError
from infogan.runs import RunDir, load_checkpoint, load_model
from infogan.train import Trainer


@pytest.fixture
def saved(tiny_config, tiny_data, tmp_path):
    t = Trainer(tiny_config, tiny_data)
    t.train_step()
    path = tmp_path / "checkpoints" / "step-0000001.safetensors"
    t.save(path)
    tiny_config.save(tmp_path / "config.toml")
    return t, path


def test_checkpoint_is_self_describing(saved):
    t, path = saved
    ck = load_checkpoint(path)
    assert ck.step == 1 and ck.config == t.config
    assert ck.net_kwargs == {"input_dim": 74, "q_dim": 12, "channels": 1, "output": "sigmoid"}
    assert {"rng.torch", "rng.train", "rng.perm"} <= set(ck.tensors)
    assert any(k.startswith("optim.d.") for k in ck.tensors) and any(k.startswith("optim.g.") for k in ck.tensors)


def test_load_model_reproduces_outputs(saved, tmp_path):
    t, _ = saved
    model = load_model(tmp_path)
    latent = model.spec.sample(4, torch.Generator().manual_seed(0))
    t.model.generator.eval()
    assert torch.equal(model.generate(latent), t.model.generate(latent))
    assert model.step == 1


def test_truncated_checkpoint_is_a_clear_error(saved):
    _, path = saved
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="corrupt or unreadable"):
        load_checkpoint(path)


def test_garbage_and_foreign_files_are_rejected(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError):
        load_checkpoint(junk)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(CheckpointError, match="not an infogan checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.safetensors")


def test_future_format_version_is_refused(saved, tmp_path):
    _, path = saved
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    meta["version"] = "99"
    save_file(tensors, str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="upgrade infogan"):
        load_checkpoint(path)


def test_weights_from_another_config_are_refused(saved, tmp_path):
    _, path = saved
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    kwargs = json.loads(meta["net_kwargs"])
    kwargs["q_dim"] = 14
    meta["net_kwargs"] = json.dumps(kwargs)
    save_file(tensors, str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="differ"):
        load_model(path)


def test_run_dir_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        RunDir(tmp_path).latest_checkpoint()


def test_prune_keeps_newest(tmp_path):
    run = RunDir(tmp_path)
    for s in (1, 5, 10, 20):
        run.checkpoint_path(s).parent.mkdir(exist_ok=True)
        run.checkpoint_path(s).write_bytes(b"x")
    run.prune(2)
    assert [p.name for p in run.checkpoints()] == ["step-0000010.safetensors", "step-0000020.safetensors"]


def _two_checkpoints(tiny_config, tiny_data, tmp_path):
    t = Trainer(tiny_config, tiny_data)
    run = RunDir(tmp_path)
    for step in (1, 2):
        t.train_step()
        t.save(run.checkpoint_path(step))
    return run


def test_a_flipped_byte_is_caught_by_the_checksum(tiny_config, tiny_data, tmp_path):
    run = _two_checkpoints(tiny_config, tiny_data, tmp_path)
    path = run.checkpoints()[-1]
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF  # same size, still parses: only the checksum can tell
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(path)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_torn_newest_checkpoint_falls_back_to_the_previous(tiny_config, tiny_data, tmp_path, damage):
    from infogan.runs import CheckpointWarning

    run = _two_checkpoints(tiny_config, tiny_data, tmp_path)
    newest = run.checkpoints()[-1]
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2] if damage == "truncate" else data[:-50] + bytes(50))
    with pytest.warns(CheckpointWarning, match="step-0000001"):
        ck = run.load_latest()
    assert ck.step == 1
    assert newest.exists()  # kept for inspection


def test_checkpoints_pruned_while_a_reader_lists_them_are_passed_over_for_the_newer_one(tiny_config, tiny_data,
                                                                                         tmp_path, monkeypatch):
    """A reader beside a training lists the checkpoints; before it opens the newest, the training saves the next one
    and prunes the others (keep_checkpoints 1). The reader gets the new one, with no error and no warning."""
    import warnings

    from infogan import runs

    t = Trainer(tiny_config, tiny_data)
    run = RunDir(tmp_path)
    for step in (1, 2):
        t.train_step()
        t.save(run.checkpoint_path(step))
    load = runs.load_checkpoint

    def training_beside(path):
        if t.step == 2:
            t.train_step()
            t.save(run.checkpoint_path(3))
            run.prune(1)
        return load(path)

    monkeypatch.setattr(runs, "load_checkpoint", training_beside)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run.load_latest().step == 3


def test_all_checkpoints_corrupt_is_an_error(tiny_config, tiny_data, tmp_path):
    run = _two_checkpoints(tiny_config, tiny_data, tmp_path)
    for p in run.checkpoints():
        p.write_bytes(p.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="no usable checkpoint"):
        run.load_latest()


def test_clean_after_crash_rewinds_metrics_and_drops_temp_files(tmp_path):
    run = RunDir(tmp_path)
    run.checkpoint_dir.mkdir()
    (run.checkpoint_dir / ".step-0000009.safetensors.abc.tmp").write_bytes(b"partial")
    run.metrics_path.write_text('{"step": 5}\n{"step": 10}\n{"step": 15}\n{"st')
    run.clean_after_crash(10)
    assert [json.loads(x)["step"] for x in run.metrics_path.read_text().splitlines()] == [5, 10]
    assert list(run.checkpoint_dir.iterdir()) == []


def test_a_checkpoint_without_checksum_is_named_as_such(saved):
    _, path = saved
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    del meta["sha256"]
    save_file(tensors, str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="has no checksum"):
        load_checkpoint(path)
