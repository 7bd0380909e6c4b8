import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from infogan.config import Config, TrainConfig, preset
from infogan.data import ImageData
from infogan.runs import RunDir, tensors_digest
from infogan.train import Trainer

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs a worker per core: one torch thread each, in this process and the CLI processes it starts, or
    # the workers' thread pools fight over the cores (small steps ran up to 8x slower with two threads on a busy CPU)
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _no_downloads(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the internet or the user's data cache: downloads are off, the cache is a temp folder."""
    monkeypatch.setenv("INFOGAN_OFFLINE", "1")
    monkeypatch.setenv("INFOGAN_DATA", str(tmp_path_factory.mktemp("data-cache")))


def _tiny_data() -> ImageData:
    g = torch.Generator().manual_seed(0)
    images = (torch.rand(64, 1, 28, 28, generator=g) * 255).to(torch.uint8)
    return ImageData("tiny", images, torch.arange(64) % 10)


def _tiny_config() -> Config:
    cfg = preset("mnist")
    cfg.optim.batch_size = 16
    # fp32, not "auto": the tests should compute the same on machines with and without native bf16
    cfg.train = TrainConfig(seed=3, steps=4, log_every=1, sample_every=2, checkpoint_every=2, device="cpu",
                            precision="fp32")
    return cfg


@pytest.fixture
def tiny_data() -> ImageData:
    """64 random 'digits' with labels: enough for full batches, fast for every test."""
    return _tiny_data()


@pytest.fixture
def tiny_config() -> Config:
    return _tiny_config()


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory with one checkpoint: 2 steps of the tiny config. Shared by tests that only read it."""
    trainer = Trainer(_tiny_config(), _tiny_data())
    for _ in range(2):
        trainer.train_step()
    run = RunDir(tmp_path_factory.mktemp("trained-run"))
    trainer.save(run.checkpoint_path(trainer.step))
    return run.path


@pytest.fixture
def one_thread():
    """One torch thread, as each torchrun rank runs (OMP_NUM_THREADS=1); on a busy 2-core machine two threads
    also ran small steps up to 8x slower than one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


_HOLD = "import sys, time\nfrom infogan.lock import hold\nwith hold(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(3600)"


@pytest.fixture(scope="session")
def lock_holder():
    """``lock_holder(run_dir)``: another process holding the run directory's lock, as a training would, until the
    test kills it (or the session ends)."""
    procs = []

    def start(run_dir: Path) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout.readline() == "held\n"
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def as_cuda_checkpoint():
    """``as_cuda_checkpoint(path)``: the checkpoint rewritten as a training on a GPU saves it (see below)."""
    return _as_cuda_checkpoint


def _as_cuda_checkpoint(path: Path) -> None:
    """Rewrite a CPU checkpoint as a training on a GPU saves it, without a GPU: its training RNG state a CUDA
    generator's (a seed and an offset: 16 bytes, where the CPU's is 5056) and its meta naming cuda."""
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    tensors["rng.train"] = torch.tensor([3, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 0, 0, 0, 0], dtype=torch.uint8)
    metadata["meta"] = json.dumps({**json.loads(metadata["meta"]), "device": "cuda"})
    metadata["sha256"] = tensors_digest(tensors)
    save_file(tensors, str(path), metadata)


@pytest.fixture
def npm_tarball():
    """Writes an npm-pack style .tgz: make(path, folder, {name: bytes}) puts each file under package/FOLDER/."""
    def make(path: Path, folder: str, files: dict[str, bytes]) -> Path:
        with tarfile.open(path, "w:gz") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(f"package/{folder}/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return path

    return make
