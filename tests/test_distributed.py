"""Distributed training: data sharding, per-rank latents and devices in one process; then real torchrun jobs of
2 CPU ranks (gloo) checked against each other, against a one-process reference of the same global batch, and
across resumes on 2 ranks and on 1.

Run as a script (``python -m torch.distributed.run ... tests/test_distributed.py OUT``) this file is the
2-rank job itself: one run with a digest of every rank's weights after every step, stopped by a SIGTERM that
only rank 1 receives; its copy at step 2 resumed on the same 2 ranks through the CLI (a resume in fresh processes
after a real SIGKILL: ``scripts/kill_test.py --nproc 2``); then a run that diverges.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from infogan import api, cli
from infogan.augment import random_affine
from infogan.config import Config, TrainConfig, preset
from infogan.data import load_dataset
from infogan.distributed import World
from infogan.errors import ConfigError, DivergenceError
from infogan.runs import RunDir, load_checkpoint
from infogan.train import Batches, Hook, Trainer, frozen

RANKS, STEPS, STOP_AT = 2, 4, 4


def ddp_config() -> Config:
    """Small networks (dcgan at 64 px, width 8) on 256 rendered dSprites: a step takes milliseconds."""
    cfg = preset("mnist")
    cfg.model.family, cfg.model.image_size, cfg.model.width, cfg.model.channels = "dcgan", 64, 8, 1
    cfg.data.name = "dsprites:n=256"
    cfg.optim.batch_size = 16  # global: 8 per rank
    cfg.train = TrainConfig(seed=3, steps=1000, log_every=1, sample_every=1000, checkpoint_every=2,
                            keep_checkpoints=10, device="cpu", precision="fp32")  # the reference runs in fp32
    return cfg


def weights(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """G's and D/Q's parameters, without BatchNorm running statistics (they are each rank's own)."""
    return {k: v for k, v in tensors.items()
            if k[:2] in ("G.", "D.") and not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}


# ---- one process ------------------------------------------------------------------------
def test_ranks_take_disjoint_slices_of_the_same_global_batches():
    single = Batches(50, 16, torch.Generator().manual_seed(0))
    ranks = [Batches(50, 16, torch.Generator().manual_seed(0), rank=r, ranks=2) for r in range(2)]
    for _ in range(7):  # across two epoch boundaries
        whole = single.next()
        halves = [b.next() for b in ranks]
        assert all(len(h) == 8 for h in halves)
        assert torch.equal(torch.cat(halves), whole)
    assert single.epoch == ranks[0].epoch == ranks[1].epoch == 2


def test_global_batch_must_split_evenly_over_the_ranks():
    with pytest.raises(ConfigError, match="optim.batch_size 15 does not split evenly over 2 ranks"):
        Batches(50, 15, torch.Generator(), rank=0, ranks=2)


def test_latent_seeds_differ_per_rank_and_step_and_do_not_depend_on_the_world_size():
    seeds = {World(rank=r, size=4).latent_seed(3, step) for r in range(4) for step in range(100)}
    assert len(seeds) == 400 and all(0 <= s < 2**63 for s in seeds)
    assert World(rank=1, size=2).latent_seed(3, 7) == World(rank=1, size=8).latent_seed(3, 7)
    assert World(rank=1, size=2).latent_seed(3, 7) != World(rank=1, size=2).latent_seed(4, 7)


def test_world_from_torchrun_environment(monkeypatch):
    assert World.from_env() == World(0, 1, 0)
    monkeypatch.setenv("RANK", "5")
    monkeypatch.setenv("WORLD_SIZE", "8")
    monkeypatch.setenv("LOCAL_RANK", "1")
    world = World.from_env()
    assert world == World(5, 8, 1) and not world.is_main


def test_each_rank_takes_the_gpu_of_its_local_rank(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert World(3, 4, 1).device("auto") == torch.device("cuda", 1)
    assert World(3, 4, 1).device("cuda") == torch.device("cuda", 1)
    assert World(3, 4, 1).device("cpu") == torch.device("cpu")
    assert World().device("cuda:1") == torch.device("cuda", 1)  # one process: as asked
    with pytest.raises(ConfigError, match="--device cuda:1 would put every rank on one GPU"):
        World(0, 2, 0).device("cuda:1")
    with pytest.raises(ConfigError, match="local rank 2 has no GPU"):
        World(2, 3, 2).device("cuda")


def test_sync_batchnorm_is_refused_on_cpu_ranks():
    with pytest.raises(ConfigError, match="train.sync_batchnorm needs CUDA"):
        World(0, 2).replicate(torch.nn.BatchNorm1d(4), torch.device("cpu"), sync_batchnorm=True)
    module = torch.nn.BatchNorm1d(4)
    assert World().replicate(module, torch.device("cpu"), sync_batchnorm=True) is module  # one process: as is


# ---- 2 ranks under torchrun --------------------------------------------------------------
def torchrun(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={RANKS}", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2-rank job of ``worker`` below; its folder holds ``run/`` and each rank's digests and result."""
    # One retry, in a fresh folder, only for a rank that aborted at exit with "terminate called without an active
    # exception" (seen 2 of 3 times in a row on one fresh clone, then not again): a known, not yet understood teardown
    # flake in the SIGTERM part of this job; any other failure, or the same one twice, still fails.
    out = tmp_path_factory.mktemp("ddp")
    try:
        torchrun(__file__, str(out))
    except AssertionError as e:
        if "terminate called without an active exception" not in str(e):
            raise
        out = tmp_path_factory.mktemp("ddp-retry")
        torchrun(__file__, str(out))
    return out


def digests(job: Path, rank: int) -> dict[int, str]:
    lines = (job / f"digests-{rank}.jsonl").read_text().splitlines()
    return {rec["step"]: rec["weights"] for rec in map(json.loads, lines)}


def test_replicas_hold_identical_weights_after_every_step(job):
    d0, d1 = digests(job, 0), digests(job, 1)
    assert sorted(d0) == sorted(d1) == list(range(1, STOP_AT + 1))
    assert d0 == d1
    assert len(set(d0.values())) == STOP_AT  # the weights do change


def test_a_signal_to_one_rank_stops_all_ranks_after_the_same_step(job):
    results = [json.loads((job / f"result-{r}.json").read_text()) for r in range(RANKS)]
    assert [{k: res[k] for k in ("step", "stopped", "main")} for res in results] == [
        {"step": STOP_AT, "stopped": True, "main": r == 0} for r in range(RANKS)]
    run = RunDir(job / "run")
    assert [load_checkpoint(p).step for p in run.checkpoints()] == [2, 4]
    logged = [json.loads(line)["step"] for line in run.metrics_path.read_text().splitlines()]
    assert logged == list(range(1, STOP_AT + 1))  # rank 0 alone writes the log


def logged_terms(d, g) -> dict[str, torch.Tensor]:
    """What one rank's step logs, by its key in metrics.jsonl, written out here apart from the code under test."""
    terms = {"loss_d": d.loss, "loss_g": g.loss, "gan_d": d.gan, "gan_g": g.gan, "consistency": d.consistency,
             "real_info": d.real_info}
    return {**terms, **{f"mi/{name}": value for name, value in d.l_i.items()}}


def reference(config: Config, steps: int) -> tuple[list[dict[str, torch.Tensor]], list[dict[str, float]]]:
    """The 2-rank job in one process, computed as the ranks compute it: each half of every global batch, with its
    rank's latents, through the networks on its own (so BatchNorm normalises over the half), and the gradients of
    the halves' losses averaged as DDP averages them. Returns the weights after each step and each step's logged
    terms averaged over the ranks (in fp32, as the all-reduce)."""
    t = Trainer(config, load_dataset(config.data.name))
    G, D, spec, objective = t.model.generator, t.model.discriminator, t.model.spec, t.objective
    assert objective.consistency_weight > 0
    ranks = [World(r, RANKS) for r in range(RANKS)]

    def descend(opt: torch.optim.Optimizer, losses: list[torch.Tensor], params: list[torch.nn.Parameter]) -> None:
        grads = [torch.autograd.grad(loss, params) for loss in losses]
        for p, *per_rank in zip(params, *grads):
            p.grad = sum(g / RANKS for g in per_rank)
        opt.step()

    after, means = [], []
    for step in range(steps):
        xs = t.model.to_net(t.images[t.batches.next()]).chunk(RANKS)
        latents = [spec.sample(len(x), torch.Generator().manual_seed(w.latent_seed(config.train.seed, step)))
                   for x, w in zip(xs, ranks)]
        fakes = [G(spec.generator_input(z)) for z in latents]
        d_terms, before = [], t.rng.get_state()
        for x, f, z in zip(xs, fakes, latents):
            t.rng.set_state(before)  # the data-order generator is the same on every rank: equal moves per rank
            (d_real, q_real), (d_fake, q_fake) = D(x), D(f.detach())
            q_moved = D(random_affine(x, t.rng, t.moves))[1]  # the consistency term, on in the preset
            d_terms.append(objective.discriminator_loss(d_real, d_fake, q_fake, z.codes, q_real, q_moved))
        descend(t.opt_d, [d.loss for d in d_terms], list(D.parameters()))
        with frozen(D):
            g_terms = [objective.generator_loss(*D(f), z.codes) for f, z in zip(fakes, latents)]
            descend(t.opt_g, [g.loss for g in g_terms], list(G.parameters()))
        state = {f"G.{k}": v for k, v in G.state_dict().items()} | {f"D.{k}": v for k, v in D.state_dict().items()}
        after.append({k: v.detach().clone() for k, v in weights(state).items()})
        per_rank = [logged_terms(d, g) for d, g in zip(d_terms, g_terms)]
        means.append({k: (sum(terms[k].detach().float() for terms in per_rank) / RANKS).item() for k in per_rank[0]})
    return after, means


def test_a_divergence_stops_every_rank_at_the_same_step(job):
    """Found by rank 0's check before a checkpoint and, at the same steps, by the other ranks' (no log tick)."""
    errors = [json.loads((job / f"result-{r}.json").read_text())["diverged"] for r in range(RANKS)]
    assert errors[0] == errors[1]
    assert errors[0].startswith("training diverged at step 1: weight ")


def test_two_ranks_match_one_process_of_the_same_global_batch(job, one_thread):
    """Bit-identical here: each half's gradient is computed as on its rank, and DDP's (g0 / 2 + g1 / 2) is the
    reference's, since a sum of two terms does not depend on their order and halving is exact. With more ranks
    the all-reduce's summation order would differ from any one-process order (fp32 rounding, ~1e-7 relative,
    which Adam's first steps can blow up to ~lr for weights whose gradient is ~0)."""
    after, means = reference(ddp_config(), STOP_AT)
    run = RunDir(job / "run")
    for step in (2, 4):
        got = weights(load_checkpoint(run.checkpoint_path(step)).tensors)
        want = after[step - 1]
        assert got.keys() == want.keys()
        assert [k for k in got if not torch.equal(got[k], want[k])] == [], f"step {step}"
    logged = [json.loads(line)["loss_d"] for line in run.metrics_path.read_text().splitlines()]
    assert logged == [m["loss_d"] for m in means]  # the log holds the mean over the ranks


def test_the_log_holds_the_mean_over_the_ranks_of_every_term(job, one_thread):
    """Each logged term, real_info and consistency included (both on in this config), is the mean over the ranks,
    not rank 0's own value."""
    _, means = reference(ddp_config(), STOP_AT)
    records = [json.loads(line) for line in RunDir(job / "run").metrics_path.read_text().splitlines()]
    terms = [{k: v for k, v in r.items() if k not in ("step", "epoch", "time", "img_per_s") and not k.startswith("H/")}
             for r in records]
    assert {"consistency", "real_info", "mi/cat0", "mi/c1", "mi/c2"} <= set(means[0])
    assert [sorted(t) for t in terms] == [sorted(m) for m in means]
    for step, (got, want) in enumerate(zip(terms, means), start=1):
        assert [k for k in want if got[k] != want[k]] == [], f"step {step}"


def copy_at_step_2(run: Path, dest: Path) -> Path:
    """The run as a kill right after its step-2 checkpoint would have left it."""
    shutil.copytree(run, dest)
    RunDir(dest).checkpoint_path(4).unlink()
    return dest


def test_resume_on_two_ranks_is_bit_exact(job):
    assert [json.loads((job / f"result-{r}.json").read_text())["resume_exit"] for r in range(RANKS)] == [0, 0]
    want = load_checkpoint(RunDir(job / "run").checkpoint_path(4))
    got = load_checkpoint(RunDir(job / "resumed").checkpoint_path(4))
    assert got.tensors.keys() == want.tensors.keys()
    assert [k for k in want.tensors if not torch.equal(got.tensors[k], want.tensors[k])] == []
    assert got.meta["cursor"] == want.meta["cursor"]


def test_resume_on_one_rank_continues_the_data_order(job, tmp_path, one_thread):
    victim = copy_at_step_2(job / "run", tmp_path / "victim")
    result = api.train(Config(), victim, resume=True, overrides={"train.steps": 4}, progress=False)
    assert result.step == 4 and result.main
    two = load_checkpoint(RunDir(job / "run").checkpoint_path(4))
    one = load_checkpoint(RunDir(victim).checkpoint_path(4))
    # The same images in steps 3-4 (permutation and cursor); latents and BatchNorm batches differ, so the weights do.
    assert torch.equal(one.tensors["rng.perm"], two.tensors["rng.perm"])
    assert (one.meta["epoch"], one.meta["cursor"]) == (two.meta["epoch"], two.meta["cursor"])
    assert not torch.equal(one.tensors["G.net.0.weight"], two.tensors["G.net.0.weight"])


# ---- the 2-rank job ------------------------------------------------------------------------
class Digests(Hook):
    """Appends a SHA-256 of this rank's weights after every step to ``digests-RANK.jsonl``."""

    def __init__(self, path: Path):
        self.path = path

    def after_step(self, trainer: Trainer, out) -> None:
        h = hashlib.sha256()
        for prefix, m in (("G", trainer.model.generator), ("D", trainer.model.discriminator)):
            for name, p in m.named_parameters():
                h.update(f"{prefix}.{name}".encode() + p.detach().numpy().tobytes())
        with self.path.open("a") as f:
            f.write(json.dumps({"step": trainer.step, "weights": h.hexdigest()}) + "\n")


class SignalRank(Hook):
    """Sends SIGTERM to this process at ``step`` on ``rank`` only (torchrun would send it to every rank)."""

    def __init__(self, step: int, rank: int):
        self.step, self.rank = step, rank

    def after_step(self, trainer: Trainer, out) -> None:
        if trainer.step == self.step and trainer.world.rank == self.rank:
            os.kill(os.getpid(), signal.SIGTERM)


def worker(out: Path) -> None:
    rank = World.from_env().rank
    hooks = [Digests(out / f"digests-{rank}.jsonl"), SignalRank(STOP_AT, rank=1)]
    result = api.train(ddp_config(), out / "run", hooks=hooks, progress=False)
    summary = {"step": result.step, "stopped": result.stopped_by_signal, "main": result.main}
    if rank == 0:
        copy_at_step_2(out / "run", out / "resumed")
    dist.barrier()
    summary["resume_exit"] = cli.main(["train", "--resume", "--out", str(out / "resumed"), "--steps", str(STOP_AT),
                                       "--quiet"])
    diverging = ddp_config()
    diverging.optim.lr_d = diverging.optim.lr_g = 1e30  # NaN weights after the first step
    diverging.train.log_every, diverging.train.checkpoint_every = 1000, 1
    try:
        api.train(diverging, out / "diverged", progress=False)
    except DivergenceError as e:
        summary["diverged"] = str(e)
    (out / f"result-{rank}.json").write_text(json.dumps(summary))


if __name__ == "__main__":
    worker(Path(sys.argv[1]))
