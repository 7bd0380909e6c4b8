import pytest
import torch

from infogan import nets
from infogan.errors import ConfigError


def test_mnist_shapes_and_output_range():
    g, d = nets.build("mnist", input_dim=74, q_dim=14, channels=1, output="sigmoid")
    x = g(torch.randn(5, 74))
    assert x.shape == (5, 1, 28, 28) and x.min() >= 0 and x.max() <= 1
    logit, q = d(x)
    assert logit.shape == (5,) and q.shape == (5, 14)
    assert d.q(x).shape == (5, 14)


def test_tanh_output_and_channels():
    g, d = nets.build("mnist", input_dim=10, q_dim=3, channels=3, output="tanh")
    x = g(torch.randn(4, 10))
    assert x.shape == (4, 3, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert d(x)[1].shape == (4, 3)


def test_paper_table1_layer_sizes():
    g, d = nets.build("mnist", input_dim=74, q_dim=14)
    linears = [m for m in d.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(6272, 1024), (1024, 1), (1024, 128), (128, 14)]
    convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(m.out_channels, m.kernel_size, m.stride) for m in convs] == [(64, (4, 4), (2, 2)), (128, (4, 4), (2, 2))]
    g_linears = [(m.in_features, m.out_features) for m in g.modules() if isinstance(m, torch.nn.Linear)]
    assert g_linears == [(74, 1024), (1024, 6272)]


def test_detached_q_gives_no_body_gradient():
    _, d = nets.build("mnist", input_dim=74, q_dim=14)
    x = torch.rand(4, 1, 28, 28)
    _, q = d(x, q_from_detached_body=True)
    q.sum().backward()
    assert all(p.grad is None for p in d.body.parameters())
    assert all(p.grad is not None for p in d.q_head.parameters())


def test_unknown_family_and_bad_kwargs():
    with pytest.raises(ConfigError, match="unknown network family"):
        nets.build("resnet", input_dim=4, q_dim=2)
    with pytest.raises(ConfigError):
        nets.build("mnist", q_dim=2)  # no input_dim
