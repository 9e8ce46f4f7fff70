"""Bad input the commands refuse with one line and exit status 2, writing nothing: state and
calibration files with numbers no float holds, keyframes saved with another network, broken
direction files and strengths, outputs nobody can create, damaged checkpoint headers and
conversions that would not fit float16."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from commands.main import main
from stylegan2.checkpoints import save_checkpoint
from stylegan2.networks import Generator
from tests.conftest import micro_config, tiny_config

#: a JSON integer no float holds (json.loads reads it; float() overflows)
HUGE = 10**400


@pytest.fixture
def net(tmp_path) -> Path:
    return save_checkpoint(tmp_path / "g.safetensors", Generator(tiny_config()))


def _refused(capsys, argv: list[str], message: str) -> str:
    """Exit 2 with one line holding `message` (argparse's own errors exit through SystemExit)."""
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, err
    line = err.strip().splitlines()[-1]
    assert "Traceback" not in err and message in line, err
    return line


def _request(**changes) -> dict:
    from stylegan2.render import RenderRequest, request_to_dict

    return {**request_to_dict(RenderRequest()), **changes}


def _state(tmp_path, name: str, **content) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(content))
    return str(path)


def _w_path(w: list, duration: float = 1.0) -> dict:
    """A path of two keyframes holding explicit ws."""
    key = {"latent": {"seeds": [], "w": w}, "duration": duration}
    return {"keyframes": [key, key], "space": "w"}


# C: numbers too large for a float ----------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        {"psi": HUGE},
        {"noise_gains": [["b4.conv1", HUGE]]},
        {"noise_phase": HUGE},
        {"latent": {"seeds": [[0, HUGE]], "w": None, "class_idx": None}},
        {"latent": {"seeds": [], "w": [HUGE] * 16, "class_idx": None}},
        {"w_offset": [[HUGE] * 16]},
    ],
    ids=["psi", "noise gain", "noise phase", "seed weight", "w", "w_offset"],
)
def test_generate_refuses_numbers_no_float_holds(tmp_path, net, capsys, field):
    state = _state(tmp_path, "s.json", request=_request(**field))
    argv = ["generate", "--network", str(net), "--state", state, "--outdir", str(tmp_path / "o")]
    _refused(capsys, argv, "not an explorer state file")
    assert not (tmp_path / "o" / "s.png").exists()


def test_video_refuses_a_duration_no_float_holds(tmp_path, net, capsys):
    path = {"keyframes": [{"latent": {"seeds": [[i, 1.0]]}, "duration": HUGE} for i in (0, 1)]}
    state = _state(tmp_path, "s.json", path=path)
    out = tmp_path / "v.gif"
    argv = ["video", "--network", str(net), "--state", state, "--out", str(out)]
    _refused(capsys, argv, "holds no path")
    assert not out.exists()


@pytest.mark.parametrize("threshold", [HUGE, "NaN"], ids=["huge", "nan"])
def test_detect_refuses_a_threshold_no_float_holds(tmp_path, net, capsys, threshold):
    cal = tmp_path / "cal.json"
    cal.write_text(json.dumps({"threshold": threshold}).replace('"NaN"', "NaN"))
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(image)
    argv = ["detect", "--network", str(net), "--calibration", str(cal), str(image)]
    _refused(capsys, [*argv, "--steps", "1"], "no calibration")


# B: keyframes saved with a network of another shape ---------------------------------------


def test_video_refuses_keyframes_of_another_network_before_rendering(tmp_path, net, capsys):
    state = _state(tmp_path, "s.json", path=_w_path([[0.1] * 512] * 18))
    out = tmp_path / "v.gif"
    argv = ["video", "--network", str(net), "--state", state, "--out", str(out)]
    line = _refused(capsys, argv, "keyframe 0's w must be [16] or [6, 16]")
    assert "got [18, 512]" in line and not out.exists()


def test_video_refuses_keyframes_the_compare_network_cannot_take(tmp_path, net, capsys):
    other = save_checkpoint(tmp_path / "micro.safetensors", Generator(micro_config()))
    state = _state(tmp_path, "s.json", path=_w_path([0.1] * 16))  # fits `net` only
    out = tmp_path / "v.gif"
    argv = ["video", "--network", str(net), "--compare-network", str(other)]
    _refused(capsys, [*argv, "--state", state, "--out", str(out)], "with --compare-network")
    assert not out.exists()


def test_path_frames_turns_a_keyframe_of_another_shape_into_a_video_error():
    """The library's frame loop (the explorer's export too) says which frame, as VideoError."""
    from stylegan2.paths import path_from_dict
    from stylegan2.render import Renderer
    from stylegan2.video import VideoError, path_frames

    renderer = Renderer(Generator(tiny_config()).eval())
    path = path_from_dict(_w_path([[0.0] * 512] * 18))
    with pytest.raises(VideoError, match="frame 0: w must be"):
        next(path_frames([(renderer, path)], [0.0]))


# E: `edit` and its direction files -----------------------------------------------------------


def _directions(tmp_path, name: str = "d.npz", **changes) -> str:
    fields = {
        "vectors": np.ones((2, 16), np.float32) / 4,
        "scores": np.array([2.0, 1.0]),
        "layers": np.array([0, 5]),
        "method": np.array("sefa"),
        "names": np.array(["a", "b"]),
        **changes,
    }
    path = tmp_path / name
    with open(path, "wb") as f:
        np.savez(f, **fields)
    return str(path)


BAD_DIRECTIONS = {
    "1-D vectors": ({"vectors": np.ones(16, np.float32)}, "vectors must be [K, w_dim]"),
    "string vectors": ({"vectors": np.full((2, 16), "x")}, "vectors must be [K, w_dim]"),
    "NaN vectors": ({"vectors": np.full((2, 16), np.nan, np.float32)}, "NaN"),
    "3 layer entries": ({"layers": np.array([0, 1, 2])}, "layers must be two whole numbers"),
    "reversed layers": ({"layers": np.array([4, 1])}, "in order"),
    "negative layers": ({"layers": np.array([-2, 1])}, "in order"),
    "too few names": ({"names": np.array(["a"])}, "names must be 2 strings"),
}


@pytest.mark.parametrize("changes, message", BAD_DIRECTIONS.values(), ids=BAD_DIRECTIONS.keys())
def test_edit_refuses_a_broken_directions_file(tmp_path, net, capsys, changes, message):
    out = tmp_path / "e.png"
    argv = ["edit", "--network", str(net), "--direction", _directions(tmp_path, **changes)]
    _refused(capsys, [*argv, "--seeds", "0", "--out", str(out)], message)
    assert not out.exists()


def test_edit_refuses_a_plain_npy(tmp_path, net, capsys):
    npy = tmp_path / "d.npy"
    np.save(npy, np.ones((2, 16), np.float32))
    out = tmp_path / "e.png"
    argv = ["edit", "--network", str(net), "--direction", str(npy), "--out", str(out)]
    _refused(capsys, argv, "a single array (.npy)")
    assert not out.exists()


@pytest.mark.parametrize(
    "strengths, message",
    [
        ("", "at least one number"),
        (",", "at least one number"),
        ("nan", "from -10000 to 10000"),
        ("-1,inf", "from -10000 to 10000"),
        ("1e30", "from -10000 to 10000"),  # finite, but the image would be black
    ],
)
def test_edit_refuses_strengths_that_render_nothing(tmp_path, net, capsys, strengths, message):
    out = tmp_path / "e.png"
    argv = ["edit", "--network", str(net), "--direction", _directions(tmp_path)]
    _refused(capsys, [*argv, f"--strengths={strengths}", "--out", str(out)], message)
    assert not out.exists()


def test_edit_still_draws_a_grid(tmp_path, net):
    out = tmp_path / "e.png"
    argv = ["edit", "--network", str(net), "--direction", _directions(tmp_path), "--seeds", "0-1"]
    assert main([*argv, "--strengths=-1,0,1", "--out", str(out)]) == 0
    assert np.asarray(Image.open(out)).shape == (32, 48, 3)


# F: outputs nobody can create ------------------------------------------------------------------

needs_proc = pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")


@needs_proc
def test_video_refuses_an_output_in_proc(net, capsys):
    argv = ["video", "--network", str(net), "--seeds", "0,1", "--frames-per-segment", "2"]
    _refused(capsys, [*argv, "--out", "/proc/stylegan2-test.gif"], "cannot write")


@pytest.fixture
def project_argv(tmp_path, net, monkeypatch) -> list[str]:
    """`project` of a target t.png into tmp/o, its projection replaced by a failure: a test
    that reaches it refused too late."""
    import stylegan2.projection as projection

    def never(*_a, **_k):
        raise AssertionError("the projection ran")

    monkeypatch.setattr(projection, "project", never)
    target = tmp_path / "t.png"
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(target)
    argv = ["project", "--network", str(net), "--target", str(target), "--steps", "1"]
    return [*argv, "--outdir", str(tmp_path / "o")]


@needs_proc
def test_project_refuses_its_video_before_projecting(project_argv, capsys):
    argv = [*project_argv, "--video", "/proc/stylegan2-test.gif"]
    _refused(capsys, argv, "cannot write /proc/stylegan2-test.gif")


def test_project_refuses_a_video_named_as_its_folder_or_another_output(
    project_argv, tmp_path, capsys
):
    """The video goes into --outdir beside projected_w.npz and the images: '.' (the folder
    itself) or one of their names would fail only after the projection."""
    argv = list(project_argv)
    for video in (".", "proj.png"):
        _refused(capsys, [*argv, "--video", video], "names the output folder or another output")
    argv[-1] = str(tmp_path)  # --outdir beside the target: a video named as it
    _refused(capsys, [*argv, "--video", "t.png"], "--video would write")


# D: damaged checkpoint headers and configs -----------------------------------------------------


def test_info_refuses_a_safetensors_header_that_is_not_json(tmp_path, capsys):
    header = b'{"a": nope}'
    path = tmp_path / "x.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    _refused(capsys, ["info", str(path)], "damaged checkpoint")


def test_info_refuses_an_infinite_filter_tap(tmp_path, net, capsys):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(net), "pt") as f:
        meta = dict(f.metadata())
    tensors = load_file(str(net))
    cfg = json.loads(meta["G_ema_config"])
    cfg["synthesis"]["resample_filter"] = [1, float("inf"), 3, 1]
    meta["G_ema_config"] = json.dumps(cfg)  # writes Infinity, as other tools do
    bad = tmp_path / "inf.safetensors"
    save_file(tensors, str(bad), metadata=meta)
    _refused(capsys, ["info", str(bad)], "resample_filter tap must be a whole number")


# G: float16 conversions that would not fit -----------------------------------------------------


def test_convert_fp16_refuses_weights_beyond_float16(tmp_path, capsys):
    G = Generator(tiny_config())
    with torch.no_grad():
        G.mapping.fc0.weight[0, 0] = 1e5  # finite in float32, inf in float16
    src = save_checkpoint(tmp_path / "big.safetensors", G)
    dst = tmp_path / "half.safetensors"
    line = _refused(capsys, ["convert", str(src), str(dst), "--fp16"], "mapping.fc0.weight")
    assert "1e+05" in line and not dst.exists()
    assert main(["convert", str(src), str(dst)]) == 0  # float32 keeps it


def test_a_plot_format_matplotlib_cannot_write_is_refused_before_the_work(
    tmp_path, net, capsys, monkeypatch
):
    import stylegan2.blobs as blobs

    def never(*_a, **_k):
        raise AssertionError("the scores were computed before the plot name was checked")

    monkeypatch.setattr(blobs, "blob_scores_over_seeds", never)
    out = tmp_path / "chart.foo"
    _refused(capsys, ["blobs", "--network", str(net), "--seeds", "0", "--plot", str(out)], "png")
    _refused(capsys, ["resolution-usage", str(net), "--plot", str(out)], "png")
    assert not out.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["mix", "--rows", "0", "--cols", "1", "--out", "{tmp}/m.jpg"], "name it .png"),
        (["mix", "--rows", "0", "--cols", "1", "--out", ""], "needs a file name"),
        (["generate", "--seeds", "0", "--class", "5", "--outdir", "{tmp}/o"], "not conditional"),
        (["directions", "--layers", "0,5", "--out", "{tmp}/d.npz"], "must be one range"),
    ],
)
def test_outputs_and_classes_that_would_mislead_are_refused(tmp_path, net, capsys, argv, message):
    argv = [a.format(tmp=tmp_path) for a in argv]
    _refused(capsys, [argv[0], "--network", str(net), *argv[1:]], message)
    assert not any(tmp_path.glob("[mod]*.*")) and not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["generate", "--network", "", "--seeds", "0", "--outdir", "{tmp}/o"],
         "--network is empty"),
        (["info", ""], "the network argument is empty: name a file, URL or published network"),
        (["ppl", "--network", "{net}", "--lpips-weights", "", "--samples", "2"],
         "--lpips-weights is empty: name a file or a URL"),
    ],
)  # fmt: skip
def test_an_empty_network_or_weights_path_is_named_as_empty(tmp_path, net, capsys, argv, message):
    # Path("") is "." and would be reported as a folder
    _refused(capsys, [a.format(tmp=tmp_path, net=net) for a in argv], message)


def test_an_empty_checkpoint_path_is_named_as_empty():
    from stylegan2.checkpoints import CheckpointError, load_checkpoint, read_checkpoint_any

    for read in (load_checkpoint, read_checkpoint_any):
        with pytest.raises(CheckpointError, match="the path is empty"):
            read("")


def test_video_refuses_an_odd_mp4_size_before_rendering(tmp_path, net, capsys, monkeypatch):
    import stylegan2.video as video

    def never(*_a, **_k):
        raise AssertionError("frames were rendered")

    monkeypatch.setattr(video, "path_frames", never)
    argv = ["video", "--network", str(net), "--seeds", "0,1", "--size", "63x63"]
    _refused(capsys, [*argv, "--out", str(tmp_path / "v.mp4")], "needs an even width and height")
