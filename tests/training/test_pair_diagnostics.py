"""tools/pair_diagnostics.py, the measurements behind the bundled pair's notes, on tiny networks:
every measure prints, and the noise measure sees noise where there is some and none without."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import torch

from stylegan2.checkpoints import save_checkpoint
from stylegan2.config import DiscriminatorConfig
from stylegan2.networks import Discriminator, Generator
from tests.conftest import randomize_, tiny_config
from training.dataset_tool import build_faces_dataset

TOOL = Path(__file__).resolve().parents[2] / "tools" / "pair_diagnostics.py"


def test_every_measure_prints(tmp_path, capsys):
    torch.manual_seed(0)
    G = randomize_(Generator(tiny_config())).eval()
    D = randomize_(
        Discriminator(DiscriminatorConfig(img_resolution=16, channel_base=128, channel_max=16))
    )
    snap = save_checkpoint(tmp_path / "s.safetensors", G, G, D)
    quiet = Generator(tiny_config(use_noise=False)).eval()
    quiet.load_state_dict(G.state_dict(), strict=False)
    calm = save_checkpoint(tmp_path / "calm.safetensors", quiet)
    build_faces_dataset(tmp_path / "t.zip", 16, 40, seed=0)
    build_faces_dataset(tmp_path / "f.zip", 16, 40, seed=1)
    tool = runpy.run_path(str(TOOL))
    assert (
        tool["main"](
            [
                str(snap),
                str(calm),
                "--data",
                str(tmp_path / "t.zip"),
                "--fresh",
                str(tmp_path / "f.zip"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    moves = [float(m) for m in re.findall(r"two draws move the pixels by ([\d.]+)", out)]
    assert len(moves) == 2 and moves[0] > 0.01 and moves[1] == 0  # no noise inputs: no move
    assert out.count("one-pixel share b16.conv") == 4  # two layers from 16 px, two networks
    assert out.count("blob peak/median at 16 px: noise on") == 2
    assert re.search(
        r"D scores: train [-+][\d.]+±[\d.]+  fresh .* fake .* P\(train > fresh\) [\d.]+", out
    )
    assert out.count("D scores") == 1  # the second file has no D
