"""Projection: the schedule and regulariser formulas, recovery of a generated image, the CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from stylegan2.lpips import PixelDistance
from stylegan2.networks import z_from_seed
from stylegan2.projection import (
    ProjectConfig,
    latent_noise_scale,
    learning_rate,
    noise_regularizer,
    prepare_target,
    project,
)
from stylegan2.render import to_uint8
from tests.conftest import distinct_generator


@pytest.fixture(scope="module")
def G():
    return distinct_generator()


def test_schedule_formulas():
    cfg = ProjectConfig()
    assert learning_rate(0.0, cfg) == 0.0
    assert learning_rate(0.05, cfg) == pytest.approx(0.1)  # end of the ramp-up
    assert learning_rate(0.5, cfg) == pytest.approx(0.1)
    assert learning_rate(0.875, cfg) == pytest.approx(0.1 * (0.5 - 0.5 * math.cos(0.5 * math.pi)))
    assert learning_rate(0.025, cfg) == pytest.approx(0.05)
    assert latent_noise_scale(0.0, 2.0, cfg) == pytest.approx(0.1)
    assert latent_noise_scale(0.375, 2.0, cfg) == pytest.approx(0.1 * 0.25)
    assert latent_noise_scale(0.8, 2.0, cfg) == 0.0


def test_noise_regularizer_formula():
    v = torch.arange(256.0).reshape(16, 16) / 256
    manual = 0.0
    x = v[None, None]
    while True:
        manual += float((x * x.roll(1, 3)).mean()) ** 2 + float((x * x.roll(1, 2)).mean()) ** 2
        if x.shape[2] <= 8:
            break
        x = torch.nn.functional.avg_pool2d(x, 2)
    assert float(noise_regularizer([v])) == pytest.approx(manual)
    assert float(noise_regularizer([torch.ones(4, 4)])) == pytest.approx(2.0)


@pytest.mark.slow
def test_recovers_a_generated_image(G):
    with torch.no_grad():
        target = to_uint8(G(z_from_seed(5, G.z_dim), noise_mode="const"))[0]
        start = to_uint8(G.synthesis(G.w_avg.expand(1, G.num_ws, -1).clone(), noise_mode="const"))[
            0
        ]
    before = G.state_dict()
    dists = []
    history = project(
        G,
        target,
        PixelDistance(),
        ProjectConfig(num_steps=300, w_avg_samples=500),
        callback=lambda s: dists.append(s.distance),
    )
    assert len(history) == 300 and history[-1].shape == (G.num_ws, G.w_dim)
    with torch.no_grad():
        proj = to_uint8(G.synthesis(torch.from_numpy(history[-1])[None], noise_mode="const"))[0]
    err = np.abs(proj.astype(float) - target).mean()
    # Rendered with the network's own noise (as generate does), not the optimised maps.
    assert err < 0.4 * np.abs(start.astype(float) - target).mean()
    assert dists[-1] < 0.3 * dists[0]
    assert all(torch.equal(v, G.state_dict()[k]) for k, v in before.items())  # G untouched


def test_cancel_and_target_preparation():
    img = np.zeros((30, 50, 3), np.uint8)
    out, note = prepare_target(img, 16, 3)
    assert out.shape == (16, 16, 3) and "centre-cropped 50x30" in note and "resized" in note
    grey, _ = prepare_target(np.zeros((16, 16, 3), np.uint8), 16, 1)
    assert grey.shape == (16, 16, 1)


def test_cli_project(tmp_path, G, capsys):
    from stylegan2.checkpoints import save_checkpoint
    from stylegan2.cli.main import main
    from stylegan2.latents import load_w

    net = save_checkpoint(tmp_path / "g.safetensors", G)
    with torch.no_grad():
        target = to_uint8(G(z_from_seed(2, G.z_dim), noise_mode="const"))[0]
    Image.fromarray(np.repeat(np.repeat(target, 3, 0), 2, 1)).save(tmp_path / "t.png")  # 48x32
    rc = main(
        [
            "project",
            "--network",
            str(net),
            "--target",
            str(tmp_path / "t.png"),
            "--steps",
            "20",
            "--outdir",
            str(tmp_path / "o"),
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "centre-cropped" in out
    # The distance reported is proj.png's: the image loading projected_w.npz gives.
    from stylegan2.lpips import load_distance
    from stylegan2.projection import distance_as_rendered, prepare_target

    reported = float(out.split("distance of proj.png ")[1].split()[0])
    ws = load_w(tmp_path / "o" / "projected_w.npz", G.num_ws, G.w_dim)
    tgt = prepare_target(np.asarray(Image.open(tmp_path / "t.png")), G.img_resolution, 3)[0]
    got, image = distance_as_rendered(G, tgt, ws, load_distance(None, torch.device("cpu")))
    assert got == pytest.approx(reported, abs=1e-4)
    assert np.array_equal(image, np.asarray(Image.open(tmp_path / "o" / "proj.png")))
    assert load_w(tmp_path / "o" / "projected_w.npz", G.num_ws, G.w_dim).shape == (
        G.num_ws,
        G.w_dim,
    )
    for name in ("proj.png", "target.png", "compare.png"):
        assert (tmp_path / "o" / name).exists()
    (tmp_path / "bad.png").write_text("not an image")
    assert (
        main(
            [
                "project",
                "--network",
                str(net),
                "--target",
                str(tmp_path / "bad.png"),
                "--outdir",
                str(tmp_path / "o2"),
            ]
        )
        == 2
    )


def test_cli_project_progress_video(tmp_path, G):
    from stylegan2.checkpoints import save_checkpoint
    from stylegan2.cli.main import main
    from stylegan2.latents import load_w

    net = save_checkpoint(tmp_path / "g.safetensors", G)
    with torch.no_grad():
        target = to_uint8(G(z_from_seed(3, G.z_dim), noise_mode="const"))[0]
    Image.fromarray(target).save(tmp_path / "t.png")
    args = ["project", "--network", str(net), "--target", str(tmp_path / "t.png")]
    args += ["--steps", "8", "--outdir", str(tmp_path / "o"), "--video", "frames"]
    assert main([*args, "--video-every", "3"]) == 0
    frames = sorted((tmp_path / "o" / "frames").glob("*.png"))
    assert len(frames) == 4  # steps 0, 3, 6 and the last one, 7
    last = np.asarray(Image.open(frames[-1]))
    assert last.shape == (G.img_resolution, 2 * G.img_resolution, 3)
    np.testing.assert_array_equal(last[:, : G.img_resolution], target)  # target on the left
    ws = load_w(tmp_path / "o" / "projected_w.npz", G.num_ws, G.w_dim)
    with torch.no_grad():
        proj = to_uint8(G.synthesis(torch.from_numpy(ws)[None], noise_mode="const"))[0]
    np.testing.assert_array_equal(last[:, G.img_resolution :], proj)  # last frame = the result
    assert main([*args[:-1], "clip.avi"]) == 2  # unknown container: refused before projecting
