import pytest

from infogan.config import Config, preset
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
