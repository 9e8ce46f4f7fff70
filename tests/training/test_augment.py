"""ADA: identity at p=0, differentiable, geometric and colour transforms behave, p adapts."""

from __future__ import annotations

import torch

from training.augment import AdaptiveP, AugmentConfig, AugmentPipe


def _smooth(n=4, c=3, res=16):
    y, x = torch.meshgrid(torch.linspace(-1, 1, res), torch.linspace(-1, 1, res), indexing="ij")
    base = torch.stack([x, y, x * y][:c])
    return base.expand(n, c, res, res).clone() * 0.8


def test_p_zero_is_identity():
    img = torch.randn(4, 3, 16, 16)
    assert torch.equal(AugmentPipe(p=0)(img), img)


def test_full_pipeline_is_differentiable_and_finite():
    pipe = AugmentPipe(p=1.0)
    img = torch.randn(8, 3, 16, 16, requires_grad=True)
    out = pipe(img)
    assert out.shape == img.shape and torch.isfinite(out).all()
    out.square().sum().backward()
    assert img.grad is not None and img.grad.abs().sum() > 0


def test_xflip_only_flips_or_keeps():
    off = {
        k: 0
        for k in (
            "rotate90",
            "xint",
            "scale",
            "rotate",
            "aniso",
            "xfrac",
            "brightness",
            "contrast",
            "lumaflip",
            "hue",
            "saturation",
        )
    }
    pipe = AugmentPipe(AugmentConfig(**off), p=1.0)
    torch.manual_seed(0)
    img = _smooth(16)
    out = pipe(img)
    for i in range(16):
        d_same = (out[i] - img[i]).abs().mean()
        d_flip = (out[i] - img[i].flip(2)).abs().mean()
        assert min(d_same, d_flip) < 0.05 < max(d_same, d_flip)


def test_colour_only_keeps_geometry_and_grey_axis():
    geo_off = {k: 0 for k in ("xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac")}
    pipe = AugmentPipe(AugmentConfig(**geo_off, brightness=0, contrast=0, lumaflip=0), p=1.0)
    grey = torch.rand(4, 1, 8, 8).expand(4, 3, 8, 8) * 2 - 1
    out = pipe(grey.contiguous())
    # Hue rotation and saturation leave greys grey.
    torch.testing.assert_close(out, grey, atol=1e-5, rtol=1e-5)


def test_adaptive_p_moves_toward_target():
    pipe = AugmentPipe(p=0.0)
    ada = AdaptiveP(pipe, target=0.6, interval=4, kimg=1)
    for step in range(8):
        ada.observe(0.9)  # D too sure about reals: p must grow
        ada.maybe_adjust(step, batch=16)
    assert abs(float(pipe.p) - 2 * 16 * 4 / 1000) < 1e-6
    for step in range(8, 40):
        ada.observe(0.1)
        ada.maybe_adjust(step, batch=16)
    assert float(pipe.p) == 0.0  # clamped at zero


def test_training_with_ada_records_p(tmp_path):
    from tests.training.conftest import make_images, tiny_opts
    from training.loop import train

    make_images(tmp_path / "d")
    opts = tiny_opts(tmp_path / "d", tmp_path / "r", kimg=0.032, tick_kimg=0.016, aug="ada")
    run = train(opts, progress=False)
    import json

    rec = json.loads((run / "stats.jsonl").read_text().splitlines()[-1])
    assert "augment_p" in rec and rec["augment_p"] >= 0


def test_adaptive_p_stops_at_one():
    # Past 1 every augmentation always applies; p must not climb on with nothing left to gain.
    pipe = AugmentPipe(p=0.99)
    ada = AdaptiveP(pipe, target=0.6, interval=1, kimg=0.1)
    for step in range(10):
        ada.observe(1.0)
        ada.maybe_adjust(step, batch=16)
    assert float(pipe.p) == 1.0
