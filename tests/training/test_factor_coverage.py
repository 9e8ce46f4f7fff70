"""tools/factor_coverage.py: its arithmetic by hand, and every table printed for tiny networks."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import torch

from stylegan2.checkpoints import save_checkpoint
from stylegan2.networks import Generator
from tests.conftest import randomize_, tiny_config
from training.dataset_tool import build_faces_dataset
from training.face_probe import CATEGORIES

TOOL = runpy.run_path(str(Path(__file__).resolve().parents[2] / "tools" / "factor_coverage.py"))


def _classes(**given):
    return {k: torch.tensor(given.get(k, [0, 0, 0, 0])) for k in CATEGORIES}


def test_transfer_rates_count_only_pairs_read_differently():
    a = _classes(hair=[0, 1, 2, 3])
    b = _classes(hair=[0, 2, 2, 4])  # pairs 1 and 3 differ
    mixed = _classes(hair=[5, 2, 2, 3])  # pair 1 takes b's value, pair 3 keeps a's
    share = TOOL["shares"](_classes(hair=[2, 2, 4, 0]))  # value 2: 1/2, value 4: 1/4
    rates = TOOL["transfer_rates"](a, b, mixed, share)
    assert rates["hair"] == (0.5, 0.375, 2)  # chance: the mean of b's values' shares
    took, chance, n = rates["eyes"]  # never read differently: no share
    assert n == 0 and took != took and chance != chance


def test_coverage_total_variation_and_rare_values():
    data = TOOL["shares"](_classes(glasses=[0, 0, 1, 2]))  # none 1/2, round 1/4, square 1/4
    model = TOOL["shares"](_classes(glasses=[0, 0, 0, 1]))  # none 3/4, round 1/4, square 0
    tv, rare = TOOL["coverage"](model, data)["glasses"]
    assert abs(tv - 0.25) < 1e-6 and rare == ["square"]
    assert TOOL["coverage"](data, data)["glasses"] == (0.0, [])


def test_every_table_prints_and_the_probe_is_saved_then_reused(tmp_path, capsys):
    torch.manual_seed(0)
    net = save_checkpoint(tmp_path / "g.safetensors", randomize_(Generator(tiny_config())).eval())
    build_faces_dataset(tmp_path / "t.zip", 16, 40, seed=0)
    build_faces_dataset(tmp_path / "f.zip", 16, 20, seed=1)
    args = [str(net), "--data", str(tmp_path / "t.zip"), "--fresh", str(tmp_path / "f.zip")]
    args += ["--probe", str(tmp_path / "p.safetensors"), "--samples", "12", "--pairs", "6"]
    assert TOOL["main"]([*args, "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "probe epoch 1/1" in out and (tmp_path / "p.safetensors").is_file()
    assert out.count("| hair |") == 2  # the probe's accuracy and the coverage
    floor = r"^\| skin \| 8 \| \d+ % \| \d+ % \| \d\.\d\d \| [^|]+ \|$"
    assert re.search(floor, out, re.M)
    assert re.search(
        r"\| coarse \(ws \[0, 1, 2, 3\]\) \| middle \(ws \[4, 5\]\) \| fine \(ws \[\]\)", out
    )
    assert len(re.findall(r"^\| glasses \(\d+\) \|", out, re.M)) == 1
    assert TOOL["main"](args) == 0  # the saved probe: no training this time
    assert "probe epoch" not in capsys.readouterr().out


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("factor_coverage: error: ") and err.count("\n") == 1, err
    return err


def test_bad_inputs_are_one_line_before_any_training(tmp_path, capsys):
    net = save_checkpoint(tmp_path / "g.safetensors", Generator(tiny_config()).eval())
    build_faces_dataset(tmp_path / "t.zip", 16, 8, seed=0)
    build_faces_dataset(tmp_path / "f.zip", 16, 4, seed=1)
    build_faces_dataset(tmp_path / "same.zip", 16, 4, seed=0)
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 10)
    ok = ["--data", str(tmp_path / "t.zip"), "--fresh", str(tmp_path / "f.zip")]
    cases = [
        ([str(tmp_path / "nowhere.safetensors"), *ok], "nowhere"),
        ([str(net), "--data", str(tmp_path / "x.zip"), *ok[2:]], "x.zip"),
        ([str(net), "--data", str(tmp_path / "t.zip"), "--fresh", str(tmp_path / "same.zip")],
         "same seed (0)"),
        ([str(net), *ok, "--probe", str(tmp_path / "bad.safetensors")], "bad.safetensors"),
        ([str(net), *ok, "--probe", str(tmp_path / "no" / "p.safetensors")], "no folder"),
    ]  # fmt: skip
    for args, said in cases:
        assert TOOL["main"](args) == 1
        assert said in _one_line(capsys)
