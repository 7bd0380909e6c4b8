import pytest

import dataclasses

from infogan.config import Config, apply_overrides, check_resumable, parse_overrides, preset
from infogan.errors import ConfigError


def test_preset_round_trips_through_toml(tmp_path):
    cfg = preset("mnist")
    cfg.save(tmp_path / "c.toml")
    again = Config.load(tmp_path / "c.toml")
    assert again == cfg
    assert again.latent.spec().input_dim == 74


def test_partial_toml_fills_defaults():
    cfg = Config.from_toml("[loss]\nlambda_cat = 2\n")
    assert cfg.loss.lambda_cat == 2.0 and isinstance(cfg.loss.lambda_cat, float)
    assert cfg.optim.lr_g == 1e-3


@pytest.mark.parametrize(
    "text, message",
    [
        ("[loss]\nlambda_kat = 1\n", "unknown config key loss.lambda_kat"),
        ("[optim]\nbatch_size = 'big'\n", "optim.batch_size must be int"),
        ("[optim]\nbatch_size = 1.5\n", "optim.batch_size must be int"),
        ("[loss]\nlambda_cat = -1\n", "loss.lambda_cat must be >= 0"),
        ("[optim]\nlr_d = 0\n", "optim.lr_d must be > 0"),
        ("[latent]\nnoise_dim = -3\n", "noise_dim must be >= 0"),
        ("[latent]\nnoise = 'cauchy'\n", "latent.noise must be one of"),
        ("[[latent.codes]]\nname = 'c'\nkind = 'categorical'\nk = 0\n", "needs k >= 2"),
        ("[[latent.codes]]\nkind = 'categorical'\n", "name"),
        ("[train]\ndevice = 'tpu'\n", "train.device"),
        ("[train]\nlog_every = 0\n", "train.log_every must be >= 1"),
        ("loss = 3\n", "loss must be a table"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_bad_configs_name_the_problem(text, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_toml(text)


def test_unknown_preset_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="unknown preset"):
        preset("cifar")
    with pytest.raises(ConfigError, match="cannot read config"):
        Config.load(tmp_path / "missing.toml")


def test_baseline_preset_is_the_same_networks_with_lambda_zero():
    a, b = preset("mnist"), preset("mnist-gan")
    assert (b.loss.lambda_cat, b.loss.lambda_cont) == (0.0, 0.0)
    assert a.latent == b.latent and a.model == b.model and a.optim == b.optim


def test_overrides_are_typed_by_their_field():
    assert parse_overrides(["loss.lambda_cont=0.5", "train.device=cpu", "train.deterministic=true",
                            "optim.batch_size=64", "loss.lambda_cat=2", "data.name=folder:size=64", "data.data_dir=2024",
                            'train.start_score="agreement"', "train.on_divergence=rollback"]) == {
        "loss.lambda_cont": 0.5, "train.device": "cpu", "train.deterministic": True, "optim.batch_size": 64,
        "loss.lambda_cat": 2.0, "data.name": "folder:size=64", "data.data_dir": "2024",
        "train.start_score": "agreement", "train.on_divergence": "rollback"}
    codes = parse_overrides(['latent.codes=[{name = "c1", kind = "continuous", std = "exp"}]'])["latent.codes"]
    assert [dataclasses.asdict(c) for c in codes] == [
        {"name": "c1", "kind": "continuous", "k": 0, "std": "exp", "fixed_std": 1.0}]
    weighted = parse_overrides(['latent.codes=[{name = "cat0", kind = "categorical", k = 10, std = "fixed"}, '
                                '{name = "c1", kind = "continuous"}, {name = "c2", kind = "continuous", fixed_std = 2.0}]'])
    cfg = apply_overrides(preset("mnist"), weighted)
    assert [(c.name, c.fixed_std) for c in cfg.latent.codes] == [("cat0", 1.0), ("c1", 1.0), ("c2", 2.0)]
    check_resumable(cfg, weighted)  # the same codes again: a resume may repeat them


@pytest.mark.parametrize("item, message", [
    ("loss.lambda_cont", r"^--set loss.lambda_cont: expected SECTION.KEY=VALUE"),
    ("lambda_cont=1", r"^--set lambda_cont=1: unknown config key lambda_cont; sections: latent, model, loss, optim"),
    ("loss.nope=1", r"^--set loss.nope=1: unknown config key loss.nope; known keys: consistency, consistency_batch, "),
    ("train.steps.x=1", r"^--set train.steps.x=1: unknown config key train.steps.x;"),
    ("optim.lr_d=abc", r"^--set optim.lr_d=abc: optim.lr_d must be float, got 'abc'$"),
    ("train.steps=1.5", r"^--set train.steps=1.5: train.steps must be int, got 1.5$"),
    ("train.compile=yes", r"^--set train.compile=yes: train.compile must be bool, got 'yes'$"),
    ("train.precision=fp16", r"^--set train.precision=fp16: train.precision must be one of auto, fp32, bf16; got "),
])
def test_bad_overrides_name_the_key(item, message):
    with pytest.raises(ConfigError, match=message):
        parse_overrides([item])


def test_applied_overrides_are_validated_and_a_budget_replaces_the_configs():
    cfg = preset("mnist")  # 1,500 steps
    new = apply_overrides(cfg, parse_overrides(["train.minutes=3", "optim.lr_g=0.002"]))
    assert (new.train.minutes, new.train.steps, new.optim.lr_g) == (3.0, 0, 0.002)
    assert cfg.train.steps == 1500  # a copy
    for key, value, message in (("optim.beta2", 1.0, r"optim.beta2 must be in \[0, 1\), got 1.0"),
                                ("train.rollback_lr_factor", 0.0, r"train.rollback_lr_factor must be in \(0, 1\)"),
                                ("optim.batch_size", 0, "optim.batch_size must be > 0, got 0"),
                                ("train.keep_checkpoints", 0, "train.keep_checkpoints must be >= 1, got 0")):
        with pytest.raises(ConfigError, match=message):
            apply_overrides(cfg, {key: value})


def test_a_resume_may_change_where_and_how_long_a_run_trains_not_what_it_computes():
    cfg = preset("mnist")
    check_resumable(cfg, {"train.steps": 5, "train.device": "cpu", "data.workers": 2, "train.precision": "fp32",
                          "train.on_divergence": "rollback", "loss.lambda_cat": 1.0})  # equal values are no change
    for key, value in (("loss.lambda_cat", 2.0), ("optim.lr_d", 0.1), ("train.seed", 4), ("latent.noise_dim", 3)):
        with pytest.raises(ConfigError, match=f"^{key} cannot change when resuming"):
            check_resumable(cfg, {key: value, "train.steps": 5})


def test_the_contrastive_regulariser_needs_two_codes():
    cfg = preset("dsprites")
    cfg.loss.contrastive = 1.0
    cfg.validate()
    cfg.latent.codes = cfg.latent.codes[:1]
    with pytest.raises(ConfigError, match="loss.contrastive .* at least two latent codes"):
        cfg.validate()


@pytest.mark.parametrize("key", ["hessian", "orthogonal"])
def test_the_code_penalties_need_two_continuous_codes(key):
    cfg = preset("mnist")
    setattr(cfg.loss, key, 0.1)
    cfg.validate()  # c1 and c2
    cfg.latent.codes = cfg.latent.codes[:2]
    with pytest.raises(ConfigError, match=f"loss.{key} .* at least two continuous codes"):
        cfg.validate()

