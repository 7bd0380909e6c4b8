"""Image files left on disk: the switch point, decoding in worker processes, training on them exactly as in memory."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from infogan import api
from infogan.cli import main
from infogan.data import ImageData, ImageFiles, open_dataset, stream
from infogan.data.stream import BatchReader, memory_budget
from infogan.errors import ConfigError, DataError
from infogan.runs import RunDir, load_checkpoint
from infogan.train import Batches, Streamed, Trainer

SPEC = "folder:size=28,channels=1"  # what the MNIST networks of the tiny config take
pytestmark = pytest.mark.filterwarnings("ignore:skipped 1 unreadable")  # the junk file in `pictures`


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    """40 noise images of assorted sizes and formats (so that cropping and resizing matter), and one that is not an
    image."""
    root = tmp_path / "pics"
    (root / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(40):
        w, h = int(rng.integers(20, 70)), int(rng.integers(20, 70))
        image = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        image.save(root / ("sub" if i % 3 else "") / f"{i:02d}.{'png' if i % 2 else 'jpg'}")
    (root / "junk.png").write_bytes(b"not an image")
    return root


def test_files_on_disk_decode_to_the_in_memory_pixels_in_worker_processes(pictures):
    in_memory = open_dataset(SPEC, pictures, stream="memory")
    on_disk = open_dataset(SPEC, pictures, stream="disk")
    assert isinstance(in_memory, ImageData) and isinstance(on_disk, ImageFiles)
    assert len(on_disk) == len(in_memory) == 40 and on_disk.shape == in_memory.shape == (1, 28, 28)
    order = torch.randperm(40, generator=torch.Generator().manual_seed(1))
    batches = list(order.split(16))
    reader = BatchReader(on_disk, workers=2)
    try:
        reader.start(batches)
        for idx in batches:  # whole batches, in order, from two processes
            assert torch.equal(reader.next(), in_memory.images[idx])
        workers = multiprocessing.active_children()
        assert len(workers) == 2
        for worker in workers:  # a Ctrl-C in the terminal: the workers go on serving the training process
            os.kill(worker.pid, signal.SIGINT)
        time.sleep(0.5)
        reader.start(batches[1:])  # a new start drops what was read ahead
        assert torch.equal(reader.next(), in_memory.images[batches[1]])
        assert torch.equal(reader.next(), in_memory.images[batches[2]])
    finally:
        reader.close()
    assert multiprocessing.active_children() == []
    # The subset option picks the same images either way.
    subset = open_dataset(f"{SPEC},n=7", pictures, stream="disk")
    assert torch.from_numpy(subset.read(range(7))).equal(open_dataset(f"{SPEC},n=7", pictures).images)


def test_auto_keeps_data_in_memory_up_to_the_budget(pictures, monkeypatch):
    nbytes = 41 * 28 * 28  # estimated before decoding: the junk file counts
    assert isinstance(open_dataset(SPEC, pictures, max_bytes=nbytes), ImageData)
    assert isinstance(open_dataset(SPEC, pictures, max_bytes=nbytes - 1), ImageFiles)
    assert isinstance(open_dataset(SPEC, pictures, stream="memory", max_bytes=1), ImageData)
    with pytest.raises(ConfigError, match=r"^data.stream=disk needs a dataset of image files"):
        open_dataset("bundled", stream="disk")
    assert isinstance(open_dataset("bundled:n=50", max_bytes=1), ImageData)  # IDX data is always loaded whole

    assert memory_budget(3, torch.device("cpu")) == 3 << 20
    monkeypatch.setattr(stream, "host_memory", lambda: 8 << 30)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")  # two ranks on this machine share half of its memory
    assert memory_budget(0, torch.device("cpu")) == 2 << 30
    monkeypatch.setattr(stream, "host_memory", lambda: None)
    assert memory_budget(0, torch.device("cpu")) is None


def test_upcoming_batches_are_the_ones_next_takes_on_every_rank():
    for rank in range(2):
        b = Batches(50, 16, torch.Generator().manual_seed(0), rank=rank, ranks=2)
        b.next()
        ahead = list(b.upcoming(b.cursor))
        assert len(ahead) == 2 and all(torch.equal(a, b.next()) for a in ahead)
        assert list(b.upcoming(b.cursor)) == []  # the epoch is over: the next batch needs a new permutation


def _state(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {**{f"G.{k}": v for k, v in trainer.model.generator.state_dict().items()},
            **{f"D.{k}": v for k, v in trainer.model.discriminator.state_dict().items()},
            "perm": trainer.batches.perm, "rng": trainer.rng.get_state(), "torch_rng": torch.get_rng_state()}


def test_streamed_training_and_its_resume_are_bit_identical_to_in_memory(pictures, tiny_config, tmp_path):
    in_memory, on_disk = open_dataset(SPEC, pictures, stream="memory"), open_dataset(SPEC, pictures, stream="disk")
    tiny_config.data.workers = 2
    a = Trainer(tiny_config, in_memory)
    for _ in range(3):  # 40 images in batches of 16: an epoch ends after step 2
        a.train_step()
    expected = _state(a)  # the global RNG too: reading ahead must not draw from it

    b = Trainer(tiny_config, on_disk)
    assert isinstance(b.real, Streamed)
    b.train_step()
    b.save(tmp_path / "ck.safetensors")
    b.real.close()
    c = Trainer.resume(load_checkpoint(tmp_path / "ck.safetensors"), on_disk)  # mid-epoch
    for _ in range(2):
        c.train_step()
    c.real.close()
    got = _state(c)
    assert expected.keys() == got.keys() and all(torch.equal(expected[k], got[k]) for k in expected)
    assert (c.batches.epoch, c.batches.cursor) == (a.batches.epoch, a.batches.cursor) == (1, 16)


def test_train_streams_on_request_and_resumes_in_memory_on_the_same_path(pictures, tiny_config, tmp_path):
    tiny_config.data.name, tiny_config.data.data_dir = SPEC, str(pictures)
    tiny_config.train.sample_every = tiny_config.train.checkpoint_every = 100
    train = {"progress": False}
    api.train(tiny_config, tmp_path / "memory", overrides={"train.steps": 3}, **train)
    api.train(tiny_config, tmp_path / "mixed", overrides={"train.steps": 1, "data.stream": "disk", "data.workers": 1},
              **train)
    api.train(tiny_config, tmp_path / "mixed", resume=True, overrides={"train.steps": 3, "data.stream": "memory"},
              **train)
    ends = [RunDir(tmp_path / run).load_latest() for run in ("memory", "mixed")]
    assert ends[0].step == ends[1].step == 3
    assert ends[0].tensors.keys() == ends[1].tensors.keys()
    assert all(torch.equal(v, ends[1].tensors[k]) for k, v in ends[0].tensors.items())
    with pytest.raises(ConfigError, match="data.workers must be >= 0"):
        api.train(tiny_config, tmp_path / "bad", overrides={"data.workers": -1}, **train)


def test_a_file_broken_past_its_header_stops_a_streamed_run_naming_it(pictures, tiny_config, tmp_path):
    victim = pictures / "sub" / "01.png"
    victim.write_bytes(victim.read_bytes()[:80])  # the header reads, the pixels do not
    on_disk = open_dataset(SPEC, pictures, stream="disk")
    assert victim in on_disk.files
    tiny_config.data.workers, tiny_config.optim.batch_size = 1, 8
    trainer = Trainer(tiny_config, on_disk)
    try:
        with pytest.raises(DataError) as info:
            for _ in range(5):  # one epoch: every image is read
                trainer.train_step()
    finally:
        trainer.real.close()
    message = str(info.value)
    assert message.startswith(f"{victim}: cannot decode image") and "\n" not in message and "resume" in message


def test_ctrl_c_stops_a_streamed_run_after_its_step_with_a_checkpoint(pictures, tiny_config, tmp_path):
    """Ctrl-C reaches the whole process group, decoding workers included: they keep serving the last step."""
    tiny_config.data.name, tiny_config.data.data_dir = SPEC, str(pictures)
    tiny_config.train.steps, tiny_config.train.sample_every, tiny_config.train.checkpoint_every = 10**5, 10**5, 10**5
    tiny_config.save(tmp_path / "tiny.toml")
    run = tmp_path / "run"
    command = [sys.executable, "-m", "infogan", "train", "--config", str(tmp_path / "tiny.toml"), "--set",
               "data.stream=disk", "--set", "data.workers=2", "--threads", "1", "--out", str(run), "--quiet"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (run / "metrics.jsonl").exists() or (run / "metrics.jsonl").stat().st_size == 0:
            assert child.poll() is None and time.monotonic() < deadline, child.communicate()[0]
            time.sleep(0.2)
        os.killpg(child.pid, signal.SIGINT)
        output = child.communicate(timeout=60)[0]
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    assert child.returncode == 0 and "stopped by signal at step" in output, output
    assert 0 < RunDir(run).load_latest().step < 10**5  # saved on the signal


def test_cli_flags_and_set_reach_the_config(pictures, tmp_path):
    assert main(["train", "--data", SPEC, "--data-dir", str(pictures), "--set", "data.stream=disk",
                 "--set", "data.workers=1",
                 "--batch-size", "16", "--steps", "1", "--device", "cpu", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    config = RunDir(tmp_path / "r").load_latest().config.data
    assert (config.stream, config.workers, config.max_memory_mb) == ("disk", 1, 0)
