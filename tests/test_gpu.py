"""The CUDA path: same pixels as the CPU, and fp16 blocks close to fp32 (run where CUDA exists)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylegan2.checkpoints import load_network
from stylegan2.render import Latent, Renderer, RenderRequest
from tests.conftest import DATA
from training.snapshot import latest_snapshot

pytestmark = pytest.mark.gpu


def test_cuda_matches_cpu_render():
    cpu = Renderer(load_network(DATA / "sg2ada_tiny_snapshot.pkl"))
    gpu = Renderer(load_network(DATA / "sg2ada_tiny_snapshot.pkl", device="cuda"))
    for noise_mode in ("const", "random"):
        req = RenderRequest(
            latent=Latent.from_seed(3), psi=0.7, noise_mode=noise_mode, noise_seed=4
        )
        a, b = cpu.render(req), gpu.render(req)
        assert a.error is None and b.error is None
        assert np.abs(a.image.astype(int) - b.image.astype(int)).max() <= 1


def test_fp16_blocks_close_to_fp32():
    from stylegan2.networks import Generator
    from stylegan2.presets import generator_preset

    G = Generator(generator_preset("small", num_fp16_res=2, conv_clamp=256)).eval().cuda()
    z = torch.randn(4, 512, device="cuda")
    with torch.no_grad():
        a = G(z, noise_mode="const", force_fp32=True)
        b = G(z, noise_mode="const")
    assert (a - b).abs().max() < 0.02 * a.abs().max()  # relative: random weights, any scale


def test_mixed_precision_training_steps_on_cuda(tmp_path):
    """fp16 blocks in training (the default on CUDA): finite losses, fp32 master weights."""
    import json

    from stylegan2.checkpoints import load_checkpoint
    from tests.training.conftest import make_images, tiny_opts
    from training.loop import train

    make_images(tmp_path / "data")
    opts = tiny_opts(tmp_path / "data", tmp_path / "runs", kimg=0.016, device="cuda")
    run = train(opts, progress=False)
    ckpt = load_checkpoint(latest_snapshot(run))
    assert ckpt.G.cfg.synthesis.num_fp16_res == 4
    assert all(torch.isfinite(p).all() for p in ckpt.G.state_dict().values())
    stats = [json.loads(x) for x in (run / "stats.jsonl").read_text().splitlines()]
    assert all(np.isfinite(s["Loss/G/loss"]) for s in stats)


def test_r1_through_ada_on_cuda():
    """R1 trains D through the augmentation's grid_sample (PyTorch < 2.12 has no CUDA derivative
    for grid_sample's backward; training.grid_sample supplies it)."""
    from training.augment import AugmentPipe

    pipe = AugmentPipe(p=1.0).cuda()
    x = torch.randn(4, 3, 16, 16, device="cuda", requires_grad=True)
    weight = torch.randn(3, device="cuda", requires_grad=True)
    logits = (pipe(x).square() * weight[None, :, None, None]).sum()
    (gx,) = torch.autograd.grad(logits, x, create_graph=True)
    gx.square().sum().backward()
    assert weight.grad is not None and torch.isfinite(weight.grad).all()
