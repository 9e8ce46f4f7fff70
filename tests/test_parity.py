"""Every supported checkpoint format reproduces NVIDIA's reference outputs for the tiny fixture
(sg2ada_tiny_reference.npz, made with the official stylegan2-ada-pytorch code)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylegan2.checkpoints import load_checkpoint
from stylegan2.networks import DEFAULT, REFERENCE, SpeedOptions
from stylegan2.render import Latent, Renderer, RenderRequest

FORMATS = ["sg2ada_tiny_snapshot.pkl", "tf_tiny_network.pkl", "rosinality_tiny_g_ema.pt"]
TOL = 1e-4


@pytest.fixture(scope="module")
def ref(request):
    from tests.conftest import DATA

    return {k: torch.from_numpy(v) for k, v in np.load(DATA / "sg2ada_tiny_reference.npz").items()}


@pytest.fixture(scope="module", params=FORMATS)
def ckpt(request):
    from tests.conftest import DATA

    return load_checkpoint(DATA / request.param)


def test_mapping_and_truncation(ckpt, ref):
    G = ckpt.G_ema
    z = ref["z"]
    with torch.no_grad():
        torch.testing.assert_close(G.mapping(z), ref["ws_psi1"], atol=TOL, rtol=0)
        torch.testing.assert_close(
            G.mapping(z, truncation_psi=0.7), ref["ws_psi0.7"], atol=TOL, rtol=0
        )
        torch.testing.assert_close(
            G.mapping(z, truncation_psi=0.5, truncation_cutoff=2),
            ref["ws_psi0.5_cut2"],
            atol=TOL,
            rtol=0,
        )


@pytest.mark.parametrize("memory_format", ["contiguous", "channels_last"])
def test_synthesis_fused_nonfused_nonoise(ckpt, ref, memory_format):
    G = ckpt.G_ema
    speed = SpeedOptions(memory_format=memory_format)
    ws = ref["ws_psi1"]
    with torch.no_grad():
        fused = G.synthesis(ws, noise_mode="const", fused_modconv=True, speed=speed)
        nonfused = G.synthesis(ws, noise_mode="const", fused_modconv=False, speed=speed)
        nonoise = G.synthesis(ws, noise_mode="none", speed=speed)
    torch.testing.assert_close(fused, ref["img_const_fused"], atol=TOL, rtol=0)
    torch.testing.assert_close(nonfused, ref["img_const_nonfused"], atol=TOL, rtol=0)
    torch.testing.assert_close(nonoise, ref["img_nonoise"], atol=TOL, rtol=0)


@pytest.mark.parametrize("speed", [REFERENCE, DEFAULT], ids=["reference", "fast"])
def test_reference_and_fast_paths_reproduce_nvidia(ckpt, ref, speed):
    with torch.no_grad():
        img = ckpt.G_ema.synthesis(ref["ws_psi1"], noise_mode="const", speed=speed)
    torch.testing.assert_close(img, ref["img_const_fused"], atol=TOL, rtol=0)


def test_style_mixing_through_the_render_api(ckpt, ref):
    """ws_mix: rows 0, 1 with ws[:, 0:3] taken from samples 2, 3 (explicit w latents)."""
    renderer = Renderer(ckpt.G_ema)
    ws = ref["ws_psi1"].numpy()
    sources = (1, 1, 1, 0, 0, 0)
    for row, col in ((0, 2), (1, 3)):
        req = RenderRequest(
            latent=Latent(w=ws[row]),
            style_sources=(Latent(w=ws[col]),),
            layer_sources=sources,
        )
        mixed = renderer.request_ws(req)[0]
        torch.testing.assert_close(mixed, ref["ws_mix"][row], atol=TOL, rtol=0)
        img, _ = renderer.synthesize(req, mixed[None])
        torch.testing.assert_close(img[0], ref["img_mix_const"][row], atol=TOL, rtol=0)


def test_discriminator_logits(ckpt, ref):
    if ckpt.D is None:
        pytest.skip("this file holds no discriminator")
    with torch.no_grad():
        logits = ckpt.D(ref["img_const_fused"])
    torch.testing.assert_close(logits, ref["D_logits_on_img_const"], atol=TOL, rtol=0)


def test_all_formats_hold_the_same_generator():
    from tests.conftest import DATA

    nets = [load_checkpoint(DATA / f).G_ema for f in FORMATS]
    z = torch.randn(3, 32)
    with torch.no_grad():
        imgs = [G(z, noise_mode="const") for G in nets]
    for img in imgs[1:]:
        torch.testing.assert_close(img, imgs[0], atol=TOL, rtol=0)
