"""Mixed precision on the CPU: bf16 blocks where asked, fp32 everywhere else, and a trainer that
runs with them."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from stylegan2 import ops
from stylegan2.checkpoints import load_checkpoint
from stylegan2.config import DiscriminatorConfig
from stylegan2.networks import Capture, Discriminator, Generator
from stylegan2.networks.precision import block_dtype, set_cpu_half
from tests.conftest import randomize_, tiny_config
from tests.training.conftest import tiny_opts
from training.loop import train
from training.options import TrainOptions, resolve, use_mixed_precision
from training.snapshot import latest_snapshot

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_block_dtype_rules():
    bf = torch.bfloat16
    assert block_dtype(True, CUDA, False, None) == torch.float16
    assert block_dtype(True, CUDA, True, bf) == torch.float32  # force_fp32 wins
    assert block_dtype(True, CPU, False, None) == torch.float32  # NVIDIA's CPU path
    assert block_dtype(True, CPU, False, bf) == bf
    assert block_dtype(False, CPU, False, bf) == torch.float32  # only the configured blocks
    with pytest.raises(ValueError, match="reduced precision"):
        set_cpu_half(torch.nn.Linear(1, 1), torch.float16)


def _mixed_nets():
    cfg = tiny_config()
    cfg = dataclasses.replace(
        cfg, synthesis=dataclasses.replace(cfg.synthesis, num_fp16_res=2, conv_clamp=256)
    )
    G = randomize_(Generator(cfg)).eval()
    D = randomize_(
        Discriminator(
            DiscriminatorConfig(
                img_resolution=16, channel_base=128, channel_max=16, num_fp16_res=2, conv_clamp=256
            )
        )
    )
    return G, D


def test_bf16_blocks_run_in_bf16_and_stay_close_to_fp32():
    G, D = _mixed_nets()
    G.requires_grad_(False)
    D.requires_grad_(False)
    z = torch.randn(3, G.z_dim, generator=torch.Generator().manual_seed(1))
    ws = G.mapping(z, None)
    ref_img = G.synthesis(ws, noise_mode="const")
    ref_logits = D(ref_img)
    set_cpu_half(G, torch.bfloat16)
    set_cpu_half(D, torch.bfloat16)
    cap = Capture(["b4.conv1", "b16.conv1"])
    img = G.synthesis(ws, noise_mode="const", capture=cap)
    assert cap.outputs["b4.conv1"].dtype == torch.float32  # below the fp16 resolutions
    assert cap.outputs["b16.conv1"].dtype == torch.bfloat16
    assert img.dtype == torch.float32
    err = (img - ref_img).abs().max() / ref_img.abs().max()
    assert 0 < err < 0.05  # bf16 has an 8-bit mantissa: close, but not bit-equal
    logits = D(ref_img)
    assert logits.dtype == torch.float32
    torch.testing.assert_close(
        logits, ref_logits, atol=0.05 * ref_logits.abs().max().item(), rtol=0
    )
    set_cpu_half(G, None)
    torch.testing.assert_close(G.synthesis(ws, noise_mode="const"), ref_img, atol=0, rtol=0)


def test_upfirdn2d_bf16_matches_fp32():
    x = torch.randn(2, 5, 9, 9)
    f = ops.setup_filter((1, 3, 3, 1))
    for kw in (dict(down=2, padding=(1, 1, 1, 1)), dict(up=2, padding=(2, 1, 2, 1), gain=4)):
        ref = ops.upfirdn2d(x, f, **kw)
        out = ops.upfirdn2d(x.bfloat16(), f, **kw)
        assert out.dtype == torch.bfloat16
        torch.testing.assert_close(out.float(), ref, atol=0.05, rtol=0.02)


def test_precision_option_resolves_per_device():
    opts = TrainOptions(data="d", outdir="o", cfg="small")
    assert not use_mixed_precision(opts, "cpu") and use_mixed_precision(opts, "cuda")
    mixed = dataclasses.replace(opts, precision="mixed")
    assert use_mixed_precision(mixed, "cpu")
    assert not use_mixed_precision(dataclasses.replace(opts, precision="fp32"), "cuda")
    rc = resolve(mixed, 64, 3, 0, mixed=True)
    assert rc.G.synthesis.num_fp16_res == rc.D.num_fp16_res == 4
    assert rc.G.synthesis.conv_clamp == rc.D.conv_clamp == 256
    with pytest.raises(ValueError, match="precision"):
        use_mixed_precision(dataclasses.replace(opts, precision="fp8"), "cpu")


def test_mixed_precision_training_runs_and_saves_fp32_ema(tiny_data, tmp_path, caplog, monkeypatch):
    import training.loop

    # Where bf16 is emulated the run is many times slower, and the log says what to use instead.
    monkeypatch.setattr(training.loop, "cpu_has_bf16", lambda: False)
    opts = tiny_opts(tiny_data, tmp_path, kimg=0.016, precision="mixed")
    with caplog.at_level("WARNING", logger="training"):
        run = train(opts, progress=False)
    assert "emulates bf16" in caplog.text and "--precision fp32" in caplog.text
    ckpt = load_checkpoint(latest_snapshot(run))
    assert ckpt.G.cfg.synthesis.num_fp16_res == 4
    for net in (ckpt.G, ckpt.G_ema, ckpt.D):
        for name, p in net.state_dict().items():
            assert p.dtype == torch.float32, name  # master weights stay fp32
            assert torch.isfinite(p).all(), name
    import json

    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert all(torch.isfinite(torch.tensor(s["Loss/G/loss"])) for s in stats)


def test_adain_layers_keep_the_block_dtype():
    cfg = tiny_config(normalization="adain", num_fp16_res=2)
    G = randomize_(Generator(cfg)).eval().requires_grad_(False)
    ws = G.mapping(torch.randn(2, G.z_dim), None)
    ref = G.synthesis(ws, noise_mode="const")
    set_cpu_half(G, torch.bfloat16)
    cap = Capture(["b16.conv0", "b16.conv1", "b4.conv1"])
    img = G.synthesis(ws, noise_mode="const", capture=cap)
    assert cap.outputs["b16.conv0"].dtype == cap.outputs["b16.conv1"].dtype == torch.bfloat16
    assert cap.outputs["b4.conv1"].dtype == torch.float32
    assert (img - ref).abs().max() < 0.05 * ref.abs().max()
