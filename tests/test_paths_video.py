"""Paths pass through their keyframes; videos hold exactly the frames the path renders."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from stylegan2.cli.main import main
from stylegan2.networks import CircularNoise
from stylegan2.paths import (
    Keyframe,
    Path,
    frame_times,
    path_from_dict,
    path_to_dict,
    path_ws,
    request_at,
)
from stylegan2.render import (
    Latent,
    Renderer,
    RenderRequest,
    request_from_dict,
    request_to_dict,
)
from stylegan2.video import VideoError, write_frames
from tests.conftest import distinct_generator


@pytest.fixture(scope="module")
def renderer():
    return Renderer(distinct_generator())


def _path(easing="linear", loop=False, space="w", psi=0.8):
    keys = tuple(Keyframe(Latent.from_seed(s), d) for s, d in ((1, 1.0), (2, 0.5), (3, 2.0)))
    return Path(keys, space, easing, loop, base=RenderRequest(psi=psi))


@pytest.mark.parametrize("easing", ["linear", "ease", "catmull"])
def test_paths_pass_through_keyframes(renderer, easing):
    p = _path(easing)
    for t, seed in ((0.0, 1), (1.0, 2), (1.5, 3)):
        ref = renderer.latent_ws(Latent.from_seed(seed), 0.8, None)
        torch.testing.assert_close(path_ws(renderer, p, t), ref, atol=1e-5, rtol=1e-5)
    mid = path_ws(renderer, p, 0.5)
    assert not torch.allclose(mid, renderer.latent_ws(Latent.from_seed(1), 0.8, None))


def test_loop_wraps_and_z_slerp(renderer):
    p = _path(loop=True)
    assert p.duration == 3.5
    torch.testing.assert_close(path_ws(renderer, p, 3.5), path_ws(renderer, p, 0.0))
    z = _path(space="z")
    torch.testing.assert_close(
        path_ws(renderer, z, 0.0),
        renderer.latent_ws(Latent.from_seed(1), 0.8, None),
        atol=1e-4,
        rtol=1e-4,
    )
    with pytest.raises(ValueError):
        Path((Keyframe(Latent(w=np.zeros(16, np.float32))),) * 2, space="z")


def test_frame_times_and_round_trip():
    assert len(frame_times(_path(), 10)) == 16  # 1.5 s (the last duration only counts in loops) + 1
    assert len(frame_times(_path(loop=True), 10)) == 35
    p = _path("catmull", True)
    q = path_from_dict(path_to_dict(p))
    assert path_to_dict(q) == path_to_dict(p)


def test_png_sequence_is_frame_exact(renderer, tmp_path):
    p = _path("ease")
    times = frame_times(p, 4)
    frames = [renderer.render(request_at(renderer, p, t, k)).image for k, t in enumerate(times)]
    assert write_frames(tmp_path / "seq", iter(frames), 4) == len(times)
    for k in (0, 3, len(times) - 1):
        assert np.array_equal(
            np.asarray(Image.open(tmp_path / "seq" / f"frame{k:06d}.png")), frames[k]
        )


def test_mp4_gif_cancel_and_errors(renderer, tmp_path):
    import imageio.v2 as imageio

    frames = [np.full((16, 16, 3), v, np.uint8) for v in range(0, 250, 25)]
    assert write_frames(tmp_path / "a.mp4", iter(frames), 10) == 10
    with imageio.get_reader(tmp_path / "a.mp4") as r:
        assert r.count_frames() == 10 and r.get_data(0).shape == (16, 16, 3)
    assert write_frames(tmp_path / "a.gif", iter(frames), 10) == 10
    with pytest.raises(VideoError, match="even width and height"):
        write_frames(tmp_path / "odd.mp4", iter([np.zeros((15, 16, 3), np.uint8)]), 10)
    assert write_frames(tmp_path / "c.mp4", iter(frames), 10, cancelled=lambda: True) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gif", "a.mp4"]  # nothing half-written
    with pytest.raises(VideoError, match="cannot write"):
        write_frames(tmp_path / "missing" / "x.gif", iter(frames), 10)
    for q in (0, 10):  # 0 fails inside imageio; 10 is lossless High 4:4:4 few players open
        with pytest.raises(VideoError, match="quality must be 1-9"):
            write_frames(tmp_path / "q.mp4", iter(frames), 10, quality=q)


def test_cli_video(tmp_path, renderer):
    from stylegan2.checkpoints import save_checkpoint

    net = str(save_checkpoint(tmp_path / "n.safetensors", renderer.G))
    out = tmp_path / "v.gif"
    assert (
        main(
            [
                "video",
                "--network",
                net,
                "--seeds",
                "1,2",
                "--frames-per-segment",
                "4",
                "--compare-trunc",
                "0.5",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    with Image.open(out) as im:
        assert im.size == (32, 16) and im.n_frames == 5
    assert (
        main(
            [
                "video",
                "--network",
                net,
                "--seeds",
                "1,2",
                "--size",
                "15x15",
                "--out",
                str(tmp_path / "o.mp4"),
            ]
        )
        == 2
    )
    assert main(["video", "--network", net, "--seeds", "1", "--out", str(tmp_path / "x.mp4")]) == 2


def _noise_path(noise: str, mode: str = "const") -> Path:
    keys = tuple(Keyframe(Latent.from_seed(s), 1.0) for s in (1, 2))
    return Path(keys, loop=True, noise=noise, base=RenderRequest(noise_mode=mode, noise_seed=5))


def _img(renderer, path, t, frame):
    return renderer.render(request_at(renderer, path, t, frame)).image.astype(np.int16)


def test_moving_noise_moves_even_when_the_request_has_const_noise(renderer):
    fixed, animated = _noise_path("fixed"), _noise_path("animated")
    assert np.array_equal(_img(renderer, fixed, 0.5, 0), _img(renderer, fixed, 0.5, 1))
    assert not np.array_equal(_img(renderer, animated, 0.5, 0), _img(renderer, animated, 0.5, 1))
    # Noise switched off stays off.
    off = _noise_path("animated", mode="none")
    assert np.array_equal(_img(renderer, off, 0.5, 0), _img(renderer, off, 0.5, 1))
    with pytest.raises(ValueError, match="noise must be one of"):
        _noise_path("wobbly")


def test_smooth_noise_is_continuous_loops_and_starts_at_the_seeded_noise(renderer):
    p = _noise_path("smooth")
    start = _img(renderer, p, 0.0, 0)
    seeded = renderer.render(replace(request_at(renderer, p, 0.0), noise_phase=None)).image
    assert np.array_equal(start, seeded.astype(np.int16))  # phase 0 = N(seed)
    assert np.abs(_img(renderer, p, p.duration - 1e-6, 7) - start).max() <= 1  # seamless loop
    step = np.abs(_img(renderer, p, 0.5, 0) - _img(renderer, p, 0.5 + 1e-3, 1)).max()
    jump = np.abs(_img(renderer, p, 0.5, 0) - _img(renderer, p, 1.0, 1)).max()
    assert step <= 2 < jump
    # Every phase is unit Gaussian noise again.
    noise = CircularNoise(3, 1.1).draw((64, 64, 8, 8))
    assert abs(float(noise.std()) - 1) < 0.02 and abs(float(noise.mean())) < 0.02
    d = request_to_dict(request_at(renderer, p, 0.3))
    assert request_from_dict(d).noise_phase == pytest.approx(2 * np.pi * 0.3 / p.duration)


def test_cli_video_noise_choice_and_override_of_a_saved_path(tmp_path):
    import argparse
    import json

    from stylegan2.cli.video import add_parser, build_path

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    state = tmp_path / "s.json"
    state.write_text(json.dumps({"path": path_to_dict(_noise_path("animated"))}))
    base = ["video", "--network", "n", "--out", "v.mp4"]
    saved = build_path(parser.parse_args([*base, "--state", str(state)]))
    assert saved.noise == "animated"  # the saved choice, unless --noise says otherwise
    args = [*base, "--state", str(state), "--noise", "smooth"]
    assert build_path(parser.parse_args(args)).noise == "smooth"
    seeds = build_path(parser.parse_args([*base, "--seeds", "1,2"]))
    assert seeds.noise == "fixed"


def test_smooth_noise_holds_past_the_ends_of_an_open_path(renderer):
    keys = tuple(Keyframe(Latent.from_seed(s), 1.0) for s in (1, 2))
    p = Path(keys, noise="smooth", base=RenderRequest(noise_seed=5))
    assert request_at(renderer, p, 1.7).noise_phase == request_at(renderer, p, 1.0).noise_phase
    assert request_at(renderer, p, -1).noise_phase == 0


@pytest.mark.parametrize("bad", [None, [1, 2], {"keyframes": [{"latent": [1]}, {"latent": [2]}]}])
def test_path_from_dict_refuses_malformed_documents(bad):
    with pytest.raises(ValueError, match="not a path"):
        path_from_dict(bad)


def test_exports_never_destroy_what_is_in_the_way(tmp_path):
    """A folder where a file should go, or a folder of the user's own files, is refused before
    the first frame is drawn; an earlier export's frames are replaced."""
    drawn = []

    def frames():
        for k in range(2):
            drawn.append(k)
            yield np.full((4, 4, 3), 40 * k, np.uint8)

    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "holiday.jpg").write_bytes(b"precious")
    (tmp_path / "clip.gif").mkdir()
    (tmp_path / "clip.gif" / "notes.txt").write_text("mine")
    (tmp_path / "film.part").mkdir()  # a name an older exporter used as its temporary
    (tmp_path / "film.part" / "keep.txt").write_text("mine")
    ffmpeg = tmp_path / "ffmpeg"  # frames named as ours, but made by something else
    ffmpeg.mkdir()
    for k in range(3):
        (ffmpeg / f"frame{k:06d}.png").write_bytes(b"not ours")
    for out, match in (
        (photos, "other files"),
        (ffmpeg, "other files"),
        (tmp_path / "clip.gif", "a folder"),
        (tmp_path / "missing" / "v.mp4", "no folder"),
    ):
        with pytest.raises(VideoError, match=match):
            write_frames(out, frames(), fps=4)
    assert drawn == []
    assert (photos / "holiday.jpg").read_bytes() == b"precious"
    assert (tmp_path / "clip.gif" / "notes.txt").exists()
    assert len(list(ffmpeg.iterdir())) == 3
    out = tmp_path / "film"
    assert write_frames(out, frames(), fps=4) == 2
    assert write_frames(out, frames(), fps=4) == 2  # an earlier export: replaced
    names = sorted(p.name for p in out.iterdir())
    assert names == [".stylegan2-frames", "frame000000.png", "frame000001.png"]
    assert (tmp_path / "film.part" / "keep.txt").exists()
    assert write_frames(tmp_path / "clip2.gif", frames(), fps=4) == 2
    leftovers = [p.name for p in tmp_path.iterdir() if ".part" in p.name]
    assert leftovers == ["film.part"]  # the user's folder; no temporary files of ours


def test_exports_get_the_usual_permissions(tmp_path):
    import os
    import stat

    umask = os.umask(0o022)
    os.umask(umask)
    frames = [np.zeros((4, 4, 3), np.uint8)] * 2
    write_frames(tmp_path / "a.gif", iter(frames), 4)
    write_frames(tmp_path / "f", iter(frames), 4)
    assert stat.S_IMODE((tmp_path / "a.gif").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o777 & ~umask


def test_png_frames_into_an_empty_folder(tmp_path):
    (tmp_path / "frames").mkdir()
    frames = [np.zeros((4, 4, 3), np.uint8)] * 2
    assert write_frames(tmp_path / "frames", iter(frames), 4) == 2
    assert len(list((tmp_path / "frames").glob("frame*.png"))) == 2


def test_cli_video_side_by_side_of_two_resolutions_matches_the_gui(tmp_path, renderer):
    import dataclasses

    from stylegan2.checkpoints import save_checkpoint
    from stylegan2.networks import Generator

    net = str(save_checkpoint(tmp_path / "n.safetensors", renderer.G))
    bigger = Generator(dataclasses.replace(renderer.G.cfg, img_resolution=32)).eval()
    other = str(save_checkpoint(tmp_path / "m.safetensors", bigger))
    out = tmp_path / "v.gif"
    argv = ["video", "--network", net, "--compare-network", other, "--seeds", "1,2"]
    assert main([*argv, "--frames-per-segment", "2", "--out", str(out)]) == 0
    with Image.open(out) as im:  # the second network fills a half the first one's size
        assert im.size == (32, 16) and im.n_frames == 3


def test_a_gif_that_would_not_fit_in_memory_is_refused_before_rendering():
    from stylegan2.video import MAX_GIF_SIDE, gif_problem

    assert gif_problem(100, 128, 64, limit=1 << 30, fps=50) is None
    assert "at most 50 fps" in gif_problem(100, 128, 64, limit=1 << 30, fps=60)
    assert "GIF sides stay within" in gif_problem(2, MAX_GIF_SIDE + 1, 64, limit=1 << 40)
    problem = gif_problem(1_000_000, 64, 64, limit=1 << 30)
    assert "1,000,000 frames of 64x64 px" in problem and "19.1 GiB" in problem


def test_video_cli_refuses_a_gif_too_large_for_memory(tmp_path, capsys, monkeypatch):
    from stylegan2.cli import video as video_cli
    from stylegan2.cli.main import main
    from tests.conftest import DATA

    monkeypatch.setattr(video_cli, "memory_limit", lambda: 1 << 10)
    argv = ["video", "--network", str(DATA / "sg2ada_tiny_snapshot.pkl"), "--seeds", "0,1"]
    out = tmp_path / "v.gif"
    assert main([*argv, "--frames-per-segment", "200", "--out", str(out)]) == 2
    assert "would hold about" in capsys.readouterr().err and not out.exists()


def test_local_path_length_is_the_pixel_distance_of_a_small_step(renderer):
    """On the second segment (0.5 s, seed 2 to seed 3, linear in W), the local path length is
    the mean squared pixel difference between the images at w(t) and at w a step of EPS
    towards the next keyframe, over EPS^2: computed here by hand from the two keyframes' ws."""
    from stylegan2.lpips import load_distance
    from stylegan2.paths import local_path_length
    from stylegan2.ppl import EPS

    path, dist = _path(psi=1.0), load_distance(None)
    t, u = 1.0 + 0.25 * 0.5, 0.25  # a quarter of the way along the second segment
    wa, wb = (renderer.latent_ws(Latent.from_seed(s), 1.0, None) for s in (2, 3))
    G = renderer.G
    with torch.no_grad():
        img = [
            G.synthesis(w[None], noise_mode="const", force_fp32=True)
            for w in (wa + u * (wb - wa), wa + (u + EPS) * (wb - wa))
        ]
        expected = float((img[0] - img[1]).square().mean()) / EPS**2  # pixels in [-1, 1]
    got = local_path_length(renderer, path, t, dist, 0.5)
    assert got == pytest.approx(expected, rel=0.05) and got > 0
