import functools
import math

import pytest
import torch

from infogan.errors import DataError, DivergenceError
from infogan.data import ImageData
from infogan.hooks import Checkpoints, MetricsLog
from infogan.runs import RunDir, load_checkpoint
from infogan.train import Batches, DeviceWarning, Hook, Trainer, step_budget


def _params(module):
    return {n: p.detach().clone() for n, p in module.named_parameters()}


def test_one_step_updates_every_parameter(tiny_config, tiny_data):
    t = Trainer(tiny_config, tiny_data)
    g0, d0 = _params(t.model.generator), _params(t.model.discriminator)
    out = t.train_step()
    assert t.step == 1
    assert all(not torch.equal(p, g0[n]) for n, p in t.model.generator.named_parameters())
    assert all(not torch.equal(p, d0[n]) for n, p in t.model.discriminator.named_parameters())
    assert math.isfinite(out.d.loss.item()) and math.isfinite(out.g.loss.item())
    assert all(p.requires_grad for p in t.model.discriminator.parameters())  # unfrozen after the G step


def test_plain_gan_step_leaves_body_untouched_by_q(tiny_config, tiny_data):
    """With lambda = 0 the Q probe's loss must not move D: D's params equal those of a run without Q."""
    tiny_config.loss.lambda_cat = tiny_config.loss.lambda_cont = 0.0
    t = Trainer(tiny_config, tiny_data)
    assert t.objective.plain_gan
    t.train_step()
    # Rescaling the Q head cannot change a body gradient that Q never contributed to.
    t2 = Trainer(tiny_config, tiny_data)
    with torch.no_grad():
        for p in t2.model.discriminator.q_head.parameters():
            p.mul_(0.5)
    t2.train_step()
    for (n, p), (_, p2) in zip(t.model.discriminator.body.named_parameters(), t2.model.discriminator.body.named_parameters()):
        assert torch.allclose(p, p2, atol=1e-6), n


def test_batches_cover_each_epoch_once_and_drop_remainder():
    b = Batches(50, 16, torch.Generator().manual_seed(0))
    assert b.per_epoch == 3
    seen = torch.cat([b.next() for _ in range(3)])
    assert len(set(seen.tolist())) == 48 and b.epoch == 0
    b.next()
    assert b.epoch == 1
    with pytest.raises(DataError, match="fewer than one batch"):
        Batches(10, 16, torch.Generator())


def test_step_budget(tiny_config):
    tiny_config.train.steps = 0
    tiny_config.train.epochs = 2.5
    assert step_budget(tiny_config, 64) == 10  # 4 batches of 16 per epoch
    tiny_config.train.epochs = 0
    assert step_budget(tiny_config, 64) is None


def test_resume_gives_the_same_next_steps(tiny_config, tiny_data, tmp_path):
    a = Trainer(tiny_config, tiny_data)
    for _ in range(3):
        a.train_step()
    a.save(tmp_path / "ck.safetensors")
    for _ in range(2):
        a.train_step()

    b = Trainer.resume(load_checkpoint(tmp_path / "ck.safetensors"), tiny_data)
    assert b.step == 3
    for _ in range(2):
        b.train_step()
    for m_a, m_b in ((a.model.generator, b.model.generator), (a.model.discriminator, b.model.discriminator)):
        for (n, pa), (_, pb) in zip(m_a.state_dict().items(), m_b.state_dict().items()):
            assert torch.equal(pa, pb), n
    for oa, ob in ((a.opt_d, b.opt_d), (a.opt_g, b.opt_g)):
        sa, sb = oa.state_dict()["state"], ob.state_dict()["state"]
        assert sa.keys() == sb.keys()
        for i in sa:
            assert torch.equal(sa[i]["exp_avg_sq"], sb[i]["exp_avg_sq"]) and torch.equal(sa[i]["step"], sb[i]["step"])


def test_a_checkpoint_from_another_device_resumes_reseeded_with_a_one_line_warning(tiny_config, tiny_data, tmp_path,
                                                                                    as_cuda_checkpoint):
    """No GPU needed: the checkpoint's training RNG state is made a CUDA generator's, which a CPU generator cannot
    take. The resume on the CPU goes on, says it cannot be exact, and is itself reproducible."""
    a = Trainer(tiny_config, tiny_data)
    for _ in range(2):
        a.train_step()
    path = tmp_path / "ck.safetensors"
    a.save(path)
    assert load_checkpoint(path).meta["device"] == "cpu"
    as_cuda_checkpoint(path)
    warning = ("step 2 was trained on {}: resuming on cpu with the training RNG re-seeded from the seed and step; the "
               "run goes on, but not exactly as on {} (a resume is bit-exact only on the kind of device that saved it)")
    resumed = []
    for _ in range(2):
        with pytest.warns(DeviceWarning) as caught:
            b = Trainer.resume(load_checkpoint(path), tiny_data)
        assert [str(w.message) for w in caught] == [warning.format("cuda", "cuda")]
        b.train_step()
        resumed.append(b.model.generator.state_dict())
    a.train_step()
    first, again = resumed
    assert all(torch.equal(first[k], again[k]) for k in first)  # re-seeded from (seed, step): the same each time
    assert not all(torch.equal(first[k], v) for k, v in a.model.generator.state_dict().items())  # other latents

    older = load_checkpoint(path)  # saved before checkpoints named their device: told by the state's size
    del older.meta["device"]
    with pytest.warns(DeviceWarning) as caught:
        Trainer.resume(older, tiny_data)
    assert [str(w.message) for w in caught] == [warning.format("a GPU", "a GPU")]


def test_fit_with_hooks_logs_and_checkpoints(tiny_config, tiny_data, tmp_path):
    run = RunDir(tmp_path)
    t = Trainer(tiny_config, tiny_data)
    log = MetricsLog(run, 1)
    t.fit(steps=5, hooks=[log, Checkpoints(run, 2, keep=2)])
    assert t.step == 5
    lines = run.metrics_path.read_text().splitlines()
    assert len(lines) == 5 and '"mi/cat0"' in lines[0]
    assert [p.name for p in run.checkpoints()] == ["step-0000004.safetensors", "step-0000005.safetensors"]


def test_divergence_stops_without_overwriting_checkpoints(tiny_config, tiny_data, tmp_path):
    run = RunDir(tmp_path)
    t = Trainer(tiny_config, tiny_data)
    t.fit(steps=2, hooks=[Checkpoints(run, 2, keep=3)])
    with torch.no_grad():
        t.model.generator.net[0].weight.fill_(float("nan"))
    with pytest.raises(DivergenceError, match="diverged at step 3"):
        t.fit(steps=6, hooks=[MetricsLog(run, 1), Checkpoints(run, 1, keep=3)])
    assert [p.name for p in run.checkpoints()] == ["step-0000002.safetensors"]
    good = load_checkpoint(run.checkpoints()[0])
    assert all(torch.isfinite(v).all() for k, v in good.tensors.items() if v.is_floating_point())


def test_data_shape_must_match_networks(tiny_config):
    wrong = ImageData("wrong", torch.zeros(32, 1, 32, 32, dtype=torch.uint8), None)
    with pytest.raises(DataError, match="shape"):
        Trainer(tiny_config, wrong)


def test_stop_request_ends_cleanly_and_saves(tiny_config, tiny_data, tmp_path):
    run = RunDir(tmp_path)
    t = Trainer(tiny_config, tiny_data)

    class StopAt3(Hook):
        def after_step(self, trainer, out):
            trainer.stop_requested = trainer.step >= 3

    t.fit(steps=100, hooks=[StopAt3(), Checkpoints(run, 50, keep=2)])
    assert t.step == 3
    assert [p.name for p in run.checkpoints()] == ["step-0000003.safetensors"]


def test_a_failure_inside_the_loop_saves_nothing(tiny_config, tiny_data, tmp_path):
    run = RunDir(tmp_path)
    t = Trainer(tiny_config, tiny_data)

    class Boom(Hook):
        def after_step(self, trainer, out):
            if trainer.step == 2:
                raise KeyboardInterrupt  # a hard abort (second Ctrl-C)

    with pytest.raises(KeyboardInterrupt):
        t.fit(steps=10, hooks=[Boom(), Checkpoints(run, 50, keep=2)])
    assert run.checkpoints() == []


def test_bf16_autocast_keeps_fp32_state_and_tracks_fp32_losses(tiny_config, tiny_data):
    runs = {}
    for precision in ("fp32", "bf16"):
        tiny_config.train.precision = precision
        t = Trainer(tiny_config, tiny_data)
        outs = [t.train_step() for _ in range(3)]
        runs[precision] = (t, outs)
    t16, outs16 = runs["bf16"]
    assert all(p.dtype == torch.float32 for p in t16.model.generator.parameters())
    assert all(b.dtype == torch.float32 for b in t16.model.discriminator.buffers() if b.is_floating_point())
    assert all(s["exp_avg"].dtype == torch.float32 for s in t16.opt_d.state.values())
    for a, b in zip(runs["fp32"][1], outs16):
        assert b.d.loss.dtype == torch.float32
        assert b.d.loss.item() == pytest.approx(a.d.loss.item(), rel=0.03)
        assert b.g.loss.item() == pytest.approx(a.g.loss.item(), rel=0.03)


def test_bf16_gradients_match_fp32(tiny_config, tiny_data):
    grads = {}
    for precision in ("fp32", "bf16"):
        tiny_config.train.precision = precision
        t = Trainer(tiny_config, tiny_data)  # same seed: same weights and latents
        G, D = t.model.generator, t.model.discriminator
        latent = t.model.spec.sample(16, torch.Generator().manual_seed(0))
        with t.autocast():
            d_fake, q_fake = D(G(t.model.spec.generator_input(latent)))
            loss = t.objective.generator_loss(d_fake, q_fake, latent.codes).loss
        loss.backward()
        grads[precision] = torch.cat([p.grad.flatten() for p in G.parameters()])
    assert torch.nn.functional.cosine_similarity(grads["fp32"], grads["bf16"], dim=0) > 0.97  # measured 0.986: bf16 keeps ~3 digits


def test_consistency_term_moves_its_share_of_the_real_batch_and_is_off_at_weight_zero(tiny_config, tiny_data):
    tiny_config.loss.consistency, tiny_config.loss.consistency_batch = 1.0, 4
    t = Trainer(tiny_config, tiny_data)
    moved_sizes = []
    hook = t.model.discriminator.register_forward_hook(lambda m, inp, out: moved_sizes.append(inp[0].shape[0]))
    out = t.train_step()
    hook.remove()
    assert moved_sizes == [16, 16, 4, 16]  # real, fake, 4 moved real images (D step), fake (G step)
    assert out.d.consistency is not None and 0 < out.d.consistency.item() < 2 * math.log(10)
    tiny_config.loss.consistency = 0.0
    assert Trainer(tiny_config, tiny_data).train_step().d.consistency is None


def test_auto_precision_is_bf16_only_where_the_hardware_computes_it(monkeypatch):
    from infogan import train

    cpu = torch.device("cpu")
    assert train.resolve_precision("fp32", cpu) == "fp32" and train.resolve_precision("bf16", cpu) == "bf16"
    monkeypatch.setattr(train, "_cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    assert train.resolve_precision("auto", cpu) == "bf16"
    monkeypatch.setattr(train, "_cpu_flags", lambda: {"avx2", "avx512f"})  # bf16 would be emulated: slower
    assert train.resolve_precision("auto", cpu) == "fp32"



def test_compiled_steps_compute_what_eager_steps_do(tiny_config, tiny_data, monkeypatch):
    """train.compile changes how the networks run, not what they compute. Dynamo and AOTAutograd capture the
    networks here as they do for inductor; inductor's own code generation takes a minute on this CPU."""
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="aot_eager"))
    params = {}
    for compiled in (False, True):
        torch._dynamo.reset()
        tiny_config.train.compile = compiled
        t = Trainer(tiny_config, tiny_data)  # same seed: same weights, latents and data order
        for _ in range(3):
            t.train_step()
        params[compiled] = torch.cat([p.detach().flatten() for m in (t.model.generator, t.model.discriminator)
                                      for p in m.parameters()])
        assert all(p.requires_grad for p in t.model.discriminator.parameters())
    torch._dynamo.reset()
    assert torch.allclose(params[True], params[False], atol=1e-5, rtol=1e-4)


def test_the_contrastive_regulariser_trains_h_from_its_step_and_leaves_earlier_steps_as_they_were(
        tiny_config, tiny_data):
    plain = Trainer(tiny_config, tiny_data)
    tiny_config.loss.contrastive, tiny_config.loss.contrastive_from = 1.0, 2
    t = Trainer(tiny_config, tiny_data)
    h0 = _params(t.contrast)
    for _ in range(2):
        assert "contrastive" not in t.train_step().scalars()
        plain.train_step()
    assert all(torch.equal(p, h0[n]) for n, p in t.contrast.named_parameters())  # H waits for its step
    for a, b in ((t.model.generator, plain.model.generator), (t.model.discriminator, plain.model.discriminator)):
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))  # the same maths until then
    out = t.train_step()
    assert math.isfinite(out.scalars()["contrastive"].item())
    assert all(not torch.equal(p, h0[n]) for n, p in t.contrast.named_parameters())
    assert all(p.requires_grad for p in t.contrast.parameters())  # unfrozen after the G step


def _render(latent):
    """Images in which each of the tiny config's codes draws on rows of its own: cat0 lights one of 10 columns in
    rows 0-9, c1 and c2 shade rows 10-18 and 19-27; z brightens or darkens the whole image."""
    n = len(latent.z)
    img = torch.zeros(n, 1, 28, 28)
    img[torch.arange(n), 0, :10, 2 * latent.codes["cat0"] + 4] = 1.0
    img[:, 0, 10:19] = 0.5 + 0.4 * latent.codes["c1"].view(n, 1, 1)
    img[:, 0, 19:] = 0.5 + 0.4 * latent.codes["c2"].view(n, 1, 1)
    return (img + 0.1 * latent.z[:, :1].view(n, 1, 1, 1)).clamp(0, 1)


def test_h_learns_from_scratch_which_code_a_pair_shares_when_the_codes_show_in_the_images(tiny_config, tiny_data,
                                                                                         one_thread):
    # InfoGAN-CR's H sees fresh pairs every step; where each code visibly changes the image, its own steps (D's
    # learning rate, BatchNorm over the pair batch) must take it well below chance, ln 3 for three codes.
    tiny_config.loss.contrastive = 1.0
    t = Trainer(tiny_config, tiny_data)
    spec, rng = t.model.spec, torch.Generator().manual_seed(0)
    losses = []
    for _ in range(60):
        first, second, shared = spec.sample_pairs(32, rng)
        losses.append(t.h_step(_render(first), _render(second), shared).item())
    assert sum(losses[:3]) / 3 > 0.9 * math.log(3)  # it starts at chance ...
    assert sum(losses[-10:]) / 10 < 0.6 * math.log(3)  # ... and learns


def test_resume_with_the_contrastive_regulariser_gives_the_same_next_steps(tiny_config, tiny_data, tmp_path):
    tiny_config.loss.contrastive = 1.0
    a = Trainer(tiny_config, tiny_data)
    for _ in range(2):
        a.train_step()
    a.save(tmp_path / "ck.safetensors")
    assert any(k.startswith("C.") for k in load_checkpoint(tmp_path / "ck.safetensors").tensors)
    b = Trainer.resume(load_checkpoint(tmp_path / "ck.safetensors"), tiny_data)
    for t in (a, b):
        for _ in range(2):
            t.train_step()
    for m_a, m_b in ((a.model.generator, b.model.generator), (a.contrast, b.contrast)):
        for (n, pa), (_, pb) in zip(m_a.state_dict().items(), m_b.state_dict().items()):
            assert torch.equal(pa, pb), n


@pytest.mark.parametrize("key", ["hessian", "orthogonal"])
def test_a_code_penalty_is_logged_and_changes_only_g_s_step(tiny_config, tiny_data, key):
    plain = Trainer(tiny_config, tiny_data)
    setattr(tiny_config.loss, key, 10.0)
    t = Trainer(tiny_config, tiny_data)
    out, ref = t.train_step(), plain.train_step()
    assert key not in ref.scalars() and out.scalars()[key].item() > 0
    assert ({"hessian", "orthogonal"} - {key}).pop() not in out.scalars()  # the other one stays off
    assert out.d.loss.item() == ref.d.loss.item()  # D's step is the same maths
    assert out.g.loss.item() == pytest.approx(ref.g.loss.item() + 10.0 * out.scalars()[key].item(), rel=1e-4)
    assert any(not torch.equal(p, q) for p, q in zip(t.model.generator.parameters(), plain.model.generator.parameters()))


def test_the_code_penalties_wait_for_their_step(tiny_config, tiny_data):
    plain = Trainer(tiny_config, tiny_data)
    tiny_config.loss.orthogonal, tiny_config.loss.penalties_from = 10.0, 2
    t = Trainer(tiny_config, tiny_data)
    for _ in range(2):
        assert "orthogonal" not in t.train_step().scalars()
        plain.train_step()
    assert all(torch.equal(p, q) for p, q in zip(t.model.generator.parameters(), plain.model.generator.parameters()))
    out, ref = t.train_step(), plain.train_step()
    assert out.scalars()["orthogonal"].item() > 0
    assert any(not torch.equal(p, q) for p, q in zip(t.model.generator.parameters(), plain.model.generator.parameters()))
