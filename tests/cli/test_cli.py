"""The `stylegan2` command: generate / mix / convert / info / bench on the fixtures."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from stylegan2.checkpoints import load_network
from stylegan2.cli.main import main
from stylegan2.networks import z_from_seed
from stylegan2.render import to_uint8
from tests.conftest import DATA

FORMATS = ["sg2ada_tiny_snapshot.pkl", "tf_tiny_network.pkl", "rosinality_tiny_g_ema.pt"]


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_generate_writes_nvidia_pixels_for_every_format(tmp_path):
    G = load_network(DATA / FORMATS[0])
    expected = {}
    with torch.no_grad():
        for seed in (0, 1, 2, 7):
            img = G(z_from_seed(seed, G.z_dim), truncation_psi=0.7, noise_mode="const")
            expected[seed] = to_uint8(img)[0]
    for fmt in FORMATS:
        out = tmp_path / fmt
        rc = main(
            [
                "generate",
                "--network",
                str(DATA / fmt),
                "--seeds",
                "0-2,7",
                "--trunc",
                "0.7",
                "--outdir",
                str(out),
            ]
        )
        assert rc == 0
        for seed, image in expected.items():
            got = _png(out / f"seed{seed:04d}.png")
            # The formats agree to ~1e-6; allow a rounding flip of one level.
            assert np.abs(got.astype(int) - image.astype(int)).max() <= 1, (fmt, seed)
    ada = _png(tmp_path / FORMATS[0] / "seed0000.png")
    assert np.array_equal(ada, expected[0])


def test_generate_grid(tmp_path):
    net = str(DATA / FORMATS[0])
    assert main(["generate", "--network", net, "--seeds", "0-4", "--outdir", str(tmp_path)]) == 0
    argv = ["generate", "--network", net, "--seeds", "0-4", "--grid", "3"]
    assert main([*argv, "--outdir", str(tmp_path / "g")]) == 0
    grid = _png(tmp_path / "g" / "grid.png")
    h, w = _png(tmp_path / "seed0000.png").shape[:2]
    assert grid.shape[:2] == (2 * h, 3 * w)
    assert np.array_equal(grid[h:, w : 2 * w], _png(tmp_path / "seed0004.png"))  # row 1, col 1
    assert not grid[h:, 2 * w :].any()  # the empty cell stays black


def test_mix_grid_layout(tmp_path):
    out = tmp_path / "grid.png"
    rc = main(
        [
            "mix",
            "--network",
            str(DATA / FORMATS[0]),
            "--rows",
            "1,2",
            "--cols",
            "3,4,5",
            "--styles",
            "0-2",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    grid = _png(out)
    assert grid.shape == (3 * 16, 4 * 16, 3)
    assert grid[:16, :16].max() == 0  # top-left is black
    gen = tmp_path / "seeds"
    main(["generate", "--network", str(DATA / FORMATS[0]), "--seeds", "1-5", "--outdir", str(gen)])
    assert np.array_equal(grid[:16, 16:32], _png(gen / "seed0003.png"))  # column header
    assert np.array_equal(grid[16:32, :16], _png(gen / "seed0001.png"))  # row header
    assert not np.array_equal(grid[16:32, 16:32], _png(gen / "seed0001.png"))


def test_convert_then_generate_is_identical(tmp_path):
    native = tmp_path / "net.safetensors"
    assert main(["convert", str(DATA / FORMATS[1]), str(native)]) == 0
    for src, name in ((DATA / FORMATS[1], "a"), (native, "b")):
        main(["generate", "--network", str(src), "--seeds", "5", "--outdir", str(tmp_path / name)])
    assert np.array_equal(_png(tmp_path / "a/seed0005.png"), _png(tmp_path / "b/seed0005.png"))


def test_info(capsys):
    assert main(["info", str(DATA / FORMATS[0]), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "ada-pkl" and info["resolution"] == 16 and info["num_ws"] == 6
    assert info["channels"] == {"4": 32, "8": 32, "16": 16}
    assert info["normalization"] == "demod" and info["architecture"] == "skip"
    assert info["networks"] == "G_ema, G, D"
    assert main(["info", str(DATA / FORMATS[2])]) == 0
    assert "rosinality-pt" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content", [b"", b"not a checkpoint at all", b"\x80\x04\x95garbage", b"PK\x03\x04broken"]
)
def test_bad_network_is_one_line_error(tmp_path, capsys, content):
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(content)
    assert main(["generate", "--network", str(bad), "--outdir", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("stylegan2 generate: error:") and "\n" not in err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_missing_network(tmp_path, capsys):
    assert main(["info", str(tmp_path / "nope.pkl")]) == 2
    assert "nope.pkl" in capsys.readouterr().err


def test_unwritable_outdir(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc = main(["generate", "--network", str(DATA / FORMATS[0]), "--outdir", str(blocker / "sub")])
    assert rc == 2 and "cannot create" in capsys.readouterr().err
    rc = main(["generate", "--network", str(DATA / FORMATS[0]), "--outdir", str(blocker)])
    assert rc == 2 and "is a file, not a folder" in capsys.readouterr().err
    rc = main(["generate", "--network", str(DATA / FORMATS[0]), "--outdir", ""])
    assert rc == 2 and "needs a name" in capsys.readouterr().err
    (tmp_path / "out" / "grid.png").mkdir(parents=True)
    argv = ["generate", "--network", str(DATA / FORMATS[0]), "--outdir", str(tmp_path / "out")]
    assert main([*argv, "--seeds", "0-1", "--grid", "2"]) == 2
    assert "grid.png is a folder" in capsys.readouterr().err


def test_bench_runs_and_reports_both_paths(capsys):
    rc = main(
        [
            "bench",
            "--config",
            "small",
            "--resolution",
            "16",
            "--min-time",
            "0",
            "--json",
            "--paths",
            "reference,fast",
        ]
    )
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in report["rows"]] == ["reference", "fast"]
    assert all(r["ms_per_image"] > 0 for r in report["rows"])


def test_bench_refuses_a_batch_that_would_not_fit_in_memory(capsys):
    rc = main(["bench", "--resolution", "2048", "--batch", "1024", "--min-time", "0"])
    err = capsys.readouterr().err
    assert rc == 2 and "bench at batch 1024 and 2048 px would need about" in err, err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["blobs", "--csv", "{tmp}/missing/b.csv"], "no folder"),
        (["blobs", "--plot", "{tmp}/missing/b.png"], "no folder"),
        (["mix", "--rows", "1", "--cols", "2", "--out", "{tmp}/missing/g.png"], "no folder"),
        (["video", "--seeds", "0,1", "--out", "{tmp}/missing/v.mp4"], "no folder"),
    ],
)
def test_missing_output_folder_is_refused_before_any_work(tmp_path, capsys, argv, message):
    """The network does not even exist: the output path is checked first."""
    argv = [a.format(tmp=tmp_path) for a in argv]
    rc = main([argv[0], "--network", str(tmp_path / "no-such.pkl"), *argv[1:]])
    assert rc == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "flag, value", [("--fps", "0"), ("--fps", "-5"), ("--frames-per-segment", "0")]
)
def test_video_refuses_non_positive_rates(tmp_path, capsys, flag, value):
    with pytest.raises(SystemExit):
        main(["video", "--network", "x.pkl", "--seeds", "0,1", flag, value, "--out", "v.gif"])
    assert "must be" in capsys.readouterr().err


def test_info_prints_the_card_readably(capsys):
    from pathlib import Path

    from assets import TWIN_MODEL

    model = Path(__file__).parents[2] / "assets" / "models" / TWIN_MODEL
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    # The card as its Markdown file has it, after the architecture's facts.
    assert out.index("normalization: adain") < out.index("\n# Procedural faces 64 px, adain\n")
    assert model.with_suffix(".md").read_text() in out
    assert main(["info", str(model), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["card"]["kimg"] > 0


def test_mix_default_styles_fit_a_small_network(tmp_path):
    out = tmp_path / "grid.png"
    argv = ["mix", "--network", str(DATA / FORMATS[0]), "--rows", "1", "--cols", "2"]
    assert main([*argv, "--out", str(out)]) == 0  # 6 ws: NVIDIA's 0-6 does not fit
    assert _png(out).shape == (2 * 16, 2 * 16, 3)
