"""Every row of docs/bad-inputs.md is a test: the command gets exactly the documented exit code
and one-line message. `INFOGAN_WRITE_BAD_INPUTS=1 pytest tests/test_bad_inputs.py` rewrites the
message column from what the commands print now (review the diff before committing it)."""

import json
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from infogan.cli import main
from infogan.lock import LOCK
from infogan.runs import RunDir

DOC = Path(__file__).resolve().parents[1] / "docs" / "bad-inputs.md"
ROW = re.compile(r"^\| (\d+) \| `(.+?)` \| (\d) \| `(.*)` \|$")
ROWS = [m.groups() for line in DOC.read_text().splitlines() if (m := ROW.match(line))]
REWRITE = os.environ.get("INFOGAN_WRITE_BAD_INPUTS") == "1"

CONFIGS = {
    "unknown_key": "[loss]\nlambda_kat = 1\n",
    "negative_lambda": "[loss]\nlambda_cont = -0.5\n",
    "one_category": "[[latent.codes]]\nname = 'cat0'\nkind = 'categorical'\nk = 1\n",
    "negative_noise": "[latent]\nnoise_dim = -3\n",
    "string_batch": "[optim]\nbatch_size = 'big'\n",
    "not_toml": "lambda = = 1\n",
    "tpu": "[train]\ndevice = 'tpu'\n",
    "no_budget": "[train]\nminutes = 0.0\n",
    "bad_std": "[[latent.codes]]\nname = 'c1'\nkind = 'continuous'\nstd = 'learned'\n",
    "beta_one": "[optim]\nbeta1 = 1.0\n",
}


@pytest.fixture(scope="module")
def places(tmp_path_factory, lock_holder, as_cuda_checkpoint):
    tmp = tmp_path_factory.mktemp("bad")
    run = tmp / "run"
    assert main(["train", "--steps", "2", "--batch-size", "16", "--out", str(run), "--quiet"]) == 0
    corrupt = tmp / "corrupt"
    shutil.copytree(run, corrupt)
    for ck in (corrupt / "checkpoints").iterdir():
        ck.write_bytes(ck.read_bytes()[:700])
    badidx = tmp / "badidx"
    badidx.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (badidx / name).write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    save_file({"w": torch.zeros(2)}, str(tmp / "foreign.safetensors"))
    (tmp / "empty").mkdir()
    for name, text in CONFIGS.items():
        (tmp / f"{name}.toml").write_text(text)
    busy = tmp / "locked" / "seed-0"  # a training holds it: a run directory, or seed 0 of the sweep in {tmp}/locked
    lock_holder(busy)
    killed = tmp / "killed"  # a training was SIGKILLed while it held its lock
    shutil.copytree(run, killed)
    dying = lock_holder(killed)
    dying.kill()
    dying.wait()
    cuda = tmp / "cuda"  # its checkpoint was saved by a training on a GPU
    shutil.copytree(run, cuda)
    as_cuda_checkpoint(RunDir(cuda).checkpoints()[-1])
    holder, dead = (json.loads((path / LOCK).read_text()) for path in (busy, killed))
    return {"{run}": str(run), "{corrupt}": str(corrupt), "{badidx}": str(badidx), "{busy}": str(busy),
            "{killed}": str(killed), "{cuda}": str(cuda), "{tmp}": str(tmp), "{host}": holder["host"],
            "{pid}": str(holder["pid"]), "{since}": holder["since"], "{deadpid}": str(dead["pid"]),
            "{deadsince}": dead["since"]}


def _fill(text: str, places: dict[str, str]) -> str:
    for key, value in places.items():
        text = text.replace(key, value)
    return text


def _unfill(text: str, places: dict[str, str]) -> str:
    for key, value in sorted(places.items(), key=lambda kv: -len(kv[1])):
        text = text.replace(value, key)
    return text


def test_the_table_has_at_least_30_rows():
    assert len(ROWS) >= 30 and [int(r[0]) for r in ROWS] == list(range(1, len(ROWS) + 1))


@pytest.mark.parametrize("number, command, exit_code, message", ROWS, ids=[r[0] for r in ROWS])
def test_bad_input(number, command, exit_code, message, places, capsys):
    argv = shlex.split(_fill(command, places))[1:]  # drop the leading "infogan"
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err.strip()
    if REWRITE:
        text = DOC.read_text()
        old = f"| {number} | `{command}` | {exit_code} | `{message}` |"
        DOC.write_text(text.replace(old, f"| {number} | `{command}` | {code} | `{_unfill(err, places)}` |"))
        return
    assert code == int(exit_code)
    assert len(err.splitlines()) == 1, err
    assert err == _fill(message, places)


def test_every_test_the_doc_names_exists():
    named = re.findall(r"`tests/(\w+\.py)::(\w+)`", DOC.read_text())
    assert len(named) >= 5
    for file, name in named:
        assert f"def {name}(" in (DOC.parents[1] / "tests" / file).read_text(), f"{file}::{name}"
