import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from infogan import nets
from infogan.errors import ConfigError

# family -> (keyword arguments besides input_dim/q_dim, image shape it makes)
FAMILIES = {
    "mnist": ({"channels": 1}, (1, 28, 28)),
    "svhn": ({"channels": 3, "output": "tanh"}, (3, 32, 32)),
    "celeba": ({"channels": 3, "output": "tanh"}, (3, 32, 32)),
    "faces": ({"channels": 1}, (1, 32, 32)),
    "chairs": ({"channels": 1}, (1, 64, 64)),
    "dsprites": ({"channels": 1}, (1, 64, 64)),
    "dcgan": ({"channels": 3, "output": "tanh", "image_size": 64, "width": 8}, (3, 64, 64)),
}


def build(family, input_dim=20, q_dim=7):
    return nets.build(family, input_dim=input_dim, q_dim=q_dim, **FAMILIES[family][0])


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def layer_sizes(module, kind):
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)] if kind is nn.Linear \
        else [(m.in_channels, m.out_channels, m.stride[0]) for m in module.modules() if isinstance(m, kind)]


def map_sizes(module, kinds, x):
    """(channels, side) after every layer of the given kinds, in order."""
    sizes = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: sizes.append((out.shape[1], out.shape[-1])))
             for m in module.modules() if isinstance(m, kinds)]
    module(x)
    for h in hooks:
        h.remove()
    return sizes


# Parameter counts of the tables' layers: conv/FC weights, a bias only where no batchnorm follows.
def conv_p(c_in, c_out, bn=True):
    return c_in * c_out * 16 + (2 * c_out if bn else c_out)


def fc_p(n_in, n_out, bn=True):
    return n_in * n_out + (2 * n_out if bn else n_out)


def test_every_family_is_tested():
    assert set(FAMILIES) == set(nets.FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_shapes_and_output_range(family):
    g, d = build(family)
    x = g(torch.randn(3, 20))
    low = -1 if FAMILIES[family][0].get("output") == "tanh" else 0
    assert x.shape == (3, *FAMILIES[family][1]) and x.min() >= low and x.max() <= 1
    logit, q = d(x)
    assert logit.shape == (3,) and q.shape == (3, 7)
    assert d.q(x).shape == (3, 7)
    kw = FAMILIES[family][0]
    assert nets.image_shape(family, kw["channels"], kw.get("image_size", 0)) == FAMILIES[family][1]


@pytest.mark.parametrize("family", FAMILIES)
def test_detached_q_gives_no_body_gradient(family):
    g, d = build(family)
    _, q = d(g(torch.randn(3, 20)).detach(), q_from_detached_body=True)
    q.sum().backward()
    assert all(p.grad is None for p in d.body.parameters())
    assert all(p.grad is not None for p in d.q_head.parameters())


def test_tanh_output_and_channels():
    g, d = nets.build("mnist", input_dim=10, q_dim=3, channels=3, output="tanh")
    x = g(torch.randn(4, 10))
    assert x.shape == (4, 3, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert d(x)[1].shape == (4, 3)


def test_mnist_state_dict_names_are_stable():
    """Checkpoints store weights by these names; renaming a layer would orphan every saved run."""
    g, d = nets.build("mnist", input_dim=74, q_dim=14)
    assert [k for k in g.state_dict() if k.endswith("weight")] == [
        "net.0.weight", "net.1.weight", "net.3.weight", "net.4.weight", "net.7.weight", "net.8.weight", "net.10.weight"
    ]
    assert [k for k in d.state_dict() if k.endswith("weight")] == [
        "body.0.weight", "body.2.weight", "body.3.weight", "body.6.weight", "body.7.weight", "d_head.weight",
        "q_head.0.weight", "q_head.1.weight", "q_head.3.weight",
    ]


def test_paper_table1_layer_sizes():
    g, d = nets.build("mnist", input_dim=74, q_dim=14)
    assert layer_sizes(d, nn.Linear) == [(6272, 1024), (1024, 1), (1024, 128), (128, 14)]
    assert layer_sizes(d, nn.Conv2d) == [(1, 64, 2), (64, 128, 2)]
    assert layer_sizes(g, nn.Linear) == [(74, 1024), (1024, 6272)]
    assert n_params(d) == conv_p(1, 64, bn=False) + conv_p(64, 128) + fc_p(6272, 1024) + fc_p(1024, 1, bn=False) \
        + fc_p(1024, 128) + fc_p(128, 14, bn=False)
    assert n_params(g) == fc_p(74, 1024) + fc_p(1024, 6272) + conv_p(128, 64) + conv_p(64, 1, bn=False)


@pytest.mark.parametrize("family, input_dim, q_dim", [("svhn", 168, 48), ("celeba", 228, 100)])
def test_paper_tables2_3_layers(family, input_dim, q_dim):
    g, d = nets.build(family, input_dim=input_dim, q_dim=q_dim, channels=3, output="tanh")
    assert map_sizes(d, nn.Conv2d, torch.rand(2, 3, 32, 32)) == [(64, 16), (128, 8), (256, 4)]
    assert layer_sizes(d, nn.Linear) == [(4096, 1), (4096, 128), (128, q_dim)]
    assert layer_sizes(g, nn.Linear) == [(input_dim, 2 * 2 * 448)]
    assert map_sizes(g, nn.ConvTranspose2d, torch.rand(2, input_dim)) == [(256, 4), (128, 8), (64, 16), (3, 32)]
    # Table 2/3: batchnorm after the FC and the first upconv only
    assert [m.num_features for m in g.modules() if isinstance(m, nn.BatchNorm2d)] == [256]
    assert n_params(d) == conv_p(3, 64, bn=False) + conv_p(64, 128) + conv_p(128, 256) + fc_p(4096, 1, bn=False) \
        + fc_p(4096, 128) + fc_p(128, q_dim, bn=False)
    assert n_params(g) == fc_p(input_dim, 1792) + conv_p(448, 256) + conv_p(256, 128, bn=False) \
        + conv_p(128, 64, bn=False) + conv_p(64, 3, bn=False)


def test_paper_table4_faces_layers():
    g, d = nets.build("faces", input_dim=133, q_dim=10, channels=1)
    assert layer_sizes(d, nn.Linear) == [(8192, 1024), (1024, 1), (1024, 10)]  # Q: output units only
    assert map_sizes(d, nn.Conv2d, torch.rand(2, 1, 32, 32)) == [(64, 16), (128, 8)]
    assert layer_sizes(g, nn.Linear) == [(133, 1024), (1024, 8 * 8 * 128)]
    assert map_sizes(g, nn.ConvTranspose2d, torch.rand(2, 133)) == [(64, 16), (1, 32)]
    assert isinstance(g.net[-1], nn.Sigmoid)
    assert n_params(d) == conv_p(1, 64, bn=False) + conv_p(64, 128) + fc_p(8192, 1024) + fc_p(1024, 1, bn=False) \
        + fc_p(1024, 10, bn=False)


def test_paper_table6_chairs_layers():
    g, d = nets.build("chairs", input_dim=189, q_dim=62, channels=1)
    assert map_sizes(d, nn.Conv2d, torch.rand(2, 1, 64, 64)) == [(64, 32), (128, 16), (256, 8), (256, 8), (256, 8)]
    assert layer_sizes(d, nn.Linear) == [(16384, 1024), (1024, 1), (1024, 62)]
    assert layer_sizes(g, nn.Linear) == [(189, 1024), (1024, 8 * 8 * 256)]
    assert map_sizes(g, (nn.Conv2d, nn.ConvTranspose2d), torch.rand(2, 189)) == [
        (256, 8), (256, 8), (128, 16), (64, 32), (1, 64)
    ]
    assert n_params(d) == conv_p(1, 64, bn=False) + conv_p(64, 128) + conv_p(128, 256) + 2 * conv_p(256, 256) \
        + fc_p(16384, 1024) + fc_p(1024, 1, bn=False) + fc_p(1024, 62, bn=False)
    assert n_params(g) == fc_p(189, 1024) + fc_p(1024, 16384) + 2 * conv_p(256, 256) + conv_p(256, 128) \
        + conv_p(128, 64) + conv_p(64, 1, bn=False)


def test_dsprites_layers_follow_infogan_cr():
    g, d = nets.build("dsprites", input_dim=10, q_dim=5, channels=1)
    assert map_sizes(d, nn.Conv2d, torch.rand(2, 1, 64, 64)) == [(32, 32), (32, 16), (64, 8), (64, 4)]
    assert layer_sizes(d, nn.Linear) == [(1024, 128), (128, 1), (128, 128), (128, 5)]
    weighted = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weighted) == 8 and all(parametrize.is_parametrized(m, "weight") for m in weighted)
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in d.modules())
    assert map_sizes(g, nn.ConvTranspose2d, torch.rand(2, 10)) == [(64, 8), (32, 16), (32, 32), (1, 64)]


@pytest.mark.parametrize("size, convs", [(32, [(64, 16), (128, 8), (256, 4)]),
                                         (128, [(64, 64), (128, 32), (256, 16), (512, 8), (512, 4)])])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_sizes_and_channels(size, convs, channels):
    g, d = nets.build("dcgan", input_dim=12, q_dim=4, channels=channels, output="tanh", image_size=size)
    x = g(torch.rand(2, 12))
    assert x.shape == (2, channels, size, size)
    assert map_sizes(d, nn.Conv2d, x) == convs  # width 64 doubles up to 8 x 64 and stops there
    assert layer_sizes(d, nn.Linear)[0] == (convs[-1][0] * 16, 1)


def test_dcgan_width_scales_the_networks():
    small = nets.build("dcgan", input_dim=12, q_dim=4, channels=1, image_size=32, width=8)
    large = nets.build("dcgan", input_dim=12, q_dim=4, channels=1, image_size=32, width=16)
    assert n_params(small[1]) < n_params(large[1]) and n_params(small[0]) < n_params(large[0])
    assert layer_sizes(small[1], nn.Conv2d) == [(1, 8, 2), (8, 16, 2), (16, 32, 2)]


def test_unknown_family_and_bad_kwargs():
    with pytest.raises(ConfigError, match="unknown network family"):
        nets.build("resnet", input_dim=4, q_dim=2)
    with pytest.raises(ConfigError):
        nets.build("mnist", q_dim=2)  # no input_dim
    with pytest.raises(ConfigError, match="'svhn' takes no image_size; remove model.image_size"):
        nets.build("svhn", input_dim=4, q_dim=2, image_size=32)
    with pytest.raises(ConfigError, match="model.image_size must be one of 32, 64, 128, got 0"):
        nets.build("dcgan", input_dim=4, q_dim=2)
    with pytest.raises(ConfigError, match="model.image_size must be one of 32, 64, 128, got 48"):
        nets.build("dcgan", input_dim=4, q_dim=2, image_size=48)
    with pytest.raises(ConfigError, match="'dcgan', contrastive network: model.image_size must be one of"):
        nets.build_contrast("dcgan", 3, input_dim=4, q_dim=2, channels=1, image_size=48)


def test_flatten_reads_nchw_order_and_returns_the_gradient_in_the_inputs_layout():
    from infogan.nets.blocks import Flatten

    x = torch.randn(2, 3, 4, 5)
    nhwc = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    out = Flatten()(nhwc)
    assert torch.equal(out, x.flatten(1))  # the same features in the same order as from NCHW
    out.backward(torch.arange(out.numel(), dtype=torch.float32).view_as(out))
    assert nhwc.grad.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(nhwc.grad, torch.arange(out.numel(), dtype=torch.float32).view(2, 3, 4, 5))
    plain = x.clone().requires_grad_()
    Flatten()(plain).sum().backward()
    assert plain.grad.is_contiguous()
