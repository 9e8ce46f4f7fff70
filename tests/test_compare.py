"""Compare mode in the library: what a request carries over to a second generator."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from stylegan2.compare import adapt_request
from stylegan2.config import MappingConfig
from stylegan2.networks import Generator
from stylegan2.render import Latent, Renderer, RenderRequest
from tests.conftest import distinct_generator, randomize_, tiny_config


def _adain_twin() -> Generator:
    cfg = dataclasses.replace(
        tiny_config(normalization="adain"), mapping=MappingConfig(num_layers=2, lr_multiplier=1.0)
    )
    return randomize_(Generator(cfg), seed=5).eval()


def test_same_skeleton_carries_everything_seed_based():
    A, B = distinct_generator(), _adain_twin()
    req = RenderRequest(
        latent=Latent(seeds=((3, 0.7), (9, 0.3))),
        style_sources=(Latent.from_seed(5),),
        layer_sources=tuple(1 if i >= 4 else 0 for i in range(A.num_ws)),
        psi=0.6,
        cutoff=4,
        noise_mode="random",
        noise_gains=(("b8.conv0", 0.0), ("b16.conv1", 2.0)),
        noise_seed=11,
        capture=("b8.conv1", "b8.img"),
        preview_resolution=8,
    )
    twin, notes = adapt_request(req, B)
    assert notes == ()
    for f in ("latent", "style_sources", "layer_sources", "psi", "cutoff", "noise_mode"):
        assert repr(getattr(twin, f)) == repr(getattr(req, f)), f
    assert twin.noise_gains == req.noise_gains and twin.capture == req.capture
    assert twin.preview_resolution == 8 and twin.noise_seed == 11
    # Rendering the adapted request equals rendering the same controls directly on B.
    out = Renderer(B).render(twin)
    direct = Renderer(B).render(req)
    assert out.error is None and np.array_equal(out.image, direct.image)
    np.testing.assert_array_equal(out.captures["b8.conv1"], direct.captures["b8.conv1"])


def test_network_specific_parts_are_dropped_with_notes():
    A, B = distinct_generator(), _adain_twin()
    w = np.random.RandomState(0).randn(A.num_ws, A.w_dim).astype(np.float32)
    req = RenderRequest(
        latent=Latent(seeds=((4, 1.0),), w=w),
        w_offset=np.ones((A.num_ws, A.w_dim), np.float32),
        noise_gains=(("b32.conv0", 0.0),),  # no such layer in a 16 px net
    )
    twin, notes = adapt_request(req, B)
    assert twin.latent.w is None and twin.latent.seeds == ((4, 1.0),)
    assert twin.w_offset is None and twin.noise_gains == ()
    assert len(notes) == 3 and any("projection" in n for n in notes)
    assert Renderer(B).render(twin).error is None


def test_different_shapes_fall_back_cleanly():
    A = distinct_generator()
    cfg = dataclasses.replace(
        tiny_config(), img_resolution=8, mapping=MappingConfig(num_layers=1, lr_multiplier=1.0)
    )
    torch.manual_seed(1)
    small = randomize_(Generator(cfg), seed=2).eval()
    req = RenderRequest(
        style_sources=(Latent.from_seed(2),),
        layer_sources=tuple(i % 2 for i in range(A.num_ws)),
        cutoff=A.num_ws,
        capture=("b16.conv1", "b8.conv1"),
        preview_resolution=16,
    )
    twin, notes = adapt_request(req, small)
    assert twin.layer_sources is None and twin.style_sources == ()
    assert any("style mixing" in n for n in notes)
    assert twin.capture == ("b8.conv1",) and twin.preview_resolution is None
    assert twin.cutoff is None  # beyond the smaller network's ws
    result = Renderer(small).render(twin)
    assert result.error is None and result.image.shape == (8, 8, 3)


def test_class_index_fitted_to_a_conditional_twin():
    A = distinct_generator()
    cfg = dataclasses.replace(
        tiny_config(), c_dim=3, mapping=MappingConfig(num_layers=2, lr_multiplier=1.0)
    )
    cond = randomize_(Generator(cfg), seed=4).eval()
    twin, notes = adapt_request(RenderRequest(latent=Latent.from_seed(1)), cond)
    assert twin.latent.class_idx == 0 and any("class" in n for n in notes)
    assert Renderer(cond).render(twin).error is None
    twin, notes = adapt_request(RenderRequest(latent=Latent.from_seed(1, class_idx=7)), cond)
    assert twin.latent.class_idx == 2
    back, notes = adapt_request(twin, A)  # conditional -> unconditional: class dropped quietly
    assert back.latent.class_idx is None and notes == ()
