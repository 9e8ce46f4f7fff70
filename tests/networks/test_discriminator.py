"""Discriminator architectures, minibatch stddev and conditioning on tiny networks."""

from __future__ import annotations

import pytest
import torch

from stylegan2.config import DiscriminatorConfig
from stylegan2.networks import Discriminator
from stylegan2.networks.layers import MinibatchStdLayer
from tests.conftest import randomize_


@pytest.mark.parametrize("arch", ["orig", "skip", "resnet"])
@pytest.mark.parametrize("c_dim", [0, 4])
def test_every_architecture(arch, c_dim):
    cfg = DiscriminatorConfig(
        c_dim=c_dim, img_resolution=16, architecture=arch, channel_base=128, channel_max=16
    )
    d = randomize_(Discriminator(cfg))
    img = torch.randn(4, 3, 16, 16, requires_grad=True)
    c = torch.eye(4) if c_dim else None
    logits = d(img, c)
    assert logits.shape == (4, 1)
    logits.sum().backward()
    assert img.grad is not None and all(p.grad is not None for p in d.parameters())


def test_minibatch_stddev_matches_manual():
    layer = MinibatchStdLayer(group_size=2, num_channels=1)
    x = torch.randn(4, 3, 2, 2)
    y = layer(x)
    assert y.shape == (4, 4, 2, 2)
    # Sample n belongs to group position n // (N / G): groups are {0, 2} and {1, 3}.
    for members in ([0, 2], [1, 3]):
        std = x[members].std(dim=0, unbiased=False).mean()
        for n in members:
            torch.testing.assert_close(y[n, 3], std.expand(2, 2), atol=1e-4, rtol=1e-4)


def test_minibatch_stddev_rejects_indivisible_batch():
    with pytest.raises(ValueError, match="divisible"):
        MinibatchStdLayer(group_size=4)(torch.randn(6, 2, 2, 2))
