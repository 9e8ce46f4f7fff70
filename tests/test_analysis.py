"""Blob scores and resolution usage, on tiny networks."""

from __future__ import annotations

import json
import math

import pytest
import torch

from stylegan2.analysis import resolution_usage
from stylegan2.blobs import blob_score
from stylegan2.cli.main import main
from stylegan2.networks import Capture, Generator
from tests.conftest import DATA, randomize_, tiny_config


def test_planted_spike_ranks_above_smooth_map():
    y, x = torch.meshgrid(torch.linspace(-1, 1, 64), torch.linspace(-1, 1, 64), indexing="ij")
    smooth = torch.stack([torch.sin(3 * x + k) + torch.cos(2 * y - k) for k in range(8)])
    spiky = smooth.clone()
    spiky[:, 40, 17] += 60.0  # the same localised spike in every channel
    a, b = blob_score(smooth), blob_score(spiky)
    assert b.peak_to_median > 5 * a.peak_to_median
    assert b.top_energy_share > 0.3 > 10 * a.top_energy_share
    assert b.peak == (40, 17)


def test_resolution_usage_sums_to_one_and_matches_manual():
    G = randomize_(Generator(tiny_config())).eval()
    ws = G.mapping(torch.randn(12, 16)).detach()
    usage = resolution_usage(G, ws, batch=5)
    assert list(usage) == [4, 8, 16] and math.isclose(sum(usage.values()), 1.0, rel_tol=1e-9)
    cap = Capture(["b4.torgb", "b8.torgb", "b16.torgb"])
    with torch.no_grad():
        G.synthesis(ws, noise_mode="const", capture=cap)
    stds = {r: float(cap.outputs[f"b{r}.torgb"].std()) for r in (4, 8, 16)}
    for r in (4, 8, 16):
        assert math.isclose(usage[r], stds[r] / sum(stds.values()), rel_tol=1e-5)


@pytest.mark.slow
def test_cli_blobs_and_usage(tmp_path, capsys):
    net = str(DATA / "sg2ada_tiny_snapshot.pkl")
    assert (
        main(
            [
                "blobs",
                "--network",
                net,
                "--seeds",
                "0-3",
                "--csv",
                str(tmp_path / "b.csv"),
                "--plot",
                str(tmp_path / "b.png"),
            ]
        )
        == 0
    )
    assert (tmp_path / "b.png").stat().st_size > 1000
    assert (tmp_path / "b.csv").read_text().startswith("layer,resolution")
    run = tmp_path / "run"
    run.mkdir()
    rows = [
        {"kimg": k, "resolution_usage": {"4": 0.5 - k / 10, "8": 0.5 + k / 10}} for k in (0, 1, 2)
    ]
    odd = [
        '{"resolution_usage": {"4": 0.5}}',  # no kimg
        '{"kimg": 3, "resolution_usage": {"x": 0.5}}',
        '{"kimg": "a", "resolution_usage": {"4": 0.5}}',
        '{"kimg": 3, "resolution_usage": [0.5]}',
        "[1, 2]",
        "{truncated",
    ]
    text = "\n".join([*(json.dumps(r) for r in rows), *odd]) + "\n"
    (run / "stats.jsonl").write_bytes(text.encode() + b"\xff\xfe not utf-8\n")
    capsys.readouterr()
    assert main(["resolution-usage", str(run), "--plot", str(tmp_path / "u.png")]) == 0
    out, err = capsys.readouterr()
    assert out.count(" kimg ") == 3 and "6 unreadable row(s) left out" in err
    assert (tmp_path / "u.png").stat().st_size > 1000
    assert main(["blobs", "--network", net, "--plot", str(tmp_path / "b.pgf")]) == 2
    assert main(["resolution-usage", str(tmp_path)]) == 2
