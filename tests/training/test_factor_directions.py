"""tools/factor_directions.py on a tiny network, with a stand-in probe whose reading is known."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from stylegan2.checkpoints import save_checkpoint
from stylegan2.directions import Directions
from tests.conftest import distinct_generator
from training.face_probe import CATEGORIES

_PATH = Path(__file__).resolve().parents[2] / "tools" / "factor_directions.py"
_SPEC = importlib.util.spec_from_file_location("factor_directions", _PATH)
tool = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(tool)


class RedProbe:
    """Reads glasses on images whose red channel is brighter than `threshold` on average, and
    nothing else: a factor that a direction in W can move."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def predict(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {k: torch.zeros(len(images), dtype=torch.long) for k in CATEGORIES}
        out["glasses"] = (images[:, 0].float().mean((1, 2)) > self.threshold).long()
        return out


def red_median(G) -> float:
    return float(tool._images(G, tool.sample_w(G, range(200)))[:, 0].float().mean((1, 2)).median())


def test_a_direction_for_a_readable_factor_moves_it():
    G = distinct_generator()
    probe = RedProbe(red_median(G))
    d = tool.fit(G, probe, 200)
    assert d.names == ["glasses"] and d.layers == (0, G.num_ws - 1)  # the only label that varies
    [(name, (lo, mid, hi), moved)] = tool.check(G, probe, d, range(200, 260))
    assert name == "glasses" and lo < mid < hi and moved == 0  # nothing else is ever read


def test_main_writes_the_directions_and_refuses_bad_inputs(tmp_path, capsys, monkeypatch):
    G = distinct_generator()
    net = save_checkpoint(tmp_path / "g.safetensors", G)
    threshold = red_median(G)
    out = tmp_path / "d.npz"
    monkeypatch.setattr(tool, "load_probe", lambda path: RedProbe(threshold))
    assert tool.main([str(net), "--probe", "p", "--out", str(out), "--samples", "200"]) == 0
    assert Directions.load(out).names == ["glasses"]
    assert "| glasses |" in capsys.readouterr().out
    # a direction that moves its factor less than asked is not written
    args = [str(net), "--probe", "p", "--out", str(tmp_path / "none.npz"), "--samples", "200"]
    assert tool.main([*args, "--min-move", "1.01"]) == 1
    assert "no direction moves its factor by 101%" in capsys.readouterr().err
    assert not (tmp_path / "none.npz").exists()
    assert tool.main(["nowhere.safetensors", "--probe", "p", "--out", str(tmp_path / "e.npz")])
    assert capsys.readouterr().err.startswith("factor_directions: error: ")
    assert not (tmp_path / "e.npz").exists()
