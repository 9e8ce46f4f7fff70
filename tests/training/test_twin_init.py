"""The AdaIN twin starts coarse: only its 4x4 tRGB draws at first, and training grows the rest."""

from __future__ import annotations

import torch

from stylegan2.networks import Capture, Generator
from training.options import TrainOptions, resolve
from training.twin_init import zero_high_res_torgb


def test_only_the_first_torgb_draws_at_the_start():
    rc = resolve(TrainOptions(data="d", outdir="o", cfg="small", norm="adain"), 32, 3, 0)
    torch.manual_seed(0)
    G = Generator(rc.G)
    zero_high_res_torgb(G)
    cap = Capture(["b4.torgb", "b8.torgb", "b16.torgb", "b32.torgb"])
    with torch.no_grad():
        img = G(torch.randn(4, 512), None, capture=cap)
    assert float(cap.outputs["b4.torgb"].std()) > 0.1
    for r in (8, 16, 32):  # the bias is zero too, so nothing at all comes from above 4x4
        assert float(cap.outputs[f"b{r}.torgb"].abs().max()) == 0
    assert 0.1 < float(img.std()) < 2
    grads = torch.autograd.grad(
        G(torch.randn(2, 512), None).square().mean(), G.synthesis.b32.torgb.weight
    )
    assert float(grads[0].abs().max()) > 0  # the zeroed weights still learn
