"""Training throughput of the MNIST preset: each execution variant of the trainer against a plain
eager reference step written the way most public InfoGAN code writes it.

    python benchmarks/train_throughput.py [--batch-sizes 64 128] [--rounds 3] [--seconds 8] [--device cpu]

Variants run in alternation (A B C A B C ...) and each figure is the median over rounds, since a
shared machine is noisy. For each variant: images/s, ms per step, achieved GFLOP/s (FLOPs counted
with torch.utils.flop_counter on one step) and that rate as a share of the matrix-multiply rate
this script measures on the same machine (2048x2048, fp32 and bf16), and peak memory (CUDA: peak
allocated; CPU: peak resident set size of the process during the variant). Prints one table last
and appends one JSON line per variant and batch size to --results.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from common import add_machine_args, seconds_per_step, setup, sync
from torch.utils.flop_counter import FlopCounterMode

from infogan.config import preset
from infogan.train import Trainer


# ---- the reference: a plain eager step written the usual way ------------------------------
class ReferenceStep:
    """What public InfoGAN code typically does per iteration: G forward twice (once per step), D on
    real and fake in separate calls, D's weight gradients computed in the G step too, for-loop Adam,
    zero_grad() to zeros, the losses read back (.item()) every step for logging, NCHW tensors."""

    def __init__(self, trainer: Trainer):
        t = trainer
        self.G, self.D, self.spec, self.objective = t.model.generator, t.model.discriminator, t.model.spec, t.objective
        for net in (self.G, self.D):  # the usual NCHW layout, not the NHWC that InfoGAN.build gives
            net.to(memory_format=torch.contiguous_format)
        o = t.config.optim
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2), foreach=False)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2), foreach=False)
        self.images, self.batches, self.rng, self.device, self.model = t.images, t.batches, t.rng, t.device, t.model

    def __call__(self) -> None:
        x = self.model.to_net(self.images[self.batches.next()])
        latent = self.spec.sample(x.shape[0], self.rng, self.device)
        z = self.spec.generator_input(latent)
        ones, zeros = torch.ones(x.shape[0], device=self.device), torch.zeros(x.shape[0], device=self.device)

        self.opt_d.zero_grad(set_to_none=False)
        fake = self.G(z)
        d_real, _ = self.D(x)
        d_fake, q_fake = self.D(fake.detach())
        log_q = self.spec.log_q(q_fake, latent.codes)
        loss_d = F.binary_cross_entropy_with_logits(d_real, ones) + F.binary_cross_entropy_with_logits(d_fake, zeros)
        loss_d = loss_d - sum(lq.mean() for lq in log_q.values())
        loss_d.backward()
        self.opt_d.step()

        self.opt_g.zero_grad(set_to_none=False)
        fake = self.G(z)
        d_fake, q_fake = self.D(fake)
        log_q = self.spec.log_q(q_fake, latent.codes)
        loss_g = F.binary_cross_entropy_with_logits(d_fake, ones) - sum(lq.mean() for lq in log_q.values())
        loss_g.backward()
        self.opt_g.step()
        self.log = (loss_d.item(), loss_g.item())


# ---- measurements -------------------------------------------------------------------------
def matmul_rate(dtype: torch.dtype, device: torch.device, n: int = 2048, seconds: float = 1.5) -> float:
    """GFLOP/s of an n x n matrix multiply in ``dtype``."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    for _ in range(3):
        a @ b
    sync(device)
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        reps += 1
    sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    else:
        Path("/proc/self/clear_refs").write_text("5")  # resets the peak RSS (VmHWM) of this process


def _peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


VARIANTS = ["reference", "fp32", "bf16", "default", "compiled"]


def make_variant(name: str, data, batch_size: int, device: torch.device):
    """reference, fp32 and bf16 compute the paper's objective, the same maths; default is the preset as it
    stands: its precision ("auto"), its consistency term (one more D pass over the real batch) and its
    real-information term (a softmax over the real batch's Q outputs); compiled is
    the default under torch.compile (compiled during the warm-up steps, not timed)."""
    cfg = preset("mnist")
    cfg.optim.batch_size = batch_size
    cfg.train.device = str(device)
    cfg.train.compile = name == "compiled"
    if name not in ("default", "compiled"):
        cfg.train.precision = "bf16" if name == "bf16" else "fp32"
        cfg.loss.consistency = cfg.loss.real_info = 0.0
    trainer = Trainer(cfg, data, device)
    return (ReferenceStep(trainer), "fp32") if name == "reference" else (trainer.train_step, trainer.precision)


def flops_per_step(step) -> int:
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128])
    p.add_argument("--variants", nargs="+", default=VARIANTS[:4], choices=VARIANTS)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=8.0, help="timed seconds per variant per round")
    add_machine_args(p, "train_throughput.jsonl")
    args = p.parse_args()
    data = setup(args)
    device = torch.device(args.device)
    rates = {"fp32": matmul_rate(torch.float32, device), "bf16": matmul_rate(torch.bfloat16, device)}
    print(f"matmul 2048x2048: fp32 {rates['fp32']:.0f} GFLOP/s, bf16 {rates['bf16']:.0f} GFLOP/s "
          f"({torch.get_num_threads()} threads, {device})", flush=True)

    rows = []
    for bs in args.batch_sizes:
        torch._dynamo.reset()  # compile afresh for this batch size rather than for a dynamic one
        made = {v: make_variant(v, data, bs, device) for v in args.variants}
        steps = {v: step for v, (step, _) in made.items()}
        # compiled computes the default's FLOPs (counting them through the compiler would compile again)
        flops = {v: flops_per_step(make_variant("default" if v == "compiled" else v, data, bs, device)[0])
                 for v in args.variants}
        times: dict[str, list[float]] = {v: [] for v in args.variants}
        peaks: dict[str, float] = {v: 0.0 for v in args.variants}
        for r in range(args.rounds):
            for v in args.variants:
                _reset_peak(device)
                times[v].append(seconds_per_step(steps[v], device, args.seconds))
                peaks[v] = max(peaks[v], _peak_mb(device))
                print(f"  batch {bs} round {r + 1}/{args.rounds} {v}: {bs / times[v][-1]:.0f} img/s", flush=True)
        ref = statistics.median(times["reference"]) if "reference" in times else None
        for v in args.variants:
            s = statistics.median(times[v])
            precision = made[v][1]
            gflops = flops[v] / s / 1e9
            rows.append({
                "variant": v, "batch": bs, "img_per_s": bs / s, "ms_per_step": s * 1e3,
                "gflop_per_image": flops[v] / bs / 1e9, "gflop_per_s": gflops,
                "precision": precision, "share_of_matmul": gflops / rates[precision],
                "peak_mb": peaks[v], "speedup": ref / s if ref else None, "rounds": args.rounds,
            })
    meta = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "device": str(device), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
            "matmul_gflops": rates}
    if device.type == "cuda":
        meta["card"] = torch.cuda.get_device_name(device)
    with args.results.open("a") as f:
        for row in rows:
            f.write(json.dumps({**meta, **row}) + "\n")

    print(f"\n{'variant':<10} {'batch':>5} {'img/s':>8} {'ms/step':>8} {'GFLOP/img':>9} {'GFLOP/s':>8} "
          f"{'of matmul':>9} {'peak MB':>8} {'speedup':>8}")
    for r in rows:
        speed = f"{r['speedup']:.2f}x" if r["speedup"] else "-"
        print(f"{r['variant']:<10} {r['batch']:>5} {r['img_per_s']:>8.0f} {r['ms_per_step']:>8.1f} "
              f"{r['gflop_per_image']:>9.3f} {r['gflop_per_s']:>8.0f} {r['share_of_matmul']:>8.0%} "
              f"{r['peak_mb']:>8.0f} {speed:>8}")


if __name__ == "__main__":
    main()
