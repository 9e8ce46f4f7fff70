"""Generator behaviour on tiny random networks (parity with NVIDIA lives in test_parity.py)."""

from __future__ import annotations

import pytest
import torch

from stylegan2.networks import Capture, Generator, SpeedOptions, z_from_seed
from tests.conftest import randomize_, tiny_config

ARCHS = ["orig", "skip", "resnet"]
NORMS = ["demod", "adain"]


def make(**kw) -> Generator:
    return randomize_(Generator(tiny_config(**kw))).eval()


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("norm", NORMS)
def test_forward_backward_every_architecture(arch, norm):
    g = make(architecture=arch, normalization=norm).train()
    z = torch.randn(4, 16)
    img = g(z, noise_mode="random")
    assert img.shape == (4, 3, 16, 16) and img.dtype == torch.float32
    img.square().mean().backward()
    missing = [n for n, p in g.named_parameters() if p.grad is None]
    assert missing == []
    assert g.num_ws == 6


@pytest.mark.parametrize("norm", NORMS)
def test_channels_last_matches_contiguous(norm):
    g = make(normalization=norm)
    ws = g.mapping(torch.randn(3, 16))
    with torch.no_grad():
        a = g.synthesis(ws, noise_mode="const", speed=SpeedOptions(memory_format="contiguous"))
        b = g.synthesis(ws, noise_mode="const", speed=SpeedOptions(memory_format="channels_last"))
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_fused_and_nonfused_modconv_agree():
    g = make()
    ws = g.mapping(torch.randn(3, 16))
    with torch.no_grad():
        a = g.synthesis(ws, noise_mode="const", fused_modconv=True)
        b = g.synthesis(ws, noise_mode="const", fused_modconv=False)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_parameter_order_synthesis_first():
    names = [n for n, _ in make().named_parameters()]
    assert names[0].startswith("synthesis.") and names[-1].startswith("mapping.")


def test_layers_table_and_w_indices():
    g = make()
    layers = g.layers()
    names = [layer.name for layer in layers]
    assert names == [
        "b4.conv1",
        "b4.torgb",
        "b8.conv0",
        "b8.conv1",
        "b8.torgb",
        "b16.conv0",
        "b16.conv1",
        "b16.torgb",
    ]
    assert [layer.w_index for layer in layers] == [0, 1, 1, 2, 3, 3, 4, 5]
    assert max(layer.w_index for layer in layers) == g.num_ws - 1


def test_layer_w_index_is_the_w_that_drives_it():
    """Changing ws[:, i] changes exactly the layers listed with w_index i."""
    g = make()
    ws = g.mapping(torch.randn(1, 16))
    names = [layer.name for layer in g.layers()]
    with torch.no_grad():
        cap0 = Capture(names)
        g.synthesis(ws, noise_mode="const", capture=cap0)
        for i in range(g.num_ws):
            ws2 = ws.clone()
            ws2[:, i] += 1.0
            cap = Capture(names)
            g.synthesis(ws2, noise_mode="const", capture=cap)
            first_changed = next(
                layer
                for layer in g.layers()
                if not torch.equal(cap.outputs[layer.name], cap0.outputs[layer.name])
            )
            assert first_changed.w_index == i


def test_capture_returns_forward_tensors():
    g = make()
    ws = g.mapping(torch.randn(2, 16))
    names = [layer.name for layer in g.layers()] + ["b4.img", "b8.img", "b16.img"]
    cap = Capture(names)
    with torch.no_grad():
        img = g.synthesis(ws, noise_mode="const", capture=cap)
        assert set(cap.outputs) == set(names)
        torch.testing.assert_close(cap.outputs["b16.img"], img, atol=0, rtol=0)
        # The skip image is the sum of upsampled tRGB outputs.
        from stylegan2 import ops

        f = g.synthesis.b8.resample_filter
        manual = ops.upsample2d(cap.outputs["b8.img"], f) + cap.outputs["b16.torgb"]
        torch.testing.assert_close(manual, img, atol=1e-6, rtol=1e-6)
        # Recompute b16.conv0 from the captured b8.conv1 output.
        x = cap.outputs["b8.conv1"].contiguous()
        manual = g.synthesis.b16.conv0(x, ws[:, 4], noise_mode="const")
        torch.testing.assert_close(cap.outputs["b16.conv0"], manual, atol=1e-5, rtol=1e-5)
    assert cap.outputs["b8.conv0"].shape == (2, 16, 8, 8)


def test_no_capture_keeps_nothing():
    g = make()
    cap = Capture([])
    with torch.no_grad():
        g(torch.randn(1, 16), noise_mode="const", capture=cap)
    assert cap.outputs == {}


def test_noise_gains_and_modes():
    g = make()
    ws = g.mapping(torch.randn(2, 16))
    noisy = [layer.name for layer in g.layers() if layer.has_noise]
    with torch.no_grad():
        none = g.synthesis(ws, noise_mode="none")
        const = g.synthesis(ws, noise_mode="const")
        off = g.synthesis(ws, noise_mode="const", noise_gains=dict.fromkeys(noisy, 0.0))
        assert not torch.equal(none, const)
        torch.testing.assert_close(off, none, atol=0, rtol=0)
        one_off = g.synthesis(ws, noise_mode="const", noise_gains={"b16.conv0": 0.0})
        assert not torch.equal(one_off, const)
        back_on = g.synthesis(ws, noise_mode="const", noise_gains={"b16.conv0": 1.0})
        torch.testing.assert_close(back_on, const, atol=0, rtol=0)
        double = g.synthesis(ws, noise_mode="const", noise_gains={"b16.conv0": 2.0})
        assert not torch.equal(double, const)
        r1 = g.synthesis(ws, noise_mode="random", noise_generator=torch.Generator().manual_seed(5))
        r2 = g.synthesis(ws, noise_mode="random", noise_generator=torch.Generator().manual_seed(5))
        r3 = g.synthesis(ws, noise_mode="random", noise_generator=torch.Generator().manual_seed(6))
    torch.testing.assert_close(r1, r2, atol=0, rtol=0)
    assert not torch.equal(r1, r3)


def test_truncation_psi_zero_gives_w_avg_for_every_seed():
    g = make()
    z = torch.cat([z_from_seed(s, 16) for s in range(4)])
    with torch.no_grad():
        ws = g.mapping(z, truncation_psi=0.0)
        torch.testing.assert_close(ws, g.w_avg.expand_as(ws), atol=1e-6, rtol=0)
        ws_cut = g.mapping(z, truncation_psi=0.0, truncation_cutoff=2)
        plain = g.mapping(z)
    torch.testing.assert_close(ws_cut[:, 2:], plain[:, 2:], atol=0, rtol=0)
    torch.testing.assert_close(ws_cut[:, :2], g.w_avg.expand(4, 2, 16), atol=1e-6, rtol=0)


def test_w_avg_tracks_only_in_training():
    g = make()
    before = g.w_avg.clone()
    g.mapping(torch.randn(8, 16))
    assert torch.equal(g.w_avg, before)
    g.train()
    w = g.mapping(torch.randn(8, 16))[:, 0]
    expected = w.detach().mean(0).lerp(before, 0.995)
    torch.testing.assert_close(g.w_avg, expected)


def test_z_from_seed_matches_numpy_randomstate():
    import numpy as np

    z = z_from_seed(42, 512)
    assert torch.equal(z, torch.from_numpy(np.random.RandomState(42).randn(1, 512)).float())


def test_conditional_generator_needs_c():
    from stylegan2.config import GeneratorConfig, MappingConfig, SynthesisConfig

    cfg = GeneratorConfig(
        z_dim=8,
        c_dim=3,
        w_dim=8,
        img_resolution=8,
        mapping=MappingConfig(num_layers=1),
        synthesis=SynthesisConfig(channel_base=64, channel_max=8),
    )
    g = Generator(cfg).eval()
    c = torch.eye(3)
    assert g(torch.randn(3, 8), c).shape == (3, 3, 8, 8)
    with pytest.raises(ValueError, match="conditional"):
        g(torch.randn(3, 8))


def test_adain_layer_normalizes_then_styles():
    g = make(normalization="adain")
    layer = g.synthesis.b8.conv1
    x = torch.randn(2, layer.in_channels, 8, 8) * 50 + 7
    w = torch.randn(2, 16)
    with torch.no_grad():
        y = layer(x, w, noise_mode="none")
        style = layer.affine(w).reshape(2, 2, -1)
    torch.testing.assert_close(y.mean(dim=[2, 3]), style[:, 1], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(
        y.std(dim=[2, 3], unbiased=False), (style[:, 0] + 1).abs(), atol=1e-3, rtol=1e-3
    )


def test_torgb_gain_scales_the_image_not_the_stored_weights():
    import dataclasses

    from stylegan2.config import GeneratorConfig, SynthesisConfig
    from stylegan2.networks import Generator

    base = GeneratorConfig(
        z_dim=16, w_dim=16, img_resolution=16,
        synthesis=SynthesisConfig(channel_base=256, channel_max=32, use_noise=False),
    )  # fmt: skip
    half = dataclasses.replace(base, synthesis=dataclasses.replace(base.synthesis, torgb_gain=0.5))
    torch.manual_seed(0)
    G1 = Generator(base)
    G2 = Generator(half)
    G2.load_state_dict(G1.state_dict())  # same stored weights, unit scale in both
    z = torch.randn(2, 16)
    with torch.no_grad():
        a, b = G1(z, None), G2(z, None)
    torch.testing.assert_close(b, 0.5 * a, atol=1e-5, rtol=1e-4)
    assert GeneratorConfig.from_dict(half.to_dict()).synthesis.torgb_gain == 0.5


def test_trainer_gives_the_adain_skip_twin_a_torgb_gain():
    from training.options import ADAIN_TORGB_GAIN, TrainOptions, resolve

    adain = resolve(TrainOptions(data="d", outdir="o", cfg="small", norm="adain"), 64, 3, 0)
    demod = resolve(TrainOptions(data="d", outdir="o", cfg="small", norm="demod"), 64, 3, 0)
    assert adain.G.synthesis.torgb_gain == ADAIN_TORGB_GAIN
    assert demod.G.synthesis.torgb_gain == 1.0
