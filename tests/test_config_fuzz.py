"""Property tests: whatever a config file holds, parsing either gives a valid Config or a ConfigError."""

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from infogan.config import Config, preset
from infogan.errors import ConfigError

SECTIONS = {f.name: [g.name for g in dataclasses.fields(getattr(Config(), f.name))] for f in dataclasses.fields(Config)}

scalars = st.one_of(
    st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.lists(st.integers(), max_size=3),
)
code = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.sampled_from(["cat0", "c1", "bad name", ""]), st.text(max_size=5)),
        "kind": st.sampled_from(["categorical", "continuous", "other"]),
        "k": st.one_of(st.integers(-3, 30), scalars),
        "std": st.sampled_from(["exp", "softplus", "fixed", "learned"]),
        "fixed_std": st.one_of(st.floats(-2, 2), scalars),
    },
)
section = st.builds(
    lambda name, items: (name, items),
    st.sampled_from(sorted(SECTIONS) + ["bogus"]),
    st.dictionaries(st.text(max_size=12) | st.sampled_from(sum(SECTIONS.values(), [])), scalars | st.lists(code, max_size=3), max_size=4),
)


@settings(max_examples=300, deadline=None, derandomize=True)  # the same examples every CI run
@given(st.lists(section, max_size=4))
def test_arbitrary_config_data_is_accepted_or_refused_cleanly(sections):
    data = {name: items for name, items in sections}
    try:
        cfg = Config.from_dict(data)
    except ConfigError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert Config.from_toml(cfg.to_toml()) == cfg  # anything accepted round-trips


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    lam=st.floats(0, 10), lr=st.floats(1e-6, 1), batch=st.integers(1, 4096), noise=st.integers(0, 256),
    k=st.integers(2, 50),
)
def test_valid_values_round_trip(lam, lr, batch, noise, k):
    cfg = preset("mnist")
    cfg.loss.lambda_cat, cfg.optim.lr_g, cfg.optim.batch_size = lam, lr, batch
    cfg.latent.noise_dim, cfg.latent.codes[0].k = noise, k
    again = Config.from_toml(cfg.validate().to_toml())
    assert again == cfg and again.latent.spec().input_dim == noise + k + 2
