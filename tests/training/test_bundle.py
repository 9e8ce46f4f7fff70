"""`stylegan2 bundle`: a snapshot becomes a small fp16 G_ema file with a measured model card."""

from __future__ import annotations

import json

import pytest
import torch

from stylegan2.checkpoints import load_checkpoint
from tests.training.conftest import tiny_opts
from training.bundle import bundle
from training.card_tables import blob_table, summary_table
from training.loop import train
from training.snapshot import latest_snapshot


def test_bundle_writes_fp16_g_ema_and_card(tiny_data, tmp_path):
    opts = tiny_opts(tiny_data, tmp_path / "runs", kimg=0.008)
    run = train(opts, progress=False)
    snap = latest_snapshot(run)
    out = tmp_path / "assets" / "tiny.safetensors"
    card = bundle(
        snap,
        out,
        "Tiny",
        ["stylegan2-train ..."],
        "squares",
        data=str(tiny_data),
        seeds=3,
        ppl_samples=8,
        metrics_cache=tmp_path / "cache",
    )
    ckpt = load_checkpoint(out)
    assert ckpt.G is None and ckpt.D is None  # G_ema only
    with open(out, "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    dtypes = {v["dtype"] for k, v in header.items() if k != "__metadata__"}
    assert dtypes == {"F16"}
    stored = ckpt.metadata["card"]
    assert stored["kimg"] == card["kimg"] and stored["machine"] and stored["commands"]
    layers = stored["figures"]["blob_scores"]["layers"]
    assert set(layers) == {"b4.conv1", "b8.conv0", "b8.conv1", "b16.conv0", "b16.conv1"}
    usage = stored["figures"]["resolution_usage"]["share"]
    assert abs(sum(usage.values()) - 1) < 1e-6
    pr = stored["figures"]["pixel_pr"]
    assert pr["metric"] == "pxpr1k3" and pr["samples"] == 1000 and pr["k"] == 3
    assert pr["reals"] == len(list(tiny_data.glob("*.png")))  # all of them: fewer than 1,000
    assert 0 <= pr["precision"] <= 1 and 0 <= pr["recall"] <= 1
    assert pr["diversity"] > 0 and pr["real_diversity"] > 0
    md = out.with_suffix(".md").read_text()
    assert "| b16.conv1 | 16 |" in md and "pixel MSE" in md and "stylegan2-train ..." in md
    assert f"{pr['precision']:.3f} / {pr['recall']:.3f}" in md
    assert f"{pr['diversity']:.1f} (training images: {pr['real_diversity']:.1f})" in md
    table = blob_table({"a": stored, "b": stored})
    assert table.splitlines()[0].startswith("| resolution | a peak/median")
    assert len(table.splitlines()) == 2 + 3  # header, rule, 4/8/16 px
    summary = summary_table({"tiny": stored})
    assert f"| `tiny` | demod | {card['kimg']} |" in summary
    assert f"{pr['precision']:.3f} / {pr['recall']:.3f}" in summary
    torch.testing.assert_close(
        ckpt.G_ema.synthesis.b4.const, load_checkpoint(snap).G_ema.synthesis.b4.const.half().float()
    )


def test_bundle_refuses_fid_without_data_and_a_missing_dataset(tmp_path):
    with pytest.raises(ValueError, match="--data"):
        bundle(tmp_path / "s.safetensors", tmp_path / "o.safetensors", "t", [], "d", inception="x")
    with pytest.raises(FileNotFoundError, match="no such dataset"):
        bundle(tmp_path / "s.safetensors", tmp_path / "o.safetensors", "t", [], "d", data="nope")


def test_bundle_refuses_outputs_and_devices_before_measuring(tmp_path, capsys):
    from commands.main import main

    (tmp_path / "a-file").write_text("")
    snap = tmp_path / "missing-snapshot.safetensors"  # never read: refused before
    for out, words in [
        (tmp_path, "it is a folder"),
        (tmp_path / "a-file" / "m.safetensors", "cannot write"),
    ]:
        with pytest.raises(ValueError, match=words):
            bundle(snap, out, "t", [], "d")
    argv = ["bundle", str(snap), "--out", str(tmp_path / "o.safetensors"), "--title", "t"]
    assert main([*argv, "--dataset", "d", "--device", "foo", "--command", "x --y"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stylegan2 bundle: error: unknown device 'foo'"), err


def test_card_says_how_much_wall_time_went_to_maintenance():
    from stylegan2.model_card import _maintenance_note

    assert _maintenance_note({"maintenance_minutes": None, "maintenance_from_kimg": None}) == ""
    assert _maintenance_note({"maintenance_minutes": 30.0, "maintenance_from_kimg": 0}) == (
        " (of which 30.0 min on sample grids, snapshots and metrics)"
    )
    # A run that started before maintenance was counted says from when it was.
    assert "since 45.5 kimg" in _maintenance_note(
        {"maintenance_minutes": 0.3, "maintenance_from_kimg": 45.5}
    )
