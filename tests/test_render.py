"""The rendering API: NVIDIA's semantics, mixing, truncation, errors as data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylegan2.networks import Generator, z_from_seed
from stylegan2.render import Latent, Renderer, RenderRequest, to_uint8
from tests.conftest import randomize_, tiny_config


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    torch.manual_seed(0)
    return Renderer(randomize_(Generator(tiny_config())).eval())


def test_seed_render_matches_generate_semantics(renderer):
    G = renderer.G
    req = RenderRequest(latent=Latent.from_seed(42), psi=0.7, cutoff=3, noise_mode="const")
    result = renderer.render(req)
    assert result.error is None
    with torch.no_grad():
        img = G(
            z_from_seed(42, G.z_dim), truncation_psi=0.7, truncation_cutoff=3, noise_mode="const"
        )
    assert np.array_equal(result.image, to_uint8(img)[0])
    assert result.image.dtype == np.uint8 and result.image.shape == (16, 16, 3)


def test_psi_zero_gives_one_image_for_every_seed(renderer):
    images = [
        renderer.render(RenderRequest(latent=Latent.from_seed(s), psi=0.0)).image for s in range(4)
    ]
    for image in images[1:]:
        assert np.array_equal(image, images[0])


def test_all_layers_from_b_gives_b(renderer):
    num_ws = renderer.G.num_ws
    b = renderer.render(RenderRequest(latent=Latent.from_seed(7))).image
    mixed = renderer.render(
        RenderRequest(
            latent=Latent.from_seed(3),
            style_sources=(Latent.from_seed(7),),
            layer_sources=(1,) * num_ws,
        )
    ).image
    assert np.array_equal(mixed, b)
    partly = renderer.render(
        RenderRequest(
            latent=Latent.from_seed(3),
            style_sources=(Latent.from_seed(7),),
            layer_sources=(1, 1) + (0,) * (num_ws - 2),
        )
    ).image
    assert not np.array_equal(partly, b)


def test_seed_blend_in_w(renderer):
    w0 = renderer.mapped_ws(0)
    w1 = renderer.mapped_ws(1)
    blend = renderer.latent_ws(Latent(seeds=((0, 0.25), (1, 0.75))), 1.0, None)
    torch.testing.assert_close(blend, 0.25 * w0 + 0.75 * w1, atol=1e-6, rtol=1e-6)


def test_explicit_w_is_used_untruncated(renderer):
    w = np.random.RandomState(0).randn(renderer.G.w_dim).astype(np.float32)
    result = renderer.render(RenderRequest(latent=Latent(w=w), psi=0.0))
    assert result.error is None
    assert np.allclose(result.ws, np.broadcast_to(w, result.ws.shape))


def test_errors_come_back_as_data(renderer):
    bad = renderer.render(RenderRequest(latent=Latent(w=np.zeros(3, np.float32)), request_id=9))
    assert bad.image is None and bad.request_id == 9 and "w must be" in bad.error
    bad = renderer.render(RenderRequest(layer_sources=(0, 5, 0, 0, 0, 0)))
    assert bad.error and "style source" in bad.error


def test_captures_and_timings(renderer):
    result = renderer.render(RenderRequest(capture=("b8.conv1", "b16.torgb", "b8.img")))
    assert set(result.captures) == {"b8.conv1", "b16.torgb", "b8.img"}
    assert result.captures["b8.conv1"].shape == (16, 8, 8)
    assert result.timings["total"] >= result.timings["synthesis"] > 0


def test_noise_controls(renderer):
    base = renderer.render(RenderRequest(noise_mode="const")).image
    off = renderer.render(
        RenderRequest(noise_mode="const", noise_gains=(("b16.conv1", 0.0),))
    ).image
    assert not np.array_equal(base, off)
    r1 = renderer.render(RenderRequest(noise_mode="random", noise_seed=1)).image
    r1b = renderer.render(RenderRequest(noise_mode="random", noise_seed=1)).image
    r2 = renderer.render(RenderRequest(noise_mode="random", noise_seed=2)).image
    assert np.array_equal(r1, r1b) and not np.array_equal(r1, r2)


def test_conditional_network_needs_a_class():
    from stylegan2.config import GeneratorConfig, MappingConfig, SynthesisConfig

    cfg = GeneratorConfig(
        z_dim=8,
        c_dim=3,
        w_dim=8,
        img_resolution=8,
        mapping=MappingConfig(num_layers=1),
        synthesis=SynthesisConfig(channel_base=64, channel_max=8),
    )
    r = Renderer(Generator(cfg).eval())
    assert "conditional" in r.render(RenderRequest()).error
    assert "out of range" in r.render(RenderRequest(latent=Latent.from_seed(0, 5))).error
    assert r.render(RenderRequest(latent=Latent.from_seed(0, 2))).error is None


def test_preview_is_the_generators_partial_image(renderer):
    from stylegan2 import ops
    from stylegan2.networks import Capture

    req = RenderRequest(latent=Latent.from_seed(3), preview_resolution=8)
    ws = renderer.request_ws(req)
    cap = Capture(["b8.img"])
    with torch.no_grad():
        renderer.G.synthesis(ws, noise_mode="const", capture=cap)
        partial = renderer.G.synthesis(ws, noise_mode="const", max_resolution=8)
    torch.testing.assert_close(partial, cap.outputs["b8.img"], atol=0, rtol=0)
    result = renderer.render(req)
    assert result.preview_resolution == 8 and result.image.shape == (16, 16, 3)
    f = renderer.G.synthesis.b4.resample_filter
    assert np.array_equal(result.image, to_uint8(ops.upsample2d(partial, f))[0])
    bad = renderer.render(RenderRequest(preview_resolution=5))
    assert "max_resolution" in bad.error


def test_image_io_reports_bad_files_in_one_line(tmp_path):
    from stylegan2.io import ImageIOError, load_image, save_png

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(ImageIOError, match="not an image we can read"):
        load_image(bad)
    good = tmp_path / "good.png"
    save_png(np.zeros((4, 4, 3), np.uint8), good, {"k": "v"})
    assert load_image(good).shape == (4, 4, 3)
    before = good.read_bytes()
    with pytest.raises(ImageIOError, match="cannot write"):
        save_png(np.zeros((4, 4, 3), np.uint8), tmp_path / "missing" / "x.png")
    assert good.read_bytes() == before


@pytest.mark.parametrize(
    "change, message",
    [
        ({"cutoff": 2**40}, "cutoff"),
        ({"noise_seed": 2**32}, "noise_seed"),
        ({"psi": float("nan")}, "psi"),
        ({"latent": {"seeds": [[-1, 1.0]]}}, "a seed"),
        ({"latent": {"seeds": [[0, 1.0]], "class_idx": 10**9}}, "class_idx"),
        ({"latent": {"w": [[1e308] * 4]}}, "finite"),
        ({"latent": {"seeds": [[i, 1.0] for i in range(1000)]}}, "at most 64"),
    ],
)
def test_a_request_from_a_file_is_bounded(change, message):
    from stylegan2.render import request_from_dict, request_to_dict

    d = {**request_to_dict(RenderRequest()), **change}
    with pytest.raises(ValueError, match=message):
        request_from_dict(d)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"noise_gains": [["b8.conv0", float("nan")]]}, "noise gains"),
        ({"noise_phase": float("inf")}, "noise_phase"),
        ({"noise_mode": "loud"}, "noise_mode"),
        ({"style_sources": [{"seeds": [[1, 1.0]]}] * 100}, "style sources"),
    ],
)
def test_a_request_from_a_file_has_sane_noise_and_sources(change, message):
    from stylegan2.render import request_from_dict, request_to_dict

    with pytest.raises(ValueError, match=message):
        request_from_dict({**request_to_dict(RenderRequest()), **change})
